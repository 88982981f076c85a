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

/// An API key of a system (issue 7). Its secret is never stored, only the SHA-256 of the whole
/// secret: the secret is 256 random bits, so a fast hash leaves nothing to guess.
struct ApiKeyRecord {
    std::string id;        ///< public: named in listings, the audit log ("key:<id>") and the secret
    std::string tenantId;
    std::string role;      ///< "intake", "animator", "auditor", "dpo", "admin"
    std::string label;     ///< what the operator called it ("ePUAP gateway"), never a person's name
    std::string keySha256; ///< hex
    std::int64_t createdAt = 0;
    std::optional<std::int64_t> revokedAt;
};

/// A person who logs in to the web UI: one tenant and one role for life.
struct UserRecord {
    std::string id;        ///< pseudonymous: the audit log says "user:<id>", never the login
    std::string tenantId;
    std::string login;     ///< the work login (unique across tenants), never a PESEL
    std::string role;
    std::string passwordHash; ///< argon2id, PHC string
    bool mustChangePassword = true;
    int failedLogins = 0;  ///< failures since the last success or lock
    std::optional<std::int64_t> lockedUntil;
    std::int64_t createdAt = 0;
    bool disabled = false;
};

struct SessionRecord {
    std::string tokenSha256; ///< hex SHA-256 of the cookie value, which is never stored
    std::string userId;
    std::string csrfToken;
    std::int64_t createdAt = 0;
    std::int64_t expiresAt = 0;
};

/// A source system's endpoint for event notifications (issue 7, point 4). The secret signs every
/// body, so it must be recoverable: it is kept sealed under the tenant key
/// (DocumentStore::wrapWebhookSecret), never in plain text.
struct WebhookRecord {
    std::string id;
    std::string tenantId;
    std::string url;
    std::string wrappedSecret;
    std::string events;        ///< comma-separated webhook event types; "*" = every one
    std::int64_t createdAt = 0;
    bool disabled = false;     ///< by an admin, or by the receiver answering 410 Gone
};

/// One event for one webhook and what became of it: the delivery log admins read.
struct WebhookDelivery {
    std::string id;
    std::string webhookId;
    std::string tenantId;
    std::string eventType;
    std::string payload;       ///< the JSON body sent, byte for byte (ids and hashes only)
    std::string status;        ///< "pending", "delivered", "failed"
    int attempts = 0;
    std::int64_t nextAttemptAt = 0;
    std::optional<int> lastStatusCode;
    std::string lastError;
    std::int64_t createdAt = 0;
    std::optional<std::int64_t> deliveredAt;
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
    /// The document a request with this idempotency key created, if any (the unique index answers).
    virtual std::optional<DocumentRecord> documentByIdempotencyKey(const std::string& tenantId, const std::string& key) = 0;
    virtual std::vector<DocumentRecord> documentsOfSubject(const std::string& tenantId, const std::string& subjectId) = 0;
    virtual std::vector<std::string> subjectsOfDocument(const std::string& documentId) = 0;
    /// The documents that correct or complete \p documentId, oldest first.
    virtual std::vector<DocumentRecord> documentsSuperseding(const std::string& tenantId, const std::string& documentId) = 0;
    /// Appends revision \p expectedNewest + 1 and sets the status, only if \p expectedNewest (the
    /// revision the new one was reviewed against) is still the document's newest: checked and
    /// written in one transaction, the document's row locked (PostgreSQL: FOR UPDATE; SQLite:
    /// BEGIN IMMEDIATE), so of two appends against the same newest revision exactly one is
    /// stored. Returns the new revision's number. Error{kFailedPrecondition,
    /// "storage.revision_conflict"} (nothing written) when another revision came first;
    /// Error{kFailedPrecondition, "storage.document_erased"}; Error{kNotFound, "storage.document_unknown"}.
    virtual int addRevision(const std::string& tenantId, const std::string& documentId, int expectedNewest,
                            RevisionRecord revision, DocumentStatus status) = 0;
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
    /// Every hold of the tenant, cleared ones included, oldest first (the dpo's list).
    virtual std::vector<LegalHold> legalHolds(const std::string& tenantId) = 0;

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

    // API keys (server/Auth.h drives them).
    /// Error{kNotFound, "storage.tenant_unknown"}.
    virtual void insertApiKey(const ApiKeyRecord& key) = 0;
    /// The key whose secret hashes to \p keySha256, revoked or not.
    virtual std::optional<ApiKeyRecord> apiKeyByHash(const std::string& keySha256) = 0;
    /// The tenant's keys, revoked ones included, oldest first.
    virtual std::vector<ApiKeyRecord> apiKeys(const std::string& tenantId) = 0;
    /// Sets revokedAt once (a second revocation keeps the first time); false when the tenant has
    /// no such key.
    virtual bool revokeApiKey(const std::string& tenantId, const std::string& keyId, std::int64_t now) = 0;

    // Users.
    /// False when the login is taken (by any tenant), atomically with the insert;
    /// Error{kNotFound, "storage.tenant_unknown"}.
    virtual bool insertUser(const UserRecord& user) = 0;
    virtual std::optional<UserRecord> userByLogin(const std::string& login) = 0;
    virtual std::optional<UserRecord> user(const std::string& id) = 0;
    /// One failed login, counted atomically (parallel guesses cannot share one count): at
    /// \p maxFailed failures the account locks until \p lockUntil and the count restarts.
    /// Returns true when this failure locked it.
    virtual bool recordFailedLogin(const std::string& userId, int maxFailed, std::int64_t lockUntil) = 0;
    /// A success: no failures, no lock.
    virtual void recordSuccessfulLogin(const std::string& userId) = 0;
    virtual void setPassword(const std::string& userId, const std::string& passwordHash, bool mustChangePassword) = 0;
    /// The tenant's users, disabled ones included, oldest first.
    virtual std::vector<UserRecord> users(const std::string& tenantId) = 0;
    /// false when the tenant has no such user.
    virtual bool setUserDisabled(const std::string& tenantId, const std::string& userId, bool disabled) = 0;

    // Web sessions.
    virtual void insertSession(const SessionRecord& session) = 0;
    virtual std::optional<SessionRecord> session(const std::string& tokenSha256) = 0;
    virtual void deleteSession(const std::string& tokenSha256) = 0;
    /// Every session of the user but \p keepTokenSha256 (a changed password ends the others).
    virtual void deleteSessionsOfUser(const std::string& userId, const std::string& keepTokenSha256) = 0;
    /// Sessions with expiresAt <= \p now; returns how many went.
    virtual std::size_t deleteExpiredSessions(std::int64_t now) = 0;

    // Webhooks (server/Webhooks.h drives them).
    /// Error{kNotFound, "storage.tenant_unknown"}.
    virtual void insertWebhook(const WebhookRecord& webhook) = 0;
    /// The tenant's webhooks, disabled ones included, oldest first.
    virtual std::vector<WebhookRecord> webhooks(const std::string& tenantId) = 0;
    virtual std::optional<WebhookRecord> webhook(const std::string& tenantId, const std::string& id) = 0;
    /// Deletes the webhook with its delivery log (nothing is sent to it any more); false when the
    /// tenant has no such webhook.
    virtual bool deleteWebhook(const std::string& tenantId, const std::string& id) = 0;
    virtual bool setWebhookDisabled(const std::string& tenantId, const std::string& id, bool disabled) = 0;
    /// Inserts the deliveries in one transaction, skipping those whose webhook is gone (deleted
    /// meanwhile); returns how many were stored.
    virtual std::size_t insertWebhookDeliveries(const std::vector<WebhookDelivery>& deliveries) = 0;
    /// Claims at most \p limit pending deliveries due at \p now (next_attempt_at <= now) of
    /// enabled webhooks, oldest due first, by moving their next_attempt_at to \p leaseUntil: other
    /// instances skip them meanwhile, and a claimer that dies leaves them due again at the lease's
    /// end. Safe with several instances: PostgreSQL takes the rows FOR UPDATE SKIP LOCKED, SQLite
    /// claims under BEGIN IMMEDIATE (one writer at a time).
    virtual std::vector<WebhookDelivery> claimDueWebhookDeliveries(std::int64_t now, std::size_t limit,
                                                                   std::int64_t leaseUntil) = 0;
    /// Writes an attempt's outcome: status, attempts, next_attempt_at, last status code and error,
    /// delivered_at (by the delivery's id).
    virtual void updateWebhookDelivery(const WebhookDelivery& delivery) = 0;
    virtual std::optional<WebhookDelivery> webhookDelivery(const std::string& tenantId, const std::string& id) = 0;
    /// The delivery log, newest first: the tenant's (or one webhook's when \p webhookId is not
    /// empty), at most \p limit rows.
    virtual std::vector<WebhookDelivery> webhookDeliveries(const std::string& tenantId, const std::string& webhookId,
                                                           std::size_t limit) = 0;
    /// Makes a delivery pending again with a fresh attempt count, due at \p now; false when the
    /// tenant has no such delivery.
    virtual bool redeliverWebhookDelivery(const std::string& tenantId, const std::string& id, std::int64_t now) = 0;
};

/// Opens the database, applies the pending schema migrations (each in its own transaction, in
/// order, recorded in schema_migrations), and returns the repository.
/// Error{kUnavailable, "storage.unavailable"} when the database cannot be reached.
std::unique_ptr<Repository> openRepository(const DatabaseConfig& config);

/// The schema version this build writes; a database from a newer build is refused
/// ("storage.schema_too_new") rather than misread.
int currentSchemaVersion();

}  // namespace kooperdoc::storage
