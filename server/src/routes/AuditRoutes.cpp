// SPDX-License-Identifier: AGPL-3.0-or-later
// /v1/audit: the log's newest signed checkpoint and one entry's inclusion receipt, for auditors
// who keep their own copy of the checkpoints (docs/audit.md).
#include "../Api.h"
#include "../Http.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "kooperdoc/audit/Trail.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {
namespace {

using Poco::Net::HTTPResponse;

void checkpoint(const Api& api, RequestContext& ctx) {
    auto newest = api.store->repository().auditStore().newestCheckpoint();
    // A fresh log has none yet: sign one now rather than answer 404 to a working service.
    const std::string note = newest ? newest->note : api.log->checkpoint().note;
    http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, note, "text/plain; charset=utf-8");
}

void proof(const Api& api, RequestContext& ctx) {
    const auto& text = ctx.param("index");
    std::uint64_t index = 0;
    try {
        std::size_t used = 0;
        index = std::stoull(text, &used);
        if (used != text.size() || text[0] == '-' || text[0] == '+') throw std::invalid_argument("index");
    } catch (const std::exception&) {
        throw Error(ErrorCode::kInvalidArgument, "request.index_invalid", "index is a non-negative number");
    }
    if (index >= api.store->repository().auditStore().size()) {
        throw Error(ErrorCode::kNotFound, "audit.entry_unknown", "the audit log has no entry " + text);
    }
    // Entries of other tenants are not the caller's to see: the same answer as a missing one.
    const auto entries = api.store->repository().auditStore().entries(index, index + 1);
    if (entries.empty()) throw Error(ErrorCode::kNotFound, "audit.entry_unknown", "the audit log has no entry " + text);
    Poco::JSON::Parser parser;
    const auto fields = parser.parse(entries.front().canonical).extract<Poco::JSON::Object::Ptr>();
    const auto tenant = fields->has("tenant") ? fields->getValue<std::string>("tenant")
                        : fields->has("tenant_id") ? fields->getValue<std::string>("tenant_id") : std::string();
    if (tenant != ctx.who().tenantId) throw Error(ErrorCode::kNotFound, "audit.entry_unknown", "the audit log has no entry " + text);
    audit::DocumentTrail trail;
    trail.documentId = fields->has("document") ? fields->getValue<std::string>("document")
                       : fields->has("document_id") ? fields->getValue<std::string>("document_id") : std::string();
    trail.origin = api.log->signer().origin();
    trail.publicKeyPem = api.log->signer().publicKeyPem();
    trail.receipts.push_back(api.log->prove(index));
    http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, audit::trailToJson(trail), "application/json; charset=utf-8");
}

}  // namespace

void addAuditRoutes(Router& router, const Api& api) {
    router.add("GET", "/v1/audit/checkpoint", roles({Role::kAuditor}), [&api](RequestContext& ctx) { checkpoint(api, ctx); });
    router.add("GET", "/v1/audit/proof/{index}", roles({Role::kAuditor}), [&api](RequestContext& ctx) { proof(api, ctx); });
}

}  // namespace kooperdoc::server
