// SPDX-License-Identifier: AGPL-3.0-or-later
// Repository over Poco::Data, one SQL text for both backends.
#include <algorithm>
#include <ctime>
#include <filesystem>

#include "Schema.h"
#include "Sql.h"
#include "SqlAuditStore.h"
#include "SqlWebhooks.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::storage {
namespace {

using sql::asInt;
using sql::asOptionalInt;
using sql::asText;
using sql::Null;
using sql::Params;
using sql::Row;
using sql::Transaction;

constexpr const char* kDocumentColumns =
    "id, tenant_id, number, template_id, template_version, template_sha256, retention_class, legal_basis, "
    "archival_duty, case_ref, status, restricted, idempotency_key, request_sha256, created_at, signed_at, "
    "closed_at, erased_at, supersedes, relation";

DocumentRecord documentFrom(const Row& row) {
    DocumentRecord d;
    d.id = asText(row[0]);
    d.tenantId = asText(row[1]);
    d.number = asText(row[2]);
    d.templateId = asText(row[3]);
    d.templateVersion = asText(row[4]);
    d.templateSha256 = asText(row[5]);
    d.retentionClass = asText(row[6]);
    d.legalBasis = asText(row[7]);
    d.archivalDuty = asInt(row[8]) != 0;
    d.caseRef = asText(row[9]);
    d.status = parseDocumentStatus(asText(row[10]));
    d.restricted = asInt(row[11]) != 0;
    d.idempotencyKey = asText(row[12]);
    d.requestSha256 = asText(row[13]);
    d.createdAt = asInt(row[14]);
    d.signedAt = asOptionalInt(row[15]);
    d.closedAt = asOptionalInt(row[16]);
    d.erasedAt = asOptionalInt(row[17]);
    d.supersedes = asText(row[18]);
    d.relation = asText(row[19]);
    return d;
}

SubjectRecord subjectFrom(const Row& row) {
    SubjectRecord s;
    s.id = asText(row[0]);
    s.tenantId = asText(row[1]);
    s.wrappedKey = row[2];
    s.createdAt = asInt(row[3]);
    s.erasedAt = asOptionalInt(row[4]);
    return s;
}

ConsentRecord consentFrom(const Row& row) {
    ConsentRecord c;
    c.id = asText(row[0]);
    c.tenantId = asText(row[1]);
    c.subjectId = asText(row[2]);
    c.documentId = asText(row[3]);
    c.purpose = asText(row[4]);
    c.givenAt = asInt(row[5]);
    c.withdrawnAt = asOptionalInt(row[6]);
    return c;
}

LegalHold holdFrom(const Row& row) {
    LegalHold h;
    h.id = asText(row[0]);
    h.tenantId = asText(row[1]);
    h.documentId = asText(row[2]);
    h.caseRef = asText(row[3]);
    h.reason = asText(row[4]);
    h.setBy = asText(row[5]);
    h.setAt = asInt(row[6]);
    h.clearedBy = asText(row[7]);
    h.clearedAt = asOptionalInt(row[8]);
    return h;
}

sql::Param textOrNull(const std::string& value) {
    return value.empty() ? sql::Param(Null{}) : sql::Param(value);
}

[[noreturn]] void documentUnknown(const std::string& id) {
    throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + id + " in this tenant");
}

class SqlRepository final : public Repository {
public:
    explicit SqlRepository(const DatabaseConfig& config) : db_(config), audit_(db_) { migrate(); }

    audit::AuditStore& auditStore() override { return audit_; }

    int schemaVersion() override {
        int version = 0;
        db_.inTransaction([&](Transaction& tx) {
            version = static_cast<int>(asInt(tx.single("SELECT MAX(version) FROM schema_migrations")->at(0)));
        });
        return version;
    }

    std::string backendName() const override { return db_.postgres() ? "postgresql" : "sqlite"; }

    void putTenant(const TenantRecord& tenant) override {
        // One statement: instances starting at once on an empty database may all create the same
        // tenant; the first one's key stays, later ones only update the profile.
        db_.inTransaction([&](Transaction& tx) {
            tx.execute("INSERT INTO tenants (id, profile_json, wrapped_key, created_at) VALUES ($1, $2, $3, $4) "
                       "ON CONFLICT (id) DO UPDATE SET profile_json = excluded.profile_json",
                       {tenant.id, tenant.profileJson, tenant.wrappedKey, tenant.createdAt});
        });
    }

    std::optional<TenantRecord> tenant(const std::string& id) override {
        std::optional<TenantRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single("SELECT id, profile_json, wrapped_key, created_at FROM tenants WHERE id = $1", {id})) {
                out = TenantRecord{asText(row->at(0)), asText(row->at(1)), asText(row->at(2)), asInt(row->at(3))};
            }
        });
        return out;
    }

    std::vector<std::string> tenantIds() override {
        std::vector<std::string> ids;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT id FROM tenants ORDER BY id")) ids.push_back(asText(row[0]));
        });
        return ids;
    }

    SubjectRecord findOrCreateSubject(const std::string& tenantId, const std::vector<std::string>& indexHmacs,
                                      const std::string& newSubjectId, const std::string& newWrappedKey,
                                      std::int64_t now) override {
        SubjectRecord out;
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, tenantId);
            if (db_.postgres()) {
                // Two instances creating the same person at once: serialise on the tenant's index.
                tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", {"subject_index:" + tenantId});
            }
            for (const auto& hmac : indexHmacs) {
                auto row = tx.single("SELECT s.id, s.tenant_id, s.wrapped_key, s.created_at, s.erased_at FROM subjects s "
                                     "JOIN subject_index i ON i.subject_id = s.id "
                                     "WHERE i.tenant_id = $1 AND i.hmac = $2 AND s.erased_at IS NULL ORDER BY s.created_at",
                                     {tenantId, hmac});
                if (row) {
                    out = subjectFrom(*row);
                    // A new identifier for a known person (a name next to a PESEL) joins the index.
                    for (const auto& other : indexHmacs) {
                        tx.execute("INSERT INTO subject_index (tenant_id, hmac, subject_id) VALUES ($1, $2, $3) "
                                   "ON CONFLICT DO NOTHING",
                                   {tenantId, other, out.id});
                    }
                    return;
                }
            }
            tx.execute("INSERT INTO subjects (id, tenant_id, wrapped_key, created_at) VALUES ($1, $2, $3, $4)",
                       {newSubjectId, tenantId, newWrappedKey, now});
            for (const auto& hmac : indexHmacs) {
                tx.execute("INSERT INTO subject_index (tenant_id, hmac, subject_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                           {tenantId, hmac, newSubjectId});
            }
            out = SubjectRecord{newSubjectId, tenantId, newWrappedKey, now, std::nullopt};
        });
        return out;
    }

    std::vector<std::string> subjectsByIndex(const std::string& tenantId, const std::string& indexHmac) override {
        std::vector<std::string> ids;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT subject_id FROM subject_index WHERE tenant_id = $1 AND hmac = $2 "
                                            "ORDER BY subject_id",
                                            {tenantId, indexHmac})) {
                ids.push_back(asText(row[0]));
            }
        });
        return ids;
    }

    std::optional<SubjectRecord> subject(const std::string& tenantId, const std::string& id) override {
        std::optional<SubjectRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single("SELECT id, tenant_id, wrapped_key, created_at, erased_at FROM subjects "
                                     "WHERE tenant_id = $1 AND id = $2",
                                     {tenantId, id})) {
                out = subjectFrom(*row);
            }
        });
        return out;
    }

    void eraseSubject(const std::string& tenantId, const std::string& subjectId, std::int64_t now) override {
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM subjects WHERE tenant_id = $1 AND id = $2", {tenantId, subjectId})) {
                throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no data subject " + subjectId + " in this tenant");
            }
            tx.execute("DELETE FROM subject_index WHERE subject_id = $1", {subjectId});
            tx.execute("DELETE FROM document_keys WHERE holder = $1", {"subject:" + subjectId});
            tx.execute("UPDATE subjects SET wrapped_key = NULL, erased_at = $1 WHERE id = $2 AND erased_at IS NULL",
                       {now, subjectId});
        });
    }

    InsertResult insertDocument(const NewDocument& input) override {
        InsertResult result;
        const DocumentRecord& d = input.document;
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, d.tenantId);
            if (!d.idempotencyKey.empty()) {
                // Two requests with one key at the same moment (two instances, a client's retry):
                // on PostgreSQL both would miss the lookup and the second insert would fail on the
                // unique index; a lock on the key makes the second wait and replay the first.
                // SQLite's BEGIN IMMEDIATE serialises writers already.
                if (db_.postgres()) {
                    tx.execute("SELECT pg_advisory_xact_lock(7276, hashtext($1))", {d.tenantId + "\n" + d.idempotencyKey});
                }
                if (auto row = tx.single("SELECT id, request_sha256 FROM documents WHERE tenant_id = $1 AND idempotency_key = $2",
                                         {d.tenantId, d.idempotencyKey})) {
                    if (asText(row->at(1)) != d.requestSha256) {
                        throw Error(ErrorCode::kAlreadyExists, "storage.idempotency_conflict",
                                    "the idempotency key " + d.idempotencyKey + " was used for another request");
                    }
                    result = {asText(row->at(0)), true};
                    return;
                }
            }
            tx.execute(std::string("INSERT INTO documents (") + kDocumentColumns +
                           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                       {d.id, d.tenantId, d.number, d.templateId, d.templateVersion, d.templateSha256, d.retentionClass,
                        d.legalBasis, std::int64_t{d.archivalDuty ? 1 : 0}, d.caseRef, std::string(toString(d.status)),
                        std::int64_t{d.restricted ? 1 : 0}, textOrNull(d.idempotencyKey), textOrNull(d.requestSha256),
                        d.createdAt, sql::optionalParam(d.signedAt), sql::optionalParam(d.closedAt), Null{},
                        textOrNull(d.supersedes), textOrNull(d.relation)});
            for (const auto& [subjectId, role] : input.subjects) {
                if (!tx.single("SELECT id FROM subjects WHERE tenant_id = $1 AND id = $2 AND erased_at IS NULL",
                               {d.tenantId, subjectId})) {
                    throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no live data subject " + subjectId);
                }
                tx.execute("INSERT INTO document_subjects (document_id, subject_id, role) VALUES ($1, $2, $3)",
                           {d.id, subjectId, role});
            }
            for (const auto& key : input.keys) {
                tx.execute("INSERT INTO document_keys (document_id, holder, wrapped_key) VALUES ($1, $2, $3)",
                           {d.id, key.holder, key.wrappedKey});
            }
            insertRevision(tx, d.id, input.firstRevision, 1);
            result = {d.id, false};
        });
        return result;
    }

    std::optional<DocumentRecord> document(const std::string& tenantId, const std::string& id) override {
        std::optional<DocumentRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single(std::string("SELECT ") + kDocumentColumns + " FROM documents WHERE tenant_id = $1 AND id = $2",
                                     {tenantId, id})) {
                out = documentFrom(*row);
            }
        });
        return out;
    }

    std::optional<DocumentRecord> documentByIdempotencyKey(const std::string& tenantId, const std::string& key) override {
        std::optional<DocumentRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single(std::string("SELECT ") + kDocumentColumns +
                                         " FROM documents WHERE tenant_id = $1 AND idempotency_key = $2",
                                     {tenantId, key})) {
                out = documentFrom(*row);
            }
        });
        return out;
    }

    std::vector<DocumentRecord> documents(const std::string& tenantId) override {
        std::vector<DocumentRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query(std::string("SELECT ") + kDocumentColumns +
                                                " FROM documents WHERE tenant_id = $1 ORDER BY created_at, id",
                                            {tenantId})) {
                out.push_back(documentFrom(row));
            }
        });
        return out;
    }

    std::vector<DocumentRecord> documentsOfSubject(const std::string& tenantId, const std::string& subjectId) override {
        std::vector<DocumentRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row :
                 tx.query(std::string("SELECT ") + kDocumentColumns +
                              " FROM documents WHERE tenant_id = $1 AND id IN "
                              "(SELECT document_id FROM document_subjects WHERE subject_id = $2) ORDER BY created_at, id",
                          {tenantId, subjectId})) {
                out.push_back(documentFrom(row));
            }
        });
        return out;
    }

    std::vector<DocumentRecord> documentsSuperseding(const std::string& tenantId, const std::string& documentId) override {
        std::vector<DocumentRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query(std::string("SELECT ") + kDocumentColumns +
                                                " FROM documents WHERE tenant_id = $1 AND supersedes = $2 ORDER BY created_at, id",
                                            {tenantId, documentId})) {
                out.push_back(documentFrom(row));
            }
        });
        return out;
    }

    std::vector<std::string> subjectsOfDocument(const std::string& documentId) override {
        std::vector<std::string> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT subject_id FROM document_subjects WHERE document_id = $1 ORDER BY subject_id",
                                            {documentId})) {
                out.push_back(asText(row[0]));
            }
        });
        return out;
    }

    int addRevision(const std::string& tenantId, const std::string& documentId, int expectedNewest, RevisionRecord revision,
                    DocumentStatus status) override {
        int number = 0;
        db_.inTransaction([&](Transaction& tx) {
            // The document's row lock (PostgreSQL) or the database's write lock (SQLite's BEGIN
            // IMMEDIATE) is held from here to COMMIT: a concurrent append waits, then reads the
            // newest number this one wrote, so the check and the insert cannot interleave.
            const auto row = tx.single(std::string("SELECT status FROM documents WHERE tenant_id = $1 AND id = $2") +
                                           (db_.postgres() ? " FOR UPDATE" : ""),
                                       {tenantId, documentId});
            if (!row) documentUnknown(documentId);
            if (parseDocumentStatus(asText(row->at(0))) == DocumentStatus::kErased) {
                throw Error(ErrorCode::kFailedPrecondition, "storage.document_erased", "document " + documentId + " was erased");
            }
            const auto newest = static_cast<int>(
                asInt(tx.single("SELECT COALESCE(MAX(number), 0) FROM revisions WHERE document_id = $1", {documentId})->at(0)));
            if (newest != expectedNewest) {
                throw Error(ErrorCode::kFailedPrecondition, "storage.revision_conflict",
                            "document " + documentId + " has revision " + std::to_string(newest) + ", not " +
                                std::to_string(expectedNewest) + ": another revision was added meanwhile; review against the newest again");
            }
            number = newest + 1;
            insertRevision(tx, documentId, revision, number);
            tx.execute("UPDATE documents SET status = $1 WHERE id = $2", {std::string(toString(status)), documentId});
            if (status == DocumentStatus::kSigned) {
                tx.execute("UPDATE documents SET signed_at = $1 WHERE id = $2 AND signed_at IS NULL", {revision.createdAt, documentId});
            }
        });
        return number;
    }

    std::vector<RevisionRecord> revisions(const std::string& documentId) override {
        std::vector<RevisionRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT number, kind, blob_id, sha256, size, created_at FROM revisions "
                                            "WHERE document_id = $1 ORDER BY number",
                                            {documentId})) {
                out.push_back({static_cast<int>(asInt(row[0])), asText(row[1]), asText(row[2]), asText(row[3]),
                               asInt(row[4]), asInt(row[5])});
            }
        });
        return out;
    }

    std::vector<WrappedDocumentKey> documentKeys(const std::string& documentId) override {
        std::vector<WrappedDocumentKey> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT holder, wrapped_key FROM document_keys WHERE document_id = $1 ORDER BY holder",
                                            {documentId})) {
                out.push_back({asText(row[0]), asText(row[1])});
            }
        });
        return out;
    }

    void setRestricted(const std::string& tenantId, const std::string& documentId, bool restricted) override {
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM documents WHERE tenant_id = $1 AND id = $2", {tenantId, documentId})) {
                documentUnknown(documentId);
            }
            tx.execute("UPDATE documents SET restricted = $1 WHERE id = $2", {std::int64_t{restricted ? 1 : 0}, documentId});
        });
    }

    void closeCase(const std::string& tenantId, const std::string& caseRef, std::int64_t closedAt) override {
        db_.inTransaction([&](Transaction& tx) {
            tx.execute("UPDATE documents SET closed_at = $1 WHERE tenant_id = $2 AND case_ref = $3 AND closed_at IS NULL",
                       {closedAt, tenantId, caseRef});
            // A closed case's documents are archived: kept for their retention period, no longer worked on.
            tx.execute("UPDATE documents SET status = 'archived' WHERE tenant_id = $1 AND case_ref = $2 AND status <> 'erased'",
                       {tenantId, caseRef});
        });
    }

    std::vector<std::string> eraseDocument(const std::string& tenantId, const std::string& documentId,
                                           std::int64_t now) override {
        std::vector<std::string> blobs;
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM documents WHERE tenant_id = $1 AND id = $2", {tenantId, documentId})) {
                documentUnknown(documentId);
            }
            for (const auto& row : tx.query("SELECT blob_id FROM revisions WHERE document_id = $1", {documentId})) {
                blobs.push_back(asText(row[0]));
            }
            tx.execute("DELETE FROM document_keys WHERE document_id = $1", {documentId});
            tx.execute("DELETE FROM revisions WHERE document_id = $1", {documentId});
            // The row stays as a pseudonymous tombstone (ids, template, dates): the disposal
            // record and the audit trail point at it, and it holds no personal data.
            tx.execute("UPDATE documents SET status = 'erased', erased_at = $1, idempotency_key = NULL, request_sha256 = NULL "
                       "WHERE id = $2",
                       {now, documentId});
        });
        return blobs;
    }

    std::vector<std::string> referencedBlobs() override {
        std::vector<std::string> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT blob_id FROM revisions ORDER BY blob_id")) out.push_back(asText(row[0]));
        });
        return out;
    }

    void recordConsent(const ConsentRecord& c) override {
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, c.tenantId);
            tx.execute("INSERT INTO consents (id, tenant_id, subject_id, document_id, purpose, given_at, withdrawn_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {c.id, c.tenantId, c.subjectId, textOrNull(c.documentId), c.purpose, c.givenAt,
                        sql::optionalParam(c.withdrawnAt)});
        });
    }

    std::vector<ConsentRecord> consentsOfSubject(const std::string& tenantId, const std::string& subjectId) override {
        std::vector<ConsentRecord> out;
        db_.inTransaction([&](Transaction& tx) { out = consents(tx, tenantId, subjectId, false); });
        return out;
    }

    std::vector<ConsentRecord> withdrawConsents(const std::string& tenantId, const std::string& subjectId,
                                                std::int64_t now) override {
        std::vector<ConsentRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            out = consents(tx, tenantId, subjectId, true);
            tx.execute("UPDATE consents SET withdrawn_at = $1 WHERE tenant_id = $2 AND subject_id = $3 AND withdrawn_at IS NULL",
                       {now, tenantId, subjectId});
            for (auto& c : out) c.withdrawnAt = now;
        });
        return out;
    }

    void placeHold(const LegalHold& h) override {
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, h.tenantId);
            if (h.documentId.empty() == h.caseRef.empty()) {
                throw Error(ErrorCode::kInvalidArgument, "storage.hold_target", "a legal hold names one document or one case");
            }
            tx.execute("INSERT INTO legal_holds (id, tenant_id, document_id, case_ref, reason, set_by, set_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {h.id, h.tenantId, textOrNull(h.documentId), textOrNull(h.caseRef), h.reason, h.setBy, h.setAt});
        });
    }

    void clearHold(const std::string& tenantId, const std::string& holdId, const std::string& by, std::int64_t now) override {
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM legal_holds WHERE tenant_id = $1 AND id = $2 AND cleared_at IS NULL", {tenantId, holdId})) {
                throw Error(ErrorCode::kNotFound, "storage.hold_unknown", "no active legal hold " + holdId);
            }
            tx.execute("UPDATE legal_holds SET cleared_by = $1, cleared_at = $2 WHERE id = $3", {by, now, holdId});
        });
    }

    std::vector<LegalHold> activeHolds(const std::string& tenantId, const std::string& documentId) override {
        std::vector<LegalHold> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query(
                     "SELECT h.id, h.tenant_id, h.document_id, h.case_ref, h.reason, h.set_by, h.set_at, h.cleared_by, h.cleared_at "
                     "FROM legal_holds h WHERE h.tenant_id = $1 AND h.cleared_at IS NULL AND (h.document_id = $2 OR "
                     "h.case_ref = (SELECT case_ref FROM documents WHERE tenant_id = $3 AND id = $4)) ORDER BY h.set_at, h.id",
                     {tenantId, documentId, tenantId, documentId})) {
                out.push_back(holdFrom(row));
            }
        });
        return out;
    }

    std::vector<LegalHold> legalHolds(const std::string& tenantId) override {
        std::vector<LegalHold> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT id, tenant_id, document_id, case_ref, reason, set_by, set_at, cleared_by, cleared_at "
                                            "FROM legal_holds WHERE tenant_id = $1 ORDER BY set_at, id",
                                            {tenantId})) {
                out.push_back(holdFrom(row));
            }
        });
        return out;
    }

    void checkMasterKey(const std::string& fingerprint) override {
        db_.inTransaction([&](Transaction& tx) {
            // Insert-if-absent, then read: two instances starting at once agree on the first key.
            tx.execute("INSERT INTO kd_meta (key, value) VALUES ('master_key_fingerprint', $1) ON CONFLICT DO NOTHING",
                       {fingerprint});
            const auto row = tx.single("SELECT value FROM kd_meta WHERE key = 'master_key_fingerprint'");
            if (!row || asText(row->at(0)) != fingerprint) {
                throw Error(ErrorCode::kFailedPrecondition, "storage.master_key_mismatch",
                            "this database was written under another master key: configure the one it was created with");
            }
        });
    }

    void insertDisposalProposal(const DisposalProposal& p) override {
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, p.tenantId);
            tx.execute("INSERT INTO disposal_proposals (id, tenant_id, status, created_at) VALUES ($1, $2, $3, $4)",
                       {p.id, p.tenantId, p.status, p.createdAt});
            for (const auto& item : p.items) {
                tx.execute("INSERT INTO disposal_items (proposal_id, document_id, template_id, rule_id, category, action, "
                           "trigger_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                           {p.id, item.documentId, item.templateId, item.ruleId, item.category, item.action,
                            sql::optionalParam(item.triggerAt), sql::optionalParam(item.endsAt)});
            }
        });
    }

    std::optional<DisposalProposal> disposalProposal(const std::string& tenantId, const std::string& id) override {
        std::optional<DisposalProposal> out;
        db_.inTransaction([&](Transaction& tx) {
            for (auto& p : proposals(tx, tenantId, id)) out = std::move(p);
        });
        return out;
    }

    std::vector<DisposalProposal> disposalProposals(const std::string& tenantId) override {
        std::vector<DisposalProposal> out;
        db_.inTransaction([&](Transaction& tx) { out = proposals(tx, tenantId, ""); });
        return out;
    }

    void updateDisposalProposal(const std::string& tenantId, const std::string& id, const std::string& expectedStatus,
                                const std::string& status, const std::string& by, const std::string& archiveConsentRef,
                                std::int64_t at) override {
        db_.inTransaction([&](Transaction& tx) {
            const auto row = tx.single("SELECT status FROM disposal_proposals WHERE tenant_id = $1 AND id = $2", {tenantId, id});
            if (!row) throw Error(ErrorCode::kNotFound, "retention.proposal_unknown", "no disposal proposal " + id);
            if (asText(row->at(0)) != expectedStatus) {
                throw Error(ErrorCode::kFailedPrecondition, "retention.proposal_state",
                            "disposal proposal " + id + " is " + asText(row->at(0)) + ", not " + expectedStatus);
            }
            if (status == "executed") {
                tx.execute("UPDATE disposal_proposals SET status = $1, executed_at = $2 WHERE id = $3", {status, at, id});
            } else {
                tx.execute("UPDATE disposal_proposals SET status = $1, decided_by = $2, archive_consent_ref = $3, decided_at = $4 "
                           "WHERE id = $5",
                           {status, by, textOrNull(archiveConsentRef), at, id});
            }
        });
    }

    void insertDisposalRecord(const DisposalRecord& r) override {
        db_.inTransaction([&](Transaction& tx) {
            tx.execute("INSERT INTO disposal_records (id, tenant_id, proposal_id, document_id, template_id, template_version, "
                       "rule_id, category, revision_sha256, approved_by, archive_consent_ref, executed_at, outcome) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                       {r.id, r.tenantId, r.proposalId, r.documentId, r.templateId, r.templateVersion, r.ruleId, r.category,
                        r.revisionSha256, r.approvedBy, textOrNull(r.archiveConsentRef), r.executedAt, r.outcome});
        });
    }

    std::vector<DisposalRecord> disposalRecords(const std::string& tenantId) override {
        std::vector<DisposalRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query("SELECT id, tenant_id, proposal_id, document_id, template_id, template_version, rule_id, "
                                            "category, revision_sha256, approved_by, archive_consent_ref, executed_at, outcome "
                                            "FROM disposal_records WHERE tenant_id = $1 ORDER BY executed_at, id",
                                            {tenantId})) {
                DisposalRecord r;
                r.id = asText(row[0]);
                r.tenantId = asText(row[1]);
                r.proposalId = asText(row[2]);
                r.documentId = asText(row[3]);
                r.templateId = asText(row[4]);
                r.templateVersion = asText(row[5]);
                r.ruleId = asText(row[6]);
                r.category = asText(row[7]);
                r.revisionSha256 = asText(row[8]);
                r.approvedBy = asText(row[9]);
                r.archiveConsentRef = asText(row[10]);
                r.executedAt = asInt(row[11]);
                r.outcome = asText(row[12]);
                out.push_back(std::move(r));
            }
        });
        return out;
    }

    void purgeFreedPages() override {
        if (db_.postgres()) {
            for (const char* table : {"subjects", "subject_index", "document_keys", "revisions", "documents", "consents"}) {
                db_.executeAlone(std::string("VACUUM ") + table);
            }
        } else {
            db_.executeAlone("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    void backupTo(const std::string& path) override {
        if (db_.postgres()) {
            throw Error(ErrorCode::kFailedPrecondition, "storage.backup_unsupported",
                        "a PostgreSQL store is backed up with pg_dump or a base backup, not by Kooperdoc "
                        "(see docs/storage.md); back up the blob directory beside it");
        }
        if (std::filesystem::exists(path)) {
            throw Error(ErrorCode::kAlreadyExists, "storage.backup_exists", "refusing to overwrite " + path);
        }
        // VACUUM INTO reads one snapshot of the database inside a read transaction, so writers
        // may go on; the copy is compact and holds no freed page. It takes a literal, not a
        // parameter: quotes in the path are doubled.
        std::string literal = "'";
        for (const char c : path) literal += c == '\'' ? std::string("''") : std::string(1, c);
        db_.executeAlone("VACUUM INTO " + literal + "'");
    }

    void insertApiKey(const ApiKeyRecord& k) override {
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, k.tenantId);
            tx.execute("INSERT INTO api_keys (id, tenant_id, role, label, key_sha256, created_at, revoked_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {k.id, k.tenantId, k.role, k.label, k.keySha256, k.createdAt, sql::optionalParam(k.revokedAt)});
        });
    }

    std::optional<ApiKeyRecord> apiKeyByHash(const std::string& keySha256) override {
        std::optional<ApiKeyRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single(std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE key_sha256 = $1", {keySha256})) {
                out = apiKeyFrom(*row);
            }
        });
        return out;
    }

    std::vector<ApiKeyRecord> apiKeys(const std::string& tenantId) override {
        std::vector<ApiKeyRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query(std::string("SELECT ") + kApiKeyColumns +
                                                " FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id",
                                            {tenantId})) {
                out.push_back(apiKeyFrom(row));
            }
        });
        return out;
    }

    bool revokeApiKey(const std::string& tenantId, const std::string& keyId, std::int64_t now) override {
        bool found = false;
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM api_keys WHERE tenant_id = $1 AND id = $2", {tenantId, keyId})) return;
            found = true;
            tx.execute("UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
                       {now, tenantId, keyId});
        });
        return found;
    }

    bool insertUser(const UserRecord& u) override {
        bool inserted = false;
        db_.inTransaction([&](Transaction& tx) {
            requireTenant(tx, u.tenantId);
            // ON CONFLICT then a read-back instead of a pre-check: two instances creating the same
            // login at once get one row and one "taken", never a constraint error.
            tx.execute("INSERT INTO users (id, tenant_id, login, role, password_hash, must_change_password, failed_logins, "
                       "locked_until, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                       "ON CONFLICT (login) DO NOTHING",
                       {u.id, u.tenantId, u.login, u.role, u.passwordHash, std::int64_t{u.mustChangePassword ? 1 : 0},
                        std::int64_t{u.failedLogins}, sql::optionalParam(u.lockedUntil), u.createdAt,
                        std::int64_t{u.disabled ? 1 : 0}});
            const auto row = tx.single("SELECT id FROM users WHERE login = $1", {u.login});
            inserted = row && asText(row->at(0)) == u.id;
        });
        return inserted;
    }

    std::optional<UserRecord> userByLogin(const std::string& login) override {
        std::optional<UserRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single(std::string("SELECT ") + kUserColumns + " FROM users WHERE login = $1", {login})) {
                out = userFrom(*row);
            }
        });
        return out;
    }

    std::optional<UserRecord> user(const std::string& id) override {
        std::optional<UserRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = $1", {id})) {
                out = userFrom(*row);
            }
        });
        return out;
    }

    bool recordFailedLogin(const std::string& userId, int maxFailed, std::int64_t lockUntil) override {
        bool locked = false;
        db_.inTransaction([&](Transaction& tx) {
            // The UPDATE takes the row lock first (PostgreSQL) or the database's (SQLite's BEGIN
            // IMMEDIATE), so the count read back is this transaction's own.
            tx.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1", {userId});
            const auto row = tx.single("SELECT failed_logins FROM users WHERE id = $1", {userId});
            if (!row || asInt(row->at(0)) < maxFailed) return;
            tx.execute("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2", {lockUntil, userId});
            locked = true;
        });
        return locked;
    }

    void recordSuccessfulLogin(const std::string& userId) override {
        db_.inTransaction([&](Transaction& tx) {
            tx.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1", {userId});
        });
    }

    void setPassword(const std::string& userId, const std::string& passwordHash, bool mustChangePassword) override {
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM users WHERE id = $1", {userId})) {
                throw Error(ErrorCode::kNotFound, "storage.user_unknown", "no user " + userId);
            }
            tx.execute("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3",
                       {passwordHash, std::int64_t{mustChangePassword ? 1 : 0}, userId});
        });
    }

    std::vector<UserRecord> users(const std::string& tenantId) override {
        std::vector<UserRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            for (const auto& row : tx.query(std::string("SELECT ") + kUserColumns + " FROM users WHERE tenant_id = $1 ORDER BY created_at, id",
                                            {tenantId})) {
                out.push_back(userFrom(row));
            }
        });
        return out;
    }

    bool setUserDisabled(const std::string& tenantId, const std::string& userId, bool disabled) override {
        bool found = false;
        db_.inTransaction([&](Transaction& tx) {
            if (!tx.single("SELECT id FROM users WHERE tenant_id = $1 AND id = $2", {tenantId, userId})) return;
            found = true;
            tx.execute("UPDATE users SET disabled = $1 WHERE tenant_id = $2 AND id = $3",
                       {std::int64_t{disabled ? 1 : 0}, tenantId, userId});
        });
        return found;
    }

    void insertSession(const SessionRecord& s) override {
        db_.inTransaction([&](Transaction& tx) {
            tx.execute("INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                       {s.tokenSha256, s.userId, s.csrfToken, s.createdAt, s.expiresAt});
        });
    }

    std::optional<SessionRecord> session(const std::string& tokenSha256) override {
        std::optional<SessionRecord> out;
        db_.inTransaction([&](Transaction& tx) {
            if (auto row = tx.single("SELECT token_sha256, user_id, csrf_token, created_at, expires_at FROM sessions "
                                     "WHERE token_sha256 = $1",
                                     {tokenSha256})) {
                out = SessionRecord{asText(row->at(0)), asText(row->at(1)), asText(row->at(2)), asInt(row->at(3)),
                                    asInt(row->at(4))};
            }
        });
        return out;
    }

    void deleteSession(const std::string& tokenSha256) override {
        db_.inTransaction([&](Transaction& tx) { tx.execute("DELETE FROM sessions WHERE token_sha256 = $1", {tokenSha256}); });
    }

    void deleteSessionsOfUser(const std::string& userId, const std::string& keepTokenSha256) override {
        db_.inTransaction([&](Transaction& tx) {
            tx.execute("DELETE FROM sessions WHERE user_id = $1 AND token_sha256 <> $2", {userId, keepTokenSha256});
        });
    }

    std::size_t deleteExpiredSessions(std::int64_t now) override {
        std::size_t count = 0;
        db_.inTransaction([&](Transaction& tx) {
            count = static_cast<std::size_t>(asInt(tx.single("SELECT COUNT(*) FROM sessions WHERE expires_at <= $1", {now})->at(0)));
            tx.execute("DELETE FROM sessions WHERE expires_at <= $1", {now});
        });
        return count;
    }

    // Webhooks: the SQL is in SqlWebhooks.cpp.
    void insertWebhook(const WebhookRecord& webhook) override { sql::insertWebhook(db_, webhook); }
    std::vector<WebhookRecord> webhooks(const std::string& tenantId) override { return sql::webhooks(db_, tenantId); }
    std::optional<WebhookRecord> webhook(const std::string& tenantId, const std::string& id) override {
        return sql::webhook(db_, tenantId, id);
    }
    bool deleteWebhook(const std::string& tenantId, const std::string& id) override { return sql::deleteWebhook(db_, tenantId, id); }
    bool setWebhookDisabled(const std::string& tenantId, const std::string& id, bool disabled) override {
        return sql::setWebhookDisabled(db_, tenantId, id, disabled);
    }
    std::size_t insertWebhookDeliveries(const std::vector<WebhookDelivery>& deliveries) override {
        return sql::insertWebhookDeliveries(db_, deliveries);
    }
    std::vector<WebhookDelivery> claimDueWebhookDeliveries(std::int64_t now, std::size_t limit, std::int64_t leaseUntil) override {
        return sql::claimDueWebhookDeliveries(db_, now, limit, leaseUntil);
    }
    void updateWebhookDelivery(const WebhookDelivery& delivery) override { sql::updateWebhookDelivery(db_, delivery); }
    std::optional<WebhookDelivery> webhookDelivery(const std::string& tenantId, const std::string& id) override {
        return sql::webhookDelivery(db_, tenantId, id);
    }
    std::vector<WebhookDelivery> webhookDeliveries(const std::string& tenantId, const std::string& webhookId,
                                                   std::size_t limit) override {
        return sql::webhookDeliveries(db_, tenantId, webhookId, limit);
    }
    bool redeliverWebhookDelivery(const std::string& tenantId, const std::string& id, std::int64_t now) override {
        return sql::redeliverWebhookDelivery(db_, tenantId, id, now);
    }

private:
    static constexpr const char* kApiKeyColumns = "id, tenant_id, role, label, key_sha256, created_at, revoked_at";
    static constexpr const char* kUserColumns =
        "id, tenant_id, login, role, password_hash, must_change_password, failed_logins, locked_until, created_at, disabled";

    static ApiKeyRecord apiKeyFrom(const Row& row) {
        ApiKeyRecord k;
        k.id = asText(row[0]);
        k.tenantId = asText(row[1]);
        k.role = asText(row[2]);
        k.label = asText(row[3]);
        k.keySha256 = asText(row[4]);
        k.createdAt = asInt(row[5]);
        k.revokedAt = asOptionalInt(row[6]);
        return k;
    }

    static UserRecord userFrom(const Row& row) {
        UserRecord u;
        u.id = asText(row[0]);
        u.tenantId = asText(row[1]);
        u.login = asText(row[2]);
        u.role = asText(row[3]);
        u.passwordHash = asText(row[4]);
        u.mustChangePassword = asInt(row[5]) != 0;
        u.failedLogins = static_cast<int>(asInt(row[6]));
        u.lockedUntil = asOptionalInt(row[7]);
        u.createdAt = asInt(row[8]);
        u.disabled = asInt(row[9]) != 0;
        return u;
    }

    void migrate() {
        db_.inTransaction([&](Transaction& tx) {
            if (db_.postgres()) {
                // Several instances may start at once: one migrates, the others wait and see it done.
                tx.execute("SELECT pg_advisory_xact_lock(727274)");
            }
            tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                       "description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        });
        for (const Migration& migration : migrations()) {
            db_.inTransaction([&](Transaction& tx) {
                if (db_.postgres()) tx.execute("SELECT pg_advisory_xact_lock(727274)");
                const int applied = static_cast<int>(asInt(tx.single("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")->at(0)));
                if (applied > currentSchemaVersion()) {
                    throw Error(ErrorCode::kFailedPrecondition, "storage.schema_too_new",
                                "the database has schema version " + std::to_string(applied) + ", this build knows up to " +
                                    std::to_string(currentSchemaVersion()) + ": run the newer Kooperdoc");
                }
                if (applied >= migration.version) return;
                for (const auto& statement : migration.statements) tx.execute(statement);
                tx.execute("INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                           {std::int64_t{migration.version}, migration.description, static_cast<std::int64_t>(std::time(nullptr))});
            });
        }
    }

    static void requireTenant(Transaction& tx, const std::string& tenantId) {
        if (!tx.single("SELECT id FROM tenants WHERE id = $1", {tenantId})) {
            throw Error(ErrorCode::kNotFound, "storage.tenant_unknown", "no tenant " + tenantId);
        }
    }

    static void insertRevision(Transaction& tx, const std::string& documentId, const RevisionRecord& r, int number) {
        tx.execute("INSERT INTO revisions (document_id, number, kind, blob_id, sha256, size, created_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   {documentId, std::int64_t{number}, r.kind, r.blobId, r.sha256, r.size, r.createdAt});
    }

    static std::vector<DisposalProposal> proposals(Transaction& tx, const std::string& tenantId, const std::string& onlyId) {
        std::vector<DisposalProposal> out;
        for (const auto& row : tx.query(std::string("SELECT id, tenant_id, status, created_at, decided_by, archive_consent_ref, "
                                                    "decided_at, executed_at FROM disposal_proposals WHERE tenant_id = $1") +
                                            (onlyId.empty() ? "" : " AND id = $2") + " ORDER BY created_at, id",
                                        onlyId.empty() ? Params{tenantId} : Params{tenantId, onlyId})) {
            DisposalProposal p;
            p.id = asText(row[0]);
            p.tenantId = asText(row[1]);
            p.status = asText(row[2]);
            p.createdAt = asInt(row[3]);
            p.approvedBy = asText(row[4]);
            p.archiveConsentRef = asText(row[5]);
            p.approvedAt = asOptionalInt(row[6]);
            p.executedAt = asOptionalInt(row[7]);
            for (const auto& item : tx.query("SELECT document_id, template_id, rule_id, category, action, trigger_at, ends_at "
                                             "FROM disposal_items WHERE proposal_id = $1 ORDER BY document_id",
                                             {p.id})) {
                RetentionStatus s;
                s.documentId = asText(item[0]);
                s.templateId = asText(item[1]);
                s.ruleId = asText(item[2]);
                s.category = asText(item[3]);
                s.action = asText(item[4]);
                s.triggerAt = asOptionalInt(item[5]);
                s.endsAt = asOptionalInt(item[6]);
                s.due = true;
                p.items.push_back(std::move(s));
            }
            out.push_back(std::move(p));
        }
        return out;
    }

    static std::vector<ConsentRecord> consents(Transaction& tx, const std::string& tenantId, const std::string& subjectId,
                                               bool activeOnly) {
        std::vector<ConsentRecord> out;
        for (const auto& row : tx.query(std::string("SELECT id, tenant_id, subject_id, document_id, purpose, given_at, withdrawn_at "
                                                    "FROM consents WHERE tenant_id = $1 AND subject_id = $2") +
                                            (activeOnly ? " AND withdrawn_at IS NULL" : "") + " ORDER BY given_at, id",
                                        {tenantId, subjectId})) {
            out.push_back(consentFrom(row));
        }
        return out;
    }

    sql::Database db_;
    SqlAuditStore audit_;
};

}  // namespace

DatabaseConfig DatabaseConfig::parse(const std::string& text) {
    DatabaseConfig config;
    if (text.rfind("sqlite:", 0) == 0 && text.size() > 7) {
        config.backend = Backend::kSqlite;
        config.sqlitePath = text.substr(7);
    } else if (text.rfind("postgresql:", 0) == 0) {
        config.backend = Backend::kPostgres;
        config.postgresConnection = text.substr(11);
    } else {
        throw Error(ErrorCode::kInvalidArgument, "storage.database_invalid",
                    "storage.database must be sqlite:PATH or postgresql:CONNINFO, not \"" + text + "\"");
    }
    return config;
}

std::string DatabaseConfig::describe() const {
    if (backend == Backend::kSqlite) return "SQLite " + sqlitePath;
    // Only the keys that say where, never password=…
    std::string where;
    std::size_t start = 0;
    while (start < postgresConnection.size()) {
        std::size_t end = postgresConnection.find(' ', start);
        if (end == std::string::npos) end = postgresConnection.size();
        const std::string pair = postgresConnection.substr(start, end - start);
        for (const char* key : {"host=", "port=", "dbname=", "user="}) {
            if (pair.rfind(key, 0) == 0) where += (where.empty() ? "" : " ") + pair;
        }
        start = end + 1;
    }
    return "PostgreSQL " + (where.empty() ? std::string("(defaults)") : where);
}

const char* toString(DocumentStatus status) {
    switch (status) {
    case DocumentStatus::kIssued: return "issued";
    case DocumentStatus::kAwaitingSignatures: return "awaiting_signatures";
    case DocumentStatus::kSigned: return "signed";
    case DocumentStatus::kArchived: return "archived";
    case DocumentStatus::kErased: return "erased";
    }
    return "issued";
}

DocumentStatus parseDocumentStatus(const std::string& text) {
    for (auto status : {DocumentStatus::kIssued, DocumentStatus::kAwaitingSignatures, DocumentStatus::kSigned,
                        DocumentStatus::kArchived, DocumentStatus::kErased}) {
        if (text == toString(status)) return status;
    }
    throw Error(ErrorCode::kDataLoss, "storage.status_invalid", "unknown document status \"" + text + "\" in the database");
}

int currentSchemaVersion() { return migrations().back().version; }

std::unique_ptr<Repository> openRepository(const DatabaseConfig& config) {
    return std::make_unique<SqlRepository>(config);
}

}  // namespace kooperdoc::storage
