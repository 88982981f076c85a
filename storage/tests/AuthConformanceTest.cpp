// SPDX-License-Identifier: AGPL-3.0-or-later
// The authentication rows (issue 7, point 3) on both backends: compiled into storage_tests
// (SQLite) and storage_postgres_tests (PostgreSQL), like ConformanceTest.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "Backend.h"
#include "ErrorReason.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Repository.h"

using namespace kooperdoc;
using namespace kooperdoc::storage;
using kooperdoc::testing::Backend;
using kooperdoc::testing::reasonOf;

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

std::unique_ptr<Repository> withTenants(const Backend& backend) { return backend.withTenants({"ops-a", "ops-b"}, kNow); }

ApiKeyRecord key(const std::string& id, const std::string& tenant, std::int64_t createdAt) {
    ApiKeyRecord k;
    k.id = id;
    k.tenantId = tenant;
    k.role = "intake";
    k.label = "gateway " + id;
    k.keySha256 = sha256Hex("secret of " + id);
    k.createdAt = createdAt;
    return k;
}

UserRecord user(const std::string& id, const std::string& tenant, const std::string& login) {
    UserRecord u;
    u.id = id;
    u.tenantId = tenant;
    u.login = login;
    u.role = "animator";
    u.passwordHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA";
    u.mustChangePassword = true;
    u.createdAt = kNow;
    return u;
}

}  // namespace

TEST_CASE("API keys are stored by hash, listed per tenant and revoked once", "[storage][conformance][auth]") {
    Backend backend;
    auto repository = withTenants(backend);
    repository->insertApiKey(key("k2", "ops-a", kNow + 10));
    repository->insertApiKey(key("k1", "ops-a", kNow));
    repository->insertApiKey(key("k3", "ops-b", kNow));
    CHECK(reasonOf([&] { repository->insertApiKey(key("k4", "nobody", kNow)); }) == "storage.tenant_unknown");

    const auto found = repository->apiKeyByHash(sha256Hex("secret of k2"));
    REQUIRE(found);
    CHECK(found->id == "k2");
    CHECK(found->tenantId == "ops-a");
    CHECK(found->role == "intake");
    CHECK(found->label == "gateway k2");
    CHECK(found->createdAt == kNow + 10);
    CHECK_FALSE(found->revokedAt);
    CHECK_FALSE(repository->apiKeyByHash(sha256Hex("secret of k9")));

    const auto listed = repository->apiKeys("ops-a");
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == "k1");  // oldest first
    CHECK(listed[1].id == "k2");
    CHECK(repository->apiKeys("ops-b").size() == 1);

    CHECK(repository->revokeApiKey("ops-a", "k1", kNow + 100));
    CHECK(repository->revokeApiKey("ops-a", "k1", kNow + 200));  // still there; the first time stays
    CHECK(repository->apiKeyByHash(sha256Hex("secret of k1"))->revokedAt == kNow + 100);
    CHECK_FALSE(repository->revokeApiKey("ops-a", "k3", kNow));  // another tenant's key
    CHECK_FALSE(repository->revokeApiKey("ops-a", "k9", kNow));
    CHECK_FALSE(repository->apiKeyByHash(sha256Hex("secret of k3"))->revokedAt);
    CHECK_FALSE(openRepository(backend.config())->apiKeys("ops-a")[1].revokedAt);
}

TEST_CASE("users: one login across tenants, even when created at once", "[storage][conformance][auth]") {
    Backend backend;
    auto repository = withTenants(backend);
    CHECK(repository->insertUser(user("u1", "ops-a", "ewa.k")));
    CHECK_FALSE(repository->insertUser(user("u2", "ops-b", "ewa.k")));
    CHECK_FALSE(repository->user("u2"));
    CHECK(reasonOf([&] { repository->insertUser(user("u3", "nobody", "someone")); }) == "storage.tenant_unknown");

    const auto byLogin = repository->userByLogin("ewa.k");
    REQUIRE(byLogin);
    CHECK(byLogin->id == "u1");
    CHECK(byLogin->tenantId == "ops-a");
    CHECK(byLogin->role == "animator");
    CHECK(byLogin->passwordHash == "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA");
    CHECK(byLogin->mustChangePassword);
    CHECK(byLogin->failedLogins == 0);
    CHECK_FALSE(byLogin->lockedUntil);
    CHECK(byLogin->createdAt == kNow);
    CHECK_FALSE(byLogin->disabled);
    CHECK(repository->user("u1")->login == "ewa.k");
    CHECK_FALSE(repository->userByLogin("nobody"));

    std::vector<std::thread> creators;
    std::atomic<int> created{0};
    for (int t = 0; t < 4; ++t) {
        creators.emplace_back([&, t] {
            if (openRepository(backend.config())->insertUser(user("racer-" + std::to_string(t), "ops-b", "same.login"))) ++created;
        });
    }
    for (auto& t : creators) t.join();
    CHECK(created == 1);
    CHECK(repository->userByLogin("same.login"));
}

TEST_CASE("failed logins are counted atomically and lock at the limit, and a success clears them", "[storage][conformance][auth]") {
    Backend backend;
    auto repository = withTenants(backend);
    REQUIRE(repository->insertUser(user("u1", "ops-a", "ewa.k")));
    for (int i = 1; i < 5; ++i) {
        CHECK_FALSE(repository->recordFailedLogin("u1", 5, kNow + 900));
        CHECK(repository->user("u1")->failedLogins == i);
    }
    CHECK(repository->recordFailedLogin("u1", 5, kNow + 900));
    auto locked = repository->user("u1");
    CHECK(locked->lockedUntil == kNow + 900);
    CHECK(locked->failedLogins == 0);

    repository->recordSuccessfulLogin("u1");
    CHECK_FALSE(repository->user("u1")->lockedUntil);
    CHECK(repository->user("u1")->failedLogins == 0);

    // Parallel guesses: every one counts, and exactly one of them locks.
    std::vector<std::thread> guessers;
    std::atomic<int> locks{0};
    for (int t = 0; t < 4; ++t) {
        guessers.emplace_back([&] {
            auto own = openRepository(backend.config());
            for (int i = 0; i < 3; ++i) {
                if (own->recordFailedLogin("u1", 12, kNow + 1800)) ++locks;
            }
        });
    }
    for (auto& t : guessers) t.join();
    CHECK(locks == 1);
    CHECK(repository->user("u1")->failedLogins == 0);
    CHECK(repository->user("u1")->lockedUntil == kNow + 1800);

    repository->setPassword("u1", "$argon2id$new", false);
    CHECK(repository->user("u1")->passwordHash == "$argon2id$new");
    CHECK_FALSE(repository->user("u1")->mustChangePassword);
    CHECK(reasonOf([&] { repository->setPassword("u9", "x", false); }) == "storage.user_unknown");
}

TEST_CASE("sessions are found by token hash, deleted one by one, per user and when expired", "[storage][conformance][auth]") {
    Backend backend;
    auto repository = withTenants(backend);
    REQUIRE(repository->insertUser(user("u1", "ops-a", "ewa.k")));
    REQUIRE(repository->insertUser(user("u2", "ops-b", "jan.n")));
    repository->insertSession({sha256Hex("t1"), "u1", "csrf1", kNow, kNow + 100});
    repository->insertSession({sha256Hex("t2"), "u1", "csrf2", kNow, kNow + 200});
    repository->insertSession({sha256Hex("t3"), "u1", "csrf3", kNow, kNow + 300});
    repository->insertSession({sha256Hex("t4"), "u2", "csrf4", kNow, kNow + 50});

    const auto found = repository->session(sha256Hex("t2"));
    REQUIRE(found);
    CHECK(found->userId == "u1");
    CHECK(found->csrfToken == "csrf2");
    CHECK(found->createdAt == kNow);
    CHECK(found->expiresAt == kNow + 200);
    CHECK_FALSE(repository->session(sha256Hex("t9")));

    repository->deleteSession(sha256Hex("t1"));
    CHECK_FALSE(repository->session(sha256Hex("t1")));
    repository->deleteSession(sha256Hex("t1"));  // gone already: nothing to do

    repository->deleteSessionsOfUser("u1", sha256Hex("t3"));
    CHECK_FALSE(repository->session(sha256Hex("t2")));
    CHECK(repository->session(sha256Hex("t3")));
    CHECK(repository->session(sha256Hex("t4")));

    CHECK(repository->deleteExpiredSessions(kNow + 50) == 1);  // expiresAt <= now
    CHECK_FALSE(repository->session(sha256Hex("t4")));
    CHECK(repository->deleteExpiredSessions(kNow + 299) == 0);
    CHECK(repository->deleteExpiredSessions(kNow + 300) == 1);
    CHECK_FALSE(repository->session(sha256Hex("t3")));
}

TEST_CASE("users are listed and disabled per tenant", "[storage][conformance][auth]") {
    Backend backend;
    auto repository = withTenants(backend);
    REQUIRE(repository->insertUser(user("u1", "ops-a", "ewa.k")));
    auto later = user("u2", "ops-a", "jan.n");
    later.createdAt = kNow + 10;
    REQUIRE(repository->insertUser(later));
    REQUIRE(repository->insertUser(user("u3", "ops-b", "ola.m")));

    const auto listed = repository->users("ops-a");
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == "u1");
    CHECK(listed[1].id == "u2");
    CHECK(listed[1].login == "jan.n");
    CHECK(repository->users("ops-b").size() == 1);
    CHECK(repository->users("nobody").empty());

    CHECK_FALSE(repository->setUserDisabled("ops-b", "u1", true));  // another tenant's user
    CHECK_FALSE(repository->user("u1")->disabled);
    CHECK(repository->setUserDisabled("ops-a", "u1", true));
    CHECK(repository->user("u1")->disabled);
    CHECK_FALSE(repository->user("u2")->disabled);
    CHECK(repository->setUserDisabled("ops-a", "u1", false));
    CHECK_FALSE(repository->user("u1")->disabled);
    CHECK_FALSE(repository->setUserDisabled("ops-a", "u9", true));
}

TEST_CASE("legal holds are listed per tenant, cleared ones included", "[storage][conformance][holds]") {
    Backend backend;
    auto repository = withTenants(backend);
    repository->placeHold({"h1", "ops-a", "", "CASE-1", "complaint", "key:1", kNow, {}, ""});
    repository->placeHold({"h2", "ops-a", "", "CASE-2", "inspection", "key:1", kNow + 5, {}, ""});
    repository->placeHold({"h3", "ops-b", "", "CASE-1", "other", "key:2", kNow, {}, ""});
    repository->clearHold("ops-a", "h1", "key:3", kNow + 9);
    const auto holds = repository->legalHolds("ops-a");
    REQUIRE(holds.size() == 2);
    CHECK(holds[0].id == "h1");
    CHECK(holds[0].caseRef == "CASE-1");
    CHECK(holds[0].documentId.empty());
    CHECK(holds[0].clearedAt == kNow + 9);
    CHECK(holds[0].clearedBy == "key:3");
    CHECK(holds[1].id == "h2");
    CHECK(holds[1].reason == "inspection");
    CHECK(holds[1].setBy == "key:1");
    CHECK_FALSE(holds[1].clearedAt);
    CHECK(repository->legalHolds("ops-b").size() == 1);
}
