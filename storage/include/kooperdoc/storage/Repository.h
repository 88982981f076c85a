// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The one repository interface (issue 5, point 1) and its records. Two backends implement it
// with the same SQL: SQLite (embedded default; WAL, synchronous=FULL, secure_delete) and
// PostgreSQL (several stateless Kooperdoc instances may share one). Every method is one
// transaction: it happens whole or not at all. Nothing here holds personal data in plain text:
// people are pseudonymous ids, found through keyed HMACs (Keys.h); PDFs live encrypted in the
// BlobStore, which the rows only name.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kooperdoc/audit/AuditLog.h"

namespace kooperdoc::storage {

struct DatabaseConfig {
    enum class Backend { kSqlite, kPostgres };
    Backend backend = Backend::kSqlite;
    std::string sqlitePath;         ///< kSqlite: the database file
    std::string postgresConnection; ///< kPostgres: a libpq connection string
    std::size_t maxConnections = 8;

    /// "sqlite:PATH" or "postgresql:CONNINFO" (the form of the storage.database key).
    static DatabaseConfig parse(const std::string& text);
    std::string describe() const; ///< for logs: the backend and the file or host, never a password
};

/// Where a document stands (issue 5, point 2). Moves only forward; kErased is final.
enum class DocumentStatus : std::uint8_t { kIssued, kAwaitingSignatures, kSigned, kArchived, kErased };
const char* toString(DocumentStatus status); ///< "issued", "awaiting_signatures", "signed", "archived", "erased"
DocumentStatus parseDocumentStatus(const std::string& text);

struct TenantRecord {
    std::string id;
    std::string profileJson;  ///< the controller facts the RODO clauses print (institutional, not personal)
    std::string wrappedKey;   ///< the tenant's key, wrapped by the master key
    std::int64_t createdAt = 0;
};

struct SubjectRecord {
    std::string id; ///< pseudonymous, random
    std::string tenantId;
    std::optional<std::string> wrappedKey; ///< empty once erased: everything under it is unreadable
    std::int64_t createdAt = 0;
    std::optional<std::int64_t> erasedAt;
};

struct RevisionRecord {
    int number = 0;       ///< 1 = as issued; every accepted upload adds one, none is ever replaced
    std::string kind;     ///< "issued", "signed_upload", "timestamp", …
    std::string blobId;
    std::string sha256;   ///< of the plaintext PDF
    std::int64_t size = 0;
    std::int64_t createdAt = 0;
};

struct DocumentRecord {
    std::string id;
    std::string tenantId;
    std::string number;  ///< the document number printed on the PDF
    std::string templateId, templateVersion, templateSha256;
    std::string retentionClass; ///< the template's retention_class
    std::string legalBasis;     ///< "consent", "legal_obligation", "public_task", …
    bool archivalDuty = false;  ///< a copy must outlive the subjects' erasure (GDPR art. 17(3)(b))
    std::string caseRef;        ///< the case this document belongs to (holds and closure act on it)
    DocumentStatus status = DocumentStatus::kIssued;
    bool restricted = false;    ///< art. 18: kept, but no longer rendered or handed out
    std::string idempotencyKey, requestSha256;
    std::int64_t createdAt = 0;
    std::optional<std::int64_t> signedAt, closedAt, erasedAt;
    /// Rectification (art. 16): the document this one corrects or completes; the earlier one is
    /// never rewritten. relation: "corrected_version" or "annex".
    std::string supersedes, relation;
};

/// A document's data key wrapped for one holder: "subject:<id>" or "tenant:<id>".
struct WrappedDocumentKey {
    std::string holder;
    std::string wrappedKey;
};

struct NewDocument {
    DocumentRecord document;
    RevisionRecord firstRevision;
    std::vector<std::pair<std::string, std::string>> subjects; ///< (subject id, role)
    std::vector<WrappedDocumentKey> keys;
};

struct ConsentRecord {
    std::string id, tenantId, subjectId, documentId, purpose;
    std::int64_t givenAt = 0;
    std::optional<std::int64_t> withdrawnAt;
};

struct LegalHold {
    std::string id, tenantId;
    std::string documentId; ///< either a document…
    std::string caseRef;    ///< …or a whole case
    std::string reason, setBy;
    std::int64_t setAt = 0;
    std::optional<std::int64_t> clearedAt;
    std::string clearedBy;
};

/// One row of `kooperdoc retention report`.
struct RetentionStatus {
    std::string documentId, templateId, ruleId, category, action;
    std::optional<std::int64_t> triggerAt, endsAt;
    bool due = false;           ///< endsAt <= now, not erased
    std::string blockedBy;      ///< "legal_hold: reason", "pending_proposal" — due but not proposable
};

struct DisposalProposal {
    std::string id, tenantId, status; ///< "proposed", "approved", "executed", "rejected"
    std::int64_t createdAt = 0;
    std::string approvedBy, archiveConsentRef;
    std::optional<std::int64_t> approvedAt, executedAt;
    std::vector<RetentionStatus> items;
};

/// What execution keeps for ever: no names, no PESEL, no content — ids and hashes.
struct DisposalRecord {
    std::string id, tenantId, proposalId, documentId, templateId, templateVersion, ruleId, category;
    std::string revisionSha256; ///< the hashes of every revision, comma-separated
    std::string approvedBy, archiveConsentRef;
    std::int64_t executedAt = 0;
    std::string outcome;        ///< "erased", "skipped: …"
};

/// The outcome of insertDocument: a retried request with the same idempotency key and the same
/// body gets the first document back (`replayed`), never a second one.
struct InsertResult {
    std::string documentId;
    bool replayed = false;
};

class Repository {
public:
    virtual ~Repository() = default;

    virtual int schemaVersion() = 0;
    virtual std::string backendName() const = 0; ///< "sqlite", "postgresql"

    // Tenants.
    virtual void putTenant(const TenantRecord& tenant) = 0; ///< insert or update the profile (the key stays)
    virtual std::optional<TenantRecord> tenant(const std::string& id) = 0;
    virtual std::vector<std::string> tenantIds() = 0;

    // Data subjects, found through the keyed index.
    /// The subject one of \p indexHmacs names in the tenant, else a new one with \p newWrappedKey
    /// and all of \p indexHmacs; atomic, so two requests for one person make one subject.
    virtual SubjectRecord findOrCreateSubject(const std::string& tenantId, const std::vector<std::string>& indexHmacs,
                                              const std::string& newSubjectId, const std::string& newWrappedKey,
                                              std::int64_t now) = 0;
    virtual std::vector<std::string> subjectsByIndex(const std::string& tenantId, const std::string& indexHmac) = 0;
    virtual std::optional<SubjectRecord> subject(const std::string& tenantId, const std::string& id) = 0;
    /// Crypto-shredding: the subject's wrapped key, its index entries and its documents' key rows
    /// for it are deleted; the pseudonymous row stays with erasedAt.
    virtual void eraseSubject(const std::string& tenantId, const std::string& subjectId, std::int64_t now) = 0;

    // Documents and their revisions.
    /// Error{kAlreadyExists, "storage.idempotency_conflict"} when the key was used for another body;
    /// Error{kNotFound, "storage.tenant_unknown"}.
    virtual InsertResult insertDocument(const NewDocument& document) = 0;
    virtual std::optional<DocumentRecord> document(const std::string& tenantId, const std::string& id) = 0;
    virtual std::vector<DocumentRecord> documents(const std::string& tenantId) = 0;
    virtual std::vector<DocumentRecord> documentsOfSubject(const std::string& tenantId, const std::string& subjectId) = 0;
    virtual std::vector<std::string> subjectsOfDocument(const std::string& documentId) = 0;
    /// The documents that correct or complete \p documentId, oldest first.
    virtual std::vector<DocumentRecord> documentsSuperseding(const std::string& tenantId, const std::string& documentId) = 0;
    /// Appends revision max+1 and sets the status; returns the new revision's number.
    virtual int addRevision(const std::string& tenantId, const std::string& documentId, RevisionRecord revision,
                            DocumentStatus status) = 0;
    virtual std::vector<RevisionRecord> revisions(const std::string& documentId) = 0;
    virtual std::vector<WrappedDocumentKey> documentKeys(const std::string& documentId) = 0;
    virtual void setRestricted(const std::string& tenantId, const std::string& documentId, bool restricted) = 0;
    /// Records the case's closure (retention periods count from it) and archives its documents.
    virtual void closeCase(const std::string& tenantId, const std::string& caseRef, std::int64_t closedAt) = 0;
    /// Deletes the keys and revision rows (returning the blob ids to unlink) and marks it erased.
    virtual std::vector<std::string> eraseDocument(const std::string& tenantId, const std::string& documentId,
                                                   std::int64_t now) = 0;
    /// Every blob id a revision row names (the orphan sweep removes the others).
    virtual std::vector<std::string> referencedBlobs() = 0;

    // Consents.
    virtual void recordConsent(const ConsentRecord& consent) = 0;
    virtual std::vector<ConsentRecord> consentsOfSubject(const std::string& tenantId, const std::string& subjectId) = 0;
    /// Returns the consents it withdrew (those not withdrawn already).
    virtual std::vector<ConsentRecord> withdrawConsents(const std::string& tenantId, const std::string& subjectId,
                                                        std::int64_t now) = 0;

    // Legal holds.
    virtual void placeHold(const LegalHold& hold) = 0;
    virtual void clearHold(const std::string& tenantId, const std::string& holdId, const std::string& by, std::int64_t now) = 0;
    /// Active holds on the document itself or on its case.
    virtual std::vector<LegalHold> activeHolds(const std::string& tenantId, const std::string& documentId) = 0;

    /// The master key's fingerprint recorded at first use; records \p fingerprint when none is.
    /// Error{kFailedPrecondition, "storage.master_key_mismatch"} when another one is recorded.
    virtual void checkMasterKey(const std::string& fingerprint) = 0;

    // Disposal (Retention.h drives the workflow).
    virtual void insertDisposalProposal(const DisposalProposal& proposal) = 0;
    virtual std::optional<DisposalProposal> disposalProposal(const std::string& tenantId, const std::string& id) = 0;
    virtual std::vector<DisposalProposal> disposalProposals(const std::string& tenantId) = 0;
    /// Moves a proposal from \p expectedStatus to \p status, recording who and when;
    /// Error{kFailedPrecondition, "retention.proposal_state"} when it is not in \p expectedStatus.
    virtual void updateDisposalProposal(const std::string& tenantId, const std::string& id, const std::string& expectedStatus,
                                        const std::string& status, const std::string& by, const std::string& archiveConsentRef,
                                        std::int64_t at) = 0;
    virtual void insertDisposalRecord(const DisposalRecord& record) = 0;
    virtual std::vector<DisposalRecord> disposalRecords(const std::string& tenantId) = 0;

    /// After an erasure: no freed page may keep erased rows. SQLite overwrites freed pages
    /// (secure_delete) and here truncates the WAL, which still holds the old page images;
    /// PostgreSQL's dead tuples go with VACUUM (its WAL and base backups are the documented
    /// erasure lag; the destroyed keys are what makes the data unreadable there).
    virtual void purgeFreedPages() = 0;

    /// The audit trail's store in this database (owned by the repository; lives as long as it).
    virtual audit::AuditStore& auditStore() = 0;

    /// A consistent copy of the whole database in the new file \p path, taken while other
    /// connections keep writing (SQLite: VACUUM INTO, which also leaves no freed page behind).
    /// PostgreSQL: Error{kFailedPrecondition, "storage.backup_unsupported"}; pg_dump (or a base
    /// backup) is its backup, see docs/storage.md. Error{kAlreadyExists, "storage.backup_exists"}
    /// when \p path exists.
    virtual void backupTo(const std::string& path) = 0;
};

/// Opens the database, applies the pending schema migrations (each in its own transaction, in
/// order, recorded in schema_migrations), and returns the repository.
/// Error{kUnavailable, "storage.unavailable"} when the database cannot be reached.
std::unique_ptr<Repository> openRepository(const DatabaseConfig& config);

/// The schema version this build writes; a database from a newer build is refused
/// ("storage.schema_too_new") rather than misread.
int currentSchemaVersion();

}  // namespace kooperdoc::storage
