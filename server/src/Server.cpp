// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/Server.h"

#include "CheckpointJob.h"
#include "RetentionJob.h"
#include "kooperdoc/server/StorageSetup.h"

#include <chrono>
#include <iostream>
#include <sstream>
#include <memory>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/server/SigningSetup.h"
#include "kooperdoc/signing/Timestamp.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::server {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

/// The one place where failure categories become HTTP statuses.
HTTPResponse::HTTPStatus statusFor(ErrorCode code) {
    switch (code) {
    case ErrorCode::kInvalidArgument: return HTTPResponse::HTTP_BAD_REQUEST;
    case ErrorCode::kValidationFailed: return HTTPResponse::HTTP_UNPROCESSABLE_ENTITY;
    case ErrorCode::kNotFound: return HTTPResponse::HTTP_NOT_FOUND;
    case ErrorCode::kAlreadyExists: return HTTPResponse::HTTP_CONFLICT;
    case ErrorCode::kFailedPrecondition: return HTTPResponse::HTTP_CONFLICT;
    case ErrorCode::kPermissionDenied: return HTTPResponse::HTTP_FORBIDDEN;
    case ErrorCode::kUnauthenticated: return HTTPResponse::HTTP_UNAUTHORIZED;
    case ErrorCode::kResourceExhausted: return HTTPResponse::HTTP_TOO_MANY_REQUESTS;
    case ErrorCode::kPayloadTooLarge: return HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE;
    case ErrorCode::kUnsupportedMediaType: return HTTPResponse::HTTP_UNSUPPORTEDMEDIATYPE;
    case ErrorCode::kUnavailable: return HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
    case ErrorCode::kUnknown: return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    }
    return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
}

void sendJson(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const Poco::Dynamic::Var& body) {
    response.setStatus(status);
    response.setContentType("application/json; charset=utf-8");
    response.set("Cache-Control", "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    std::ostringstream text;
    Poco::JSON::Stringifier::stringify(body, text);
    const auto payload = text.str();
    response.setContentLength(static_cast<std::streamsize>(payload.size()));
    response.send() << payload;
}

void sendError(HTTPServerResponse& response, ErrorCode code, const std::string& reason, const std::string& pl,
               const std::string& en) {
    Poco::JSON::Object::Ptr error = new Poco::JSON::Object;
    error->set("code", reason);
    error->set("message_pl", pl);
    error->set("message_en", en);
    error->set("violations", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
    Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
    body->set("error", error);
    sendJson(response, statusFor(code), body);
}

Poco::JSON::Object::Ptr templateSummary(const templates::Template& t) {
    const auto& m = t.metadata();
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", m.id);
    o->set("version", m.version);
    o->set("kind", m.kind);
    o->set("model", m.model);
    o->set("title", m.title);
    o->set("sha256", t.sha256());
    return o;
}

/// What the handlers share; immutable once the server runs.
struct Services {
    std::shared_ptr<signing::EmbeddedTsa> tsa;  ///< null when the timestamps come from elsewhere
};

class ApiHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit ApiHandler(std::shared_ptr<const Services> services) : services_(std::move(services)) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        try {
            route(request, response);
        } catch (const Error& e) {
            sendError(response, e.code(), e.reason(), e.what(), e.what());
        } catch (const std::exception& e) {
            sendError(response, ErrorCode::kInternal, "internal", "Błąd wewnętrzny.", "Internal error.");
        }
    }

private:
    std::shared_ptr<const Services> services_;

    void route(HTTPServerRequest& request, HTTPServerResponse& response) {
        const auto path = request.getURI().substr(0, request.getURI().find('?'));
        const bool get = request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET;
        const auto& catalog = templates::Catalog::builtIn();
        if (path == "/v1/timestamp") {
            timestamp(request, response);
            return;
        }
        if (path == "/healthz") {
            requireGet(get);
            Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
            body->set("status", "ok");
            sendJson(response, HTTPResponse::HTTP_OK, body);
            return;
        }
        const std::string prefix = "/v1/templates";
        if (path == prefix) {
            requireGet(get);
            Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
            for (const auto* t : catalog.list()) list->add(templateSummary(*t));
            Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
            body->set("templates", list);
            sendJson(response, HTTPResponse::HTTP_OK, body);
            return;
        }
        if (path.rfind(prefix + "/", 0) == 0) {
            requireGet(get);
            auto rest = path.substr(prefix.size() + 1);
            std::string part;
            if (const auto slash = rest.find('/'); slash != std::string::npos) {
                part = rest.substr(slash + 1);
                rest = rest.substr(0, slash);
            }
            const auto& t = catalog.get(rest);
            if (part.empty()) {
                sendJson(response, HTTPResponse::HTTP_OK, templateSummary(t));
            } else if (part == "schema") {
                sendRaw(response, t.schemaText(), "application/schema+json");
            } else if (part == "sample") {
                sendRaw(response, t.samples().at("sample"), "application/json; charset=utf-8");
            } else {
                throw Error(ErrorCode::kNotFound, "route.unknown", "no such resource " + path);
            }
            return;
        }
        throw Error(ErrorCode::kNotFound, "route.unknown", "no such resource " + path);
    }

    /// RFC 3161 over HTTP (RFC 3161 §3.4): the embedded TSA, for installations without a
    /// contracted one and for the other Kooperdoc instances of a deployment.
    void timestamp(HTTPServerRequest& request, HTTPServerResponse& response) {
        if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
            throw Error(ErrorCode::kInvalidArgument, "method.not_allowed", "only POST is allowed here");
        }
        if (!services_->tsa) throw Error(ErrorCode::kNotFound, "timestamp.not_served", "this instance runs no TSA");
        if (request.getContentType() != "application/timestamp-query") {
            throw Error(ErrorCode::kUnsupportedMediaType, "timestamp.media_type", "expected application/timestamp-query");
        }
        constexpr std::size_t kMaxRequest = 64 * 1024;  // a TimeStampReq is about a hundred bytes
        std::string body;
        char buffer[4096];
        auto& in = request.stream();
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            body.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (body.size() > kMaxRequest) throw Error(ErrorCode::kPayloadTooLarge, "timestamp.request_too_large", "request too large");
        }
        sendRaw(response, services_->tsa->respond(body), "application/timestamp-reply");
    }

    static void requireGet(bool get) {
        if (!get) throw Error(ErrorCode::kInvalidArgument, "method.not_allowed", "only GET is allowed here");
    }

    static void sendRaw(HTTPServerResponse& response, const std::string& body, const std::string& type) {
        response.setStatus(HTTPResponse::HTTP_OK);
        response.setContentType(type);
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.send() << body;
    }
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(std::shared_ptr<const Services> services) : services_(std::move(services)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new ApiHandler(services_);
    }

private:
    std::shared_ptr<const Services> services_;
};

class KooperdocServer : public Poco::Util::ServerApplication {
protected:
    void defineOptions(Poco::Util::OptionSet& options) override {
        ServerApplication::defineOptions(options);
        options.addOption(Poco::Util::Option("help", "h", "describe the options").required(false).repeatable(false)
                              .callback(Poco::Util::OptionCallback<KooperdocServer>(this, &KooperdocServer::showHelp)));
        options.addOption(Poco::Util::Option("port", "p", "TCP port (default 8080)").required(false)
                              .repeatable(false).argument("N").binding("kooperdoc.http.port"));
        options.addOption(Poco::Util::Option("config", "c", "settings file (see config/kooperdoc.properties)")
                              .required(false).repeatable(false).argument("FILE")
                              .callback(Poco::Util::OptionCallback<KooperdocServer>(this, &KooperdocServer::loadConfig)));
        options.addOption(Poco::Util::Option("bind", "b", "address to listen on (default 127.0.0.1)")
                              .required(false).repeatable(false).argument("ADDRESS").binding("kooperdoc.http.bind"));
    }

    void loadConfig(const std::string&, const std::string& path) {
        // Below the command line's own priority, so --port still wins over the file.
        loadConfiguration(path, Poco::Util::Application::PRIO_DEFAULT);
    }

    void showHelp(const std::string&, const std::string&) {
        Poco::Util::HelpFormatter formatter(options());
        formatter.setCommand("kooperdoc serve");
        formatter.setUsage("[options]");
        formatter.setHeader("Runs the Kooperdoc HTTP service (GET /healthz, GET /v1/templates, POST /v1/timestamp).");
        formatter.format(std::cout);
        helpRequested_ = true;
        stopOptionsProcessing();
    }

    int main(const std::vector<std::string>&) override {
        if (helpRequested_) return EXIT_OK;
        const auto port = static_cast<Poco::UInt16>(config().getUInt("kooperdoc.http.port", 8080));
        const auto bind = config().getString("kooperdoc.http.bind", "127.0.0.1");
        templates::Catalog::builtIn();  // load and check every template before accepting requests
        auto services = std::make_shared<Services>();
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        services->tsa = loadSigningSetup(config(), {}, std::cerr, now).embeddedTsa;
        // The store opens (and migrates) before the first request, so a bad database or key
        // stops the service at start-up instead of failing requests later.
        const StorageSetup storageSetup = loadStorageSetup(config(), {});
        auto store = openDocumentStore(storageSetup, std::cerr);
        // Entries the service records wait for a TSA only every N entries and in background jobs, so
        // it can afford the usual HTTP timeout.
        audit::AuditLog auditLog(store->repository().auditStore(), loadAuditSigner(storageSetup, std::cerr),
                                 storageSetup.auditCheckpointEvery,
                                 auditTimestamper(storageSetup, std::chrono::seconds(10)));
        std::unique_ptr<CheckpointJob> checkpointJob;
        if (storageSetup.auditCheckpointInterval > 0) {
            checkpointJob = std::make_unique<CheckpointJob>(
                auditLog, std::chrono::seconds(storageSetup.auditCheckpointInterval), std::cerr);
        }
        std::unique_ptr<RetentionJob> retentionJob;
        if (const auto interval = config().getInt64("kooperdoc.retention.sweep_interval", 86400); interval > 0) {
            retentionJob = std::make_unique<RetentionJob>(
                *store, *storageSetup.retention, std::chrono::seconds(interval), std::cerr, &auditLog, [] {
                    return static_cast<std::int64_t>(
                        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
                });
        }
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(bind, port));
        auto* params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(16);
        Poco::Net::HTTPServer server(new HandlerFactory(services), socket, params);
        server.start();
        // Port 0 lets the system choose; print the real one so scripts and tests can find it.
        std::cout << "kooperdoc: listening on http://" << (bind == "0.0.0.0" ? "localhost" : bind) << ":"
                  << socket.address().port() << std::endl;
        if (retentionJob) retentionJob->start();
        if (checkpointJob) checkpointJob->start();
        waitForTerminationRequest();
        if (retentionJob) retentionJob->stop();
        if (checkpointJob) checkpointJob->stop();
        server.stopAll(false);  // stop accepting; in-flight requests finish
        return EXIT_OK;
    }

private:
    bool helpRequested_ = false;
};

}  // namespace

int runServer(int argc, char** argv) {
    KooperdocServer app;
    return app.run(argc, argv);
}

}  // namespace kooperdoc::server
