// SPDX-License-Identifier: AGPL-3.0-or-later
// `kooperdoc admin` end to end (issue 7, point 3): tenants, API keys and users made in a data
// directory, checked in the database with sqlite3 (only hashes there) and in the audit log (ids,
// never logins), which keeps verifying.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "CliSupport.h"
#include "StoreCliSupport.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;

namespace {

/// argon2id at a tiny cost, so that creating users stays fast (and the keys are read).
class AdminCli : public StoreCli {
public:
    explicit AdminCli(const std::string& name)
        : StoreCli(name, "", "kooperdoc.auth.argon2.memory_kib = 8\nkooperdoc.auth.argon2.iterations = 1\n") {}

    /// One column of a query on the database, a line per row.
    std::vector<std::string> sql(const std::string& statement) {
        const auto result = runCommand("sqlite3 " + quote(database()) + " " + quote(statement) + " 2>&1");
        REQUIRE(result.exitCode == 0);
        std::vector<std::string> lines;
        std::istringstream in(result.output);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    }
};

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string lastLine(const std::string& text) {
    const auto all = lines(text);
    return all.empty() ? std::string() : all.back();
}

}  // namespace

TEST_CASE("admin CLI: tenants, API keys and users, stored as hashes and audited by id") {
    AdminCli kd("admin");

    // Tenants.
    auto created = kd.run("admin create-tenant ops-b --actor u-1");
    REQUIRE(created.exitCode == 0);
    CHECK(lastLine(created.out) == "ops-b");
    writeFile(kd.file("profile.json"), kTenantProfile);
    REQUIRE(kd.run("admin create-tenant ops-c --profile " + quote(kd.file("profile.json"))).exitCode == 0);
    const auto again = kd.run("admin create-tenant ops-b");
    CHECK(again.exitCode == 4);
    CHECK(again.err.find("admin.tenant_exists") != std::string::npos);
    CHECK(kd.run("admin create-tenant 'Ops B'").exitCode == 2);
    CHECK(kd.run("tenant list").out == "gops\nops-b\nops-c\n");
    CHECK(kd.sql("SELECT profile_json FROM tenants WHERE id = 'ops-b'") == std::vector<std::string>{"{}"});

    // Keys: the secret is the last line, the id comes first; only the hash is stored.
    const auto key = kd.run("admin create-key --tenant gops --role intake --label 'ePUAP gateway' --actor u-1");
    REQUIRE(key.exitCode == 0);
    const auto secret = lastLine(key.out);
    const auto keyId = lines(key.out).front();
    CHECK(std::regex_match(secret, std::regex("kd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")));
    CHECK(secret.rfind("kd_" + keyId + "_", 0) == 0);
    CHECK(key.err.find(secret) == std::string::npos);
    CHECK(kd.sql("SELECT key_sha256 FROM api_keys WHERE id = '" + keyId + "'") == std::vector<std::string>{sha256Hex(secret)});
    const auto databaseBytes = [&] {
        std::string bytes;
        for (const char* suffix : {"", "-wal"}) bytes += readFile(kd.database() + suffix);
        return bytes;
    };
    CHECK(databaseBytes().find(secret.substr(20)) == std::string::npos);
    const auto second = kd.run("admin create-key --tenant gops --role auditor");
    REQUIRE(second.exitCode == 0);
    const auto secondId = lines(second.out).front();
    CHECK(lastLine(second.out) != secret);

    const auto badRole = kd.run("admin create-key --tenant gops --role root");
    CHECK(badRole.exitCode == 2);
    CHECK(badRole.err.find("auth.role_unknown") != std::string::npos);
    const auto noTenant = kd.run("admin create-key --tenant nobody --role intake");
    CHECK(noTenant.exitCode == 4);
    CHECK(noTenant.err.find("storage.tenant_unknown") != std::string::npos);
    CHECK(kd.run("admin create-key --role intake").exitCode == 2);

    // Listing never shows a secret.
    auto listed = kd.run("admin list-keys --tenant gops --json");
    REQUIRE(listed.exitCode == 0);
    CHECK(listed.out.find(secret.substr(20)) == std::string::npos);
    auto array = parseJson(listed.out).extract<Poco::JSON::Array::Ptr>();
    REQUIRE(array->size() == 2);
    const auto first = array->getObject(0);
    CHECK((first->getValue<std::string>("id") == keyId || first->getValue<std::string>("id") == secondId));
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto o = array->getObject(static_cast<unsigned>(i));
        CHECK(o->isNull("revoked_at"));
        CHECK(std::regex_match(o->getValue<std::string>("created_at"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
        if (o->getValue<std::string>("id") == keyId) {
            CHECK(o->getValue<std::string>("role") == "intake");
            CHECK(o->getValue<std::string>("label") == "ePUAP gateway");
        }
    }
    CHECK(kd.run("admin list-keys --tenant ops-b").exitCode == 0);
    CHECK(kd.run("admin list-keys --tenant nobody").exitCode == 4);

    // Revocation.
    const auto revoked = kd.run("admin revoke-key " + keyId + " --tenant gops --at 1768471300");
    REQUIRE(revoked.exitCode == 0);
    CHECK(lastLine(revoked.out) == keyId);
    CHECK(kd.sql("SELECT revoked_at FROM api_keys WHERE id = '" + keyId + "'") == std::vector<std::string>{"1768471300"});
    CHECK(kd.sql("SELECT revoked_at IS NULL FROM api_keys WHERE id = '" + secondId + "'") == std::vector<std::string>{"1"});
    const auto text = kd.run("admin list-keys --tenant gops");
    REQUIRE(text.exitCode == 0);
    CHECK(text.out.find(keyId + "\tintake\t") != std::string::npos);
    CHECK(text.out.find("revoked 2026-01-15T10:01:40Z\tePUAP gateway") != std::string::npos);
    CHECK(text.out.find(secondId + "\tauditor\t") != std::string::npos);
    const auto otherTenant = kd.run("admin revoke-key " + secondId + " --tenant ops-b");
    CHECK(otherTenant.exitCode == 4);
    CHECK(otherTenant.err.find("auth.key_unknown") != std::string::npos);
    CHECK(kd.run("admin revoke-key 0000000000000000 --tenant gops").exitCode == 4);

    // Users: the one-time password is the last line; the login stays out of the audit log.
    const auto user = kd.run("admin create-user --tenant gops --login ewa.kowalczyk --role animator");
    REQUIRE(user.exitCode == 0);
    const auto userId = lines(user.out).front();
    const auto oneTimePassword = lastLine(user.out);
    CHECK(std::regex_match(userId, std::regex("[0-9a-f]{32}")));
    CHECK(oneTimePassword.size() >= 12);
    CHECK(user.err.find("ewa") == std::string::npos);
    const auto hash = kd.sql("SELECT password_hash FROM users WHERE id = '" + userId + "'");
    REQUIRE(hash.size() == 1);
    CHECK(hash[0].rfind("$argon2id$v=19$m=8,t=1,p=1$", 0) == 0);
    CHECK(hash[0].find(oneTimePassword) == std::string::npos);
    CHECK(kd.sql("SELECT must_change_password, tenant_id, role FROM users WHERE login = 'ewa.kowalczyk'") ==
          std::vector<std::string>{"1|gops|animator"});
    const auto taken = kd.run("admin create-user --tenant ops-b --login ewa.kowalczyk --role intake");
    CHECK(taken.exitCode == 4);
    CHECK(taken.err.find("auth.login_taken") != std::string::npos);
    CHECK(kd.run("admin create-user --tenant gops --login 'Ewa K' --role intake").exitCode == 2);
    CHECK(kd.sql("SELECT COUNT(*) FROM users") == std::vector<std::string>{"1"});

    // The audit log: what changed, by whom (the actor as admin), by id.
    std::vector<Poco::JSON::Object::Ptr> changes;
    for (const auto& entry : kd.sql("SELECT entry FROM audit_entries ORDER BY idx")) {
        CHECK(entry.find("ewa") == std::string::npos);
        CHECK(entry.find(secret.substr(20)) == std::string::npos);
        CHECK(entry.find(oneTimePassword) == std::string::npos);
        auto o = parseJson(entry).extract<Poco::JSON::Object::Ptr>();
        if (o->getValue<std::string>("type") == "key.changed" ||
            (o->getValue<std::string>("type") == "config.changed" && o->getValue<std::string>("tenant") != "gops")) {
            changes.push_back(o);
        }
    }
    REQUIRE(changes.size() == 6);  // 2 tenants, 2 keys, 1 revocation, 1 user; nothing for the refusals
    CHECK(changes[0]->getValue<std::string>("tenant") == "ops-b");
    CHECK(changes[0]->getValue<std::string>("actor") == "u-1");
    CHECK(changes[0]->getValue<std::string>("role") == "admin");
    CHECK(changes[0]->getObject("details")->getValue<std::string>("action") == "created");
    CHECK(changes[1]->getValue<std::string>("tenant") == "ops-c");
    CHECK(changes[2]->getValue<std::string>("type") == "key.changed");
    CHECK(changes[2]->getValue<std::string>("actor") == "u-1");
    CHECK(changes[2]->getValue<std::string>("role") == "admin");  // not the key's role
    CHECK(changes[2]->getObject("details")->getValue<std::string>("key") == keyId);
    CHECK(changes[2]->getObject("details")->getValue<std::string>("action") == "created");
    CHECK(changes[3]->getObject("details")->getValue<std::string>("key") == secondId);
    CHECK(changes[4]->getObject("details")->getValue<std::string>("key") == keyId);
    CHECK(changes[4]->getObject("details")->getValue<std::string>("action") == "revoked");
    CHECK(changes[4]->getValue<std::int64_t>("time") == 1768471300);
    CHECK(changes[5]->getObject("details")->getValue<std::string>("user") == userId);
    CHECK(changes[5]->getObject("details")->getValue<std::string>("action") == "created");
    CHECK(changes[5]->getValue<std::string>("tenant") == "gops");
    CHECK(kd.run("audit verify").exitCode == 0);

    CHECK(databaseBytes().find(oneTimePassword) == std::string::npos);
    CHECK(kd.log().find("ewa.kowalczyk") == std::string::npos);  // nothing the CLI printed names the login
    CHECK(kd.run("admin").exitCode == 2);
    CHECK(kd.run("admin frobnicate").exitCode == 2);
    CHECK(kd.run("admin --help").out.find("create-user") != std::string::npos);
}
