// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/service/DocumentIssuer.h"

#include <cctype>
#include <map>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/AuditCard.h"
#include "kooperdoc/storage/Keys.h"
#include "kooperdoc/templates/DataSubjects.h"
#include "kooperdoc/templates/Engine.h"
#include "kooperdoc/templates/TenantProfiles.h"

namespace kooperdoc::service {

std::string newDocumentId() {
    const std::string hex = storage::randomId();
    std::string id = "KD";
    for (std::size_t i = 0; i < 16; ++i) {
        if (i % 4 == 0) id += '-';
        id += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    }
    return id;
}

DocumentIssuer::DocumentIssuer(storage::DocumentStore& store, const storage::RetentionPolicies& retention, audit::AuditLog& log,
                               Sealer sealer)
    : store_(store), retention_(retention), log_(log), sealer_(std::move(sealer)) {}

IssueResult DocumentIssuer::issue(const IssueRequest& request) {
    if (request.tmpl == nullptr) throw Error(ErrorCode::kInvalidArgument, "document.template_missing", "no template given");
    if (request.seal && !sealer_) throw Error(ErrorCode::kFailedPrecondition, "signing.unavailable", "no seal is configured");
    if (request.supersedes && request.relation.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "document.relation_missing", "a superseding document names its relation");
    }
    const auto& tmpl = *request.tmpl;
    const auto& meta = tmpl.metadata();
    auto& repository = store_.repository();
    const auto tenant = repository.tenant(request.tenantId);
    if (!tenant) {
        throw Error(ErrorCode::kNotFound, "storage.tenant_unknown", "no tenant " + request.tenantId + " (create it with `kooperdoc tenant put`)");
    }
    const auto& rule = retention_.ruleFor(meta.id, meta.retentionClass);

    // What makes two requests "the same" for the idempotency key: template, input, case, seal.
    const std::string requestSha256 = sha256Hex(meta.id + '\n' + meta.version + '\n' + canonicalJson(request.input) + '\n' +
                                                request.caseRef + '\n' + (request.seal ? "sealed" : "plain"));
    IssueResult result;
    result.legalBasis = rule.legalBasis;
    // A document that must outlive a withdrawn consent is under an archival duty (art. 17(3)(b)).
    result.archivalDuty = !rule.eraseOnConsentWithdrawal;
    if (!request.idempotencyKey.empty()) {
        // Answered before anything is rendered or logged; the insert checks again, atomically.
        if (const auto existing = repository.documentByIdempotencyKey(request.tenantId, request.idempotencyKey)) {
            if (existing->requestSha256 != requestSha256) {
                throw Error(ErrorCode::kAlreadyExists, "storage.idempotency_conflict",
                            "the idempotency key " + request.idempotencyKey + " was used for another request");
            }
            result.documentId = existing->id;
            result.replayed = true;
            result.subjects = repository.subjectsOfDocument(existing->id).size();
            result.sha256 = sha256Hex(store_.read(request.tenantId, existing->id));
            return result;
        }
    }

    templates::RenderOptions options;
    options.documentId = newDocumentId();
    options.createdEpochSeconds = request.createdAt != 0 ? request.createdAt : request.now;
    auto document = templates::renderDocument(tmpl, request.input, templates::parseTenantProfile(tenant->profileJson), options);
    const std::string& documentId = options.documentId;

    const auto recordEvent = [&](const std::string& type, const std::string& digest, const std::map<std::string, std::string>& details) {
        audit::AuditEvent event;
        event.time = request.now;
        event.tenantId = request.tenantId;
        event.actorId = request.actor.id;
        event.actorRole = request.actor.role;
        event.type = type;
        event.documentId = documentId;
        event.documentSha256 = digest;
        event.details = details;
        log_.record(event);
    };
    std::map<std::string, std::string> details{{"template", meta.id}, {"template_version", meta.version}};
    if (request.supersedes) {
        details["supersedes"] = *request.supersedes;
        details["relation"] = request.relation;
    }

    std::string pdfBytes;
    if (request.seal) {
        // The trail goes inside before the seal, so the certification covers it. Its entry names
        // the SHA-256 of the input the footer prints (the PDF's own hash cannot be known yet).
        auto renderedDetails = details;
        renderedDetails["input_sha256"] = document.provenance.inputSha256;
        recordEvent("document.rendered", "", renderedDetails);
        const auto trail = documentTrail(log_, documentId);
        for (auto& block : auditCardBlocks(trail, true)) document.blocks.push_back(std::move(block));
        pdf::RenderSettings settings;
        settings.attachments.push_back(trailAttachment(trail));
        pdfBytes = sealer_(pdf::renderPdf(document, settings));
    } else {
        pdfBytes = pdf::renderPdf(document).bytes;
    }

    storage::StoreRequest store;
    store.tenantId = request.tenantId;
    store.documentId = documentId;
    store.number = document.provenance.documentNumber;
    store.templateId = meta.id;
    store.templateVersion = meta.version;
    store.templateSha256 = tmpl.sha256();
    store.retentionClass = meta.retentionClass;
    store.legalBasis = rule.legalBasis;
    store.archivalDuty = result.archivalDuty;
    store.caseRef = request.caseRef;
    for (const auto& person : templates::extractDataSubjects(tmpl, request.input)) {
        store.subjects.push_back({person.pesel, person.fullName, person.role});
    }
    store.pdf = pdfBytes;
    store.idempotencyKey = request.idempotencyKey;
    store.requestSha256 = requestSha256;
    store.now = request.now;
    // Rectification (art. 16) never rewrites the earlier document: the new one supersedes it.
    const auto inserted = request.supersedes ? store_.supersede(*request.supersedes, store, request.relation) : store_.store(store);
    result.documentId = inserted.documentId;
    result.replayed = inserted.replayed;
    result.subjects = store.subjects.size();
    if (inserted.replayed) {
        // A concurrent twin won the insert: this rendering was never stored.
        result.sha256 = sha256Hex(store_.read(request.tenantId, inserted.documentId));
        return result;
    }
    result.sha256 = sha256Hex(pdfBytes);

    if (rule.legalBasis == "consent") {
        // The document carries the consent of everyone it names (the form is their declaration).
        for (const auto& subjectId : repository.subjectsOfDocument(result.documentId)) {
            storage::ConsentRecord consent;
            consent.id = storage::randomId();
            consent.tenantId = request.tenantId;
            consent.subjectId = subjectId;
            consent.documentId = result.documentId;
            consent.purpose = meta.id;
            consent.givenAt = request.now;
            repository.recordConsent(consent);
        }
    }
    recordEvent("document.created", result.sha256, details);
    if (request.seal) recordEvent("document.sealed", result.sha256, {});
    return result;
}

}  // namespace kooperdoc::service
