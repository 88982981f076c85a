// SPDX-License-Identifier: AGPL-3.0-or-later
// The animator's work: find a case's documents, download the ready-to-sign PDF, upload the copy
// signed elsewhere and see at once whether it was accepted and why not; the auditor's view of a
// document's audit trail with the status of each inclusion proof. The same judgements as the
// API (service::addRevision, service::documentTrail), in Polish.
#include "PageRoutes.h"
#include "Pages.h"

#include <algorithm>
#include <optional>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "../Http.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/service/AuditCard.h"
#include "kooperdoc/service/RevisionIntake.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::server::web {
namespace {

using Poco::Net::HTTPResponse;

std::string templateTitle(const storage::DocumentRecord& d) {
    try {
        return templates::Catalog::builtIn().get(d.templateId, d.templateVersion).metadata().title;
    } catch (const Error&) {
        return d.templateId;
    }
}

mustache::data documentSummary(const storage::DocumentRecord& d) {
    mustache::data row;
    row.set("id", d.id);
    row.set("number", d.number);
    row.set("caseRef", d.caseRef.empty() ? "—" : d.caseRef);
    row.set("title", templateTitle(d));
    row.set("status", statusName(storage::toString(d.status)));
    row.set("statusCode", storage::toString(d.status));
    row.set("created", displayTime(d.createdAt));
    return row;
}

void documentList(const Api& api, RequestContext& ctx) {
    const auto caseQuery = ctx.queryValue("sprawa").value_or("");
    const auto statusQuery = ctx.queryValue("status").value_or("");
    std::vector<storage::DocumentRecord> found;
    for (auto& d : api.store->repository().documents(ctx.who().tenantId)) {
        // A part of the case number finds it: people type "12/2026" for "OPS.4011.12/2026".
        if (!caseQuery.empty() && d.caseRef.find(caseQuery) == std::string::npos && d.id != caseQuery) continue;
        if (!statusQuery.empty() && storage::toString(d.status) != statusQuery) continue;
        found.push_back(std::move(d));
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.createdAt > b.createdAt; });
    mustache::data rows{mustache::data::type::list};
    for (const auto& d : found) rows.push_back(documentSummary(d));
    mustache::data statuses{mustache::data::type::list};
    for (const std::string s : {"issued", "awaiting_signatures", "signed", "archived", "erased"}) {
        mustache::data option;
        option.set("value", s);
        option.set("label", statusName(s));
        if (s == statusQuery) option.set("selected", true);
        statuses.push_back(option);
    }
    mustache::data data;
    data.set("documents", rows);
    data.set("count", std::to_string(found.size()));
    data.set("any", !found.empty());
    data.set("caseQuery", caseQuery);
    data.set("statuses", statuses);
    sendHtml(ctx, renderPage(ctx, "documents", "Dokumenty", data));
}

mustache::data documentDetail(const Api& api, const RequestContext& ctx, const storage::DocumentRecord& d) {
    auto data = documentSummary(d);
    data.set("sha256", d.requestSha256);
    data.set("legalBasis", d.legalBasis);
    data.set("restricted", d.restricted);
    const bool animator = ctx.who().role == Role::kAnimator || ctx.who().role == Role::kAdmin;
    const bool available = d.status != storage::DocumentStatus::kErased && !d.restricted;
    data.set("canDownload", animator && available);
    data.set("canUpload", animator && available);
    mustache::data revisions{mustache::data::type::list};
    for (const auto& r : api.store->repository().revisions(d.id)) {
        mustache::data row;
        row.set("number", std::to_string(r.number));
        row.set("kind", r.kind == "issued" ? "wydany (zapieczętowany)" : r.kind == "signed_upload" ? "podpisany (przesłany)" : r.kind);
        row.set("sha256", r.sha256);
        row.set("created", displayTime(r.createdAt));
        row.set("canDownload", animator && available);
        row.set("documentId", d.id);
        revisions.push_back(row);
    }
    data.set("revisions", revisions);
    if (animator && available) {
        // The fields still empty in the newest revision: what can be signed here.
        mustache::data fields{mustache::data::type::list};
        bool any = false;
        try {
            const auto report = verify::verifyPdf(api.store->read(ctx.who().tenantId, d.id), api.verifyOptions);
            for (const auto& name : report.emptySignatureFields) {
                mustache::data field;
                field.set("name", name);
                fields.push_back(field);
                any = true;
            }
        } catch (const Error&) {
            // An unreadable revision offers nothing to sign; the rest of the page still shows.
        }
        data.set("signFields", fields);
        data.set("canSign", any);
    }
    return data;
}

void documentPage(const Api& api, RequestContext& ctx) {
    const auto d = api.document(ctx, ctx.param("id"));
    api.record(ctx, "document.viewed", d.id);
    sendHtml(ctx, renderPage(ctx, "document", "Dokument " + d.number, documentDetail(api, ctx, d)));
}

void downloadPdf(const Api& api, RequestContext& ctx) {
    const auto d = api.document(ctx, ctx.param("id"));
    int revision = 0;
    if (const auto r = ctx.queryValue("wersja")) {
        try {
            revision = std::stoi(*r);
        } catch (const std::exception&) {
            throw Error(ErrorCode::kInvalidArgument, "request.revision_invalid", "wersja is a revision number");
        }
    }
    const auto bytes = api.store->read(ctx.who().tenantId, d.id, revision);
    const auto digest = sha256Hex(bytes);
    api.record(ctx, "document.downloaded", d.id, digest, {{"revision", std::to_string(revision)}});
    ctx.response.set("Content-Disposition", "attachment; filename=\"" + d.id + ".pdf\"");
    ctx.response.set("Cache-Control", "no-store");
    ctx.response.set("X-Content-Type-Options", "nosniff");
    http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, bytes, "application/pdf");
}

void uploadSigned(const Api& api, RequestContext& ctx) {
    const auto d = api.document(ctx, ctx.param("id"));
    const auto form = readForm(ctx, api.limits.maxBodyBytes);
    if (!form.hasFile("plik")) throw Error(ErrorCode::kInvalidArgument, "upload.file_missing", "choose a PDF file");
    const auto& file = form.files.at("plik");
    const auto intake = service::addRevision(*api.store, *api.log, api.actor(ctx), ctx.who().tenantId, d.id, file.bytes,
                                             "signed_upload", api.clock());
    auto data = documentDetail(api, ctx, *api.store->repository().document(ctx.who().tenantId, d.id));
    data.set("fileName", file.fileName);
    data.set("uploadSha256", intake.sha256);
    if (intake.accepted) {
        data.set("accepted", true);
        data.set("revision", std::to_string(intake.revision));
        data.set("newStatus", statusName(storage::toString(intake.status)));
    } else {
        data.set("refused", true);
        data.set("reason", polishMessage(Error(ErrorCode::kValidationFailed, intake.reason, intake.detail)));
        data.set("reasonCode", intake.reason);
        data.set("detail", intake.detail);
    }
    sendHtml(ctx, renderPage(ctx, "document", "Dokument " + d.number, data),
             intake.accepted ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
}

void signHere(const Api& api, RequestContext& ctx) {
    const auto d = api.document(ctx, ctx.param("id"));
    const auto form = readForm(ctx, api.limits.maxBodyBytes);
    if (!form.hasFile("p12")) throw Error(ErrorCode::kInvalidArgument, "upload.file_missing", "choose a PKCS#12 file");
    Pkcs12Signing request;
    request.field = form.field("pole");
    request.pkcs12 = form.files.at("p12").bytes;
    request.password = form.field("haslo_p12");
    request.reason = form.field("powod");
    std::optional<ServiceSignature> signature;
    std::optional<Error> refusal;
    try {
        signature = signWithPkcs12(api, ctx, d.id, request);
    } catch (const Error& e) {
        // What the signer sent (a password, a file, a field) is answered on the same page.
        if (e.code() != ErrorCode::kValidationFailed && e.code() != ErrorCode::kFailedPrecondition) throw;
        refusal = e;
    }
    request.password.assign(request.password.size(), '\0');
    auto data = documentDetail(api, ctx, *api.store->repository().document(ctx.who().tenantId, d.id));
    auto status = HTTPResponse::HTTP_OK;
    if (signature) {
        data.set("signedHere", true);
        data.set("field", request.field);
        data.set("revision", std::to_string(signature->intake.revision));
        data.set("newStatus", statusName(storage::toString(signature->intake.status)));
    } else {
        data.set("signRefused", true);
        data.set("reason", polishMessage(*refusal));
        data.set("reasonCode", refusal->reason());
        status = http::statusFor(refusal->code());
    }
    sendHtml(ctx, renderPage(ctx, "document", "Dokument " + d.number, data), status);
}

void trailPage(const Api& api, RequestContext& ctx) {
    const auto d = api.document(ctx, ctx.param("id"));
    const auto trail = service::documentTrail(*api.log, d.id);
    mustache::data rows{mustache::data::type::list};
    bool allProved = !trail.receipts.empty();
    for (const auto& receipt : trail.receipts) {
        mustache::data row;
        row.set("index", std::to_string(receipt.entry.index));
        try {
            Poco::JSON::Parser parser;
            const auto entry = parser.parse(receipt.entry.canonical).extract<Poco::JSON::Object::Ptr>();
            row.set("time", entry->has("time") ? displayTime(entry->getValue<std::int64_t>("time")) : "—");
            const auto type = entry->optValue<std::string>("type", "");
            row.set("event", service::polishEventType(type));
            row.set("type", type);
            row.set("role", roleName(entry->optValue<std::string>("role", "")));
        } catch (const Poco::Exception&) {
            row.set("event", "(nieczytelny wpis)");
        }
        const bool proved = audit::verifyReceipt(receipt, trail.origin, trail.publicKeyPem);
        allProved = allProved && proved;
        row.set("proved", proved);
        row.set("timestamped", !receipt.checkpointTimestamp.empty());
        rows.push_back(row);
    }
    mustache::data data = documentSummary(d);
    data.set("entries", rows);
    data.set("allProved", allProved);
    data.set("origin", trail.origin);
    api.record(ctx, "document.viewed", d.id, "", {{"view", "audit_trail"}});
    sendHtml(ctx, renderPage(ctx, "trail", "Historia dokumentu " + d.number, data));
}

void trailCard(const Api& api, RequestContext& ctx) {
    const auto d = api.document(ctx, ctx.param("id"));
    const auto trail = service::documentTrail(*api.log, d.id);
    ctx.response.set("Content-Disposition", "attachment; filename=\"" + d.id + "-karta-audytu.pdf\"");
    http::sendBytes(ctx.response, HTTPResponse::HTTP_OK, service::renderAuditCard(trail, api.clock()), "application/pdf");
}

}  // namespace

void addDocumentPages(Router& router, const Api& api) {
    const auto readers = roles({Role::kAnimator, Role::kAuditor});
    router.add("GET", "/dokumenty", readers, [&api](RequestContext& ctx) { documentList(api, ctx); });
    router.add("GET", "/dokumenty/{id}", readers, [&api](RequestContext& ctx) { documentPage(api, ctx); });
    router.add("GET", "/dokumenty/{id}/pdf", roles({Role::kAnimator}), [&api](RequestContext& ctx) { downloadPdf(api, ctx); });
    router.add("POST", "/dokumenty/{id}/podpisany", roles({Role::kAnimator}), [&api](RequestContext& ctx) { uploadSigned(api, ctx); });
    router.add("POST", "/dokumenty/{id}/podpisz", roles({Role::kAnimator}), [&api](RequestContext& ctx) { signHere(api, ctx); });
    router.add("GET", "/dokumenty/{id}/historia", readers, [&api](RequestContext& ctx) { trailPage(api, ctx); });
    router.add("GET", "/dokumenty/{id}/karta-audytu", readers, [&api](RequestContext& ctx) { trailCard(api, ctx); });
}

}  // namespace kooperdoc::server::web
