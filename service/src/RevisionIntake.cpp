// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/service/RevisionIntake.h"

#include <map>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/signing/UploadReview.h"

namespace kooperdoc::service {

RevisionIntake addRevision(storage::DocumentStore& store, audit::AuditLog& log, const Actor& actor, const std::string& tenantId,
                           const std::string& documentId, const std::string& uploaded, const std::string& kind, std::int64_t now) {
    const auto document = store.repository().document(tenantId, documentId);
    if (!document) throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + documentId + " in this tenant");
    RevisionIntake result;
    result.sha256 = sha256Hex(uploaded);
    result.status = document->status;
    const auto record = [&](const std::string& type, const std::map<std::string, std::string>& details) {
        audit::AuditEvent event;
        event.time = now;
        event.tenantId = tenantId;
        event.actorId = actor.id;
        event.actorRole = actor.role;
        event.type = type;
        event.documentId = documentId;
        event.documentSha256 = result.sha256;
        event.details = details;
        log.record(event);
    };
    // The review is made against one numbered revision, and the append stores only if that one
    // is still the newest: of two uploads reviewed against the same revision at once, the second
    // to be stored is refused (storage.revision_conflict) instead of breaking the chain.
    const auto revisions = store.repository().revisions(documentId);
    const int reviewedAgainst = revisions.empty() ? 0 : revisions.back().number;
    const auto newest = store.read(tenantId, documentId, reviewedAgainst);
    const bool incremental = uploaded.size() > newest.size() && uploaded.compare(0, newest.size(), newest) == 0;
    if (kind == "signed_upload") {
        // The review checks the prefix itself (upload.not_ours), so a rewritten copy is a refusal
        // like any other, and the refusal is an event an auditor wants to see. Nothing refused
        // is ever stored.
        const auto review = signing::reviewSignedUpload(newest, uploaded);
        if (!review.accepted || !incremental) {
            result.reason = review.accepted ? "upload.not_ours" : review.reason;
            result.detail = review.accepted ? "the upload does not begin with the newest stored revision" : review.detail;
            record("document.upload_rejected", {{"reason", result.reason}});
            return result;
        }
        result.status = storage::DocumentStatus::kSigned;
    } else if (!incremental) {
        // Every later revision is an incremental update: the stored bytes stay its beginning, so
        // earlier signatures stay valid and nothing already issued is rewritten.
        throw Error(ErrorCode::kFailedPrecondition, "storage.revision_not_incremental",
                    "the upload does not begin with the newest stored revision of " + documentId + ": a document is never rewritten");
    }
    result.revision = store.addRevision(tenantId, documentId, reviewedAgainst, uploaded, kind, result.status, now);
    result.accepted = true;
    record(kind == "signed_upload" ? "document.upload_accepted" : "document.signed",
           {{"revision", std::to_string(result.revision)}, {"kind", kind}});
    return result;
}

}  // namespace kooperdoc::service
