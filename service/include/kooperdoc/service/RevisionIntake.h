// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A later revision of a stored document (a copy signed elsewhere, a timestamp, …): the one
// judgement `kooperdoc document add-revision` and POST /v1/documents/{id}/revisions share.

#include <cstdint>
#include <string>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/service/DocumentIssuer.h"
#include "kooperdoc/storage/DocumentStore.h"

namespace kooperdoc::service {

struct RevisionIntake {
    bool accepted = false;
    int revision = 0;  ///< the stored revision's number when accepted
    storage::DocumentStatus status = storage::DocumentStatus::kIssued;
    /// When refused: signing::UploadReview's stable reason ("upload.forbidden_change", …) and detail.
    std::string reason, detail;
    std::string sha256;  ///< of the uploaded bytes
};

/// kind "signed_upload": judged like `kooperdoc check-upload` (our newest revision unchanged as
/// its prefix, only allowed updates, sound signatures); a refusal is a value (nothing stored,
/// document.upload_rejected recorded), an acceptance stores the revision as signed and records
/// document.upload_accepted. Other kinds need only be an incremental update of the newest
/// revision (document.signed). Error{kNotFound, "storage.document_unknown"} for a document not in
/// \p tenantId, Error{kFailedPrecondition, "storage.revision_not_incremental"} for another kind
/// that rewrites the document. Error{kFailedPrecondition, "storage.revision_conflict"} when
/// another revision was stored after this upload was reviewed (a concurrent upload or signing
/// on the same newest revision): nothing is stored and no event recorded; the caller may fetch
/// the newest revision and try again.
RevisionIntake addRevision(storage::DocumentStore& store, audit::AuditLog& log, const Actor& actor, const std::string& tenantId,
                           const std::string& documentId, const std::string& uploaded, const std::string& kind, std::int64_t now);

}  // namespace kooperdoc::service
