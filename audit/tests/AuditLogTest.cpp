// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <thread>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/audit/Trail.h"
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
        checkpoints.erase(std::remove_if(checkpoints.begin(), checkpoints.end(), [](const auto& c) { return c.size > 54; }),
                          checkpoints.end());
        CHECK(verify(store).ok);  // alone, a truncated log looks whole…
        const auto r = verify(store, held);
        CHECK(r.problem == "audit.truncated");  // …not to someone who kept a checkpoint
    }
    SECTION("a checkpoint signed with another key") {
        MemoryAuditStore store;
        fill(store, 40);
        const auto other = CheckpointSigner::fromPem(kOrigin, CheckpointSigner::generatePem());
        store.checkpointRows().back().note = other.sign(40, rootOf({})).note;
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

namespace {

/// A stand-in TSA: its "token" names the imprint it was asked for, so a test sees exactly what
/// was timestamped; it fails while \p down is set. (Real tokens: verify/tests/TimestampTokenCheckTest.)
struct FakeTsa {
    std::atomic<bool> down{false};
    std::atomic<int> calls{0};
    CheckpointTimestamper timestamper() {
        return [this](const Sha256& imprint) {
            ++calls;
            if (down) throw std::runtime_error("the TSA cannot be reached");
            return "token-over-" + toHex(imprint);
        };
    }
};

}  // namespace

TEST_CASE("each checkpoint is timestamped over SHA-256 of its whole signed note, and receipts carry the token", "[audit][timestamp]") {
    MemoryAuditStore store;
    FakeTsa tsa;
    AuditLog log(store, signer(), 8, tsa.timestamper());
    for (int i = 0; i < 20; ++i) log.record(event(i));
    const auto stored = store.storedCheckpoints();
    REQUIRE(stored.size() == 2);  // at 8 and 16
    for (const auto& c : stored) {
        CHECK(c.timestampToken == "token-over-" + toHex(sha256(c.note)));
        CHECK(checkpointImprint(c.note) == sha256(c.note));
    }
    CHECK(tsa.calls == 2);
    const auto latest = log.checkpoint();
    CHECK(latest.size == 20);
    CHECK(tsa.calls == 3);
    // An unchanged log gives the same note: no second token is asked for.
    CHECK(log.checkpoint().note == latest.note);
    CHECK(tsa.calls == 3);
    CHECK_FALSE(log.checkpointIfGrown());

    const auto receipt = log.prove(3);
    CHECK(receipt.checkpointNote == latest.note);
    CHECK(receipt.checkpointTimestamp == "token-over-" + toHex(sha256(latest.note)));
    for (const auto& r : log.proveDocument("KD-1003")) CHECK(r.checkpointTimestamp == receipt.checkpointTimestamp);
}

TEST_CASE("a TSA that is down never fails an append: the checkpoint is kept without a token and timestamped later", "[audit][timestamp]") {
    MemoryAuditStore store;
    FakeTsa tsa;
    AuditLog log(store, signer(), 4, tsa.timestamper());
    tsa.down = true;
    for (int i = 0; i < 12; ++i) CHECK(log.record(event(i)) == static_cast<std::uint64_t>(i));
    auto stored = store.storedCheckpoints();
    REQUIRE(stored.size() == 3);
    for (const auto& c : stored) CHECK(c.timestampToken.empty());
    CHECK(verifyLog(store, kOrigin, publicKey()).ok);

    // Still down: one request, then it stops asking.
    const int before = tsa.calls;
    auto backfill = log.timestampMissing(100);
    CHECK(backfill.added == 0);
    CHECK(backfill.missing == 3);
    CHECK(backfill.failure.find("cannot be reached") != std::string::npos);
    CHECK(tsa.calls == before + 1);

    tsa.down = false;
    backfill = log.timestampMissing(2);  // a limit per run
    CHECK(backfill.added == 2);
    CHECK(backfill.missing == 1);
    CHECK(backfill.failure.empty());
    backfill = log.timestampMissing(100);
    CHECK(backfill.added == 1);
    CHECK(backfill.missing == 0);
    stored = store.storedCheckpoints();
    for (const auto& c : stored) CHECK(c.timestampToken == "token-over-" + toHex(sha256(c.note)));
    // A stored token is never replaced.
    CHECK_FALSE(store.addCheckpointTimestamp(stored[0].size, "another"));
    CHECK(store.storedCheckpoints()[0].timestampToken == stored[0].timestampToken);
    CHECK_FALSE(store.addCheckpointTimestamp(999, "nowhere"));

    // The newest checkpoint made while the TSA was down gets its token when it is asked for again.
    tsa.down = true;
    log.record(event(12));
    log.checkpoint();
    REQUIRE(store.newestCheckpoint()->timestampToken.empty());
    tsa.down = false;
    log.checkpoint();
    CHECK(store.newestCheckpoint()->timestampToken == "token-over-" + toHex(sha256(store.newestCheckpoint()->note)));
}

TEST_CASE("verifyLog judges stored tokens with the verifier it is given", "[audit][timestamp]") {
    MemoryAuditStore store;
    FakeTsa tsa;
    AuditLog log(store, signer(), 5, tsa.timestamper());
    for (int i = 0; i < 15; ++i) log.record(event(i));
    const CheckpointTimestampVerifier fakeVerifier = [](const std::string& token, const Sha256& imprint, std::string* whyNot) {
        if (token == "token-over-" + toHex(imprint)) return true;
        *whyNot = "not over this note";
        return false;
    };
    auto result = verifyLog(store, kOrigin, publicKey(), std::nullopt, fakeVerifier);
    REQUIRE(result.ok);
    CHECK(result.timestampedCheckpoints == 3);
    std::swap(store.checkpointRows()[1].timestampToken, store.checkpointRows()[2].timestampToken);
    result = verifyLog(store, kOrigin, publicKey(), std::nullopt, fakeVerifier);
    CHECK(result.problem == "audit.checkpoint_timestamp_invalid");
    CHECK(result.detail.find("checkpoint 10") != std::string::npos);
    CHECK(result.detail.find("not over this note") != std::string::npos);
    // A missing token is not a problem.
    store.checkpointRows()[1].timestampToken.clear();
    store.checkpointRows()[2].timestampToken.clear();
    result = verifyLog(store, kOrigin, publicKey(), std::nullopt, fakeVerifier);
    CHECK(result.ok);
    CHECK(result.timestampedCheckpoints == 1);
}

TEST_CASE("the leaf-hash cache gives the proofs a fresh log gives, after appends from several threads", "[audit][log][concurrency]") {
    MemoryAuditStore store;
    AuditLog cached(store, signer(), 7);
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 40; ++i) {
                try {
                    cached.record(event(t * 100 + i));
                    // Proofs in between extend the cache while other threads append.
                    if (i % 9 == 0) cached.prove(static_cast<std::uint64_t>(i));
                } catch (const std::exception&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == 0);
    const auto latest = cached.checkpoint();
    CHECK(latest.size == 240);
    AuditLog fresh(store, signer(), 7);  // an empty cache: reads and hashes every entry
    for (std::uint64_t index : {0u, 1u, 6u, 7u, 100u, 238u, 239u}) {
        const auto a = cached.prove(index);
        const auto b = fresh.prove(index);
        CHECK(a.proof == b.proof);
        CHECK(a.checkpointNote == b.checkpointNote);
        CHECK(verifyReceipt(a, kOrigin, publicKey()));
    }
    const auto trailA = cached.proveDocument("KD-1004");
    const auto trailB = fresh.proveDocument("KD-1004");
    REQUIRE(trailA.size() == trailB.size());
    for (std::size_t i = 0; i < trailA.size(); ++i) CHECK(trailA[i].proof == trailB[i].proof);

    // The cache holds the hashes of the entries as they were appended: an entry edited later does
    // not change the proofs this log gives (entry 51's proof holds entry 50's leaf hash), while a
    // log that reads the store afresh sees the edit — and so does verifyLog, which never uses a
    // cache.
    const auto before = cached.prove(51).proof;
    auto& row = store.rows()[50].canonical;
    row.replace(row.find("animator"), 8, "dpo_____");
    CHECK(cached.prove(51).proof == before);
    AuditLog afterEdit(store, signer(), 7);
    CHECK(afterEdit.prove(51).proof != before);
    const auto r = verifyLog(store, kOrigin, publicKey());
    CHECK(r.problem == "audit.chain");
    CHECK(r.firstBadIndex == 50u);
}

TEST_CASE("the trail file carries checkpoint timestamps, and files without them stay valid", "[audit][trail]") {
    MemoryAuditStore store;
    FakeTsa tsa;
    AuditLog log(store, signer(), 1000, tsa.timestamper());
    for (int i = 0; i < 12; ++i) log.record(event(i));  // entries 3 and 10 are about KD-1003
    DocumentTrail trail;
    trail.documentId = "KD-1003";
    trail.origin = kOrigin;
    trail.publicKeyPem = publicKey();
    trail.receipts = log.proveDocument("KD-1003");
    REQUIRE(trail.receipts.size() == 2);
    // Binary tokens survive the JSON: a DER token holds every byte value.
    std::string binary;
    for (int b = 0; b < 256; ++b) binary.push_back(static_cast<char>(b));
    trail.receipts[1].checkpointTimestamp = binary;
    const auto json = trailToJson(trail);
    CHECK(json.find("\"checkpoint_timestamp\"") != std::string::npos);
    const auto read = trailFromJson(json);
    REQUIRE(read.receipts.size() == 2);
    CHECK(read.receipts[0].checkpointTimestamp == trail.receipts[0].checkpointTimestamp);
    CHECK(read.receipts[1].checkpointTimestamp == binary);
    CHECK(checkTrail(read, kOrigin, publicKey()).ok);

    // A log without a TSA writes no key at all, and such a file reads back without a token.
    MemoryAuditStore plainStore;
    AuditLog plain(plainStore, signer(), 1000);
    for (int i = 0; i < 12; ++i) plain.record(event(i));
    trail.receipts = plain.proveDocument("KD-1003");
    const auto oldStyle = trailToJson(trail);
    CHECK(oldStyle.find("checkpoint_timestamp") == std::string::npos);
    const auto readOld = trailFromJson(oldStyle);
    CHECK(readOld.receipts[0].checkpointTimestamp.empty());
    CHECK(checkTrail(readOld, kOrigin, publicKey()).ok);

    auto broken = json;
    const auto key = broken.find("\"checkpoint_timestamp\"");
    REQUIRE(key != std::string::npos);
    broken.insert(broken.find('"', key + 22) + 1, "!");
    CHECK(reasonOf([&] { trailFromJson(broken); }) == "audit.trail_invalid");
}
