// SPDX-License-Identifier: AGPL-3.0-or-later
// Logging in and out, changing the password, and the home page that sends each role to its work.
// Logins are recorded in the audit log (user.login, user.login_failed) under the user's
// pseudonymous id — never the login name, which is the person's.
#include "PageRoutes.h"
#include "Pages.h"

#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/URI.h>

#include "../Http.h"
#include "kooperdoc/storage/Keys.h"

namespace kooperdoc::server::web {
namespace {

using Poco::Net::HTTPCookie;
using Poco::Net::HTTPResponse;

/// A double-submitted token for the login form: it has no session yet, and without it another
/// site could log a person into someone else's account.
constexpr const char* kLoginCookie = "kd_login";

void setCookie(RequestContext& ctx, const std::string& name, const std::string& value, int maxAge) {
    HTTPCookie cookie(name, value);
    cookie.setPath("/");
    cookie.setHttpOnly(true);
    cookie.setSameSite(HTTPCookie::SAME_SITE_STRICT);
    cookie.setSecure(ctx.request.secure());
    cookie.setMaxAge(maxAge);
    ctx.response.addCookie(cookie);
}

std::string cookieValue(const RequestContext& ctx, const std::string& name) {
    Poco::Net::NameValueCollection cookies;
    ctx.request.getCookies(cookies);
    return cookies.get(name, "");
}

/// A local page to return to after logging in: our own absolute path, never another site.
std::string safeNext(const std::string& next) {
    if (next.size() < 1 || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) return "/";
    for (const char c : next) {
        if (static_cast<unsigned char>(c) < 0x20) return "/";
    }
    return next;
}

void recordLogin(const Api& api, const storage::UserRecord& user, const std::string& type, const std::string& reason = "") {
    audit::AuditEvent event;
    event.time = api.clock();
    event.tenantId = user.tenantId;
    event.actorId = "user:" + user.id;
    event.actorRole = user.role;
    event.type = type;
    if (!reason.empty()) event.details["reason"] = reason;
    api.log->record(event);
}

void loginPage(RequestContext& ctx, const std::string& error = "", const std::string& login = "",
               HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    const auto token = storage::randomId() + storage::randomId();
    setCookie(ctx, kLoginCookie, token, 3600);
    mustache::data data;
    data.set("loginCsrf", token);
    data.set("next", safeNext(ctx.queryValue("dalej").value_or("/")));
    data.set("login", login);
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "login", "Logowanie", data), status);
}

void login(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, 64 * 1024, false);
    const auto expected = cookieValue(ctx, kLoginCookie);
    if (expected.empty() || form.field("login_csrf") != expected) {
        throw Error(ErrorCode::kPermissionDenied, "auth.csrf", "the login form's token does not match its cookie");
    }
    const auto login = form.field("login");
    const auto user = api.store->repository().userByLogin(login);
    try {
        const auto session = api.authenticator->login(login, form.field("password"), api.clock());
        setCookie(ctx, kSessionCookie, session.token, -1);
        setCookie(ctx, kLoginCookie, "", 0);
        if (user) recordLogin(api, *user, "user.login");
        redirect(ctx, session.mustChangePassword ? "/haslo" : safeNext(form.field("next")));
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kUnauthenticated && e.code() != ErrorCode::kResourceExhausted) throw;
        if (user) recordLogin(api, *user, "user.login_failed", e.reason());
        loginPage(ctx, polishMessage(e), login,
                  e.code() == ErrorCode::kResourceExhausted ? HTTPResponse::HTTP_TOO_MANY_REQUESTS : HTTPResponse::HTTP_UNAUTHORIZED);
    }
}

void logout(const Api& api, RequestContext& ctx) {
    readForm(ctx, 64 * 1024);
    api.authenticator->logout(ctx.session->token);
    setCookie(ctx, kSessionCookie, "", 0);
    redirect(ctx, "/logowanie?komunikat=wylogowano");
}

void passwordPage(RequestContext& ctx, const std::string& error = "", HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    mustache::data data;
    if (ctx.session && ctx.session->mustChangePassword) data.set("mustChange", true);
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "password", "Zmiana hasła", data), status);
}

void changePassword(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, 64 * 1024);
    if (form.field("new_password") != form.field("repeat_password")) {
        passwordPage(ctx, "Nowe hasło i jego powtórzenie się różnią.", HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    try {
        api.authenticator->changePassword(ctx.session->token, form.field("old_password"), form.field("new_password"), api.clock());
    } catch (const Error& e) {
        if (e.reason() != "auth.password_weak" && e.reason() != "auth.login_failed") throw;
        passwordPage(ctx, e.reason() == "auth.login_failed" ? "Obecne hasło jest nieprawidłowe." : polishMessage(e),
                     HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    redirect(ctx, "/?komunikat=haslo-zmienione");
}

void home(RequestContext& ctx) {
    const std::string flash = ctx.queryValue("komunikat") ? "?komunikat=" + *ctx.queryValue("komunikat") : "";
    switch (ctx.who().role) {
    case Role::kAnimator:
    case Role::kAuditor: redirect(ctx, "/dokumenty" + flash); return;
    case Role::kDpo: redirect(ctx, "/iod/osoby" + flash); return;
    case Role::kAdmin: redirect(ctx, "/admin/uzytkownicy" + flash); return;
    case Role::kIntake: break;
    }
    sendHtml(ctx, renderPage(ctx, "intake", "Konto systemowe", {}));
}

}  // namespace

std::vector<Role> anyRole() { return {Role::kIntake, Role::kAnimator, Role::kAuditor, Role::kDpo, Role::kAdmin}; }

void addAccountPages(Router& router, const Api& api) {
    router.add("GET", "/logowanie", {}, [](RequestContext& ctx) { loginPage(ctx); });
    router.add("POST", "/logowanie", {}, [&api](RequestContext& ctx) { login(api, ctx); });
    router.add("POST", "/wyloguj", anyRole(), [&api](RequestContext& ctx) { logout(api, ctx); });
    router.add("GET", "/haslo", anyRole(), [](RequestContext& ctx) { passwordPage(ctx); });
    router.add("POST", "/haslo", anyRole(), [&api](RequestContext& ctx) { changePassword(api, ctx); });
    router.add("GET", "/", anyRole(), [](RequestContext& ctx) { home(ctx); });
}

}  // namespace kooperdoc::server::web
