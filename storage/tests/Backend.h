// SPDX-License-Identifier: AGPL-3.0-or-later
// The backend under test for the suites compiled twice (storage_tests on SQLite,
// storage_postgres_tests on the throw-away cluster, which defines KOOPERDOC_TEST_POSTGRES).
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "Process.h"
#include "TempDir.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Keys.h"
#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::testing {

/// A fresh, empty database on the backend under test, and a blob directory.
class Backend {
public:
    Backend() : dir_("kooperdoc-conformance") {
#ifdef KOOPERDOC_TEST_POSTGRES
        database_ = "kd_" + storage::randomId().substr(0, 16);
        const auto created = psql("postgres", "CREATE DATABASE " + database_);
        INFO(created.output);
        REQUIRE(created.exitCode == 0);
        config_ = storage::DatabaseConfig::parse(std::string("postgresql:") + KOOPERDOC_TEST_POSTGRES + " dbname=" + database_);
#else
        config_ = storage::DatabaseConfig::parse("sqlite:" + dir_.file("kooperdoc.db"));
#endif
    }
    ~Backend() {
#ifdef KOOPERDOC_TEST_POSTGRES
        psql("postgres", "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
#endif
    }

    const storage::DatabaseConfig& config() const { return config_; }
    std::string blobDirectory() const { return dir_.file("blobs"); }

    std::unique_ptr<storage::DocumentStore> open(const storage::MasterKey& key) const {
        return std::make_unique<storage::DocumentStore>(storage::openRepository(config_), storage::BlobStore(blobDirectory()), key);
    }

    /// Every byte the database keeps: the SQLite file with its WAL, or a dump of the database.
    std::string databaseBytes() const {
#ifdef KOOPERDOC_TEST_POSTGRES
        const auto dump = runCommand("pg_dump " + quote(std::string(KOOPERDOC_TEST_POSTGRES) + " dbname=" + database_));
        REQUIRE(dump.exitCode == 0);
        return dump.output;
#else
        std::string bytes;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            const std::string path = dir_.file(std::string("kooperdoc.db") + suffix);
            if (std::filesystem::exists(path)) bytes += readFile(path);
        }
        return bytes;
#endif
    }

    /// Runs SQL behind the repository's back (the tamper tests): sqlite3 or psql.
    void rawSql(const std::string& statement) const {
#ifdef KOOPERDOC_TEST_POSTGRES
        const auto result = psql(database_, statement);
#else
        const auto result = runCommand("sqlite3 " + quote(dir_.file("kooperdoc.db")) + " " + quote(statement) + " 2>&1");
#endif
        INFO(result.output);
        REQUIRE(result.exitCode == 0);
    }

    /// A repository on this database with the tenants \p ids (placeholder keys: nothing is unwrapped).
    std::unique_ptr<storage::Repository> withTenants(std::initializer_list<const char*> ids, std::int64_t now) const {
        auto repository = storage::openRepository(config_);
        for (const char* id : ids) repository->putTenant({id, "{}", "wrapped-" + std::string(id), now});
        return repository;
    }

    std::string blobBytes() const {
        std::string bytes;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(blobDirectory())) {
            if (entry.is_regular_file()) bytes += readFile(entry.path().string());
        }
        return bytes;
    }

private:
#ifdef KOOPERDOC_TEST_POSTGRES
    static CommandResult psql(const std::string& database, const std::string& statement) {
        return psqlCommand(std::string(KOOPERDOC_TEST_POSTGRES) + " dbname=" + database, statement);
    }
    std::string database_;
#endif
    TempDir dir_;
    storage::DatabaseConfig config_;
};

}  // namespace kooperdoc::testing
