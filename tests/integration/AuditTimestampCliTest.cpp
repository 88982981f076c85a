// SPDX-License-Identifier: AGPL-3.0-or-later
// RFC 3161 timestamps on audit checkpoints from the command line (issue 6): the configured TSA
// timestamps every checkpoint a command signs, `audit verify` and `audit check` judge the tokens
// (offline, with the TSA's CA when given), and a token that does not cover its note — moved from
// another checkpoint or changed by a byte — fails the check, while a missing one is only reported.
#include <catch2/catch.hpp>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <functional>
#include <iterator>
#include <sstream>

#include "CliSupport.h"
#include "kooperdoc/core/Base64.h"
#include "StoreCliSupport.h"
#include "TempDir.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;

namespace {

Poco::JSON::Object::Ptr jsonObject(const std::string& text) { return parseJson(text).extract<Poco::JSON::Object::Ptr>(); }

/// The trail file with every entry's token replaced by \p change(entry's object); "" removes it.
std::string withTokens(const std::string& trailJson, const std::function<std::string(const Poco::JSON::Object::Ptr&)>& change) {
    Poco::JSON::Parser parser;
    auto root = parser.parse(trailJson).extract<Poco::JSON::Object::Ptr>();
    const auto entries = root->getArray("entries");
    for (std::size_t i = 0; i < entries->size(); ++i) {
        auto entry = entries->getObject(static_cast<unsigned>(i));
        const auto token = change(entry);
        if (token.empty()) entry->remove("checkpoint_timestamp");
        else entry->set("checkpoint_timestamp", token);
    }
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(root, out, 2);
    return out.str();
}

}  // namespace

TEST_CASE("audit CLI: checkpoints are timestamped by the configured TSA, and audit check refuses a tampered token") {
    TempDir pki("kooperdoc-audit-tsa");
    const auto identity = pki.file("identity");
    const auto otherIdentity = pki.file("other");
    for (const auto& dir : {identity, otherIdentity}) {
        REQUIRE(runCommand(quote(cli()) + " dev-identity --out " + quote(dir) + " >/dev/null 2>&1").exitCode == 0);
    }
    StoreCli kd("audit-timestamps", "",
                "kooperdoc.audit.checkpoint_every = 3\n"
                "kooperdoc.signing.tsa.certificate = " + identity + "/tsa.pem\n"
                "kooperdoc.signing.tsa.key = " + identity + "/tsa.key.pem\n");
    const auto id = kd.store("m1-oswiadczenie-zgoda", "sample", "--case GOPS/1/2026");
    kd.store("m1-oswiadczenie-poufnosci", "sample", "--case GOPS/2/2026");
    for (int i = 0; i < 3; ++i) kd.document(id);
    REQUIRE(kd.run("audit prove " + id + " -o " + quote(kd.file("trail.json"))).exitCode == 0);

    // Every checkpoint the commands signed (every third entry, and one by prove if the log grew) holds a
    // token; verify judges them, with and without the CA.
    const auto sql = [&](const std::string& query) {
        auto output = runCommand("sqlite3 " + quote(kd.database()) + " " + quote(query)).output;
        while (!output.empty() && output.back() == '\n') output.pop_back();
        return output;
    };
    const auto checkpoints = std::stoi(sql("SELECT COUNT(*) FROM audit_checkpoints"));
    REQUIRE(checkpoints >= 2);
    CHECK(sql("SELECT COUNT(timestamp_token) FROM audit_checkpoints") == std::to_string(checkpoints));
    const auto newest = sql("SELECT MAX(size) FROM audit_checkpoints");
    auto verified = kd.run("audit verify --json --tsa-trusted-ca " + quote(identity + "/ca.pem"));
    REQUIRE(verified.exitCode == 0);
    CHECK(jsonObject(verified.out)->getValue<int>("timestamped_checkpoints") == checkpoints);
    CHECK(kd.run("audit verify").out.find(std::to_string(checkpoints) + " timestamped") != std::string::npos);

    const auto trail = readFile(kd.file("trail.json"));
    REQUIRE(trail.find("\"checkpoint_timestamp\"") != std::string::npos);
    writeFile(kd.file("audit.pem"), kd.run("audit public-key").out);
    const auto check = [&](const std::string& file, const std::string& extra = "") {
        return runCommand(quote(cli()) + " audit check " + quote(file) + " --public-key " + quote(kd.file("audit.pem")) + " " +
                          extra + " 2>&1");
    };

    // Offline, no database: the token covers the note, chains to the TSA's CA, and its time shows.
    const auto passed = check(kd.file("trail.json"), "--tsa-trusted-ca " + quote(identity + "/ca.pem"));
    INFO(passed.output);
    CHECK(passed.exitCode == 0);
    CHECK(passed.output.find("checkpoint " + newest + "\ttimestamped 20") != std::string::npos);
    CHECK(passed.output.find("TSA trusted") != std::string::npos);
    const auto json = runCommand(quote(cli()) + " audit check " + quote(kd.file("trail.json")) + " --json --public-key " +
                                 quote(kd.file("audit.pem")));
    CHECK(json.exitCode == 0);
    const auto stamps = jsonObject(json.output)->getArray("checkpoint_timestamps");
    REQUIRE(stamps->size() == 1);  // every receipt of the trail is proven to the same checkpoint
    CHECK(stamps->getObject(0)->getValue<bool>("valid"));
    CHECK(stamps->getObject(0)->getValue<std::string>("gen_time").find('T') == 10);

    // Another CA does not vouch for the TSA.
    const auto otherCa = check(kd.file("trail.json"), "--tsa-trusted-ca " + quote(otherIdentity + "/ca.pem"));
    CHECK(otherCa.exitCode == 1);
    CHECK(otherCa.output.find("audit.checkpoint_timestamp_invalid") != std::string::npos);

    SECTION("a token of another checkpoint") {
        const auto firstToken = sql("SELECT timestamp_token FROM audit_checkpoints ORDER BY size LIMIT 1");
        std::string der;
        for (std::size_t i = 0; i + 1 < firstToken.size(); i += 2) {
            der.push_back(static_cast<char>(std::stoi(firstToken.substr(i, 2), nullptr, 16)));
        }
        writeFile(kd.file("moved.json"), withTokens(trail, [&](const Poco::JSON::Object::Ptr&) { return base64(der); }));
        const auto refused = check(kd.file("moved.json"));
        CHECK(refused.exitCode == 1);
        CHECK(refused.output.find("audit.checkpoint_timestamp_invalid") != std::string::npos);
        CHECK(refused.output.find("other bytes") != std::string::npos);
    }
    SECTION("one byte of the token changed") {
        writeFile(kd.file("tampered.json"), withTokens(trail, [&](const Poco::JSON::Object::Ptr& entry) {
                      auto der = unbase64(entry->getValue<std::string>("checkpoint_timestamp")).value();
                      // The imprint inside the signed TSTInfo: a change there is a change to what the TSA signed.
                      const auto imprint = sha256(entry->getValue<std::string>("checkpoint"));
                      const auto at = der.find(std::string(reinterpret_cast<const char*>(imprint.data()), imprint.size()));
                      REQUIRE(at != std::string::npos);
                      der[at + 5] = static_cast<char>(der[at + 5] ^ 0x20);
                      return base64(der);
                  }));
        const auto refused = check(kd.file("tampered.json"));
        CHECK(refused.exitCode == 1);
        CHECK(refused.output.find("audit.checkpoint_timestamp_invalid") != std::string::npos);
    }
    SECTION("no token: reported, not a failure") {
        writeFile(kd.file("untimestamped.json"), withTokens(trail, [](const Poco::JSON::Object::Ptr&) { return std::string(); }));
        const auto reported = check(kd.file("untimestamped.json"));
        CHECK(reported.exitCode == 0);
        CHECK(reported.output.find("checkpoint " + newest + "\tnot timestamped") != std::string::npos);
    }
    SECTION("audit verify catches a stored token moved to another checkpoint") {
        const auto copy = kd.copyData("moved-token");
        REQUIRE(runCommand("sqlite3 " + quote(copy + "/kooperdoc.db") +
                           " 'UPDATE audit_checkpoints SET timestamp_token = (SELECT timestamp_token FROM audit_checkpoints "
                           "ORDER BY size LIMIT 1) WHERE size = (SELECT MAX(size) FROM audit_checkpoints)'")
                    .exitCode == 0);
        const auto result = kd.run("audit verify --json", "", copy);
        CHECK(result.exitCode == 1);
        CHECK(jsonObject(result.out)->getValue<std::string>("problem") == "audit.checkpoint_timestamp_invalid");
    }
}

TEST_CASE("audit CLI: an unreachable TSA costs a command nothing but the token") {
    // A port nobody listens on: the connection is refused at once, and the entry is recorded.
    StoreCli kd("audit-tsa-down", "",
                "kooperdoc.audit.checkpoint_every = 1\n"
                "kooperdoc.signing.tsa.url = http://127.0.0.1:9/tsa\n");
    const auto id = kd.store("m1-oswiadczenie-zgoda", "sample", "--case GOPS/1/2026");
    CHECK(kd.document(id).rfind("%PDF", 0) == 0);
    // Every entry checkpointed, no checkpoint timestamped.
    const auto rows = runCommand("sqlite3 " + quote(kd.database()) +
                                 " 'SELECT (SELECT COUNT(*) FROM audit_entries), COUNT(*), COUNT(timestamp_token) FROM audit_checkpoints'");
    const auto entries = rows.output.substr(0, rows.output.find('|'));
    CHECK(std::stoi(entries) >= 3);  // tenant, created, downloaded at least
    CHECK(rows.output == entries + "|" + entries + "|0\n");
    const auto verified = kd.run("audit verify --json");
    CHECK(verified.exitCode == 0);
    CHECK(jsonObject(verified.out)->getValue<int>("timestamped_checkpoints") == 0);
}
