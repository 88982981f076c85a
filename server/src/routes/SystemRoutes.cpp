// SPDX-License-Identifier: AGPL-3.0-or-later
// Health, readiness, metrics, the OpenAPI document, the template catalogue and the embedded TSA.
#include "../Api.h"
#include "../Http.h"
#include "../OpenApi.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::server {
namespace {

using Poco::Net::HTTPResponse;

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

}  // namespace

void addSystemRoutes(Router& router, const Api& api) {
    router.add("GET", "/healthz", {}, [](RequestContext& ctx) {
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        body->set("status", "ok");
        http::sendJson(ctx.response, HTTPResponse::HTTP_OK, body);
    });
    router.add("GET", "/readyz", {}, [&api](RequestContext& ctx) {
        // Ready means the database answers now: a load balancer stops sending requests that
        // could only fail.
        try {
            api.store->repository().schemaVersion();
            api.store->repository().tenant("readyz-probe");
        } catch (const std::exception&) {
            throw Error(ErrorCode::kUnavailable, "storage.unavailable", "the database does not answer");
        }
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        body->set("status", "ready");
        http::sendJson(ctx.response, HTTPResponse::HTTP_OK, body);
    });
    router.add("GET", "/metrics", {}, [&api](RequestContext& ctx) {
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, api.metrics->text(), "text/plain; version=0.0.4; charset=utf-8");
    });
    router.add("GET", "/openapi.json", {}, [](RequestContext& ctx) {
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, openApiDocument(), "application/json; charset=utf-8");
    });
    // The catalogue is public: forms and schemas hold no personal data, and clients need them to
    // build requests before anyone gives them a key.
    router.add("GET", "/v1/templates", {}, [](RequestContext& ctx) {
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        for (const auto* t : templates::Catalog::builtIn().list()) list->add(templateSummary(*t));
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        body->set("templates", list);
        http::sendJson(ctx.response, HTTPResponse::HTTP_OK, body);
    });
    router.add("GET", "/v1/templates/{id}", {}, [](RequestContext& ctx) {
        http::sendJson(ctx.response, HTTPResponse::HTTP_OK, templateSummary(templates::Catalog::builtIn().get(ctx.param("id"))));
    });
    router.add("GET", "/v1/templates/{id}/schema", {}, [](RequestContext& ctx) {
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, templates::Catalog::builtIn().get(ctx.param("id")).schemaText(),
                        "application/schema+json");
    });
    router.add("GET", "/v1/templates/{id}/sample", {}, [](RequestContext& ctx) {
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, templates::Catalog::builtIn().get(ctx.param("id")).samples().at("sample"),
                        "application/json; charset=utf-8");
    });
    // RFC 3161 over HTTP (RFC 3161 §3.4): the embedded TSA, for installations without a
    // contracted one and for the other Kooperdoc instances of a deployment.
    router.add("POST", "/v1/timestamp", {}, [&api](RequestContext& ctx) {
        if (!api.tsa) throw Error(ErrorCode::kNotFound, "timestamp.not_served", "this instance runs no TSA");
        http::requireMediaType(ctx.request, {"application/timestamp-query"});
        constexpr std::size_t kMaxRequest = 64 * 1024;  // a TimeStampReq is about a hundred bytes
        const auto body = http::readBody(ctx.request, kMaxRequest);
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, api.tsa->respond(body), "application/timestamp-reply");
    });
}

}  // namespace kooperdoc::server
