// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Repository.h"
#include "kooperdoc/storage/Retention.h"

namespace kooperdoc::server {

/// The storage part of the configuration (config/kooperdoc.properties documents each key),
/// resolved: where the database, the encrypted blobs and the master key are, and which
/// retention rules apply. Shared by the CLI and the service, so both open the same store.
struct StorageSetup {
    storage::DatabaseConfig database;
    std::string blobDir;
    /// The master key file; unused when $KOOPERDOC_MASTER_KEY holds the key.
    std::string masterKeyFile;
    /// The key came from $KOOPERDOC_MASTER_KEY (base64); nothing is read from or written to disk.
    std::optional<std::string> masterKeyFromEnvironment;
    /// "" = the built-in rules (config/retention/default.json compiled in).
    std::string retentionRulesFile;
    /// Owned here, so a StorageSetup is self-contained for the sweep.
    std::shared_ptr<const storage::RetentionPolicies> retention;
    /// The audit trail's Ed25519 key (kooperdoc.audit.key_file; DIR/audit.key under --data-dir):
    /// its own key, never the seal's, so an auditor trusts checkpoints and nothing else.
    std::string auditKeyFile;
    /// The checkpoints' origin line (kooperdoc.audit.origin): auditors check notes against it.
    std::string auditOrigin;
    /// A signed checkpoint after every that many entries (kooperdoc.audit.checkpoint_every).
    std::uint64_t auditCheckpointEvery = 64;
    /// `kooperdoc serve` signs a checkpoint (if the log grew) and timestamps the ones without a
    /// token every that many seconds (kooperdoc.audit.checkpoint_interval); 0: never.
    std::int64_t auditCheckpointInterval = 300;
    /// Where checkpoint timestamps come from: the TSA the seal's signatures use
    /// (kooperdoc.signing.tsa.*), else the development identity's TSA when that identity exists
    /// already (it is never created for the audit log's sake). Everything empty: no timestamps.
    struct CheckpointTsa {
        std::string url;                          ///< a remote RFC 3161 TSA
        std::vector<std::string> trustedCaFiles;  ///< its tokens must chain to these (PEM files)
        std::string certificateFile, keyFile;     ///< a TSA in this process
    } auditTsa;
};

struct StorageOverrides {
    /// --data-dir DIR: DIR/kooperdoc.db, DIR/blobs, DIR/master.key and DIR/audit.key instead of
    /// the configured four (the database becomes SQLite even when PostgreSQL is configured).
    std::optional<std::string> dataDir;
};

/// Error{kInvalidArgument, "storage.database_invalid"} for a bad database key,
/// "retention.invalid" for bad rules, Error{kNotFound, "file.unreadable"} for a rules file that
/// cannot be read.
StorageSetup loadStorageSetup(const Poco::Util::AbstractConfiguration& config, const StorageOverrides& overrides);

/// The master key: $KOOPERDOC_MASTER_KEY when set, else the key file; with \p createIfMissing
/// (development), a missing file is created with mode 0600 and a notice on \p notices.
/// Error{kFailedPrecondition, "storage.master_key_missing"} otherwise.
storage::MasterKey loadMasterKey(const StorageSetup& setup, std::ostream& notices, bool createIfMissing = true);

/// Opens the database (migrating it), the blob directory and the key: the store commands use.
/// Error{kUnavailable, "storage.unavailable"}, "storage.master_key_mismatch", ….
std::unique_ptr<storage::DocumentStore> openDocumentStore(const StorageSetup& setup, std::ostream& notices,
                                                          bool createKeyIfMissing = true);

/// The audit key: the key file, or (with \p createIfMissing, development) a new one created
/// with mode 0600 and a notice on \p notices. Error{kFailedPrecondition, "audit.key_missing"}
/// when it is missing and may not be created, {kInvalidArgument, "audit.key_invalid"} when bad.
audit::CheckpointSigner loadAuditSigner(const StorageSetup& setup, std::ostream& notices, bool createIfMissing = true);

/// The TSA of setup.auditTsa as audit::AuditLog takes it; an empty function when there is none.
/// \p timeout bounds each request to a remote TSA: a command must not hang on one that does not
/// answer (the checkpoint is then stored without a token, see docs/audit.md). Error{kNotFound,
/// "file.unreadable"} or {kInvalidArgument, "timestamp.tsa_invalid"} for a configured embedded
/// TSA that cannot be loaded: a configuration error, not an outage.
audit::CheckpointTimestamper auditTimestamper(const StorageSetup& setup, std::chrono::milliseconds timeout);

}  // namespace kooperdoc::server
