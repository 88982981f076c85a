// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/signing/CmsCheck.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/SigningIdentity.h"

using namespace kooperdoc;
using namespace kooperdoc::signing;

namespace {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The development PKI, made once for this file's tests and removed at exit.
struct Pki {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("kooperdoc-cmscheck-" + std::to_string(::getpid()));
    Pki() {
        std::filesystem::remove_all(dir);
        writeDevelopmentIdentity(dir.string(), now() - 60);
    }
    ~Pki() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
};

const std::filesystem::path& pki() {
    static const Pki instance;
    return instance.dir;
}

SigningIdentity person() {
    return SigningIdentity::fromPem(slurp(pki() / "person.pem"), slurp(pki() / "person.key.pem"));
}

}  // namespace

TEST_CASE("a CMS we made checks valid and names its signer", "[cmscheck]") {
    const std::string content = "zakres bajtów objęty podpisem";
    const auto cms = person().signCadesDetached(content, now());
    const auto check = checkDetachedCms(cms, content);
    INFO(check.failure);
    CHECK(check.valid());
    CHECK(check.failure.empty());
    CHECK(check.digestAlgorithm == "SHA256");
    CHECK(check.hasSigningCertificateV2);
    CHECK_FALSE(check.claimedSigningTime.has_value());
    CHECK(check.signer.commonName == "Jan Kowalski");
    CHECK(check.signer.subjectSerialNumber == "PNOPL-44051401359");
    CHECK(check.signer.certificatesDer.size() == 2);
    CHECK(check.signer.certificateDer == person().certificateDer());
}

TEST_CASE("other content, a broken signature and garbage are told apart", "[cmscheck]") {
    const std::string content = "oryginał";
    const auto cms = person().signCadesDetached(content, now());

    const auto otherContent = checkDetachedCms(cms, "oryginał.");
    CHECK(otherContent.parsed);
    CHECK_FALSE(otherContent.digestMatches);
    CHECK_FALSE(otherContent.valid());
    CHECK(otherContent.failure.find("digest") != std::string::npos);

    // The signature value is the last OCTET STRING of the SignerInfo: ECDSA's DER ends there, so
    // flipping the very last byte of the CMS breaks the signature and nothing else.
    auto broken = cms;
    broken.back() = static_cast<char>(broken.back() ^ 0x01);
    const auto brokenCheck = checkDetachedCms(broken, content);
    CHECK(brokenCheck.parsed);
    CHECK(brokenCheck.digestMatches);
    CHECK_FALSE(brokenCheck.signatureValid);

    CHECK_FALSE(checkDetachedCms("", content).parsed);
    CHECK_FALSE(checkDetachedCms("to nie jest CMS", content).parsed);
    CHECK_FALSE(checkDetachedCms(cms.substr(0, cms.size() / 2), content).parsed);
}

TEST_CASE("the expected signer is matched by subject, serial, PESEL or certificate hash", "[cmscheck]") {
    const auto signer = checkDetachedCms(person().signCadesDetached("x", now()), "x").signer;
    CHECK(signerMismatch(signer, {}).empty());
    CHECK(signerMismatch(signer, {"CN=Jan Kowalski", "", "", ""}).empty());
    CHECK(signerMismatch(signer, {"", "", "44051401359", ""}).empty());
    CHECK(signerMismatch(signer, {"", "00" + signer.serialHex, "", ""}).empty());
    CHECK(signerMismatch(signer, {"", "", "", toHex(sha256(signer.certificateDer))}).empty());

    CHECK_FALSE(signerMismatch(signer, {"CN=Anna Nowak", "", "", ""}).empty());
    CHECK_FALSE(signerMismatch(signer, {"", "", "02070803628", ""}).empty());
    CHECK_FALSE(signerMismatch(signer, {"", "ABCDEF", "", ""}).empty());
    CHECK_FALSE(signerMismatch(signer, {"", "", "", std::string(64, '0')}).empty());
    // Every named attribute must match, not just one of them.
    CHECK_FALSE(signerMismatch(signer, {"CN=Jan Kowalski", "", "02070803628", ""}).empty());
}
