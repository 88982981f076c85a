// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Method + path template ("/v1/documents/{id}/pdf") + the roles allowed + the handler. The
// OpenAPI document is checked against routes() by a test, so the two cannot drift apart.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "kooperdoc/server/Auth.h"

namespace kooperdoc::server {

struct RequestContext {
    Poco::Net::HTTPServerRequest& request;
    Poco::Net::HTTPServerResponse& response;
    std::string requestId;
    std::map<std::string, std::string> params;  ///< the path template's {names}
    std::map<std::string, std::string> query;   ///< decoded; the last value of a repeated name
    std::optional<Principal> principal;         ///< set for every route that has roles
    /// A web page's session (its cookie token and whether the password must change first).
    std::optional<Session> session;

    const std::string& param(const std::string& name) const { return params.at(name); }
    std::optional<std::string> queryValue(const std::string& name) const;
    const Principal& who() const { return *principal; }
};

using Handler = std::function<void(RequestContext&)>;

struct Route {
    std::string method;
    std::string pattern;
    /// Empty: public (health, metrics, the OpenAPI document, templates are not — see docs/api.md).
    std::vector<Role> roles;
    Handler handler;
    std::vector<std::string> segments;  ///< the pattern split at '/'
};

class Router {
public:
    void add(std::string method, std::string pattern, std::vector<Role> roles, Handler handler);

    struct Match {
        const Route* route = nullptr;          ///< null: no route for this method
        std::map<std::string, std::string> params;
        std::vector<std::string> allowed;     ///< the methods the path has (for 405's Allow); empty: unknown path (404)
    };
    Match match(const std::string& method, const std::string& path) const;

    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
};

/// Is \p role allowed on \p route? admin is allowed wherever any role is.
bool allows(const Route& route, Role role);

}  // namespace kooperdoc::server
