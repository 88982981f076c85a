// SPDX-License-Identifier: AGPL-3.0-or-later
// One conformance suite, two backends: this file is compiled into storage_tests (SQLite, a file
// per test) and into storage_postgres_tests (a fresh database per test in the throw-away cluster
// tests/support/postgres.sh starts), which defines KOOPERDOC_TEST_POSTGRES.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "Backend.h"
#include "Process.h"
#include "TempDir.h"
#include "ErrorReason.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Retention.h"

using namespace kooperdoc;
using kooperdoc::testing::reasonOf;
using namespace kooperdoc::storage;
using kooperdoc::testing::quote;
using kooperdoc::testing::readFile;
using kooperdoc::testing::runCommand;
using kooperdoc::testing::TempDir;

namespace {

using kooperdoc::testing::Backend;

const MasterKey& testMasterKey() {
    static const MasterKey key = MasterKey::fromBase64(MasterKey::generateBase64());
    return key;
}

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

StoreRequest request(const std::string& tenant, std::vector<PersonIdentity> people, const std::string& pdf) {
    StoreRequest r;
    r.tenantId = tenant;
    r.documentId = "KD-" + randomId().substr(0, 16);
    r.number = r.documentId;
    r.templateId = "m1-oswiadczenie-zgoda";
    r.templateVersion = "1.0.0";
    r.templateSha256 = std::string(64, 'a');
    r.retentionClass = "consent";
    r.legalBasis = "consent";
    r.caseRef = "OPS.4.2026.1";
    r.subjects = std::move(people);
    r.pdf = pdf;
    r.now = kNow;
    return r;
}

const PersonIdentity kJan{"44051401359", "Jan Kowalski", "adult"};
const PersonIdentity kAnna{"02270803628", "Anna Nowak", "adult"};

}  // namespace

TEST_CASE("the schema is migrated once, recorded, and a newer schema is refused", "[storage][conformance]") {
    Backend backend;
    {
        auto repository = openRepository(backend.config());
        CHECK(repository->schemaVersion() == currentSchemaVersion());
    }
    // Opening again applies nothing twice; several instances may start at once.
    std::vector<std::thread> starters;
    std::atomic<int> failures{0};
    for (int i = 0; i < 3; ++i) {
        starters.emplace_back([&] {
            try {
                openRepository(backend.config());
            } catch (const Error&) {
                ++failures;
            }
        });
    }
    for (auto& t : starters) t.join();
    CHECK(failures == 0);
    CHECK(openRepository(backend.config())->schemaVersion() == currentSchemaVersion());
}

TEST_CASE("a document is stored encrypted with every revision and read back whole", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", R"({"name":"OPS A"})", kNow);
    CHECK(store->repository().tenantIds() == std::vector<std::string>{"ops-a"});

    const std::string issued = "%PDF-1.7 issued for Jan Kowalski 44051401359";
    const auto r = request("ops-a", {kJan}, issued);
    const auto stored = store->store(r);
    CHECK_FALSE(stored.replayed);
    CHECK(stored.documentId == r.documentId);
    CHECK(store->read("ops-a", r.documentId) == issued);

    const std::string signedPdf = issued + " + signature of Jan";
    CHECK(store->addRevision("ops-a", r.documentId, 1, signedPdf, "signed_upload", DocumentStatus::kSigned, kNow + 60) == 2);
    CHECK(store->read("ops-a", r.documentId) == signedPdf);
    CHECK(store->read("ops-a", r.documentId, 1) == issued);
    CHECK(store->read("ops-a", r.documentId, 2) == signedPdf);
    CHECK(reasonOf([&] { store->read("ops-a", r.documentId, 3); }) == "storage.revision_unknown");
    const auto revisions = store->repository().revisions(r.documentId);
    REQUIRE(revisions.size() == 2);
    CHECK(revisions[0].kind == "issued");
    CHECK(revisions[1].kind == "signed_upload");
    const auto document = store->repository().document("ops-a", r.documentId);
    REQUIRE(document);
    CHECK(document->status == DocumentStatus::kSigned);
    CHECK(document->signedAt == kNow + 60);

    // Nothing personal in plain text: not in the database, not in the blobs.
    for (const std::string secret : {"Kowalski", "44051401359", "KOWALSKI"}) {
        CHECK(backend.databaseBytes().find(secret) == std::string::npos);
        CHECK(backend.blobBytes().find(secret) == std::string::npos);
    }
    // Another tenant sees nothing.
    store->putTenant("ops-b", "{}", kNow);
    CHECK_FALSE(store->repository().document("ops-b", r.documentId));
    CHECK(reasonOf([&] { store->read("ops-b", r.documentId); }) == "storage.document_unknown");
    CHECK(store->findSubjects("ops-b", "44051401359").empty());
}

TEST_CASE("a revision appended against a stale newest revision is refused and changes nothing", "[storage][conformance][concurrency]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const std::string issued = "%PDF-1.7 issued for Jan Kowalski";
    const auto r = request("ops-a", {kJan}, issued);
    store->store(r);
    const std::string first = issued + " + signature of Jan";
    CHECK(store->addRevision("ops-a", r.documentId, 1, first, "signed_upload", DocumentStatus::kSigned, kNow + 60) == 2);
    const auto listed = store->blobs().list();
    const std::set<std::string> blobsBefore(listed.begin(), listed.end());

    // Reviewed against revision 1, which is no longer the newest; and against one that never was.
    for (const int stale : {1, 0, 3}) {
        CHECK(reasonOf([&] {
                  store->addRevision("ops-a", r.documentId, stale, issued + " + signature of Anna", "signed_upload",
                                     DocumentStatus::kSigned, kNow + 120);
              }) == "storage.revision_conflict");
    }
    // The direct repository call too (the check is the repository's, not only the store's).
    RevisionRecord stray{0, "signed_upload", "stray-blob", std::string(64, 'b'), 1, kNow + 120};
    try {
        store->repository().addRevision("ops-a", r.documentId, 1, stray, DocumentStatus::kSigned);
        FAIL("a stale expected revision must be refused");
    } catch (const Error& e) {
        CHECK(e.reason() == "storage.revision_conflict");
        CHECK(e.code() == ErrorCode::kFailedPrecondition);
    }

    const auto revisions = store->repository().revisions(r.documentId);
    REQUIRE(revisions.size() == 2);
    CHECK(revisions[1].sha256 == sha256Hex(first));
    CHECK(store->read("ops-a", r.documentId) == first);
    const auto listedAfter = store->blobs().list();
    CHECK(std::set<std::string>(listedAfter.begin(), listedAfter.end()) == blobsBefore);  // no blob of a refused one stays
    CHECK(store->repository().document("ops-a", r.documentId)->signedAt == kNow + 60);
    // Against the real newest it goes on.
    CHECK(store->addRevision("ops-a", r.documentId, 2, first + " + timestamp", "timestamp", DocumentStatus::kSigned, kNow + 180) == 3);
}

TEST_CASE("of two appends against the same newest revision at once exactly one is stored", "[storage][conformance][concurrency]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    for (int round = 0; round < 4; ++round) {
        const std::string issued = "%PDF-1.7 issued, round " + std::to_string(round);
        const auto r = request("ops-a", {kJan}, issued);
        store->store(r);
        constexpr int kWriters = 4;
        std::atomic<int> ready{0};
        std::atomic<int> stored{0};
        std::atomic<int> conflicts{0};
        std::atomic<int> others{0};
        std::vector<std::thread> writers;
        for (int w = 0; w < kWriters; ++w) {
            writers.emplace_back([&, w] {
                ++ready;
                while (ready < kWriters) std::this_thread::yield();
                try {
                    const int number = store->addRevision("ops-a", r.documentId, 1, issued + " + signature " + std::to_string(w),
                                                          "signed_upload", DocumentStatus::kSigned, kNow + 60);
                    if (number == 2) ++stored;
                    else ++others;
                } catch (const Error& e) {
                    if (e.reason() == "storage.revision_conflict") ++conflicts;
                    else ++others;
                }
            });
        }
        for (auto& t : writers) t.join();
        CHECK(stored == 1);
        CHECK(conflicts == kWriters - 1);
        CHECK(others == 0);
        const auto revisions = store->repository().revisions(r.documentId);
        REQUIRE(revisions.size() == 2);
        const auto newest = store->read("ops-a", r.documentId);
        CHECK(newest.rfind(issued + " + signature ", 0) == 0);
    }
    // Every blob on disk is named by a row: the losers' blobs were removed.
    const auto referenced = store->repository().referencedBlobs();
    CHECK(store->blobs().list().size() == referenced.size());
    CHECK(store->sweepOrphanBlobs(std::chrono::seconds(0)) == 0);
}

TEST_CASE("one idempotency key stored by many writers at once makes one document and replays it to the rest", "[storage][conformance][concurrency]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    for (int round = 0; round < 5; ++round) {
        constexpr int kWriters = 6;
        std::atomic<int> ready{0};
        std::vector<InsertResult> results(kWriters);
        std::vector<std::string> failures(kWriters);
        std::vector<std::thread> writers;
        const std::string key = "key-" + std::to_string(round);
        for (int w = 0; w < kWriters; ++w) {
            writers.emplace_back([&, w] {
                auto r = request("ops-a", {kJan}, "%PDF-1.7 round " + std::to_string(round));
                r.idempotencyKey = key;
                r.requestSha256 = std::string(64, 'b');
                ++ready;
                while (ready < kWriters) std::this_thread::yield();
                try {
                    results[static_cast<std::size_t>(w)] = store->store(r);
                } catch (const Error& e) {
                    failures[static_cast<std::size_t>(w)] = e.reason() + ": " + e.what();
                }
            });
        }
        for (auto& t : writers) t.join();
        std::set<std::string> ids;
        int fresh = 0;
        for (int w = 0; w < kWriters; ++w) {
            INFO("writer " << w << ": " << failures[static_cast<std::size_t>(w)]);
            CHECK(failures[static_cast<std::size_t>(w)].empty());
            ids.insert(results[static_cast<std::size_t>(w)].documentId);
            if (!results[static_cast<std::size_t>(w)].replayed) ++fresh;
        }
        CHECK(fresh == 1);
        CHECK(ids.size() == 1);
    }
    // The losers' blobs went with their replays.
    CHECK(store->blobs().list().size() == store->repository().referencedBlobs().size());
}

TEST_CASE("a tenant put by many writers at once is one tenant with the first key", "[storage][conformance][concurrency]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    for (int round = 0; round < 4; ++round) {
        const std::string tenant = "ops-" + std::to_string(round);
        constexpr int kWriters = 6;
        std::atomic<int> ready{0};
        std::atomic<int> failures{0};
        std::vector<std::thread> writers;
        for (int w = 0; w < kWriters; ++w) {
            writers.emplace_back([&, w] {
                ++ready;
                while (ready < kWriters) std::this_thread::yield();
                try {
                    store->putTenant(tenant, "{\"name\":\"writer " + std::to_string(w) + "\"}", kNow);
                } catch (const Error&) {
                    ++failures;
                }
            });
        }
        for (auto& t : writers) t.join();
        CHECK(failures == 0);
        const auto stored = store->repository().tenant(tenant);
        REQUIRE(stored.has_value());
        // A later put changes the profile, never the key (documents under it stay readable).
        store->putTenant(tenant, "{}", kNow + 1);
        const auto again = store->repository().tenant(tenant);
        CHECK(again->wrappedKey == stored->wrappedKey);
        CHECK(again->profileJson == "{}");
    }
}

TEST_CASE("people are found by PESEL or name through the keyed index, one subject per PESEL", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const auto first = store->store(request("ops-a", {kJan}, "%PDF one"));
    const auto second = store->store(request("ops-a", {{"440514 01359", "jan  kowalski", "signatory"}, kAnna}, "%PDF two"));
    const auto jan = store->findSubjects("ops-a", "44051401359");
    REQUIRE(jan.size() == 1);
    CHECK(store->findSubjects("ops-a", " JAN KOWALSKI ") == jan);
    CHECK(store->repository().documentsOfSubject("ops-a", jan.front()).size() == 2);
    CHECK(store->findSubjects("ops-a", "Anna Nowak").size() == 1);
    CHECK(store->findSubjects("ops-a", "Adam Nowak").empty());
    // Two people with one name and no PESEL are not merged by a later PESEL-less document.
    CHECK(reasonOf([&] { store->store(request("ops-a", {{"", "", "adult"}}, "%PDF")); }) == "storage.subject_unnamed");
    CHECK(reasonOf([&] { store->store(request("ops-a", {{"123", "X", "adult"}}, "%PDF")); }) == "storage.pesel_invalid");
    (void)first;
    (void)second;
}

TEST_CASE("a retried request returns the first document and a reused key with another body is refused", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    auto r = request("ops-a", {kJan}, "%PDF first");
    r.idempotencyKey = "intake-42";
    r.requestSha256 = std::string(64, '1');
    const auto first = store->store(r);
    auto retry = r;
    retry.documentId = "KD-RETRY";
    const auto replay = store->store(retry);
    CHECK(replay.replayed);
    CHECK(replay.documentId == first.documentId);
    auto conflicting = r;
    conflicting.documentId = "KD-OTHER";
    conflicting.requestSha256 = std::string(64, '2');
    CHECK(reasonOf([&] { store->store(conflicting); }) == "storage.idempotency_conflict");
    // Nothing half: one document, one blob.
    CHECK(store->repository().documents("ops-a").size() == 1);
    CHECK(store->blobs().list().size() == 1);
    // The key finds its document by the unique index, within its tenant only.
    const auto byKey = store->repository().documentByIdempotencyKey("ops-a", "intake-42");
    REQUIRE(byKey);
    CHECK(byKey->id == first.documentId);
    CHECK(byKey->requestSha256 == std::string(64, '1'));
    CHECK_FALSE(store->repository().documentByIdempotencyKey("ops-a", "intake-43"));
    store->putTenant("ops-b", "{}", kNow);
    CHECK_FALSE(store->repository().documentByIdempotencyKey("ops-b", "intake-42"));
    CHECK(reasonOf([&] { store->store(request("nobody", {kJan}, "%PDF")); }) == "storage.tenant_unknown");
    CHECK(store->blobs().list().size() == 1);
}

TEST_CASE("erasing a person shreds what rests on them alone and says why the rest is kept", "[storage][conformance][erasure]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const auto alone = store->store(request("ops-a", {kJan}, "%PDF Jan alone"));
    const auto shared = store->store(request("ops-a", {kJan, kAnna}, "%PDF Jan and Anna"));
    auto archivalRequest = request("ops-a", {kJan}, "%PDF case record of Jan");
    archivalRequest.legalBasis = "public_task";
    archivalRequest.archivalDuty = true;
    archivalRequest.caseRef = "OPS.4.2026.7";
    const auto archival = store->store(archivalRequest);
    auto heldRequest = request("ops-a", {kJan}, "%PDF held");
    heldRequest.caseRef = "OPS.4.2026.9";
    const auto held = store->store(heldRequest);
    store->repository().placeHold({randomId(), "ops-a", "", "OPS.4.2026.9", "court proceedings", "dpo", kNow, {}, ""});
    const auto janId = store->findSubjects("ops-a", "44051401359").at(0);

    const auto outcomes = store->eraseSubject("ops-a", janId, kNow + 100);
    REQUIRE(outcomes.size() == 4);
    std::map<std::string, ErasureOutcome> byDocument;
    for (const auto& o : outcomes) byDocument[o.documentId] = o;
    CHECK(byDocument[alone.documentId].erased);
    CHECK_FALSE(byDocument[shared.documentId].erased);
    CHECK(byDocument[shared.documentId].ground == "other_subjects");
    CHECK_FALSE(byDocument[archival.documentId].erased);
    CHECK(byDocument[archival.documentId].ground.rfind("archival_duty", 0) == 0);
    CHECK_FALSE(byDocument[held.documentId].erased);
    CHECK(byDocument[held.documentId].ground == "legal_hold");
    CHECK(byDocument[held.documentId].detail == "court proceedings");

    CHECK(reasonOf([&] { store->read("ops-a", alone.documentId); }) == "storage.document_erased");
    CHECK(store->read("ops-a", shared.documentId) == "%PDF Jan and Anna");  // Anna's key keeps it
    CHECK(reasonOf([&] { store->read("ops-a", archival.documentId); }) == "storage.restricted");
    CHECK(store->read("ops-a", archival.documentId, 0, true) == "%PDF case record of Jan");
    // The held document rested on Jan's key only: a hold keeps the rows but the key is gone
    // with him, so it is unreadable — holds must be placed before an erasure, and are.
    CHECK(reasonOf([&] { store->read("ops-a", held.documentId); }) == "storage.decrypt_failed");
    CHECK(store->findSubjects("ops-a", "44051401359").empty());
    CHECK(store->findSubjects("ops-a", "Jan Kowalski").empty());
    const auto subject = store->repository().subject("ops-a", janId);
    REQUIRE(subject);
    CHECK(subject->erasedAt == kNow + 100);
    CHECK_FALSE(subject->wrappedKey);
    CHECK(store->blobs().list().size() == 3);
    CHECK(store->sweepOrphanBlobs(std::chrono::seconds(0)) == 0);
    // No byte of the database (for PostgreSQL: the dump and the cluster's files, WAL included)
    // names him, nor do the blobs.
    for (const std::string secret : {"Kowalski", "KOWALSKI", "44051401359"}) {
        CHECK(backend.databaseBytes().find(secret) == std::string::npos);
        CHECK(backend.blobBytes().find(secret) == std::string::npos);
#ifdef KOOPERDOC_TEST_POSTGRES
        const std::string cluster = std::string(KOOPERDOC_TEST_POSTGRES).substr(5, std::string(KOOPERDOC_TEST_POSTGRES).find(' ') - 5);
        CHECK(runCommand("grep -r -a -l " + quote(secret) + " " + quote(cluster + "/data")).output.empty());
#endif
    }
}

TEST_CASE("a database opened with another master key is refused at once", "[storage][conformance]") {
    Backend backend;
    backend.open(testMasterKey())->putTenant("ops-a", "{}", kNow);
    const MasterKey other = MasterKey::fromBase64(MasterKey::generateBase64());
    CHECK(reasonOf([&] { backend.open(other); }) == "storage.master_key_mismatch");
    CHECK(backend.open(testMasterKey())->repository().tenant("ops-a"));
}

TEST_CASE("a damaged or swapped blob is refused, never returned", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const auto a = store->store(request("ops-a", {kJan}, "%PDF A"));
    const auto b = store->store(request("ops-a", {kJan}, "%PDF B"));
    const auto blobA = store->repository().revisions(a.documentId).at(0).blobId;
    const auto blobB = store->repository().revisions(b.documentId).at(0).blobId;
    const std::string bytesA = store->blobs().get(blobA), bytesB = store->blobs().get(blobB);
    store->blobs().put(blobA, bytesB);
    CHECK(reasonOf([&] { store->read("ops-a", a.documentId); }) == "storage.decrypt_failed");
    std::string flipped = bytesA;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 1);
    store->blobs().put(blobA, flipped);
    CHECK(reasonOf([&] { store->read("ops-a", a.documentId); }) == "storage.decrypt_failed");
    store->blobs().remove(blobA);
    CHECK(reasonOf([&] { store->read("ops-a", a.documentId); }) == "storage.blob_missing");
}

TEST_CASE("consents are recorded and withdrawn once, legal holds set and cleared", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const auto doc = store->store(request("ops-a", {kJan}, "%PDF consent"));
    const auto jan = store->findSubjects("ops-a", "44051401359").at(0);
    store->repository().recordConsent({randomId(), "ops-a", jan, doc.documentId, "pzk_cooperation", kNow, {}});
    CHECK(store->repository().withdrawConsents("ops-a", jan, kNow + 5).size() == 1);
    CHECK(store->repository().withdrawConsents("ops-a", jan, kNow + 6).empty());
    const auto consents = store->repository().consentsOfSubject("ops-a", jan);
    REQUIRE(consents.size() == 1);
    CHECK(consents[0].withdrawnAt == kNow + 5);

    const std::string hold = randomId();
    store->repository().placeHold({hold, "ops-a", doc.documentId, "", "complaint", "dpo", kNow, {}, ""});
    CHECK(store->repository().activeHolds("ops-a", doc.documentId).size() == 1);
    CHECK(reasonOf([&] { store->repository().placeHold({randomId(), "ops-a", "", "", "x", "dpo", kNow, {}, ""}); }) ==
          "storage.hold_target");
    store->repository().clearHold("ops-a", hold, "dpo", kNow + 9);
    CHECK(store->repository().activeHolds("ops-a", doc.documentId).empty());
    CHECK(reasonOf([&] { store->repository().clearHold("ops-a", hold, "dpo", kNow + 9); }) == "storage.hold_unknown");
}

TEST_CASE("concurrent writers lose nothing they were told was stored", "[storage][conformance][concurrency]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    std::vector<std::thread> writers;
    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            for (int i = 0; i < 8; ++i) {
                try {
                    const std::string pdf = "%PDF writer " + std::to_string(w) + " doc " + std::to_string(i);
                    const auto stored = store->store(request("ops-a", {kJan, kAnna}, pdf));
                    std::lock_guard<std::mutex> lock(mutex);
                    acknowledged.insert(stored.documentId);
                } catch (const Error&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : writers) t.join();
    CHECK(failures == 0);
    CHECK(acknowledged.size() == 32);
    for (const auto& id : acknowledged) CHECK(store->read("ops-a", id).rfind("%PDF writer ", 0) == 0);
    CHECK(store->findSubjects("ops-a", "44051401359").size() == 1);  // one Jan, however many writers
}

TEST_CASE("a write that fails half-way leaves no row behind", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    // The document row is inserted before the unknown subject is noticed: the transaction must
    // take it back.
    NewDocument document;
    document.document.id = "KD-HALF";
    document.document.tenantId = "ops-a";
    document.document.number = "KD-HALF";
    document.document.templateId = "t";
    document.document.templateVersion = "1.0.0";
    document.document.templateSha256 = "x";
    document.document.retentionClass = "consent";
    document.document.legalBasis = "consent";
    document.document.caseRef = "c";
    document.document.createdAt = kNow;
    document.subjects = {{"no-such-subject", "adult"}};
    document.firstRevision = {1, "issued", randomId(), "x", 1, kNow};
    CHECK(reasonOf([&] { store->repository().insertDocument(document); }) == "storage.subject_unknown");
    CHECK_FALSE(store->repository().document("ops-a", "KD-HALF"));
    CHECK(store->repository().referencedBlobs().empty());
}

namespace {

/// 2026-01-01 + days.
constexpr std::int64_t day(int days) { return kNow + std::int64_t{days} * 86400; }
constexpr std::int64_t at2032() { return 1956528000; }  // 2032-01-01T00:00:00Z
constexpr std::int64_t at2037() { return 2114380800; }  // 2037-01-01T00:00:00Z
constexpr std::int64_t at2038() { return 2145916800; }  // 2038-01-01T00:00:00Z

StoreRequest ofTemplate(const std::string& tenant, const std::string& templateId, const std::string& retentionClass,
                        const std::string& caseRef, std::vector<PersonIdentity> people) {
    auto r = request(tenant, std::move(people), "%PDF " + templateId + " " + caseRef);
    r.templateId = templateId;
    r.retentionClass = retentionClass;
    const RetentionRule& rule = RetentionPolicies::builtIn().ruleFor(templateId, retentionClass);
    r.legalBasis = rule.legalBasis;
    r.archivalDuty = !rule.eraseOnConsentWithdrawal;
    r.caseRef = caseRef;
    return r;
}

}  // namespace

TEST_CASE("a dry-run sweep over a seeded database reports exactly what the rules make due", "[storage][conformance][retention]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    // Case 1 closed in 2026: its consent and case record (B10) end on 2037-01-01.
    const auto consent1 = store->store(ofTemplate("ops-a", "m1-oswiadczenie-zgoda", "consent", "case-1", {kJan}));
    const auto plan1 = store->store(ofTemplate("ops-a", "m2-karta-planu-pracy", "case-record", "case-1", {kJan}));
    // A held document of case 1 is due but blocked.
    const auto held = store->store(ofTemplate("ops-a", "m3-protokol-zzk-a", "case-record", "case-1", {kJan}));
    store->repository().placeHold({randomId(), "ops-a", held.documentId, "", "skarga do sądu", "dpo", day(5), {}, ""});
    store->repository().closeCase("ops-a", "case-1", day(100));
    CHECK(store->repository().document("ops-a", plan1.documentId)->status == DocumentStatus::kArchived);
    // Case 2 closed in 2027: ends 2038-01-01. Case 3 stays open: never due.
    const auto plan2 = store->store(ofTemplate("ops-a", "m2-karta-planu-pracy", "case-record", "case-2", {kAnna}));
    store->repository().closeCase("ops-a", "case-2", day(400));
    const auto open3 = store->store(ofTemplate("ops-a", "m2-karta-planu-pracy", "case-record", "case-3", {kAnna}));
    // A partnership agreement (A): never destroyed, however old.
    const auto agreement = store->store(ofTemplate("ops-a", "m1-porozumienie-pzk", "institutional-agreement", "pzk", {}));
    store->repository().closeCase("ops-a", "pzk", day(1));
    // The activity list (BE5, from creation): due 2032-01-01, for expert review.
    const auto list = store->store(ofTemplate("ops-a", "m1-lista-aktywnosci-uslug", "register", "lists", {}));

    RetentionSweep sweep(*store, RetentionPolicies::builtIn());
    const auto dueIds = [&](std::int64_t now) {
        std::set<std::string> ids;
        for (const auto& item : sweep.run("ops-a", now, true).items) ids.insert(item.documentId);
        return ids;
    };
    CHECK(dueIds(day(365 * 5)).empty());
    CHECK(dueIds(at2032()) == std::set<std::string>{list.documentId});
    CHECK(dueIds(at2037()) == std::set<std::string>{list.documentId, consent1.documentId, plan1.documentId});
    CHECK(dueIds(at2038()) == std::set<std::string>{list.documentId, consent1.documentId, plan1.documentId, plan2.documentId});
    // A dry run writes nothing.
    CHECK(store->repository().disposalProposals("ops-a").empty());

    const auto report = retentionReport(store->repository(), "ops-a", RetentionPolicies::builtIn(), at2038());
    CHECK(report.size() == 7);
    for (const auto& row : report) {
        INFO(row.documentId);
        if (row.documentId == held.documentId) CHECK(row.blockedBy == "legal_hold: skarga do sądu");
        if (row.documentId == agreement.documentId) CHECK_FALSE(row.endsAt);
        if (row.documentId == open3.documentId) CHECK_FALSE(row.triggerAt);
        if (row.documentId == list.documentId) CHECK(row.action == "review");
    }
}

TEST_CASE("disposal is proposed, approved by a dpo with the archive's consent, executed and recorded without personal data",
          "[storage][conformance][retention]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const auto plan = store->store(ofTemplate("ops-a", "m2-karta-planu-pracy", "case-record", "case-1", {kJan}));
    const auto consent = store->store(ofTemplate("ops-a", "m1-oswiadczenie-zgoda", "consent", "case-1", {kJan}));
    store->addRevision("ops-a", plan.documentId, 1, "%PDF signed plan of Jan Kowalski", "signed_upload", DocumentStatus::kSigned, day(3));
    store->repository().closeCase("ops-a", "case-1", day(100));
    RetentionSweep sweep(*store, RetentionPolicies::builtIn());

    const auto proposal = sweep.run("ops-a", at2037(), false);
    REQUIRE(proposal.items.size() == 2);
    CHECK(reasonOf([&] { sweep.execute("ops-a", proposal.id, at2037()); }) == "retention.not_approved");
    CHECK(reasonOf([&] { sweep.approve("ops-a", proposal.id, "dpo-anna", "", at2037()); }) == "retention.archive_consent_required");
    // While proposed, the same documents are not proposed twice.
    CHECK(sweep.run("ops-a", at2037(), true).items.empty());

    // A hold placed after the approval still wins at execution.
    sweep.approve("ops-a", proposal.id, "dpo-anna", "AP-Kielce ZN.5.2037", at2037());
    store->repository().placeHold({randomId(), "ops-a", consent.documentId, "", "kontrola", "dpo", at2037(), {}, ""});
    const auto records = sweep.execute("ops-a", proposal.id, at2037() + 60);
    REQUIRE(records.size() == 2);
    std::map<std::string, DisposalRecord> byDocument;
    for (const auto& r : records) byDocument[r.documentId] = r;
    CHECK(byDocument[plan.documentId].outcome == "erased");
    CHECK(byDocument[plan.documentId].revisionSha256.find(',') != std::string::npos);  // both revisions named
    CHECK(byDocument[plan.documentId].archiveConsentRef == "AP-Kielce ZN.5.2037");
    CHECK(byDocument[consent.documentId].outcome.rfind("skipped: legal hold", 0) == 0);
    CHECK(reasonOf([&] { store->read("ops-a", plan.documentId); }) == "storage.document_erased");
    CHECK(store->read("ops-a", consent.documentId).rfind("%PDF", 0) == 0);
    CHECK(store->repository().disposalProposal("ops-a", proposal.id)->status == "executed");
    CHECK(reasonOf([&] { sweep.execute("ops-a", proposal.id, at2037()); }) == "retention.not_approved");
    CHECK(store->repository().disposalRecords("ops-a").size() == 2);
    for (const std::string secret : {"Kowalski", "KOWALSKI", "44051401359"}) {
        CHECK(backend.databaseBytes().find(secret) == std::string::npos);
    }
}

TEST_CASE("consent withdrawal erases what rests on consent alone and restricts the case file", "[storage][conformance][retention]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    const auto consent = store->store(ofTemplate("ops-a", "m1-oswiadczenie-zgoda", "consent", "case-1", {kJan}));
    const auto familyConsent = store->store(ofTemplate("ops-a", "m1-oswiadczenie-zgoda", "consent", "case-1", {kJan, kAnna}));
    const auto plan = store->store(ofTemplate("ops-a", "m2-karta-planu-pracy", "case-record", "case-1", {kJan}));
    const auto jan = store->findSubjects("ops-a", "44051401359").at(0);
    store->repository().recordConsent({randomId(), "ops-a", jan, consent.documentId, "pzk_cooperation", kNow, {}});

    const auto outcomes = store->withdrawConsent("ops-a", jan, day(30));
    std::map<std::string, ErasureOutcome> byDocument;
    for (const auto& o : outcomes) byDocument[o.documentId] = o;
    REQUIRE(byDocument.size() == 3);
    CHECK(byDocument[consent.documentId].erased);
    CHECK(byDocument[familyConsent.documentId].ground == "other_subjects");
    // The case record is not consent-based: the withdrawal does not touch it.
    CHECK(byDocument[plan.documentId].ground == "not_consent_based");
    CHECK(byDocument[plan.documentId].detail == "public_task");
    CHECK(reasonOf([&] { store->read("ops-a", consent.documentId); }) == "storage.document_erased");
    CHECK(store->repository().consentsOfSubject("ops-a", jan).at(0).withdrawnAt == day(30));
    // Erasure on request afterwards: the case record is kept (archival duty) and restricted.
    const auto erased = store->eraseSubject("ops-a", jan, day(31));
    std::map<std::string, ErasureOutcome> after;
    for (const auto& o : erased) after[o.documentId] = o;
    CHECK(after[plan.documentId].ground.rfind("archival_duty", 0) == 0);
    CHECK(reasonOf([&] { store->read("ops-a", plan.documentId); }) == "storage.restricted");
}

TEST_CASE("the audit trail in the database: dense under concurrent writers, every tamper detected", "[storage][conformance][audit]") {
    Backend backend;
    auto repository = openRepository(backend.config());
    const std::string origin = "kooperdoc.test/audit";
    const std::string keyPem = audit::CheckpointSigner::generatePem();
    audit::AuditLog log(repository->auditStore(), audit::CheckpointSigner::fromPem(origin, keyPem), 10);
    const std::string publicKey = audit::CheckpointSigner::fromPem(origin, keyPem).publicKeyPem();
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            for (int i = 0; i < 15; ++i) {
                audit::AuditEvent e;
                e.time = kNow + i;
                e.tenantId = "ops-a";
                e.actorId = "writer-" + std::to_string(w);
                e.actorRole = "system";
                e.type = "document.created";
                e.documentId = "KD-" + std::to_string(w) + "-" + std::to_string(i);
                try {
                    log.record(e);
                } catch (const Error&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : writers) t.join();
    CHECK(failures == 0);
    const std::string held = log.checkpoint().note;
    auto result = audit::verifyLog(repository->auditStore(), origin, publicKey, held);
    INFO(result.problem << ": " << result.detail);
    REQUIRE(result.ok);
    CHECK(result.entries == 60);
    // A reopened database rebuilds the same tree from its rows.
    auto reopened = openRepository(backend.config());
    CHECK(audit::verifyLog(reopened->auditStore(), origin, publicKey, held).ok);
    CHECK(audit::verifyReceipt(log.prove(42), origin, publicKey));

    backend.rawSql("UPDATE audit_entries SET entry = replace(entry, 'writer-', 'forger-') WHERE idx = 17");
    result = audit::verifyLog(reopened->auditStore(), origin, publicKey, held);
    CHECK(result.problem == "audit.chain");
    CHECK(result.firstBadIndex == 17u);
    backend.rawSql("UPDATE audit_entries SET entry = replace(entry, 'forger-', 'writer-') WHERE idx = 17");
    REQUIRE(audit::verifyLog(reopened->auditStore(), origin, publicKey, held).ok);
    backend.rawSql("DELETE FROM audit_entries WHERE idx >= 55");
    backend.rawSql("DELETE FROM audit_checkpoints WHERE size > 55");
    CHECK(audit::verifyLog(reopened->auditStore(), origin, publicKey, held).problem == "audit.truncated");
    backend.rawSql("DELETE FROM audit_entries WHERE idx = 30");
    CHECK(audit::verifyLog(reopened->auditStore(), origin, publicKey).problem == "audit.entry_index");
}

TEST_CASE("checkpoint timestamp tokens round-trip, are added once, and a TSA that is down costs nothing", "[storage][conformance][audit]") {
    Backend backend;
    auto repository = openRepository(backend.config());
    auto& store = repository->auditStore();
    // A DER token holds every byte value, NUL included.
    std::string token;
    for (int b = 0; b < 256; ++b) token.push_back(static_cast<char>(b));
    store.putCheckpoint(3, "note of 3\n", token);
    store.putCheckpoint(7, "note of 7\n", "");
    store.putCheckpoint(3, "another note of 3\n", "another token");  // the first one stays
    auto stored = store.storedCheckpoints();
    REQUIRE(stored.size() == 2);
    CHECK(stored[0].size == 3);
    CHECK(stored[0].note == "note of 3\n");
    CHECK(stored[0].timestampToken == token);
    CHECK(stored[1].timestampToken.empty());
    CHECK(store.newestCheckpoint()->size == 7);
    CHECK(store.checkpoints() == std::vector<std::string>{"note of 3\n", "note of 7\n"});

    CHECK(store.addCheckpointTimestamp(7, token + "7"));
    CHECK_FALSE(store.addCheckpointTimestamp(7, "later"));  // never replaced
    CHECK_FALSE(store.addCheckpointTimestamp(3, "later"));
    CHECK_FALSE(store.addCheckpointTimestamp(5, "nowhere"));
    auto reopened = openRepository(backend.config());
    stored = reopened->auditStore().storedCheckpoints();
    CHECK(stored[0].timestampToken == token);
    CHECK(stored[1].timestampToken == token + "7");
    CHECK(reopened->auditStore().newestCheckpoint()->timestampToken == token + "7");

    // Concurrent backfills: exactly one token per checkpoint wins.
    store.putCheckpoint(9, "note of 9\n", "");
    std::vector<std::thread> adders;
    std::atomic<int> won{0};
    for (int t = 0; t < 4; ++t) {
        adders.emplace_back([&, t] {
            if (openRepository(backend.config())->auditStore().addCheckpointTimestamp(9, "token-" + std::to_string(t))) ++won;
        });
    }
    for (auto& t : adders) t.join();
    CHECK(won == 1);
    CHECK(store.newestCheckpoint()->timestampToken.rfind("token-", 0) == 0);
}

TEST_CASE("an audit log on the database keeps checkpoints without a token while the TSA is down, and adds them later", "[storage][conformance][audit]") {
    Backend backend;
    auto repository = openRepository(backend.config());
    const std::string origin = "kooperdoc.test/audit";
    const std::string keyPem = audit::CheckpointSigner::generatePem();
    bool down = true;
    audit::AuditLog log(repository->auditStore(), audit::CheckpointSigner::fromPem(origin, keyPem), 4, [&](const Sha256& imprint) {
        if (down) throw Error(ErrorCode::kUnavailable, "timestamp.unavailable", "no route to the TSA");
        return "tst:" + toHex(imprint);
    });
    for (int i = 0; i < 8; ++i) {
        audit::AuditEvent e;
        e.time = kNow + i;
        e.tenantId = "ops-a";
        e.actorId = "writer";
        e.actorRole = "system";
        e.type = "document.created";
        e.documentId = "KD-" + std::to_string(i);
        CHECK(log.record(e) == static_cast<std::uint64_t>(i));
    }
    auto stored = repository->auditStore().storedCheckpoints();
    REQUIRE(stored.size() == 2);
    CHECK(stored[0].timestampToken.empty());
    CHECK(stored[1].timestampToken.empty());
    down = false;
    const auto backfill = log.timestampMissing(10);
    CHECK(backfill.added == 2);
    CHECK(backfill.missing == 0);
    stored = openRepository(backend.config())->auditStore().storedCheckpoints();
    for (const auto& c : stored) CHECK(c.timestampToken == "tst:" + toHex(sha256(c.note)));
    const auto publicKey = audit::CheckpointSigner::fromPem(origin, keyPem).publicKeyPem();
    CHECK(log.prove(1).checkpointTimestamp == stored.back().timestampToken);  // the newest checkpoint covering it
    const auto result = audit::verifyLog(repository->auditStore(), origin, publicKey);
    CHECK(result.ok);
    CHECK(result.timestampedCheckpoints == 2);
}

TEST_CASE("migration 5 gives the checkpoints of an existing database an empty timestamp column", "[storage][conformance][audit]") {
    Backend backend;
    openRepository(backend.config());
    // Back to the schema of version 4 (this test is about the step from 4 to 5), with a
    // checkpoint stored by a build that knew nothing of timestamps.
    backend.rawSql("ALTER TABLE audit_checkpoints DROP COLUMN timestamp_token");
    backend.rawSql("DELETE FROM schema_migrations WHERE version >= 5");
    backend.rawSql("INSERT INTO audit_checkpoints (size, note) VALUES (3, 'an old note')");
    auto repository = openRepository(backend.config());
    CHECK(repository->schemaVersion() == currentSchemaVersion());
    CHECK(currentSchemaVersion() >= 5);
    auto stored = repository->auditStore().storedCheckpoints();
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].note == "an old note");
    CHECK(stored[0].timestampToken.empty());
    CHECK(repository->auditStore().addCheckpointTimestamp(3, "a later token"));
    CHECK(repository->auditStore().storedCheckpoints()[0].timestampToken == "a later token");
}

TEST_CASE("rectification adds a corrected version or an annex and never rewrites the earlier document", "[storage][conformance]") {
    Backend backend;
    auto store = backend.open(testMasterKey());
    store->putTenant("ops-a", "{}", kNow);
    auto original = request("ops-a", {kJan}, "%PDF signed declaration with a wrong address");
    original.caseRef = "case-9";
    const auto first = store->store(original);
    store->addRevision("ops-a", first.documentId, 1, "%PDF signed declaration with a wrong address + signature", "signed_upload",
                       DocumentStatus::kSigned, kNow + 10);
    auto corrected = request("ops-a", {kJan}, "%PDF corrected declaration");
    corrected.caseRef = "";
    const auto second = store->supersede(first.documentId, corrected, "corrected_version");
    auto annexRequest = request("ops-a", {kJan}, "%PDF annex");
    annexRequest.caseRef = "case-9";
    annexRequest.now = kNow + 5;  // "oldest first": the annex comes after the corrected version
    const auto annex = store->supersede(first.documentId, annexRequest, "annex");
    const auto later = store->repository().documentsSuperseding("ops-a", first.documentId);
    REQUIRE(later.size() == 2);
    CHECK(later[0].id == second.documentId);
    CHECK(later[0].relation == "corrected_version");
    CHECK(later[0].caseRef == "case-9");
    CHECK(later[1].relation == "annex");
    CHECK(store->repository().document("ops-a", second.documentId)->supersedes == first.documentId);
    // The signed original is untouched, byte for byte, with both its revisions.
    CHECK(store->read("ops-a", first.documentId) == "%PDF signed declaration with a wrong address + signature");
    CHECK(store->repository().revisions(first.documentId).size() == 2);
    CHECK(store->read("ops-a", second.documentId) == "%PDF corrected declaration");
    (void)annex;
    auto otherCase = request("ops-a", {kJan}, "%PDF");
    otherCase.caseRef = "case-10";
    CHECK(reasonOf([&] { store->supersede(first.documentId, otherCase, "annex"); }) == "storage.case_mismatch");
    CHECK(reasonOf([&] { store->supersede(first.documentId, request("ops-a", {kJan}, "%PDF"), "rewrite"); }) == "storage.relation_invalid");
    CHECK(reasonOf([&] { store->supersede("KD-NONE", request("ops-a", {kJan}, "%PDF"), "annex"); }) == "storage.document_unknown");
}

TEST_CASE("a database that is gone is a clear storage.unavailable, never a crash", "[storage][conformance]") {
#ifdef KOOPERDOC_TEST_POSTGRES
    const auto config = DatabaseConfig::parse(std::string("postgresql:") + KOOPERDOC_TEST_POSTGRES + " dbname=kd_never_created");
#else
    const auto config = DatabaseConfig::parse("sqlite:/nonexistent-directory/kooperdoc.db");
#endif
    CHECK(reasonOf([&] { openRepository(config); }) == "storage.unavailable");
}
