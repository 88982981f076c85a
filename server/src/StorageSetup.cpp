// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/StorageSetup.h"

#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <Poco/String.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultDatabase = "sqlite:.kooperdoc/data/kooperdoc.db";
constexpr const char* kDefaultBlobDir = ".kooperdoc/data/blobs";
constexpr const char* kDefaultMasterKeyFile = ".kooperdoc/master.key";
constexpr const char* kDefaultAuditKeyFile = ".kooperdoc/audit.key";
constexpr const char* kDefaultAuditOrigin = "kooperdoc.local/audit";
constexpr std::uint64_t kDefaultCheckpointEvery = 64;

std::string text(const Poco::Util::AbstractConfiguration& config, const std::string& key, const std::string& fallback) {
    const auto value = Poco::trim(config.getString(key, ""));
    return value.empty() ? fallback : value;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read " + path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// The directory a file goes in must exist before SQLite or the key file can be created; it
/// is private (0700): nothing in it is plain text, but nobody else needs to list it.
void ensureParentDirectory(const std::string& file) {
    const auto parent = fs::path(file).parent_path();
    if (parent.empty() || fs::exists(parent)) return;
    std::error_code error;
    fs::create_directories(parent, error);
    if (error) {
        throw Error(ErrorCode::kUnavailable, "storage.io", "cannot create the directory " + parent.string() + ": " + error.message());
    }
    fs::permissions(parent, fs::perms::owner_all, fs::perm_options::replace, error);
}

}  // namespace

StorageSetup loadStorageSetup(const Poco::Util::AbstractConfiguration& config, const StorageOverrides& overrides) {
    StorageSetup setup;
    if (overrides.dataDir) {
        const fs::path dir(*overrides.dataDir);
        setup.database = storage::DatabaseConfig::parse("sqlite:" + (dir / "kooperdoc.db").string());
        setup.blobDir = (dir / "blobs").string();
        setup.masterKeyFile = (dir / "master.key").string();
        setup.auditKeyFile = (dir / "audit.key").string();
    } else {
        setup.database = storage::DatabaseConfig::parse(text(config, "kooperdoc.storage.database", kDefaultDatabase));
        setup.blobDir = text(config, "kooperdoc.storage.blob_dir", kDefaultBlobDir);
        setup.masterKeyFile = text(config, "kooperdoc.storage.master_key_file", kDefaultMasterKeyFile);
        setup.auditKeyFile = text(config, "kooperdoc.audit.key_file", kDefaultAuditKeyFile);
    }
    setup.auditOrigin = text(config, "kooperdoc.audit.origin", kDefaultAuditOrigin);
    const auto every = text(config, "kooperdoc.audit.checkpoint_every", std::to_string(kDefaultCheckpointEvery));
    try {
        std::size_t used = 0;
        const long long parsed = std::stoll(every, &used);
        if (used != every.size() || parsed < 1) throw std::invalid_argument(every);
        setup.auditCheckpointEvery = static_cast<std::uint64_t>(parsed);
    } catch (const std::logic_error&) {
        throw Error(ErrorCode::kInvalidArgument, "audit.config_invalid",
                    "kooperdoc.audit.checkpoint_every must be a whole number of entries, at least 1, not \"" + every + "\"");
    }
    if (const char* fromEnvironment = std::getenv("KOOPERDOC_MASTER_KEY"); fromEnvironment != nullptr && *fromEnvironment != '\0') {
        setup.masterKeyFromEnvironment = std::string(fromEnvironment);
    }
    setup.retentionRulesFile = text(config, "kooperdoc.storage.retention_rules", "");
    if (setup.retentionRulesFile.empty()) {
        setup.retention = std::shared_ptr<const storage::RetentionPolicies>(&storage::RetentionPolicies::builtIn(),
                                                                            [](const storage::RetentionPolicies*) {});
    } else {
        setup.retention =
            std::make_shared<const storage::RetentionPolicies>(storage::RetentionPolicies::fromJson(readFile(setup.retentionRulesFile)));
    }
    return setup;
}

storage::MasterKey loadMasterKey(const StorageSetup& setup, std::ostream& notices, bool createIfMissing) {
    if (setup.masterKeyFromEnvironment) return storage::MasterKey::fromBase64(*setup.masterKeyFromEnvironment);
    if (fs::exists(setup.masterKeyFile) || !createIfMissing) return storage::MasterKey::load(setup.masterKeyFile);
    ensureParentDirectory(setup.masterKeyFile);
    auto key = storage::MasterKey::loadOrCreate(setup.masterKeyFile);
    notices << "kooperdoc: created a development master key in " << setup.masterKeyFile
            << " (mode 0600). Keep it apart from the data and its backups; in production set\n"
               "  $KOOPERDOC_MASTER_KEY or kooperdoc.storage.master_key_file (see docs/storage.md)\n";
    return key;
}

audit::CheckpointSigner loadAuditSigner(const StorageSetup& setup, std::ostream& notices, bool createIfMissing) {
    if (fs::exists(setup.auditKeyFile)) return audit::CheckpointSigner::loadOrCreate(setup.auditOrigin, setup.auditKeyFile);
    if (!createIfMissing) {
        throw Error(ErrorCode::kFailedPrecondition, "audit.key_missing", "no audit key in " + setup.auditKeyFile);
    }
    ensureParentDirectory(setup.auditKeyFile);
    auto signer = audit::CheckpointSigner::loadOrCreate(setup.auditOrigin, setup.auditKeyFile);
    notices << "kooperdoc: created a development audit key in " << setup.auditKeyFile
            << " (mode 0600). Give auditors its public key (`kooperdoc audit public-key`); in production\n"
               "  set kooperdoc.audit.key_file (see docs/audit.md)\n";
    return signer;
}

std::unique_ptr<storage::DocumentStore> openDocumentStore(const StorageSetup& setup, std::ostream& notices,
                                                          bool createKeyIfMissing) {
    // The key first: a missing key must not leave an empty database behind.
    auto key = loadMasterKey(setup, notices, createKeyIfMissing);
    if (setup.database.backend == storage::DatabaseConfig::Backend::kSqlite) ensureParentDirectory(setup.database.sqlitePath);
    return std::make_unique<storage::DocumentStore>(storage::openRepository(setup.database), storage::BlobStore(setup.blobDir),
                                                    key);
}

}  // namespace kooperdoc::server
