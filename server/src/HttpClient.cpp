// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/HttpClient.h"

#include <istream>
#include <memory>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {
namespace {

std::unique_ptr<Poco::Net::HTTPClientSession> openSession(const Poco::URI& uri, const HttpLimits& limits) {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        // Verify the peer against the system's CA bundle: a TSA or CRL server is trusted for
        // availability only (its answers are signed), but a silent downgrade is still a defect.
        static const Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
    } else if (uri.getScheme() == "http") {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    } else {
        throw Error(ErrorCode::kInvalidArgument, "http.bad_url", "only http:// and https:// URLs: " + uri.toString());
    }
    session->setTimeout(Poco::Timespan(static_cast<long>(limits.timeout.count() / 1000),
                                       static_cast<long>(limits.timeout.count() % 1000) * 1000));
    return session;
}

std::string readBody(std::istream& in, const HttpLimits& limits, const std::string& url) {
    std::string body;
    char buffer[16384];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        body.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (body.size() > limits.maxResponseBytes) {
            throw Error(ErrorCode::kResourceExhausted, "http.too_large",
                        url + " answered with more than " + std::to_string(limits.maxResponseBytes) + " bytes");
        }
    }
    return body;
}

std::string exchange(const std::string& method, std::string url, const std::string* body,
                     const std::string& contentType, const HttpLimits& limits) {
    for (int redirect = 0;; ++redirect) {
        Poco::URI uri;
        try {
            uri = Poco::URI(url);
        } catch (const Poco::Exception& e) {
            throw Error(ErrorCode::kInvalidArgument, "http.bad_url", "not a URL: " + url);
        }
        try {
            auto session = openSession(uri, limits);
            Poco::Net::HTTPRequest request(method, uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                                           Poco::Net::HTTPMessage::HTTP_1_1);
            request.set("User-Agent", "Kooperdoc");
            if (body != nullptr) {
                request.setContentType(contentType);
                request.setContentLength(static_cast<std::streamsize>(body->size()));
                session->sendRequest(request) << *body;
            } else {
                session->sendRequest(request);
            }
            Poco::Net::HTTPResponse response;
            std::istream& in = session->receiveResponse(response);
            const int status = response.getStatus();
            if (method == "GET" && (status == 301 || status == 302 || status == 307 || status == 308) &&
                response.has("Location") && redirect < limits.maxRedirects) {
                url = Poco::URI(uri, response.get("Location")).toString();
                continue;
            }
            if (status != 200) {
                throw Error(ErrorCode::kUnavailable, "http.status",
                            url + " answered " + std::to_string(status) + " " + response.getReason());
            }
            return readBody(in, limits, url);
        } catch (const Error&) {
            throw;
        } catch (const Poco::Exception& e) {
            throw Error(ErrorCode::kUnavailable, "http.unreachable", url + ": " + e.displayText());
        } catch (const std::exception& e) {
            throw Error(ErrorCode::kUnavailable, "http.unreachable", url + ": " + e.what());
        }
    }
}

}  // namespace

std::string httpPost(const std::string& url, const std::string& body, const std::string& contentType,
                     const HttpLimits& limits) {
    return exchange("POST", url, &body, contentType, limits);
}

std::string httpGet(const std::string& url, const HttpLimits& limits) {
    return exchange("GET", url, nullptr, "", limits);
}

}  // namespace kooperdoc::server
