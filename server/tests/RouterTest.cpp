// SPDX-License-Identifier: AGPL-3.0-or-later
// The router and the checked-in OpenAPI document describe the same API: every route is
// documented with its method and roles, and nothing is documented that is not routed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include "Api.h"
#include "Http.h"
#include "OpenApi.h"
#include "Router.h"

using namespace kooperdoc;
using namespace kooperdoc::server;

TEST_CASE("every route is in the OpenAPI document with its roles, and every documented operation is routed", "[server][openapi]") {
    Api api;
    const auto router = buildRouter(api);
    Poco::JSON::Parser parser;
    const auto document = parser.parse(openApiDocument()).extract<Poco::JSON::Object::Ptr>();
    CHECK(document->getValue<std::string>("openapi") == "3.1.0");
    const auto paths = document->getObject("paths");

    std::set<std::string> routed, documented;
    for (const auto& route : router.routes()) {
        const auto key = route.method + " " + route.pattern;
        INFO(key);
        routed.insert(key);
        REQUIRE(paths->has(route.pattern));
        const auto operation = paths->getObject(route.pattern)->getObject(Poco::toLower(route.method));
        REQUIRE(!operation.isNull());
        std::set<std::string> documentedRoles, routeRoles;
        const auto list = operation->getArray("x-kooperdoc-roles");
        REQUIRE(!list.isNull());
        for (std::size_t i = 0; i < list->size(); ++i) documentedRoles.insert(list->getElement<std::string>(static_cast<unsigned>(i)));
        for (const auto role : route.roles) routeRoles.insert(toString(role));
        CHECK(documentedRoles == routeRoles);
        // A route with roles needs the key; a public one says so with an empty security list.
        CHECK(operation->getArray("security")->size() == (route.roles.empty() ? 0U : 1U));
    }
    for (const auto& [path, item] : *paths) {
        for (const auto& [method, operation] : *item.extract<Poco::JSON::Object::Ptr>()) {
            documented.insert(Poco::toUpper(method) + " " + path);
        }
    }
    CHECK(routed == documented);
}

TEST_CASE("the router matches templates, tells 404 from 405 and lists the allowed methods", "[server]") {
    Router router;
    router.add("GET", "/v1/documents/{id}", {Role::kAnimator}, [](RequestContext&) {});
    router.add("GET", "/v1/documents/{id}/pdf", {}, [](RequestContext&) {});
    router.add("DELETE", "/v1/documents/{id}", {}, [](RequestContext&) {});
    auto m = router.match("GET", "/v1/documents/KD-1");
    REQUIRE(m.route != nullptr);
    CHECK(m.params.at("id") == "KD-1");
    m = router.match("POST", "/v1/documents/KD-1");
    CHECK(m.route == nullptr);
    CHECK(m.allowed == std::vector<std::string>{"GET", "DELETE"});
    CHECK(router.match("GET", "/v1/documents/KD-1/xml").allowed.empty());
    CHECK(router.match("GET", "/v1/documents//pdf").allowed.empty());
    CHECK(allows(router.routes()[0], Role::kAdmin));
    CHECK_FALSE(allows(router.routes()[0], Role::kIntake));
}

TEST_CASE("the rate limiter refills per minute and the admission bounds the queue", "[server]") {
    RateLimiter limiter(2);
    CHECK(limiter.take("k") == 0);
    CHECK(limiter.take("k") == 0);
    CHECK(limiter.take("k") > 0);
    CHECK(limiter.take("other") == 0);
    Admission admission(1, 0);
    CHECK(admission.enter(std::chrono::seconds(0)));
    CHECK_FALSE(admission.enter(std::chrono::seconds(1)));  // no queue: refused at once
    admission.leave();
    CHECK(admission.enter(std::chrono::seconds(0)));
}

TEST_CASE("every failure category maps to its documented status", "[server]") {
    using S = Poco::Net::HTTPResponse;
    CHECK(http::statusFor(ErrorCode::kValidationFailed) == S::HTTP_UNPROCESSABLE_ENTITY);
    CHECK(http::statusFor(ErrorCode::kUnauthenticated) == S::HTTP_UNAUTHORIZED);
    CHECK(http::statusFor(ErrorCode::kPermissionDenied) == S::HTTP_FORBIDDEN);
    CHECK(http::statusFor(ErrorCode::kResourceExhausted) == S::HTTP_TOO_MANY_REQUESTS);
    CHECK(http::statusFor(ErrorCode::kPayloadTooLarge) == S::HTTP_REQUEST_ENTITY_TOO_LARGE);
    CHECK(http::statusFor(ErrorCode::kUnsupportedMediaType) == S::HTTP_UNSUPPORTEDMEDIATYPE);
    CHECK(http::statusFor(ErrorCode::kUnavailable) == S::HTTP_SERVICE_UNAVAILABLE);
    CHECK(http::statusFor(ErrorCode::kAlreadyExists) == S::HTTP_CONFLICT);
}
