// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Documents at rest: the repository's rows, the BlobStore's encrypted PDFs and the key hierarchy
// (Keys.h) together. Ordering makes acknowledgement safe: the encrypted blob is durable before
// the transaction that names it commits, so a committed row never points at a missing file; a
// crash in between leaves only an unnamed blob, which sweepOrphanBlobs() removes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kooperdoc/storage/BlobStore.h"
#include "kooperdoc/storage/Keys.h"
#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::storage {

/// A person a document is about. Only keyed HMACs of these values are stored.
struct PersonIdentity {
    std::string pesel;    ///< may be empty (the form does not ask for it)
    std::string fullName; ///< may be empty when the PESEL is given
    std::string role;     ///< "adult", "minor", "signatory", …
};

struct StoreRequest {
    std::string tenantId;
    std::string documentId; ///< from the renderer (KD-…); must be new
    std::string number;
    std::string templateId, templateVersion, templateSha256, retentionClass;
    std::string legalBasis;
    bool archivalDuty = false;
    std::string caseRef;
    std::vector<PersonIdentity> subjects;
    std::string pdf;
    DocumentStatus status = DocumentStatus::kIssued;
    std::string idempotencyKey, requestSha256;
    std::int64_t now = 0;
    std::string supersedes, relation; ///< set by DocumentStore::supersede
};

/// What an erasure did to one document (issue 5, point 7: answered document by document).
struct ErasureOutcome {
    std::string documentId;
    bool erased = false;
    std::string ground;  ///< why it is kept: "legal_hold", "archival_duty (GDPR art. 17(3)(b))", "other_subjects"
    std::string detail;  ///< the hold's reason, or the other subjects still named
};

class DocumentStore {
public:
    DocumentStore(std::unique_ptr<Repository> repository, BlobStore blobs, MasterKey masterKey);

    Repository& repository() { return *repository_; }
    BlobStore& blobs() { return blobs_; }
    const MasterKey& masterKey() const { return masterKey_; }

    /// Creates the tenant with a fresh key, or updates its profile.
    void putTenant(const std::string& tenantId, const std::string& profileJson, std::int64_t now);

    /// Stores a new document (its PDF encrypted under a fresh data key, wrapped for every subject
    /// and, when it carries an archival duty or names nobody, for the tenant). A retried request
    /// (same idempotency key and body) returns the first id with replayed = true.
    InsertResult store(const StoreRequest& request);

    /// Rectification (art. 16 GDPR) or an annex: stores \p request as a new document that
    /// supersedes \p documentId (same tenant, same case; \p relation "corrected_version" or
    /// "annex"). The earlier document — signed or not — is never rewritten; it stays readable
    /// under its own retention. Error{kFailedPrecondition, "storage.document_erased"} for an erased one.
    InsertResult supersede(const std::string& documentId, StoreRequest request, const std::string& relation);

    /// Keeps every accepted revision: the new PDF is added under the document's data key as
    /// revision \p expectedNewest + 1, only if \p expectedNewest — the revision \p pdf was
    /// reviewed against — is still the newest (Repository::addRevision decides atomically).
    /// Error{kFailedPrecondition, "storage.revision_conflict"} when another revision was stored
    /// meanwhile: nothing is stored and the blob just written is removed again (a crash in
    /// between leaves an unreferenced blob, which sweepOrphanBlobs() removes).
    int addRevision(const std::string& tenantId, const std::string& documentId, int expectedNewest, const std::string& pdf,
                    const std::string& kind, DocumentStatus status, std::int64_t now);

    /// The PDF of \p revision (0 = the newest). Error{kFailedPrecondition, "storage.restricted"}
    /// for a restricted document unless \p allowRestricted (archive access by the DPO);
    /// Error{kDataLoss, "storage.decrypt_failed"} when no key can open it any more.
    std::string read(const std::string& tenantId, const std::string& documentId, int revision = 0,
                     bool allowRestricted = false);

    /// Subjects named by a PESEL or a full name within the tenant (through the keyed index).
    std::vector<std::string> findSubjects(const std::string& tenantId, const std::string& peselOrName);

    /// Erasure of one person now (art. 17): every document about them that rests on them alone
    /// and is not held or under an archival duty is erased; the others are kept (restricted when
    /// archival) and say why. Then the person's key is destroyed (crypto-shredding), their index
    /// entries deleted and, on SQLite, the WAL checkpointed so no old page keeps them.
    std::vector<ErasureOutcome> eraseSubject(const std::string& tenantId, const std::string& subjectId, std::int64_t now);

    /// Consent withdrawal (art. 7(3), 17(1)(b)): records it, then every document about the person
    /// that rests on consent is erased when nothing else keeps it, or kept and restricted (an
    /// archival duty, art. 17(3)(b)) or kept (a legal hold, another person's consent), each
    /// answered with its ground. Documents on another legal basis are untouched ("not_consent_based").
    std::vector<ErasureOutcome> withdrawConsent(const std::string& tenantId, const std::string& subjectId, std::int64_t now);

    /// Erases one document (retention disposal): keys and rows first, then the blobs.
    void eraseDocument(const std::string& tenantId, const std::string& documentId, std::int64_t now);

    /// Removes blobs no revision names (a crash between blob and commit, an interrupted erasure)
    /// once they are \p minimumAge old, so a store still on its way to COMMIT keeps its file.
    std::size_t sweepOrphanBlobs(std::chrono::seconds minimumAge = std::chrono::hours(1));

    /// A webhook's signing secret sealed under the tenant key (hex, for WebhookRecord's
    /// wrappedSecret), bound to the tenant and the webhook: a copied row does not open elsewhere.
    std::string wrapWebhookSecret(const std::string& tenantId, const std::string& webhookId, const std::string& secret);
    /// Error{kDataLoss, "storage.decrypt_failed"} for a secret that is not this webhook's.
    std::string unwrapWebhookSecret(const std::string& tenantId, const std::string& webhookId,
                                    const std::string& wrappedSecret);

private:
    ErasureOutcome settle(const std::string& tenantId, const DocumentRecord& document, const std::string& subjectId,
                          std::int64_t now);
    Key256 documentKey(const std::string& tenantId, const std::string& documentId);
    Key256 tenantKey(const std::string& tenantId);

    std::unique_ptr<Repository> repository_;
    BlobStore blobs_;
    MasterKey masterKey_;
};

}  // namespace kooperdoc::storage
