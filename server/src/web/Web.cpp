// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Web.h"

#include <Poco/Net/NameValueCollection.h>
#include <Poco/URI.h>

#include "../Http.h"
#include "PageRoutes.h"
#include "Pages.h"

namespace kooperdoc::server::web {

using Poco::Net::HTTPResponse;

Router buildWebRouter(const Api& api) {
    Router router;
    addAccountPages(router, api);
    addDocumentPages(router, api);
    addVerifyPages(router, api);
    addDpoPages(router, api);
    addAdminPages(router, api);
    addRetentionPages(router, api);
    router.add("GET", "/static/kooperdoc.css", {}, [](RequestContext& ctx) {
        ctx.response.set("Cache-Control", "public, max-age=3600");
        ctx.response.set("X-Content-Type-Options", "nosniff");
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, asset("static/kooperdoc.css"), "text/css; charset=utf-8");
    });
    // Browsers ask for it on every visit; there is none, and a 404 in every log says nothing.
    router.add("GET", "/favicon.ico", {}, [](RequestContext& ctx) {
        ctx.response.set("Cache-Control", "public, max-age=86400");
        ctx.response.setStatus(HTTPResponse::HTTP_NO_CONTENT);
        ctx.response.send();
    });
    return router;
}

void authenticate(RequestContext& ctx, Authenticator& authenticator, std::int64_t now) {
    Poco::Net::NameValueCollection cookies;
    ctx.request.getCookies(cookies);
    const auto token = cookies.get(kSessionCookie, "");
    if (token.empty()) throw Error(ErrorCode::kUnauthenticated, "auth.session_invalid", "no session cookie");
    auto session = authenticator.authenticateSession(token, now);
    session.token = token;
    ctx.principal = session.principal;
    ctx.session = std::move(session);
}

void sendError(RequestContext& ctx, const Error& error) {
    if (error.code() == ErrorCode::kUnauthenticated && error.reason() == "auth.session_invalid") {
        const auto uri = ctx.request.getURI();
        // Back to the page asked for after logging in — a GET of our own path only.
        std::string next;
        if (ctx.request.getMethod() == "GET" && uri.rfind("/", 0) == 0 && uri.rfind("//", 0) != 0) next = uri;
        std::string location = "/logowanie";
        if (!next.empty()) {
            std::string encoded;
            Poco::URI::encode(next, "&=?#+/%", encoded);
            location += "?dalej=" + encoded;
        }
        redirect(ctx, location);
        return;
    }
    if (error.reason() == "auth.password_change_required") {
        redirect(ctx, "/haslo");
        return;
    }
    mustache::data data;
    data.set("message", polishMessage(error));
    data.set("code", error.reason());
    if (const auto* validation = dynamic_cast<const ValidationError*>(&error)) {
        mustache::data list{mustache::data::type::list};
        for (const auto& v : validation->violations()) {
            mustache::data item;
            item.set("pointer", v.pointer);
            item.set("message", v.messagePl.empty() ? v.messageEn : v.messagePl);
            list.push_back(item);
        }
        data.set("violations", list);
    }
    const auto status = http::statusFor(error.code());
    sendHtml(ctx, renderPage(ctx, "error", "Błąd", data), status);
}

}  // namespace kooperdoc::server::web
