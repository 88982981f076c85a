// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/StorageSetup.h"

#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/server/HttpClient.h"
#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/Timestamp.h"

namespace kooperdoc::server {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultDatabase = "sqlite:.kooperdoc/data/kooperdoc.db";
constexpr const char* kDefaultBlobDir = ".kooperdoc/data/blobs";
constexpr const char* kDefaultMasterKeyFile = ".kooperdoc/master.key";
constexpr const char* kDefaultAuditKeyFile = ".kooperdoc/audit.key";
constexpr const char* kDefaultAuditOrigin = "kooperdoc.local/audit";
constexpr std::uint64_t kDefaultCheckpointEvery = 64;
constexpr std::int64_t kDefaultCheckpointInterval = 300;
constexpr const char* kDefaultIdentityDir = ".kooperdoc/identity";

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

/// A whole number at least \p minimum; Error{kInvalidArgument, "audit.config_invalid"} otherwise.
long long wholeNumber(const std::string& key, const std::string& value, long long minimum, const std::string& unit) {
    try {
        std::size_t used = 0;
        const long long parsed = std::stoll(value, &used);
        if (used != value.size() || parsed < minimum) throw std::invalid_argument(value);
        return parsed;
    } catch (const std::logic_error&) {
        throw Error(ErrorCode::kInvalidArgument, "audit.config_invalid",
                    key + " must be a whole number of " + unit + ", at least " + std::to_string(minimum) + ", not \"" + value + "\"");
    }
}

/// The same choice loadSigningSetup makes for the seal's timestamps, so a checkpoint and a
/// sealed PDF are timestamped by one TSA; but a development identity is only used, never made.
StorageSetup::CheckpointTsa checkpointTsa(const Poco::Util::AbstractConfiguration& config) {
    StorageSetup::CheckpointTsa tsa;
    tsa.url = text(config, "kooperdoc.signing.tsa.url", "");
    if (!tsa.url.empty()) {
        Poco::StringTokenizer files(text(config, "kooperdoc.signing.tsa.trusted-ca", ""), ",",
                                    Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
        tsa.trustedCaFiles.assign(files.begin(), files.end());
        return tsa;
    }
    tsa.certificateFile = text(config, "kooperdoc.signing.tsa.certificate", "");
    if (!tsa.certificateFile.empty()) {
        tsa.keyFile = text(config, "kooperdoc.signing.tsa.key", "");
        return tsa;
    }
    const bool development = text(config, "kooperdoc.signing.identity.p12", "").empty() &&
                             text(config, "kooperdoc.signing.identity.certificate", "").empty();
    const fs::path identity(text(config, "kooperdoc.signing.identity.dir", kDefaultIdentityDir));
    if (development && fs::exists(identity / "ca.pem")) {  // ca.pem is written last: the identity is whole
        tsa.certificateFile = (identity / "tsa.pem").string();
        tsa.keyFile = (identity / "tsa.key.pem").string();
    }
    return tsa;
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
    setup.auditCheckpointEvery = static_cast<std::uint64_t>(wholeNumber(
        "kooperdoc.audit.checkpoint_every",
        text(config, "kooperdoc.audit.checkpoint_every", std::to_string(kDefaultCheckpointEvery)), 1, "entries"));
    setup.auditCheckpointInterval = wholeNumber(
        "kooperdoc.audit.checkpoint_interval",
        text(config, "kooperdoc.audit.checkpoint_interval", std::to_string(kDefaultCheckpointInterval)), 0, "seconds");
    setup.auditTsa = checkpointTsa(config);
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

audit::CheckpointTimestamper auditTimestamper(const StorageSetup& setup, std::chrono::milliseconds timeout) {
    std::shared_ptr<signing::TimestampAuthority> tsa;
    const auto& source = setup.auditTsa;
    if (!source.url.empty()) {
        std::vector<std::string> trusted;
        for (const auto& file : source.trustedCaFiles) {
            for (auto& der : signing::readCertificates(readFile(file))) trusted.push_back(std::move(der));
        }
        HttpLimits limits;
        limits.timeout = timeout;
        tsa = std::make_shared<signing::Rfc3161Client>(
            source.url,
            [limits](const std::string& to, const std::string& body, const std::string& type) {
                return httpPost(to, body, type, limits);
            },
            std::move(trusted));
    } else if (!source.certificateFile.empty()) {
        tsa = std::make_shared<signing::EmbeddedTsa>(readFile(source.certificateFile), readFile(source.keyFile));
    } else {
        return {};
    }
    return [tsa](const Sha256& imprint) { return tsa->timestamp(imprint); };
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
