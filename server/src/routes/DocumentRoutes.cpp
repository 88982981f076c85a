// SPDX-License-Identifier: AGPL-3.0-or-later
// /v1/documents: issue (sealed at creation), list, metadata, PDF, signed revisions, the audit
// trail and consent withdrawal. Every query is scoped by the caller's tenant; a document of
// another tenant is answered exactly like one that does not exist.
#include "../Api.h"
#include "../Http.h"
#include "SubjectOutcomes.h"

#include <cctype>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/AuditCard.h"
#include "kooperdoc/service/DocumentIssuer.h"
#include "kooperdoc/service/RevisionIntake.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/signing/Seal.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/DataSubjects.h"
#include "kooperdoc/templates/Formats.h"

namespace kooperdoc::server {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

Violation violation(const std::string& pointer, const std::string& code, const std::string& pl, const std::string& en) {
    return Violation{pointer, code, pl, en};
}

std::string folded(const std::string& text) {
    std::string out;
    bool space = false;
    for (const char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

/// The optional "subjects" array: each item well formed and named by the data. The store's
/// subjects come from the template's own identification fields (templates::extractDataSubjects);
/// the list is a client's statement of whom the document is about, checked against them so a
/// mismatch is caught at the door instead of leaving a person unfindable for erasure.
void checkSubjects(const Poco::Dynamic::Var& given, const templates::Template& tmpl, const Poco::Dynamic::Var& data,
                   std::vector<Violation>& violations) {
    if (given.isEmpty()) return;
    if (given.type() != typeid(Array::Ptr)) {
        violations.push_back(violation("/subjects", "request.type", "Pole musi być tablicą.", "must be an array"));
        return;
    }
    std::vector<templates::DataSubject> named;
    try {
        named = templates::extractDataSubjects(tmpl, data);
    } catch (const Error&) {
        return;  // the data are invalid: their own violations say why
    }
    const auto list = given.extract<Array::Ptr>();
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string at = "/subjects/" + std::to_string(i);
        const auto item = list->get(static_cast<unsigned>(i));
        if (item.type() != typeid(Object::Ptr)) {
            violations.push_back(violation(at, "request.type", "Element musi być obiektem.", "must be an object"));
            continue;
        }
        const auto o = item.extract<Object::Ptr>();
        const auto name = o->has("name") && o->get("name").isString() ? o->getValue<std::string>("name") : std::string();
        const auto pesel = o->has("pesel") && o->get("pesel").isString() ? o->getValue<std::string>("pesel") : std::string();
        bool ok = true;
        if (name.empty()) {
            violations.push_back(violation(at + "/name", "schema.required", "Podaj imię i nazwisko.", "name is required"));
            ok = false;
        }
        if (o->has("pesel") && (!o->get("pesel").isString() || !templates::isValidPesel(pesel))) {
            violations.push_back(violation(at + "/pesel", "value.pesel_checksum", "Nieprawidłowy numer PESEL.", "not a valid PESEL"));
            ok = false;
        }
        if (!ok) continue;
        bool found = false;
        for (const auto& s : named) {
            found = found || (!pesel.empty() ? s.pesel == pesel : folded(s.fullName) == folded(name));
        }
        if (!found) {
            violations.push_back(violation(at, "subject.not_in_data", "Tej osoby nie ma w danych dokumentu.",
                                           "the data do not name this person"));
        }
    }
}

Object::Ptr documentBody(const Api& api, const storage::DocumentRecord& d) {
    auto o = service::documentJson(d);
    Array::Ptr revisions = new Array;
    for (const auto& r : api.store->repository().revisions(d.id)) {
        Object::Ptr revision = new Object;
        revision->set("number", r.number);
        revision->set("kind", r.kind);
        revision->set("sha256", r.sha256);
        revision->set("size", r.size);
        revision->set("created_at", service::isoTime(r.createdAt));
        revisions->add(revision);
    }
    o->set("revisions", revisions);
    Array::Ptr subjects = new Array;
    for (const auto& s : api.store->repository().subjectsOfDocument(d.id)) subjects->add(s);
    o->set("subjects", subjects);
    return o;
}

void createDocument(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/json"});
    const auto body = http::parseJsonObject(http::readBody(ctx.request, api.limits.maxBodyBytes));
    const auto result = issueDocument(api, ctx, body, ctx.request.get("Idempotency-Key", ""));
    ctx.response.set("Location", "/v1/documents/" + result.documentId);
    http::sendJson(ctx.response, result.replayed ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_CREATED, issuedJson(result));
}

void listDocuments(const Api& api, RequestContext& ctx) {
    const auto caseNumber = ctx.queryValue("caseNumber");
    const auto status = ctx.queryValue("status");
    if (status) {
        try {
            storage::parseDocumentStatus(*status);
        } catch (const Error&) {
            throw Error(ErrorCode::kInvalidArgument, "request.status_unknown",
                        "status is one of issued, awaiting_signatures, signed, archived, erased");
        }
    }
    Array::Ptr list = new Array;
    for (const auto& d : api.store->repository().documents(ctx.who().tenantId)) {
        if (caseNumber && d.caseRef != *caseNumber) continue;
        if (status && storage::toString(d.status) != *status) continue;
        list->add(service::documentJson(d));
    }
    Object::Ptr answer = new Object;
    answer->set("documents", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

void documentPdf(const Api& api, RequestContext& ctx) {
    const auto document = api.document(ctx, ctx.param("id"));
    int revision = 0;
    if (const auto r = ctx.queryValue("revision")) {
        try {
            std::size_t used = 0;
            revision = std::stoi(*r, &used);
            if (used != r->size() || revision < 1) throw std::invalid_argument("revision");
        } catch (const std::exception&) {
            throw Error(ErrorCode::kInvalidArgument, "request.revision_invalid", "revision is a positive number");
        }
        bool known = false;
        for (const auto& rec : api.store->repository().revisions(document.id)) known = known || rec.number == revision;
        if (!known) throw Error(ErrorCode::kNotFound, "storage.revision_unknown", "the document has no revision " + *r);
    }
    const auto bytes = api.store->read(ctx.who().tenantId, document.id, revision);
    const auto digest = sha256Hex(bytes);
    api.record(ctx, "document.downloaded", document.id, digest, {{"revision", std::to_string(revision)}});
    ctx.response.set("Content-Disposition", "attachment; filename=\"" + document.id + ".pdf\"");
    ctx.response.set("Digest", "sha-256=" + digest);
    http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, bytes, "application/pdf");
}

void addRevision(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/pdf"});
    const auto document = api.document(ctx, ctx.param("id"));
    const auto uploaded = http::readBody(ctx.request, api.limits.maxBodyBytes);
    const auto intake = service::addRevision(*api.store, *api.log, api.actor(ctx), ctx.who().tenantId, document.id, uploaded,
                                             "signed_upload", api.clock());
    if (!intake.accepted) {
        // The review's reason is the error code: a client switches on it ("upload.not_ours", …).
        throw Error(ErrorCode::kValidationFailed, intake.reason, intake.detail);
    }
    Object::Ptr answer = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    answer->set("id", document.id);
    answer->set("revision", intake.revision);
    answer->set("status", storage::toString(intake.status));
    answer->set("sha256", intake.sha256);
    http::sendJson(ctx.response, HTTPResponse::HTTP_CREATED, answer);
}

void documentAudit(const Api& api, RequestContext& ctx) {
    const auto document = api.document(ctx, ctx.param("id"));
    const auto trail = service::documentTrail(*api.log, document.id);
    const auto format = ctx.queryValue("format").value_or("json");
    if (format == "pdf") {
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, service::renderAuditCard(trail, api.clock()), "application/pdf");
    } else if (format == "json") {
        http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, audit::trailToJson(trail), "application/json; charset=utf-8");
    } else {
        throw Error(ErrorCode::kInvalidArgument, "request.format_unknown", "format is json or pdf");
    }
}

void withdrawConsent(const Api& api, RequestContext& ctx) {
    const auto document = api.document(ctx, ctx.param("id"));
    const auto named = api.store->repository().subjectsOfDocument(document.id);
    std::vector<std::string> subjects = named;
    const auto text = http::readBody(ctx.request, api.limits.maxBodyBytes);
    if (!text.empty()) {
        http::requireMediaType(ctx.request, {"application/json"});
        const auto body = http::parseJsonObject(text);
        if (body->has("subject")) {
            if (!body->get("subject").isString()) {
                throw ValidationError({violation("/subject", "request.type", "Pole musi być tekstem.", "must be a string")});
            }
            const auto subject = body->getValue<std::string>("subject");
            if (std::find(named.begin(), named.end(), subject) == named.end()) {
                throw ValidationError({violation("/subject", "consent.subject_not_in_document", "Dokument nie dotyczy tej osoby.",
                                                 "the document does not name this subject")});
            }
            subjects = {subject};
        }
    }
    Array::Ptr answer = new Array;
    for (const auto& subject : subjects) {
        const auto outcomes = api.store->withdrawConsent(ctx.who().tenantId, subject, api.clock());
        recordOutcomes(api, ctx, "consent.withdrawn", subject, outcomes);
        answer->add(outcomesJson(subject, outcomes));
    }
    Object::Ptr body = new Object;
    body->set("subjects", answer);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, body);
}

}  // namespace

service::IssueResult issueDocument(const Api& api, const RequestContext& ctx, const Object::Ptr& body,
                                   const std::string& idempotencyKey) {
    std::vector<Violation> violations;
    const auto stringField = [&](const char* name, bool required) -> std::string {
        if (!body->has(name)) {
            if (required) violations.push_back(violation(std::string("/") + name, "schema.required", "Pole jest wymagane.", "required"));
            return {};
        }
        if (!body->get(name).isString()) {
            violations.push_back(violation(std::string("/") + name, "request.type", "Pole musi być tekstem.", "must be a string"));
            return {};
        }
        return body->getValue<std::string>(name);
    };
    const auto templateId = stringField("template", true);
    const auto caseNumber = stringField("caseNumber", false);
    const auto version = stringField("templateVersion", false);
    if (!body->has("data") || body->get("data").type() != typeid(Object::Ptr)) {
        violations.push_back(violation("/data", "schema.required", "Pole data (obiekt) jest wymagane.", "data (an object) is required"));
    }
    // Request-shape problems first: the template's own validation needs a template and data.
    if (!violations.empty()) throw ValidationError(violations);
    const templates::Template* tmpl = nullptr;
    try {
        tmpl = &templates::Catalog::builtIn().get(templateId, version);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kNotFound) throw;
        throw ValidationError({violation("/template", e.reason(), "Nie ma takiego szablonu.", e.what())});
    }
    const auto data = body->get("data");
    if (body->has("subjects")) checkSubjects(body->get("subjects"), *tmpl, data, violations);
    if (!violations.empty()) throw ValidationError(violations);
    if (api.signing == nullptr) throw Error(ErrorCode::kUnavailable, "signing.unavailable", "no seal is configured");

    service::IssueRequest request;
    request.tenantId = ctx.who().tenantId;
    request.tmpl = tmpl;
    request.input = data;
    request.caseRef = caseNumber;
    request.idempotencyKey = idempotencyKey;
    if (request.idempotencyKey.size() > 200) {
        throw Error(ErrorCode::kInvalidArgument, "request.idempotency_key_invalid", "Idempotency-Key is longer than 200 characters");
    }
    request.seal = true;
    request.now = api.clock();
    request.actor = api.actor(ctx);
    const SigningSetup& setup = *api.signing;
    const std::int64_t signingTime = request.now;
    service::DocumentIssuer issuer(*api.store, *api.retention, *api.log, [&setup, signingTime](const pdf::RenderedPdf& rendered) {
        return signing::sealRendered(rendered, setup.sealIdentity(), setup.level, setup.context, signingTime);
    });
    // Issuing validates the data, so every violation comes back at once as a ValidationError.
    const auto result = issuer.issue(request);
    if (!result.replayed) api.metrics->documentCreated();
    return result;
}

Object::Ptr issuedJson(const service::IssueResult& result) {
    Object::Ptr answer = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    answer->set("id", result.documentId);
    answer->set("replayed", result.replayed);
    answer->set("sha256", result.sha256);
    answer->set("subjects", static_cast<int>(result.subjects));
    answer->set("legal_basis", result.legalBasis);
    answer->set("archival_duty", result.archivalDuty);
    return answer;
}

void addDocumentRoutes(Router& router, const Api& api) {
    router.add("POST", "/v1/documents", roles({Role::kIntake}), [&api](RequestContext& ctx) { createDocument(api, ctx); });
    router.add("GET", "/v1/documents", roles({Role::kAnimator, Role::kAuditor}), [&api](RequestContext& ctx) { listDocuments(api, ctx); });
    router.add("GET", "/v1/documents/{id}", roles({Role::kIntake, Role::kAnimator, Role::kAuditor, Role::kDpo}),
               [&api](RequestContext& ctx) {
                   const auto document = api.document(ctx, ctx.param("id"));
                   api.record(ctx, "document.viewed", document.id);
                   http::sendJson(ctx.response, HTTPResponse::HTTP_OK, documentBody(api, document));
               });
    router.add("GET", "/v1/documents/{id}/pdf", roles({Role::kIntake, Role::kAnimator}), [&api](RequestContext& ctx) { documentPdf(api, ctx); });
    router.add("POST", "/v1/documents/{id}/revisions", roles({Role::kAnimator}), [&api](RequestContext& ctx) { addRevision(api, ctx); });
    router.add("GET", "/v1/documents/{id}/audit", roles({Role::kAnimator, Role::kAuditor}), [&api](RequestContext& ctx) { documentAudit(api, ctx); });
    router.add("POST", "/v1/documents/{id}/consent/withdraw", roles({Role::kDpo}), [&api](RequestContext& ctx) { withdrawConsent(api, ctx); });
}

}  // namespace kooperdoc::server
