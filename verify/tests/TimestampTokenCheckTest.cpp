// SPDX-License-Identifier: AGPL-3.0-or-later
// Audit checkpoints timestamped by the development TSA and judged offline: the token covers the
// whole signed note, verifies with the TSA's certificate and CA, and is refused for any other
// note, a changed byte or another CA.
#include <catch2/catch.hpp>

#include <ctime>
#include <memory>

#include "Process.h"
#include "TempDir.h"
#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/Timestamp.h"
#include "kooperdoc/verify/TimestampTokenCheck.h"

using namespace kooperdoc;
using kooperdoc::testing::readFile;
using kooperdoc::testing::TempDir;

namespace {

const std::string kOrigin = "kooperdoc.test/audit";

/// A development PKI made at the real time: its certificates are valid now and for years.
struct Pki {
    TempDir root{"kooperdoc-tst-check"};
    std::int64_t createdAt = static_cast<std::int64_t>(std::time(nullptr));
    std::string file(const std::string& name) const { return root.file("pki/" + name); }
    Pki() { signing::writeDevelopmentIdentity(root.file("pki"), createdAt); }
    std::vector<std::string> caDer() const { return signing::readCertificates(readFile(file("ca.pem"))); }
    std::string tsaCertificateDer() const { return signing::readCertificates(readFile(file("tsa.pem"))).at(0); }
};

const Pki& pki() {
    static const auto made = std::make_unique<Pki>();
    return *made;
}

const Pki& otherPki() {
    static const auto made = std::make_unique<Pki>();
    return *made;
}

/// Inside every development certificate's validity, and recognisable in the token.
constexpr std::int64_t kTokenTime = 3600;

std::unique_ptr<signing::EmbeddedTsa> makeTsa(const Pki& p = pki()) {
    signing::EmbeddedTsaOptions options;
    const std::int64_t at = p.createdAt + kTokenTime;
    options.clock = [at] { return at; };
    return std::make_unique<signing::EmbeddedTsa>(readFile(p.file("tsa.pem")), readFile(p.file("tsa.key.pem")), options);
}

audit::CheckpointSigner auditSigner() {
    static const std::string pem = audit::CheckpointSigner::generatePem();
    return audit::CheckpointSigner::fromPem(kOrigin, pem);
}

audit::AuditEvent event(int n) {
    audit::AuditEvent e;
    e.time = 1767225600 + n;
    e.tenantId = "ops-a";
    e.actorId = "user-" + std::to_string(n);
    e.actorRole = "animator";
    e.type = "document.created";
    e.documentId = "KD-" + std::to_string(n);
    return e;
}

}  // namespace

TEST_CASE("a checkpoint's token covers SHA-256 of its signed note and verifies with the TSA's certificate", "[verify][timestamp]") {
    auto tsa = makeTsa();
    audit::MemoryAuditStore store;
    audit::AuditLog log(store, auditSigner(), 4, [&](const Sha256& imprint) { return tsa->timestamp(imprint); });
    for (int i = 0; i < 4; ++i) log.record(event(i));
    const auto stored = store.storedCheckpoints();
    REQUIRE(stored.size() == 1);
    const auto& token = stored[0].timestampToken;
    REQUIRE_FALSE(token.empty());

    // What the token says, read by signing's own parser: the note's digest, the TSA's certificate.
    const auto info = signing::inspectTimestampToken(token);
    CHECK(info.imprint == sha256(stored[0].note));
    CHECK(info.tsaCertificateDer == pki().tsaCertificateDer());
    CHECK(info.genTime == pki().createdAt + kTokenTime);

    const auto check = verify::checkTimestampToken(token, sha256(stored[0].note), pki().caDer());
    INFO(check.failure);
    CHECK(check.valid());
    CHECK(check.signatureValid);
    CHECK(check.imprintMatches);
    CHECK(check.trusted == true);
    CHECK(check.genTime == pki().createdAt + kTokenTime);
    CHECK(check.tsaSubject.find("CN=") != std::string::npos);
    CHECK(check.failure.empty());
    // Without trust anchors the token is still judged intact and about this note.
    const auto untrusted = verify::checkTimestampToken(token, sha256(stored[0].note));
    CHECK(untrusted.valid());
    CHECK_FALSE(untrusted.trusted.has_value());

    // The receipt carries the same token to the trail.
    const auto receipt = log.prove(2);
    CHECK(receipt.checkpointNote == stored[0].note);
    CHECK(receipt.checkpointTimestamp == token);
}

TEST_CASE("a checkpoint token is refused for another note, a changed byte or another CA", "[verify][timestamp]") {
    auto tsa = makeTsa();
    audit::MemoryAuditStore store;
    audit::AuditLog log(store, auditSigner(), 2, [&](const Sha256& imprint) { return tsa->timestamp(imprint); });
    for (int i = 0; i < 4; ++i) log.record(event(i));
    const auto stored = store.storedCheckpoints();
    REQUIRE(stored.size() == 2);
    const auto& first = stored[0];
    const auto& second = stored[1];

    SECTION("a token of another note") {
        const auto check = verify::checkTimestampToken(first.timestampToken, sha256(second.note), pki().caDer());
        CHECK_FALSE(check.valid());
        CHECK(check.signatureValid);  // a genuine token…
        CHECK_FALSE(check.imprintMatches);  // …of other bytes
        CHECK(check.failure.find("other bytes") != std::string::npos);
        // The CA path checks the imprint too.
        CHECK_FALSE(signing::verifyTimestampToken(first.timestampToken, sha256(second.note), pki().caDer()));
    }
    SECTION("one byte of the signed TSTInfo changed") {
        std::string token = first.timestampToken;
        const auto info = signing::inspectTimestampToken(token);
        const std::string imprintBytes(reinterpret_cast<const char*>(info.imprint.data()), info.imprint.size());
        const auto at = token.find(imprintBytes);
        REQUIRE(at != std::string::npos);
        token[at] = static_cast<char>(token[at] ^ 0x01);
        // The imprint now names other bytes *and* the signature no longer covers the TSTInfo.
        const auto check = verify::checkTimestampToken(token, sha256(first.note));
        CHECK_FALSE(check.valid());
        CHECK_FALSE(check.signatureValid);
        CHECK(check.failure.find("signature") != std::string::npos);
    }
    SECTION("a TSA of another CA") {
        const auto check = verify::checkTimestampToken(first.timestampToken, sha256(first.note), otherPki().caDer());
        CHECK(check.signatureValid);
        CHECK(check.imprintMatches);
        CHECK(check.trusted == false);
        CHECK_FALSE(check.valid());
        CHECK(check.failure.find("trusted CA") != std::string::npos);
    }
    SECTION("not a token at all") {
        for (const std::string& garbage : {std::string(), std::string("not DER"), first.timestampToken.substr(0, 100),
                                           first.timestampToken + std::string(1, '\0')}) {
            const auto check = verify::checkTimestampToken(garbage, sha256(first.note));
            CHECK_FALSE(check.parsed);
            CHECK_FALSE(check.valid());
            CHECK_FALSE(check.failure.empty());
        }
    }
    SECTION("verifyLog with the check as its hook: a token moved to another checkpoint") {
        const audit::CheckpointTimestampVerifier hook = [](const std::string& token, const Sha256& imprint, std::string* whyNot) {
            const auto check = verify::checkTimestampToken(token, imprint, pki().caDer());
            if (whyNot != nullptr) *whyNot = check.failure;
            return check.valid();
        };
        auto result = audit::verifyLog(store, kOrigin, auditSigner().publicKeyPem(), std::nullopt, hook);
        INFO(result.problem << ": " << result.detail);
        REQUIRE(result.ok);
        CHECK(result.timestampedCheckpoints == 2);
        store.checkpointRows()[1].timestampToken = first.timestampToken;
        result = audit::verifyLog(store, kOrigin, auditSigner().publicKeyPem(), std::nullopt, hook);
        CHECK(result.problem == "audit.checkpoint_timestamp_invalid");
        CHECK(result.detail.find("checkpoint 4") != std::string::npos);
        // Without a hook the tokens are counted, not judged: the notes and entries still verify.
        CHECK(audit::verifyLog(store, kOrigin, auditSigner().publicKeyPem()).ok);
    }
}
