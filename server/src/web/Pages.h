// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What every page of the web UI shares: Mustache templates compiled into the binary
// (server/web/templates), the layout with the role's navigation, forms read with the body limit
// and checked against the session's CSRF token, redirects, and the security headers.
// The pages are in Polish; the code and the routes' names in the code are English.

#include <map>
#include <string>

#include <kainjow/mustache.hpp>

#include "../Api.h"
#include "../Router.h"

namespace kooperdoc::server::web {

namespace mustache = kainjow::mustache;

/// The session cookie's name; HttpOnly, SameSite=Strict, Path=/ (and Secure behind HTTPS).
inline constexpr const char* kSessionCookie = "kd_session";

/// An embedded file of server/web ("templates/documents.mustache", "static/kooperdoc.css");
/// Error{kInternal, "web.asset_missing"} for a name the build did not embed.
const std::string& asset(const std::string& path);

/// Renders templates/<name>.mustache with \p data inside templates/layout.mustache: title, the
/// navigation of the signed-in role, the CSRF token for the forms, a flash message.
std::string renderPage(const RequestContext& ctx, const std::string& name, const std::string& title, mustache::data data);

/// Sends \p html with the headers every page carries (no caching of personal pages, a strict
/// Content-Security-Policy: no script, nothing from elsewhere).
void sendHtml(RequestContext& ctx, const std::string& html, Poco::Net::HTTPResponse::HTTPStatus status = Poco::Net::HTTPResponse::HTTP_OK);

/// 303 See Other to \p location (after a POST, so reloading does not repeat it).
void redirect(RequestContext& ctx, const std::string& location);

/// A submitted form: fields and uploaded files (multipart/form-data or urlencoded).
struct Form {
    std::map<std::string, std::string> fields;
    struct File {
        std::string fileName;
        std::string bytes;
    };
    std::map<std::string, File> files;

    std::string field(const std::string& name) const;
    bool hasFile(const std::string& name) const { return files.count(name) == 1 && !files.at(name).bytes.empty(); }
};

/// Reads the form (at most \p limit bytes). With \p checkCsrf the field "csrf" must equal the
/// session's token: Error{kPermissionDenied, "auth.csrf"} otherwise.
Form readForm(RequestContext& ctx, std::size_t limit, bool checkCsrf = true);

/// The Polish sentence for a stable error code the pages show (falls back to the message).
std::string polishMessage(const Error& error);

/// "2026-11-23 14:05" in Polish time for a page (UTC offset applied by the zone rules of Warsaw).
std::string displayTime(std::int64_t epochSeconds);

/// Polish names of document statuses and roles.
std::string statusName(const std::string& status);
std::string roleName(const std::string& role);

}  // namespace kooperdoc::server::web
