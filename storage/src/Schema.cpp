// SPDX-License-Identifier: AGPL-3.0-or-later
// The versioned schema. A migration is appended, never edited once released: databases in the
// field have applied it. Types are the ones SQLite and PostgreSQL read alike (TEXT, BIGINT,
// INTEGER); binary values are hex text, because the only binary data (PDFs) lives in the
// BlobStore and wrapped keys are small.
#include "Schema.h"

namespace kooperdoc::storage {

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> all = {
        {1,
         "tenants, subjects with a keyed index, documents with every revision, keys, consents, legal holds",
         {
             "CREATE TABLE kd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
             "CREATE TABLE tenants (id TEXT PRIMARY KEY, profile_json TEXT NOT NULL, wrapped_key TEXT NOT NULL, "
             "created_at BIGINT NOT NULL)",
             "CREATE TABLE subjects (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "wrapped_key TEXT, created_at BIGINT NOT NULL, erased_at BIGINT)",
             "CREATE TABLE subject_index (tenant_id TEXT NOT NULL, hmac TEXT NOT NULL, "
             "subject_id TEXT NOT NULL REFERENCES subjects(id), PRIMARY KEY (tenant_id, hmac, subject_id))",
             "CREATE TABLE documents (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "number TEXT NOT NULL, template_id TEXT NOT NULL, template_version TEXT NOT NULL, "
             "template_sha256 TEXT NOT NULL, retention_class TEXT NOT NULL, legal_basis TEXT NOT NULL, "
             "archival_duty INTEGER NOT NULL, case_ref TEXT NOT NULL, status TEXT NOT NULL, "
             "restricted INTEGER NOT NULL DEFAULT 0, idempotency_key TEXT, request_sha256 TEXT, "
             "created_at BIGINT NOT NULL, signed_at BIGINT, closed_at BIGINT, erased_at BIGINT, "
             "UNIQUE (tenant_id, idempotency_key))",
             "CREATE INDEX documents_by_case ON documents (tenant_id, case_ref)",
             "CREATE TABLE document_subjects (document_id TEXT NOT NULL REFERENCES documents(id), "
             "subject_id TEXT NOT NULL REFERENCES subjects(id), role TEXT NOT NULL, PRIMARY KEY (document_id, subject_id))",
             "CREATE INDEX document_subjects_by_subject ON document_subjects (subject_id)",
             "CREATE TABLE document_keys (document_id TEXT NOT NULL REFERENCES documents(id), holder TEXT NOT NULL, "
             "wrapped_key TEXT NOT NULL, PRIMARY KEY (document_id, holder))",
             "CREATE TABLE revisions (document_id TEXT NOT NULL REFERENCES documents(id), number INTEGER NOT NULL, "
             "kind TEXT NOT NULL, blob_id TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, size BIGINT NOT NULL, "
             "created_at BIGINT NOT NULL, PRIMARY KEY (document_id, number))",
             "CREATE TABLE consents (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "subject_id TEXT NOT NULL REFERENCES subjects(id), document_id TEXT REFERENCES documents(id), "
             "purpose TEXT NOT NULL, given_at BIGINT NOT NULL, withdrawn_at BIGINT)",
             "CREATE INDEX consents_by_subject ON consents (subject_id)",
             "CREATE TABLE legal_holds (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "document_id TEXT, case_ref TEXT, reason TEXT NOT NULL, set_by TEXT NOT NULL, set_at BIGINT NOT NULL, "
             "cleared_by TEXT, cleared_at BIGINT)",
         }},
        {2,
         "disposal proposals with their items, and disposal records",
         {
             "CREATE TABLE disposal_proposals (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "status TEXT NOT NULL, created_at BIGINT NOT NULL, decided_by TEXT, archive_consent_ref TEXT, "
             "decided_at BIGINT, executed_at BIGINT)",
             "CREATE TABLE disposal_items (proposal_id TEXT NOT NULL REFERENCES disposal_proposals(id), "
             "document_id TEXT NOT NULL, template_id TEXT NOT NULL, rule_id TEXT NOT NULL, category TEXT NOT NULL, "
             "action TEXT NOT NULL, trigger_at BIGINT, ends_at BIGINT, PRIMARY KEY (proposal_id, document_id))",
             "CREATE TABLE disposal_records (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, proposal_id TEXT NOT NULL, "
             "document_id TEXT NOT NULL, template_id TEXT NOT NULL, template_version TEXT NOT NULL, rule_id TEXT NOT NULL, "
             "category TEXT NOT NULL, revision_sha256 TEXT NOT NULL, approved_by TEXT NOT NULL, archive_consent_ref TEXT, "
             "executed_at BIGINT NOT NULL, outcome TEXT NOT NULL)",
         }},
        {3,
         "the audit trail: entries (dense indexes) and signed checkpoints",
         {
             "CREATE TABLE audit_entries (idx BIGINT PRIMARY KEY, entry TEXT NOT NULL)",
             "CREATE TABLE audit_checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL)",
         }},
        {4,
         "rectification: a document may supersede another (annex or corrected version), never rewrite it",
         {
             "ALTER TABLE documents ADD COLUMN supersedes TEXT",
             "ALTER TABLE documents ADD COLUMN relation TEXT",
             "CREATE INDEX documents_by_supersedes ON documents (supersedes)",
         }},
        {5,
         "checkpoint timestamps: the RFC 3161 token over each signed note (hex DER), NULL until a TSA gave one",
         {
             "ALTER TABLE audit_checkpoints ADD COLUMN timestamp_token TEXT",
         }},
        {6,
         "authentication: API keys and users (secrets only as SHA-256 or argon2id), web sessions",
         {
             // IF NOT EXISTS: a test that rewinds schema_migrations to an earlier version to
             // replay a later ALTER must not trip over these tables.
             "CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "role TEXT NOT NULL, label TEXT NOT NULL, key_sha256 TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, "
             "revoked_at BIGINT)",
             "CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys (tenant_id)",
             "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "login TEXT NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT NOT NULL, "
             "must_change_password INTEGER NOT NULL, failed_logins INTEGER NOT NULL DEFAULT 0, locked_until BIGINT, "
             "created_at BIGINT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)",
             "CREATE TABLE IF NOT EXISTS sessions (token_sha256 TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
             "csrf_token TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
             "CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id)",
             "CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at)",
         }},
        {7,
         "webhooks to source systems (secrets wrapped under the tenant key) and their delivery log",
         {
             // IF NOT EXISTS for the same reason as migration 6.
             "CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), "
             "url TEXT NOT NULL, wrapped_secret TEXT NOT NULL, events TEXT NOT NULL, created_at BIGINT NOT NULL, "
             "disabled INTEGER NOT NULL DEFAULT 0)",
             "CREATE INDEX IF NOT EXISTS webhooks_by_tenant ON webhooks (tenant_id)",
             "CREATE TABLE IF NOT EXISTS webhook_deliveries (id TEXT PRIMARY KEY, "
             "webhook_id TEXT NOT NULL REFERENCES webhooks(id), tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, "
             "payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
             "next_attempt_at BIGINT NOT NULL, last_status_code INTEGER, last_error TEXT, created_at BIGINT NOT NULL, "
             "delivered_at BIGINT)",
             // The claim scans only what is still to be sent, oldest due first.
             "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
             "CREATE INDEX IF NOT EXISTS webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at)",
         }},
    };
    return all;
}

}  // namespace kooperdoc::storage
