// SPDX-License-Identifier: AGPL-3.0-or-later
// /v1/subjects: the data protection officer's tools. A person is looked up by PESEL or name in a
// POST body (never in a URL, where it would reach access logs and browser history), and known
// from then on by a pseudonymous id.
#include "../Api.h"
#include "../Http.h"
#include "SubjectOutcomes.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/SubjectExport.h"

namespace kooperdoc::server {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

Object::Ptr outcomesJson(const std::string& subjectId, const std::vector<storage::ErasureOutcome>& outcomes) {
    Array::Ptr documents = new Array;
    for (const auto& outcome : outcomes) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("document_id", outcome.documentId);
        o->set("outcome", outcome.erased ? "erased" : "kept");
        if (!outcome.erased) o->set("ground", outcome.ground);
        if (!outcome.detail.empty()) o->set("detail", outcome.detail);
        documents->add(o);
    }
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("subject_id", subjectId);
    o->set("documents", documents);
    return o;
}

void recordOutcomes(const Api& api, const RequestContext& ctx, const std::string& type, const std::string& subjectId,
                    const std::vector<storage::ErasureOutcome>& outcomes) {
    for (const auto& outcome : outcomes) {
        api.record(ctx, type, outcome.documentId, "",
                   {{"subject", subjectId},
                    {"outcome", outcome.erased ? std::string("erased") : "kept:" + service::erasureGroundCode(outcome.ground)}});
    }
    if (outcomes.empty()) api.record(ctx, type, "", "", {{"subject", subjectId}, {"outcome", "no_documents"}});
}

namespace {

void search(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/json"});
    const auto body = http::parseJsonObject(http::readBody(ctx.request, 64 * 1024));
    const bool byPesel = body->has("pesel"), byName = body->has("name");
    if (byPesel == byName) {
        throw ValidationError({Violation{"", "subject.query_invalid", "Podaj dokładnie jedno z pól: pesel albo name.",
                                         "give exactly one of pesel and name"}});
    }
    const char* field = byPesel ? "pesel" : "name";
    if (!body->get(field).isString() || body->getValue<std::string>(field).empty()) {
        throw ValidationError({Violation{std::string("/") + field, "request.type", "Pole musi być niepustym tekstem.",
                                         "must be a non-empty string"}});
    }
    Array::Ptr list = new Array;
    for (const auto& id : api.store->findSubjects(ctx.who().tenantId, body->getValue<std::string>(field))) {
        const auto subject = api.store->repository().subject(ctx.who().tenantId, id);
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("subject_id", id);
        o->set("erased", subject && subject->erasedAt.has_value());
        Array::Ptr documents = new Array;
        for (const auto& d : api.store->repository().documentsOfSubject(ctx.who().tenantId, id)) documents->add(d.id);
        o->set("documents", documents);
        list->add(o);
    }
    Object::Ptr answer = new Object;
    answer->set("subjects", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

}  // namespace

void sendSubjectExport(const Api& api, RequestContext& ctx, const std::string& subjectId) {
    const auto exported = service::exportSubject(*api.store, ctx.who().tenantId, subjectId, api.clock());
    api.record(ctx, "subject.exported", "", sha256Hex(exported.zip),
               {{"subject", subjectId}, {"documents", std::to_string(exported.documents)}});
    ctx.response.set("Content-Disposition", "attachment; filename=\"" + subjectId + ".zip\"");
    ctx.response.set("Cache-Control", "no-store");
    http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, exported.zip, "application/zip");
}

namespace {

void eraseSubject(const Api& api, RequestContext& ctx) {
    const auto& subjectId = ctx.param("id");
    if (!api.store->repository().subject(ctx.who().tenantId, subjectId)) {
        throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no data subject " + subjectId + " in this tenant");
    }
    const auto outcomes = api.store->eraseSubject(ctx.who().tenantId, subjectId, api.clock());
    recordOutcomes(api, ctx, "subject.erased", subjectId, outcomes);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, outcomesJson(subjectId, outcomes));
}

}  // namespace

void addSubjectRoutes(Router& router, const Api& api) {
    router.add("POST", "/v1/subjects/search", roles({Role::kDpo}), [&api](RequestContext& ctx) { search(api, ctx); });
    router.add("GET", "/v1/subjects/{id}/export", roles({Role::kDpo}), [&api](RequestContext& ctx) { sendSubjectExport(api, ctx, ctx.param("id")); });
    router.add("DELETE", "/v1/subjects/{id}", roles({Role::kDpo}), [&api](RequestContext& ctx) { eraseSubject(api, ctx); });
}

}  // namespace kooperdoc::server
