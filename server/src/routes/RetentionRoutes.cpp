// SPDX-License-Identifier: AGPL-3.0-or-later
// /v1/retention and /v1/holds: the data protection officer's side of retention (Retention.h),
// the same workflow `kooperdoc retention` and `kooperdoc hold` run. Disposal is never a side effect
// of a request: a run only proposes what is due and not held; a person approves (with the state
// archive's consent where the category needs it); execution erases what is still due then and
// writes disposal records (ids and hashes). Everything is scoped by the caller's tenant.
#include "../Api.h"
#include "../Http.h"
#include "../TenantAdministration.h"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/storage/Retention.h"

namespace kooperdoc::server {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

constexpr std::size_t kMaxBody = 64 * 1024;
/// A hold's reason is a file reference or a short note, not a document.
constexpr std::size_t kMaxReasonBytes = 1000;

Poco::Dynamic::Var optionalTime(const std::optional<std::int64_t>& epoch) {
    return epoch ? Poco::Dynamic::Var(service::isoTime(*epoch)) : Poco::Dynamic::Var();
}

Poco::Dynamic::Var optionalText(const std::string& text) { return text.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(text); }

/// An optional JSON body: an empty one is no body (these POSTs all work without one).
Object::Ptr optionalBody(const Api& api, RequestContext& ctx) {
    const auto text = http::readBody(ctx.request, std::min(kMaxBody, api.limits.maxBodyBytes));
    if (text.empty()) return new Object;
    http::requireMediaType(ctx.request, {"application/json"});
    return http::parseJsonObject(text);
}

/// The row of `kooperdoc retention report --json`.
Object::Ptr statusJson(const storage::RetentionStatus& s) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    service::setRetentionStatus(*o, s);
    o->set("blocked_by", optionalText(s.blockedBy));
    return o;
}

Object::Ptr proposalJson(const storage::DisposalProposal& p) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", p.id);
    o->set("status", p.status);
    o->set("created_at", service::isoTime(p.createdAt));
    o->set("approved_by", optionalText(p.approvedBy));
    o->set("approved_at", optionalTime(p.approvedAt));
    o->set("archive_consent_ref", optionalText(p.archiveConsentRef));
    o->set("executed_at", optionalTime(p.executedAt));
    Array::Ptr items = new Array;
    for (const auto& item : p.items) items->add(statusJson(item));
    o->set("items", items);
    return o;
}

void report(const Api& api, RequestContext& ctx) {
    Array::Ptr list = new Array;
    for (const auto& row : storage::retentionReport(api.store->repository(), ctx.who().tenantId, *api.retention, api.clock())) {
        list->add(statusJson(row));
    }
    Object::Ptr answer = new Object;
    answer->set("documents", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

/// A sweep of the caller's tenant now, like `kooperdoc retention run --tenant T`: 201 with the
/// proposal when something is due, 200 "nothing_due" otherwise; {"dry_run": true} records nothing.
void run(const Api& api, RequestContext& ctx) {
    const auto body = optionalBody(api, ctx);
    bool dryRun = false;
    if (body->has("dry_run")) {
        if (!body->get("dry_run").isBoolean()) {
            throw ValidationError({Violation{"/dry_run", "request.type", "Pole musi mieć wartość true albo false.", "must be a boolean"}});
        }
        dryRun = body->getValue<bool>("dry_run");
    }
    const auto proposal = runRetentionSweep(api, ctx, dryRun);
    const bool recorded = !dryRun && !proposal.items.empty();
    auto answer = proposalJson(proposal);
    if (!recorded) {
        answer->set("id", Poco::Dynamic::Var());
        if (proposal.items.empty()) answer->set("status", "nothing_due");
    } else {
        ctx.response.set("Location", "/v1/retention/proposals/" + proposal.id);
    }
    http::sendJson(ctx.response, recorded ? HTTPResponse::HTTP_CREATED : HTTPResponse::HTTP_OK, answer);
}

void listProposals(const Api& api, RequestContext& ctx) {
    Array::Ptr list = new Array;
    for (const auto& p : api.store->repository().disposalProposals(ctx.who().tenantId)) list->add(proposalJson(p));
    Object::Ptr answer = new Object;
    answer->set("proposals", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

/// {"archive_consent_ref": "…"}: the state archive's consent, required when an item's category
/// is B or BE (409 retention.archive_consent_required without it). The approver is the caller.
void approve(const Api& api, RequestContext& ctx) {
    const auto& id = ctx.param("id");
    tenantProposal(api, ctx, id);  // 404 before any complaint about the body
    const auto body = optionalBody(api, ctx);
    std::string consent;
    if (body->has("archive_consent_ref") && !body->get("archive_consent_ref").isEmpty()) {
        if (!body->get("archive_consent_ref").isString() || body->getValue<std::string>("archive_consent_ref").size() > 200) {
            throw ValidationError({Violation{"/archive_consent_ref", "request.type", "Pole musi być tekstem (najwyżej 200 bajtów).",
                                             "must be a string of at most 200 bytes"}});
        }
        consent = body->getValue<std::string>("archive_consent_ref");
    }
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, proposalJson(approveProposal(api, ctx, id, consent)));
}

void reject(const Api& api, RequestContext& ctx) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, proposalJson(rejectProposal(api, ctx, ctx.param("id"))));
}

/// Like `kooperdoc retention execute`: every approved item still due and not held now is erased;
/// one disposal record per item either way.
void execute(const Api& api, RequestContext& ctx) {
    const auto executed = executeProposal(api, ctx, ctx.param("id"));
    Array::Ptr list = new Array;
    for (const auto& r : executed.records) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("record_id", r.id);
        o->set("document_id", r.documentId);
        o->set("rule", r.ruleId);
        o->set("category", r.category);
        o->set("outcome", r.outcome);
        o->set("revision_sha256", r.revisionSha256);
        list->add(o);
    }
    auto answer = proposalJson(executed.proposal);
    answer->set("records", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

// ------------------------------------------------------------------------------------- holds

Object::Ptr holdJson(const storage::LegalHold& h) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", h.id);
    o->set("document_id", optionalText(h.documentId));
    o->set("case_number", optionalText(h.caseRef));
    o->set("reason", h.reason);
    o->set("set_by", h.setBy);
    o->set("set_at", service::isoTime(h.setAt));
    o->set("active", !h.clearedAt.has_value());
    o->set("cleared_by", optionalText(h.clearedBy));
    o->set("cleared_at", optionalTime(h.clearedAt));
    return o;
}

/// {"documentId": ID} or {"caseNumber": REF} (the name POST /v1/documents gives a case), and a
/// "reason". Like `kooperdoc hold place`, with the caller as the one who set it.
void placeHold(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/json"});
    const auto body = http::parseJsonObject(http::readBody(ctx.request, kMaxBody));
    std::vector<Violation> violations;
    const auto text = [&](const char* name) -> std::string {
        if (!body->has(name) || body->get(name).isEmpty()) return {};
        if (!body->get(name).isString()) {
            violations.push_back({std::string("/") + name, "request.type", "Pole musi być tekstem.", "must be a string"});
            return {};
        }
        return body->getValue<std::string>(name);
    };
    const auto documentId = text("documentId");
    const auto caseNumber = text("caseNumber");
    const auto reason = text("reason");
    if (violations.empty() && documentId.empty() == caseNumber.empty()) {
        violations.push_back({"", "hold.target_invalid", "Podaj dokładnie jedno z pól: documentId albo caseNumber.",
                              "give exactly one of documentId and caseNumber"});
    }
    const bool reasonNotText = body->has("reason") && !body->get("reason").isEmpty() && !body->get("reason").isString();
    if (reason.empty() && !reasonNotText) {
        violations.push_back({"/reason", "schema.required", "Podaj powód wstrzymania.", "reason is required"});
    } else if (reason.size() > kMaxReasonBytes) {
        violations.push_back({"/reason", "request.too_long", "Powód ma najwyżej 1000 bajtów.", "reason has at most 1000 bytes"});
    }
    if (!violations.empty()) throw ValidationError(violations);
    const auto hold = server::placeHold(api, ctx, documentId, caseNumber, reason);
    ctx.response.set("Location", "/v1/holds/" + hold.id);
    http::sendJson(ctx.response, HTTPResponse::HTTP_CREATED, holdJson(hold));
}

void listHolds(const Api& api, RequestContext& ctx) {
    Array::Ptr list = new Array;
    for (const auto& h : api.store->repository().legalHolds(ctx.who().tenantId)) list->add(holdJson(h));
    Object::Ptr answer = new Object;
    answer->set("holds", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

/// Clears an active hold (storage.hold_unknown, 404, for an unknown, cleared or foreign one).
void clearHold(const Api& api, RequestContext& ctx) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, holdJson(server::clearHold(api, ctx, ctx.param("id"))));
}

}  // namespace

void addRetentionRoutes(Router& router, const Api& api) {
    const auto dpo = roles({Role::kDpo});
    router.add("GET", "/v1/retention/report", dpo, [&api](RequestContext& ctx) { report(api, ctx); });
    router.add("POST", "/v1/retention/run", dpo, [&api](RequestContext& ctx) { run(api, ctx); });
    router.add("GET", "/v1/retention/proposals", dpo, [&api](RequestContext& ctx) { listProposals(api, ctx); });
    router.add("POST", "/v1/retention/proposals/{id}/approve", dpo, [&api](RequestContext& ctx) { approve(api, ctx); });
    router.add("POST", "/v1/retention/proposals/{id}/reject", dpo, [&api](RequestContext& ctx) { reject(api, ctx); });
    router.add("POST", "/v1/retention/proposals/{id}/execute", dpo, [&api](RequestContext& ctx) { execute(api, ctx); });
    router.add("POST", "/v1/holds", dpo, [&api](RequestContext& ctx) { placeHold(api, ctx); });
    router.add("GET", "/v1/holds", dpo, [&api](RequestContext& ctx) { listHolds(api, ctx); });
    router.add("DELETE", "/v1/holds/{id}", dpo, [&api](RequestContext& ctx) { clearHold(api, ctx); });
}

}  // namespace kooperdoc::server
