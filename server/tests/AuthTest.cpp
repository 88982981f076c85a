// SPDX-License-Identifier: AGPL-3.0-or-later
// Who is asking (issue 7, point 3) over a real SQLite repository: API keys, passwords (argon2id
// at a tiny cost, so the suite stays fast), the lock-out, sessions and their CSRF tokens.
#include <catch2/catch.hpp>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <memory>
#include <regex>
#include <set>
#include <vector>

#include "ErrorReason.h"
#include "TempDir.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/server/Auth.h"
#include "kooperdoc/storage/Repository.h"

using namespace kooperdoc;
using namespace kooperdoc::server;
using kooperdoc::testing::reasonOf;
using kooperdoc::testing::TempDir;

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

AuthPolicy fastPolicy() {
    AuthPolicy policy;
    policy.argon2MemoryKiB = 8;
    policy.argon2Iterations = 1;
    policy.argon2Parallelism = 1;
    return policy;
}

/// A repository in a temporary directory with tenants ops-a and ops-b.
struct Fixture {
    TempDir dir{"kooperdoc-auth"};
    std::unique_ptr<storage::Repository> repository;
    Authenticator auth;

    explicit Fixture(AuthPolicy policy = fastPolicy())
        : repository(open(dir)), auth(*repository, policy) {}

    static std::unique_ptr<storage::Repository> open(const TempDir& dir) {
        auto repository = storage::openRepository(storage::DatabaseConfig::parse("sqlite:" + dir.file("kooperdoc.db")));
        for (const char* id : {"ops-a", "ops-b"}) repository->putTenant({id, "{}", "wrapped", kNow});
        return repository;
    }

    /// A user whose first password is already changed to \p password.
    std::string userWithPassword(const std::string& login, const std::string& password, Role role = Role::kAnimator) {
        const auto issued = auth.createUser("ops-a", login, role, kNow);
        const auto first = auth.login(login, issued.oneTimePassword, kNow);
        auth.changePassword(first.token, issued.oneTimePassword, password, kNow);
        auth.logout(first.token);
        return issued.id;
    }
};

}  // namespace

TEST_CASE("roles have stable names", "[server][auth]") {
    for (const Role role : {Role::kIntake, Role::kAnimator, Role::kAuditor, Role::kDpo, Role::kAdmin}) {
        CHECK(parseRole(toString(role)) == role);
    }
    CHECK(std::string(toString(Role::kDpo)) == "dpo");
    CHECK(reasonOf([] { parseRole("root"); }) == "auth.role_unknown");
    CHECK(reasonOf([] { parseRole("Admin"); }) == "auth.role_unknown");
}

TEST_CASE("an issued API key authenticates as its tenant and role, under its id", "[server][auth]") {
    Fixture f;
    const auto issued = f.auth.createApiKey("ops-a", Role::kIntake, "ePUAP gateway", kNow);
    CHECK(std::regex_match(issued.secret, std::regex("kd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")));
    CHECK(issued.secret.rfind("kd_" + issued.id + "_", 0) == 0);

    const auto principal = f.auth.authenticateApiKey(issued.secret, kNow + 1);
    CHECK(principal.tenantId == "ops-a");
    CHECK(principal.role == Role::kIntake);
    CHECK(principal.actorId == "key:" + issued.id);
    CHECK_FALSE(principal.csrfToken);

    const auto other = f.auth.createApiKey("ops-b", Role::kAuditor, "kontrola", kNow);
    CHECK(other.secret != issued.secret);
    CHECK(f.auth.authenticateApiKey(other.secret, kNow).tenantId == "ops-b");
    CHECK(f.auth.authenticateApiKey(other.secret, kNow).role == Role::kAuditor);

    // Only the hash is kept, and listings never carry the secret.
    const auto keys = f.auth.apiKeys("ops-a");
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].id == issued.id);
    CHECK(keys[0].label == "ePUAP gateway");
    CHECK(keys[0].role == "intake");
    CHECK(keys[0].keySha256 == sha256Hex(issued.secret));
    CHECK(keys[0].keySha256.find(issued.secret.substr(20)) == std::string::npos);

    CHECK(reasonOf([&] { f.auth.createApiKey("nobody", Role::kIntake, "x", kNow); }) == "storage.tenant_unknown");
    CHECK(reasonOf([&] { f.auth.createApiKey("ops-a", Role::kIntake, "line\nbreak", kNow); }) == "auth.label_invalid");
}

TEST_CASE("revoked, unknown and malformed API keys get one answer", "[server][auth]") {
    Fixture f;
    const auto issued = f.auth.createApiKey("ops-a", Role::kAnimator, "", kNow);
    const auto kept = f.auth.createApiKey("ops-a", Role::kAnimator, "", kNow);

    CHECK(reasonOf([&] { f.auth.revokeApiKey("ops-b", issued.id, kNow); }) == "auth.key_unknown");  // not ops-b's key
    CHECK(reasonOf([&] { f.auth.revokeApiKey("ops-a", "0000000000000000", kNow); }) == "auth.key_unknown");
    f.auth.revokeApiKey("ops-a", issued.id, kNow + 60);
    for (const auto& k : f.auth.apiKeys("ops-a")) CHECK(k.revokedAt == (k.id == issued.id ? std::optional<std::int64_t>(kNow + 60) : std::nullopt));

    std::string flipped = kept.secret;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    const std::string unknownId = "kd_0123456789abcdef_" + kept.secret.substr(kept.secret.size() - 43);
    for (const std::string& bad : std::vector<std::string>{issued.secret, flipped, unknownId, std::string(), std::string("kd_"), kept.secret + "x",
                                   kept.secret.substr(0, kept.secret.size() - 1), "Bearer " + kept.secret,
                                   std::string("kd_") + kept.id + "_" + std::string(43, '!')}) {
        INFO(bad);
        CHECK(reasonOf([&] { f.auth.authenticateApiKey(bad, kNow + 120); }) == "auth.invalid_key");
    }
    try {
        f.auth.authenticateApiKey(issued.secret, kNow + 120);
        FAIL("a revoked key authenticated");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::kUnauthenticated);
    }
    CHECK(f.auth.authenticateApiKey(kept.secret, kNow + 120).actorId == "key:" + kept.id);
}

TEST_CASE("passwords are argon2id PHC strings that verify only the right password", "[server][auth]") {
    Fixture f;
    const auto hash = f.auth.hashPassword("correct horse battery staple");
    CHECK(std::regex_match(hash, std::regex(R"(\$argon2id\$v=19\$m=8,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43})")));
    CHECK(f.auth.checkPassword("correct horse battery staple", hash));
    CHECK_FALSE(f.auth.checkPassword("correct horse battery stapl", hash));
    CHECK_FALSE(f.auth.checkPassword("", hash));
    CHECK(f.auth.hashPassword("correct horse battery staple") != hash);  // a fresh salt each time
    CHECK_FALSE(f.auth.checkPassword("x", "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
    CHECK_FALSE(f.auth.checkPassword("x", "plain text"));
    CHECK_FALSE(f.auth.checkPassword("x", ""));

    // The default cost is RFC 9106's second option.
    AuthPolicy defaults;
    CHECK(defaults.argon2MemoryKiB == 64 * 1024);
    CHECK(defaults.argon2Iterations == 3);
}

TEST_CASE("a new user logs in with the one-time password and must change it", "[server][auth]") {
    Fixture f;
    const auto issued = f.auth.createUser("ops-a", "ewa.k", Role::kAnimator, kNow);
    CHECK(issued.id.size() == 32);
    CHECK(issued.oneTimePassword.size() >= 12);
    const auto stored = f.repository->userByLogin("ewa.k");
    REQUIRE(stored);
    CHECK(stored->passwordHash.rfind("$argon2id$", 0) == 0);
    CHECK(stored->passwordHash.find(issued.oneTimePassword) == std::string::npos);

    const auto session = f.auth.login("ewa.k", issued.oneTimePassword, kNow);
    CHECK(session.mustChangePassword);
    CHECK(session.principal.tenantId == "ops-a");
    CHECK(session.principal.role == Role::kAnimator);
    CHECK(session.principal.actorId == "user:" + issued.id);
    CHECK(session.principal.actorId.find("ewa") == std::string::npos);
    REQUIRE(session.principal.csrfToken);
    CHECK(*session.principal.csrfToken == session.csrfToken);
    CHECK(std::regex_match(session.token, std::regex("[A-Za-z0-9_-]{43}")));
    CHECK(std::regex_match(session.csrfToken, std::regex("[A-Za-z0-9_-]{43}")));
    CHECK(session.token != session.csrfToken);
    CHECK(f.repository->session(sha256Hex(session.token)));  // stored by hash only
    CHECK_FALSE(f.repository->session(session.token));

    CHECK(reasonOf([&] { f.auth.changePassword(session.token, issued.oneTimePassword, "short", kNow); }) == "auth.password_weak");
    CHECK(reasonOf([&] { f.auth.changePassword(session.token, issued.oneTimePassword, "ąęśćżźńółĄĘ", kNow); }) ==
          "auth.password_weak");  // eleven characters, more bytes
    CHECK(reasonOf([&] { f.auth.changePassword(session.token, issued.oneTimePassword, issued.oneTimePassword, kNow); }) ==
          "auth.password_unchanged");
    CHECK(reasonOf([&] { f.auth.changePassword(session.token, "not the password", "a long new password", kNow); }) ==
          "auth.login_failed");
    CHECK(reasonOf([&] { f.auth.changePassword("no-such-token", issued.oneTimePassword, "a long new password", kNow); }) ==
          "auth.session_invalid");

    const auto other = f.auth.login("ewa.k", issued.oneTimePassword, kNow + 5);
    f.auth.changePassword(session.token, issued.oneTimePassword, "zażółć gęślą jaźń", kNow + 10);
    const auto after = f.auth.authenticateSession(session.token, kNow + 20);
    CHECK_FALSE(after.mustChangePassword);
    CHECK_FALSE(f.repository->user(issued.id)->mustChangePassword);
    // The other session held the old password: it ends with it.
    CHECK(reasonOf([&] { f.auth.authenticateSession(other.token, kNow + 20); }) == "auth.session_invalid");
    CHECK(reasonOf([&] { f.auth.login("ewa.k", issued.oneTimePassword, kNow + 30); }) == "auth.login_failed");
    CHECK_FALSE(f.auth.login("ewa.k", "zażółć gęślą jaźń", kNow + 30).mustChangePassword);
}

TEST_CASE("logins are checked, unique across tenants, and a wrong login looks like a wrong password", "[server][auth]") {
    Fixture f;
    for (const std::string& bad : std::vector<std::string>{"ab", std::string(65, 'a'), "Ewa.K", "ewa k", "ewa@ops", "łucja", "", "ewa/k"}) {
        INFO(bad);
        CHECK(reasonOf([&] { f.auth.createUser("ops-a", bad, Role::kIntake, kNow); }) == "auth.login_invalid");
    }
    CHECK_NOTHROW(f.auth.createUser("ops-a", "a-b", Role::kIntake, kNow));
    CHECK_NOTHROW(f.auth.createUser("ops-a", std::string(64, 'z'), Role::kIntake, kNow));
    CHECK_NOTHROW(f.auth.createUser("ops-a", "ewa.k_2", Role::kDpo, kNow));
    try {
        f.auth.createUser("ops-b", "ewa.k_2", Role::kIntake, kNow);
        FAIL("a login was given twice");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::kAlreadyExists);
        CHECK(e.reason() == "auth.login_taken");
        CHECK(std::string(e.what()).find("ewa") == std::string::npos);
    }
    CHECK(reasonOf([&] { f.auth.createUser("nobody", "jan.n", Role::kIntake, kNow); }) == "storage.tenant_unknown");

    f.userWithPassword("jan.n", "a good long password");
    CHECK(reasonOf([&] { f.auth.login("nobody.here", "a good long password", kNow); }) == "auth.login_failed");
    CHECK(reasonOf([&] { f.auth.login("NOT VALID", "a good long password", kNow); }) == "auth.login_failed");
    CHECK(reasonOf([&] { f.auth.login("jan.n", "a wrong password", kNow); }) == "auth.login_failed");
    CHECK(reasonOf([&] { f.auth.login("jan.n", std::string(5000, 'x'), kNow); }) == "auth.login_failed");
    CHECK(f.auth.login("jan.n", "a good long password", kNow).principal.role == Role::kAnimator);
}

TEST_CASE("five failures lock the account, even against the right password, until the period ends", "[server][auth]") {
    Fixture f;
    const auto id = f.userWithPassword("ewa.k", "the right password");
    const std::int64_t t0 = kNow + 1000;
    // Four failures, a success: the count starts again.
    for (int i = 0; i < 4; ++i) CHECK(reasonOf([&] { f.auth.login("ewa.k", "wrong", t0); }) == "auth.login_failed");
    CHECK_NOTHROW(f.auth.login("ewa.k", "the right password", t0));
    CHECK(f.repository->user(id)->failedLogins == 0);

    for (int i = 0; i < 5; ++i) CHECK(reasonOf([&] { f.auth.login("ewa.k", "wrong", t0 + i); }) == "auth.login_failed");
    CHECK(f.repository->user(id)->lockedUntil == t0 + 4 + 15 * 60);
    try {
        f.auth.login("ewa.k", "the right password", t0 + 10);
        FAIL("a locked account logged in");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::kResourceExhausted);
        CHECK(e.reason() == "auth.locked");
    }
    // Locked: guesses are not even checked, so they cost nothing and count nothing.
    CHECK(reasonOf([&] { f.auth.login("ewa.k", "wrong", t0 + 20); }) == "auth.locked");
    CHECK(f.repository->user(id)->failedLogins == 0);
    CHECK(reasonOf([&] { f.auth.login("ewa.k", "the right password", t0 + 4 + 15 * 60 - 1); }) == "auth.locked");

    const auto session = f.auth.login("ewa.k", "the right password", t0 + 4 + 15 * 60);
    CHECK(session.principal.actorId == "user:" + id);
    CHECK_FALSE(f.repository->user(id)->lockedUntil);

    // The policy decides the limit and the period.
    AuthPolicy strict = fastPolicy();
    strict.maxFailedLogins = 2;
    strict.lockoutSeconds = 60;
    Authenticator strictAuth(*f.repository, strict);
    for (int i = 0; i < 2; ++i) CHECK(reasonOf([&] { strictAuth.login("ewa.k", "wrong", t0 + 5000); }) == "auth.login_failed");
    CHECK(reasonOf([&] { strictAuth.login("ewa.k", "the right password", t0 + 5059); }) == "auth.locked");
    CHECK_NOTHROW(strictAuth.login("ewa.k", "the right password", t0 + 5060));
}

TEST_CASE("wrong old passwords at change-password count towards the lock-out", "[server][auth]") {
    Fixture f;
    const auto id = f.userWithPassword("ewa.k", "the right password");
    const auto session = f.auth.login("ewa.k", "the right password", kNow);
    for (int i = 0; i < 5; ++i) {
        CHECK(reasonOf([&] { f.auth.changePassword(session.token, "guess", "a brand new password", kNow); }) == "auth.login_failed");
    }
    CHECK(reasonOf([&] { f.auth.changePassword(session.token, "the right password", "a brand new password", kNow); }) ==
          "auth.locked");
    CHECK(f.repository->user(id)->lockedUntil == kNow + 15 * 60);
}

TEST_CASE("sessions expire, end at logout, and are only ever found by their token", "[server][auth]") {
    AuthPolicy policy = fastPolicy();
    policy.sessionSeconds = 3600;
    Fixture f(policy);
    const auto id = f.userWithPassword("ewa.k", "the right password", Role::kDpo);
    const auto session = f.auth.login("ewa.k", "the right password", kNow);

    const auto found = f.auth.authenticateSession(session.token, kNow + 3599);
    CHECK(found.token == session.token);
    CHECK(found.csrfToken == session.csrfToken);
    CHECK(found.principal.role == Role::kDpo);
    CHECK(found.principal.tenantId == "ops-a");
    CHECK(found.principal.actorId == "user:" + id);
    REQUIRE(found.principal.csrfToken);
    CHECK(*found.principal.csrfToken == session.csrfToken);

    CHECK(reasonOf([&] { f.auth.authenticateSession(session.token, kNow + 3600); }) == "auth.session_invalid");
    CHECK_FALSE(f.repository->session(sha256Hex(session.token)));  // an expired session is removed when met
    CHECK(reasonOf([&] { f.auth.authenticateSession(session.token, kNow); }) == "auth.session_invalid");

    const auto second = f.auth.login("ewa.k", "the right password", kNow + 10);
    CHECK(second.token != session.token);
    CHECK(second.csrfToken != session.csrfToken);
    CHECK(reasonOf([&] { f.auth.authenticateSession(second.csrfToken, kNow + 20); }) == "auth.session_invalid");
    CHECK(reasonOf([&] { f.auth.authenticateSession("", kNow + 20); }) == "auth.session_invalid");
    CHECK(reasonOf([&] { f.auth.authenticateSession(sha256Hex(second.token), kNow + 20); }) == "auth.session_invalid");
    f.auth.logout(second.token);
    CHECK(reasonOf([&] { f.auth.authenticateSession(second.token, kNow + 20); }) == "auth.session_invalid");
    f.auth.logout(second.token);  // twice is harmless
    f.auth.logout("");

    // A login sweeps the sessions that expired meanwhile.
    const auto third = f.auth.login("ewa.k", "the right password", kNow + 20);
    f.repository->insertSession({sha256Hex("stale"), id, "csrf", kNow - 7200, kNow - 3600});
    f.auth.login("ewa.k", "the right password", kNow + 30);
    CHECK_FALSE(f.repository->session(sha256Hex("stale")));
    CHECK(f.auth.authenticateSession(third.token, kNow + 40).principal.actorId == "user:" + id);
}

TEST_CASE("one-time passwords, session and CSRF tokens do not repeat", "[server][auth]") {
    Fixture f;
    std::set<std::string> seen;
    for (int i = 0; i < 5; ++i) {
        const auto user = f.auth.createUser("ops-a", "user-" + std::to_string(i), Role::kIntake, kNow);
        CHECK(seen.insert(user.oneTimePassword).second);
        CHECK(seen.insert(user.id).second);
        const auto session = f.auth.login("user-" + std::to_string(i), user.oneTimePassword, kNow);
        CHECK(seen.insert(session.token).second);
        CHECK(seen.insert(session.csrfToken).second);
    }
}

TEST_CASE("the policy comes from the kooperdoc.auth keys, each with AuthPolicy's default", "[server][auth]") {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    const auto defaults = loadAuthPolicy(*config);
    CHECK(defaults.maxFailedLogins == 5);
    CHECK(defaults.lockoutSeconds == 900);
    CHECK(defaults.sessionSeconds == 8 * 3600);
    CHECK(defaults.argon2MemoryKiB == 65536);
    CHECK(defaults.argon2Iterations == 3);
    CHECK(defaults.argon2Parallelism == 1);

    config->setString("kooperdoc.auth.max_failed_logins", "3");
    config->setString("kooperdoc.auth.lockout_seconds", "60");
    config->setString("kooperdoc.auth.session_seconds", "600");
    config->setString("kooperdoc.auth.argon2.memory_kib", "16");
    config->setString("kooperdoc.auth.argon2.iterations", "2");
    config->setString("kooperdoc.auth.argon2.parallelism", "2");
    const auto custom = loadAuthPolicy(*config);
    CHECK(custom.maxFailedLogins == 3);
    CHECK(custom.lockoutSeconds == 60);
    CHECK(custom.sessionSeconds == 600);
    CHECK(custom.argon2MemoryKiB == 16);
    CHECK(custom.argon2Iterations == 2);
    CHECK(custom.argon2Parallelism == 2);
    Fixture f(custom);
    CHECK(f.auth.hashPassword("x").rfind("$argon2id$v=19$m=16,t=2,p=2$", 0) == 0);

    config->setString("kooperdoc.auth.argon2.memory_kib", "8");  // below 8 KiB per lane
    CHECK(reasonOf([&] { loadAuthPolicy(*config); }) == "config.invalid");
    config->setString("kooperdoc.auth.argon2.memory_kib", "16");
    config->setString("kooperdoc.auth.max_failed_logins", "0");
    CHECK(reasonOf([&] { loadAuthPolicy(*config); }) == "config.invalid");
    config->setString("kooperdoc.auth.max_failed_logins", "five");
    CHECK(reasonOf([&] { loadAuthPolicy(*config); }) == "config.invalid");
}

TEST_CASE("a disabled user can neither log in nor keep a session, until enabled again", "[server][auth]") {
    Fixture f;
    const auto id = f.userWithPassword("ewa.k", "the right password");
    const auto session = f.auth.login("ewa.k", "the right password", kNow);
    CHECK(f.auth.users("ops-a").size() == 1);
    CHECK(f.auth.users("ops-b").empty());

    // Another tenant's admin cannot reach the user: the same answer as for no user at all.
    CHECK(reasonOf([&] { f.auth.setUserDisabled("ops-b", id, true); }) == "auth.user_unknown");
    CHECK(reasonOf([&] { f.auth.setUserDisabled("ops-a", "no-such-user", true); }) == "auth.user_unknown");
    CHECK_FALSE(f.repository->user(id)->disabled);

    f.auth.setUserDisabled("ops-a", id, true);
    CHECK(f.repository->user(id)->disabled);
    CHECK(reasonOf([&] { f.auth.authenticateSession(session.token, kNow + 1); }) == "auth.session_invalid");
    CHECK_FALSE(f.repository->session(sha256Hex(session.token)));
    // The right password gets the answer a wrong one gets: nothing tells the account exists.
    CHECK(reasonOf([&] { f.auth.login("ewa.k", "the right password", kNow + 2); }) == "auth.login_failed");

    f.auth.setUserDisabled("ops-a", id, false);
    CHECK(f.auth.login("ewa.k", "the right password", kNow + 3).principal.actorId == "user:" + id);
}

TEST_CASE("a reset password is a new one-time password that ends sessions and lifts the lock", "[server][auth]") {
    Fixture f;
    const auto id = f.userWithPassword("ewa.k", "the right password");
    const auto session = f.auth.login("ewa.k", "the right password", kNow);
    for (int i = 0; i < 5; ++i) CHECK_THROWS(f.auth.login("ewa.k", "a wrong password", kNow + 1));
    CHECK(reasonOf([&] { f.auth.login("ewa.k", "the right password", kNow + 2); }) == "auth.locked");

    CHECK(reasonOf([&] { f.auth.resetPassword("ops-b", id); }) == "auth.user_unknown");
    const auto reset = f.auth.resetPassword("ops-a", id);
    CHECK(reset.id == id);
    CHECK(reset.oneTimePassword.size() == 20);
    CHECK(reasonOf([&] { f.auth.authenticateSession(session.token, kNow + 3); }) == "auth.session_invalid");
    CHECK(reasonOf([&] { f.auth.login("ewa.k", "the right password", kNow + 4); }) == "auth.login_failed");
    const auto fresh = f.auth.login("ewa.k", reset.oneTimePassword, kNow + 5);
    CHECK(fresh.mustChangePassword);
}
