// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "Process.h"
#include "TempDir.h"
#include "ErrorReason.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Keys.h"

using namespace kooperdoc;
using kooperdoc::testing::reasonOf;
using namespace kooperdoc::storage;
using kooperdoc::testing::TempDir;

TEST_CASE("AES-256-GCM round-trips and refuses another key, another context or a flipped bit", "[storage][keys]") {
    const Key256 key = randomKey();
    const std::string plain = "Jan Kowalski, PESEL 44051401359";
    const std::string sealed = sealBytes(key, plain, "blob:doc-1");
    CHECK(sealed.size() == plain.size() + 28);
    CHECK(sealed.find("Kowalski") == std::string::npos);
    CHECK(openBytes(key, sealed, "blob:doc-1") == plain);
    CHECK(sealBytes(key, plain, "blob:doc-1") != sealed);  // a fresh nonce every time
    CHECK(reasonOf([&] { openBytes(key, sealed, "blob:doc-2"); }) == "storage.decrypt_failed");
    CHECK(reasonOf([&] { openBytes(randomKey(), sealed, "blob:doc-1"); }) == "storage.decrypt_failed");
    for (std::size_t i = 0; i < sealed.size(); i += 7) {
        std::string damaged = sealed;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
        CHECK(reasonOf([&] { openBytes(key, damaged, "blob:doc-1"); }) == "storage.decrypt_failed");
    }
    CHECK(reasonOf([&] { openBytes(key, sealed.substr(0, 20), "blob:doc-1"); }) == "storage.decrypt_failed");
    CHECK(openBytes(key, sealBytes(key, "", "x"), "x").empty());
}

TEST_CASE("a wrapped key opens only under the master key and the owner it was wrapped for", "[storage][keys]") {
    const MasterKey master = MasterKey::fromBase64(MasterKey::generateBase64());
    const MasterKey other = MasterKey::fromBase64(MasterKey::generateBase64());
    const Key256 key = randomKey();
    const std::string wrapped = master.wrap(key, "subject:t1:s1");
    CHECK(master.unwrap(wrapped, "subject:t1:s1") == key);
    CHECK(reasonOf([&] { master.unwrap(wrapped, "subject:t1:s2"); }) == "storage.decrypt_failed");
    CHECK(reasonOf([&] { other.unwrap(wrapped, "subject:t1:s1"); }) == "storage.decrypt_failed");
    CHECK(master.fingerprint() != other.fingerprint());
    CHECK(master.fingerprint().size() == 32);
}

TEST_CASE("the keyed index is per tenant and per kind and never the identifier itself", "[storage][keys]") {
    const MasterKey master = MasterKey::fromBase64(MasterKey::generateBase64());
    const std::string a = master.indexHmac("ops-a", "pesel", "44051401359");
    CHECK(a.size() == 64);
    CHECK(a.find("44051401359") == std::string::npos);
    CHECK(a == master.indexHmac("ops-a", "pesel", "44051401359"));
    CHECK(a != master.indexHmac("ops-b", "pesel", "44051401359"));
    CHECK(a != master.indexHmac("ops-a", "name", "44051401359"));
    CHECK(a != MasterKey::fromBase64(MasterKey::generateBase64()).indexHmac("ops-a", "pesel", "44051401359"));
}

TEST_CASE("identifiers are normalised the way people type them", "[storage][keys]") {
    CHECK(normalizePesel("440514 01359") == "44051401359");
    CHECK(normalizePesel("44051-401359") == "44051401359");
    CHECK(normalizePesel("4405140135").empty());
    CHECK(normalizePesel("4405140135x").empty());
    CHECK(normalizeName("  Żaneta   Łukasik-Ćwik ") == "ŻANETA ŁUKASIK-ĆWIK");
    CHECK(normalizeName("żaneta łukasik-ćwik") == normalizeName("ŻANETA  ŁUKASIK-ĆWIK"));
}

TEST_CASE("master keys load from base64, a file only its owner reads, or are created for development", "[storage][keys]") {
    TempDir dir("kooperdoc-keys");
    CHECK(reasonOf([] { MasterKey::fromBase64("c2hvcnQ="); }) == "storage.master_key_invalid");
    CHECK(reasonOf([] { MasterKey::fromBase64("not base64 at all!!"); }) == "storage.master_key_invalid");
    CHECK(reasonOf([] { MasterKey::fromBase64(""); }) == "storage.master_key_invalid");
    CHECK(reasonOf([&] { MasterKey::load(dir.file("missing.key")); }) == "storage.master_key_missing");

    const std::string path = dir.file("dev/master.key");
    const MasterKey created = MasterKey::loadOrCreate(path);
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK(MasterKey::loadOrCreate(path).fingerprint() == created.fingerprint());
    CHECK(MasterKey::load(path).fingerprint() == created.fingerprint());

    ::chmod(path.c_str(), 0644);
    CHECK(reasonOf([&] { MasterKey::load(path); }) == "storage.master_key_exposed");
    std::set<std::string> ids;
    for (int i = 0; i < 100; ++i) ids.insert(randomId());
    CHECK(ids.size() == 100);
}

TEST_CASE("processes starting together end with one master key", "[storage][keys]") {
    TempDir dir("kooperdoc-keys");
    const std::string path = dir.file("dev/master.key");
    std::vector<std::string> fingerprints(8);
    std::vector<std::thread> starters;
    for (std::size_t i = 0; i < fingerprints.size(); ++i) {
        starters.emplace_back([&, i] { fingerprints[i] = MasterKey::loadOrCreate(path).fingerprint(); });
    }
    for (auto& t : starters) t.join();
    CHECK(std::set<std::string>(fingerprints.begin(), fingerprints.end()).size() == 1);
    CHECK(fingerprints.front() == MasterKey::load(path).fingerprint());
    CHECK(std::distance(std::filesystem::directory_iterator(dir.file("dev")), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("random ids are 32 hex digits, distinct, and never hold eleven digits in a row", "[storage][keys]") {
    // The audit log refuses a run of eleven digits (a PESEL?), and ids go into it: about one id
    // in fifty would otherwise make an erasure's event fail after the erasure committed.
    std::set<std::string> seen;
    for (int i = 0; i < 20000; ++i) {
        const auto id = randomId();
        REQUIRE(id.size() == 32);
        REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos);
        REQUIRE_FALSE(std::regex_search(id, std::regex("[0-9]{11}")));
        seen.insert(id);
    }
    CHECK(seen.size() == 20000);
}
