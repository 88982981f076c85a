// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "kooperdoc/audit/AuditLog.h"
#include "ErrorReason.h"
#include "kooperdoc/core/Error.h"

using namespace kooperdoc;
using kooperdoc::testing::reasonOf;
using namespace kooperdoc::audit;

namespace {

const std::string kOrigin = "kooperdoc.test/audit";

const std::string& testKey() {
    static const std::string pem = CheckpointSigner::generatePem();
    return pem;
}

CheckpointSigner signer() { return CheckpointSigner::fromPem(kOrigin, testKey()); }

std::string publicKey() { return signer().publicKeyPem(); }

AuditEvent event(int n, const std::string& type = "document.created") {
    AuditEvent e;
    e.time = 1767225600 + n;
    e.tenantId = "ops-a";
    e.actorId = "user-" + std::to_string(n % 3);
    e.actorRole = "animator";
    e.type = type;
    e.documentId = "KD-" + std::to_string(1000 + n % 7);
    e.documentSha256 = std::string(64, 'a');
    e.details["template"] = "m1-oswiadczenie-zgoda@1.0.0";
    return e;
}


/// A log of \p count events with a checkpoint every 16 and one at the end.
void fill(MemoryAuditStore& store, int count) {
    AuditLog log(store, signer(), 16);
    for (int i = 0; i < count; ++i) log.record(event(i));
    log.checkpoint();
}

}  // namespace

TEST_CASE("checkpoints are signed notes only the audit key's holder can make", "[audit][checkpoint]") {
    const auto s = signer();
    const Checkpoint c = s.sign(42, leafHash("x"));
    CHECK(c.note.rfind(kOrigin + "\n42\n", 0) == 0);
    CHECK(c.note.find("\n\n\xE2\x80\x94 " + kOrigin + " ") != std::string::npos);
    const auto parsed = verifyCheckpoint(c.note, kOrigin, s.publicKeyPem());
    REQUIRE(parsed);
    CHECK(parsed->size == 42);
    CHECK(parsed->root == leafHash("x"));

    std::string why;
    const auto other = CheckpointSigner::fromPem(kOrigin, CheckpointSigner::generatePem());
    CHECK_FALSE(verifyCheckpoint(c.note, kOrigin, other.publicKeyPem(), &why));
    CHECK_FALSE(verifyCheckpoint(c.note, "kooperdoc.other/audit", s.publicKeyPem(), &why));
    CHECK(why.find("origin") != std::string::npos);
    std::string bigger = c.note;
    bigger.replace(bigger.find("\n42\n"), 4, "\n43\n");
    CHECK_FALSE(verifyCheckpoint(bigger, kOrigin, s.publicKeyPem(), &why));
    CHECK_FALSE(verifyCheckpoint(other.sign(42, leafHash("x")).note, kOrigin, s.publicKeyPem()));
    CHECK_FALSE(verifyCheckpoint("", kOrigin, s.publicKeyPem()));
    CHECK_FALSE(verifyCheckpoint(c.note, kOrigin, "not a key"));
    CHECK(reasonOf([] { CheckpointSigner::fromPem("two words", testKey()); }) == "audit.origin_invalid");
    // A truncated PEM header with the private-key label (built here, so no key-like text is committed).
    CHECK(reasonOf([] { CheckpointSigner::fromPem(kOrigin, "-----BEGIN " + std::string("PRIVATE") + " KEY-----\n"); }) ==
          "audit.key_invalid");
}

TEST_CASE("a busy log verifies, and every entry proves its inclusion offline", "[audit][log]") {
    MemoryAuditStore store;
    fill(store, 200);
    const auto result = verifyLog(store, kOrigin, publicKey());
    INFO(result.problem << ": " << result.detail);
    CHECK(result.ok);
    CHECK(result.entries == 200);
    CHECK(result.checkpoints == 13);  // every 16 entries (12) and the final one
    AuditLog log(store, signer(), 16);
    for (std::uint64_t index : {0u, 15u, 16u, 99u, 199u}) {
        const auto receipt = log.prove(index);
        std::string why;
        CHECK(verifyReceipt(receipt, kOrigin, publicKey(), &why));
        auto forged = receipt;
        forged.entry.canonical.replace(forged.entry.canonical.find("animator"), 8, "auditor_");
        CHECK_FALSE(verifyReceipt(forged, kOrigin, publicKey(), &why));
        auto moved = receipt;
        moved.entry.index = index == 0 ? 1 : index - 1;
        CHECK_FALSE(verifyReceipt(moved, kOrigin, publicKey(), &why));
    }
    const auto receipts = log.proveDocument("KD-1003");
    CHECK(receipts.size() == 29);  // n % 7 == 3 for n < 200
    for (const auto& r : receipts) CHECK(verifyReceipt(r, kOrigin, publicKey()));
}

TEST_CASE("the log takes identifiers only, never a name or a PESEL", "[audit][log]") {
    MemoryAuditStore store;
    AuditLog log(store, signer());
    auto e = event(1);
    e.actorId = "Jan Kowalski";
    CHECK(reasonOf([&] { log.record(e); }) == "audit.personal_data");
    e = event(1);
    e.details["subject"] = "44051401359";
    CHECK(reasonOf([&] { log.record(e); }) == "audit.personal_data");
    e = event(1);
    e.details["name"] = "Łucja";
    CHECK(reasonOf([&] { log.record(e); }) == "audit.personal_data");
    e = event(1);
    e.documentSha256 = "not a hash";
    CHECK(reasonOf([&] { log.record(e); }) == "audit.personal_data");
    e = event(1, "document.teleported");
    CHECK(reasonOf([&] { log.record(e); }) == "audit.event_type");
    CHECK(store.size() == 0);
    e = event(1);
    e.details["subject"] = "3f9a2c77b1e04d5f8a6b9c0d1e2f3a4b";  // a pseudonymous id is fine
    e.details["pesel_like_but_longer"] = "440514013591";
    CHECK(log.record(e) == 0);
}

TEST_CASE("editing, deleting, reordering or inserting an entry, or forging a checkpoint, is detected", "[audit][log][tamper]") {
    const auto verify = [](MemoryAuditStore& store, const std::optional<std::string>& trusted = std::nullopt) {
        return verifyLog(store, kOrigin, publicKey(), trusted);
    };
    SECTION("an edited entry is named") {
        MemoryAuditStore store;
        fill(store, 64);
        auto& row = store.rows()[10].canonical;
        row.replace(row.find("animator"), 8, "dpo_____");
        const auto r = verify(store);
        CHECK_FALSE(r.ok);
        CHECK(r.problem == "audit.chain");
        CHECK(r.firstBadIndex == 10u);
    }
    SECTION("rewriting every later entry to keep the chain still breaks the signed roots") {
        MemoryAuditStore store;
        fill(store, 64);
        std::string previous = store.rows()[9].canonical;
        for (std::size_t i = 10; i < store.rows().size(); ++i) {
            auto& row = store.rows()[i].canonical;
            const auto prev = row.find("\"prev\":\"") + 8;
            row.replace(prev, 64, toHex(leafHash(previous)));
            if (i == 10) row.replace(row.find("animator"), 8, "dpo_____");
            previous = row;
        }
        const auto r = verify(store);
        CHECK_FALSE(r.ok);
        CHECK(r.problem == "audit.checkpoint_root");
        // The checkpoint of size 16 fails; no earlier one vouches for entries 0–15, so the search
        // starts at 0.
        CHECK(r.firstBadIndex == 0u);
    }
    SECTION("a deleted middle entry") {
        MemoryAuditStore store;
        fill(store, 64);
        store.rows().erase(store.rows().begin() + 30);
        const auto r = verify(store);
        CHECK(r.problem == "audit.entry_index");
        CHECK(r.firstBadIndex == 30u);
    }
    SECTION("two swapped entries") {
        MemoryAuditStore store;
        fill(store, 64);
        std::swap(store.rows()[20], store.rows()[21]);
        CHECK(verify(store).problem == "audit.entry_index");
    }
    SECTION("an inserted entry") {
        MemoryAuditStore store;
        fill(store, 64);
        store.rows().insert(store.rows().begin() + 5, store.rows()[5]);
        CHECK(verify(store).problem == "audit.entry_index");
    }
    SECTION("the newest entries deleted with their checkpoints: an auditor's checkpoint catches it") {
        MemoryAuditStore store;
        fill(store, 64);
        const std::string held = store.checkpoints().back();
        store.rows().resize(54);
        auto& checkpoints = store.checkpointRows();
        checkpoints.erase(std::remove_if(checkpoints.begin(), checkpoints.end(), [](const auto& c) { return c.first > 54; }),
                          checkpoints.end());
        CHECK(verify(store).ok);  // alone, a truncated log looks whole…
        const auto r = verify(store, held);
        CHECK(r.problem == "audit.truncated");  // …not to someone who kept a checkpoint
    }
    SECTION("a checkpoint signed with another key") {
        MemoryAuditStore store;
        fill(store, 40);
        const auto other = CheckpointSigner::fromPem(kOrigin, CheckpointSigner::generatePem());
        store.checkpointRows().back().second = other.sign(40, rootOf({})).note;
        CHECK(verify(store).problem == "audit.checkpoint_signature");
    }
    SECTION("a fork: the same size, another history") {
        MemoryAuditStore honest, forked;
        fill(honest, 32);
        AuditLog log(forked, signer(), 1000);
        for (int i = 0; i < 32; ++i) log.record(event(i + 1));
        log.checkpoint();
        CHECK(verify(forked).ok);
        CHECK(verify(forked, honest.checkpoints().back()).problem == "audit.fork");
    }
}

TEST_CASE("concurrent appends give one dense, consistent log", "[audit][log][concurrency]") {
    MemoryAuditStore store;
    AuditLog log(store, signer(), 25);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) log.record(event(t * 100 + i));
        });
    }
    for (auto& thread : threads) thread.join();
    log.checkpoint();
    const auto r = verifyLog(store, kOrigin, publicKey());
    INFO(r.problem << ": " << r.detail);
    CHECK(r.ok);
    CHECK(r.entries == 400);
}

TEST_CASE("processes starting together end with one audit key", "[audit][checkpoint]") {
    const auto dir = std::filesystem::temp_directory_path() / ("kooperdoc-audit-key-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const std::string path = (dir / "audit.key").string();
    std::vector<std::string> keys(8);
    std::vector<std::thread> starters;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        starters.emplace_back([&, i] { keys[i] = CheckpointSigner::loadOrCreate(kOrigin, path).publicKeyPem(); });
    }
    for (auto& t : starters) t.join();
    CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == 1);
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
    std::filesystem::remove_all(dir);
}
