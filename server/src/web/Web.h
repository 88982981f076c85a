// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The Polish web UI (issue 7, point 6): server-rendered pages for people who log in with a
// password and then carry a session cookie. Its routes live in their own router: they are not
// part of the /v1 API (nor of its OpenAPI document), they authenticate by session instead of by
// API key, and they answer failures with a page instead of JSON.

#include "../Api.h"
#include "../Router.h"

namespace kooperdoc::server::web {

/// Every page (docs/web.md lists them).
Router buildWebRouter(const Api& api);

/// A failed page request: a missing or expired session is sent to the login page (303), a
/// password that must be changed to its form, anything else gets an error page with its status.
void sendError(RequestContext& ctx, const Error& error);

/// The page request's session (cookie kd_session): sets ctx.principal and ctx.session, or throws
/// Error{kUnauthenticated, "auth.session_invalid"}.
void authenticate(RequestContext& ctx, Authenticator& authenticator, std::int64_t now);

}  // namespace kooperdoc::server::web
