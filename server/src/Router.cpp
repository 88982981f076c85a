// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Router.h"

#include <algorithm>

namespace kooperdoc::server {
namespace {

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 1;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string::npos ? path.size() : slash;
        parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

}  // namespace

std::optional<std::string> RequestContext::queryValue(const std::string& name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

void Router::add(std::string method, std::string pattern, std::vector<Role> roles, Handler handler) {
    Route route{std::move(method), pattern, std::move(roles), std::move(handler), split(pattern)};
    routes_.push_back(std::move(route));
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
    Match result;
    if (path.empty() || path[0] != '/') return result;
    const auto parts = split(path);
    for (const auto& route : routes_) {
        if (route.segments.size() != parts.size()) continue;
        std::map<std::string, std::string> params;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i) {
            const auto& s = route.segments[i];
            if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
                ok = !parts[i].empty();
                params[s.substr(1, s.size() - 2)] = parts[i];
            } else {
                ok = s == parts[i];
            }
        }
        if (!ok) continue;
        if (std::find(result.allowed.begin(), result.allowed.end(), route.method) == result.allowed.end()) {
            result.allowed.push_back(route.method);
        }
        if (route.method == method && result.route == nullptr) {
            result.route = &route;
            result.params = std::move(params);
        }
    }
    return result;
}

bool allows(const Route& route, Role role) {
    if (route.roles.empty()) return true;
    if (role == Role::kAdmin) return true;
    return std::find(route.roles.begin(), route.roles.end(), role) != route.roles.end();
}

}  // namespace kooperdoc::server
