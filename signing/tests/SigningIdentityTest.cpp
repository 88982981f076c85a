// SPDX-License-Identifier: AGPL-3.0-or-later
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "Process.h"
#include "TempDir.h"
#include "TestPaths.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/SigningIdentity.h"

using namespace kooperdoc;
using namespace kooperdoc::signing;
using namespace kooperdoc::testing;

namespace {

constexpr const char* kContentTypeOid = "1.2.840.113549.1.9.3";
constexpr const char* kMessageDigestOid = "1.2.840.113549.1.9.4";
constexpr const char* kSigningTimeOid = "1.2.840.113549.1.9.5";
constexpr const char* kSigningCertificateV2Oid = "1.2.840.113549.1.9.16.2.47";


struct DevPki {
    TempDir root;
    std::string dir;
    std::int64_t createdAt = 0;

    std::string file(const std::string& name) const { return dir + "/" + name; }
};

/// One development PKI per test process: the RSA-3072 key takes a while, and the tests only read it.
/// Created at the real current time, because `openssl verify` checks validity against the clock.
const DevPki& devPki() {
    static const std::unique_ptr<DevPki> pki = [] {
        auto made = std::make_unique<DevPki>();
        made->dir = made->root.file("pki"); // does not exist yet: writeDevelopmentIdentity creates it
        made->createdAt = static_cast<std::int64_t>(std::time(nullptr));
        writeDevelopmentIdentity(made->dir, made->createdAt);
        return made;
    }();
    return *pki;
}

SigningIdentity sealFromPem() {
    return SigningIdentity::fromPem(readFile(devPki().file("seal.pem")), readFile(devPki().file("seal.key.pem")));
}
SigningIdentity sealFromPkcs12() {
    return SigningIdentity::fromPkcs12(readFile(devPki().file("seal.p12")),
                                       readFile(devPki().file("seal.p12.password")));
}
SigningIdentity personFromPem() {
    return SigningIdentity::fromPem(readFile(devPki().file("person.pem")), readFile(devPki().file("person.key.pem")));
}

/// Content with bytes that a text-mode (S/MIME canonicalising) verifier would alter.
std::string sampleContent() {
    std::string content = "%PDF-1.7\r\nZażółć gęślą jaźń\n";
    content += std::string("\0\x01\xff\r\n", 5);
    for (int i = 0; i < 1000; ++i)
        content += static_cast<char>(i * 7);
    return content;
}

CommandResult opensslCmsVerify(const std::string& cmsPath, const std::string& contentPath) {
    return runCommand("openssl cms -verify -binary -inform DER -in " + quote(cmsPath) + " -content " +
                      quote(contentPath) + " -CAfile " + quote(devPki().file("ca.pem")) +
                      " -purpose any -out /dev/null 2>&1");
}

/// Writes the CMS and the content and asks the OpenSSL CLI whether the signature verifies.
bool verifiesWithOpenssl(const TempDir& dir, const std::string& cms, const std::string& content) {
    writeFile(dir.file("sig.der"), cms);
    writeFile(dir.file("content.bin"), content);
    const CommandResult result = opensslCmsVerify(dir.file("sig.der"), dir.file("content.bin"));
    INFO(result.output);
    return result.exitCode == 0;
}

std::string printCms(const TempDir& dir, const std::string& cms) {
    writeFile(dir.file("print.der"), cms);
    const CommandResult result =
        runCommand("openssl cms -cmsout -print -inform DER -in " + quote(dir.file("print.der")));
    REQUIRE(result.exitCode == 0);
    return result.output;
}

/// The OIDs of the signed attributes, as `openssl cms -cmsout -print` lists them.
std::vector<std::string> signedAttributeOids(const std::string& printed) {
    std::vector<std::string> oids;
    std::istringstream lines(printed);
    std::string line;
    bool inSignedAttributes = false;
    while (std::getline(lines, line)) {
        if (line.find("signedAttrs:") != std::string::npos)
            inSignedAttributes = true;
        else if (line.find("signatureAlgorithm:") != std::string::npos)
            inSignedAttributes = false;
        else if (inSignedAttributes && line.find("object:") != std::string::npos) {
            const auto open = line.rfind('(');
            const auto close = line.rfind(')');
            if (open != std::string::npos && close != std::string::npos && close > open) {
                oids.push_back(line.substr(open + 1, close - open - 1));
            }
        }
    }
    return oids;
}

std::string trim(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    return text;
}

std::string upper(std::string text) {
    for (char& c : text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

/// SHA-256 hex computed by the OpenSSL CLI, not by our code.
std::string opensslSha256Hex(const std::string& path) {
    const CommandResult result = runCommand("openssl dgst -sha256 -r " + quote(path));
    REQUIRE(result.exitCode == 0);
    return result.output.substr(0, 64);
}

std::string certificateDerByOpenssl(const TempDir& dir, const std::string& pemPath) {
    const std::string out = dir.file("cert.der");
    REQUIRE(runCommand("openssl x509 -in " + quote(pemPath) + " -outform DER -out " + quote(out)).exitCode == 0);
    return readFile(out);
}

int permissions(const std::string& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return static_cast<int>(info.st_mode & 0777);
}

template <class F> Error captureError(F&& action) {
    try {
        action();
    } catch (const Error& error) {
        return error;
    }
    FAIL("no kooperdoc::Error was thrown");
    throw std::logic_error("unreachable");
}

std::int64_t plusYears(std::int64_t epochSeconds, int years) {
    const std::time_t time = static_cast<std::time_t>(epochSeconds);
    std::tm parts{};
    gmtime_r(&time, &parts);
    parts.tm_year += years;
    return static_cast<std::int64_t>(timegm(&parts));
}

/// Checks a CMS made by any of our paths with independent tools: it verifies, it is detached,
/// SHA-256, has exactly the three B-B attributes and carries the chain.
void checkBaselineCms(const TempDir& dir, const std::string& cms, const std::string& content) {
    CHECK(verifiesWithOpenssl(dir, cms, content));

    const std::string printed = printCms(dir, cms);
    const std::vector<std::string> oids = signedAttributeOids(printed);
    INFO(printed);
    CHECK(std::set<std::string>(oids.begin(), oids.end()) ==
          std::set<std::string>{kContentTypeOid, kMessageDigestOid, kSigningCertificateV2Oid});
    CHECK(oids.size() == 3);
    CHECK(printed.find(kSigningTimeOid) == std::string::npos);
    CHECK(printed.find("signingTime") == std::string::npos);
    CHECK(printed.find("eContent: <ABSENT>") != std::string::npos);
    CHECK(printed.find("algorithm: sha256 (2.16.840.1.101.3.4.2.1)") != std::string::npos);

    // The certificates openssl finds inside the CMS: the signer and the CA.
    writeFile(dir.file("chain.der"), cms);
    writeFile(dir.file("chain-content.bin"), content);
    const CommandResult certs = runCommand(
        "openssl cms -verify -binary -noverify -inform DER -in " + quote(dir.file("chain.der")) + " -content " +
        quote(dir.file("chain-content.bin")) + " -certsout " + quote(dir.file("certs.pem")) + " -out /dev/null 2>&1");
    REQUIRE(certs.exitCode == 0);
    const std::string certsPem = readFile(dir.file("certs.pem"));
    std::size_t count = 0;
    for (auto at = certsPem.find("BEGIN CERTIFICATE"); at != std::string::npos;
         at = certsPem.find("BEGIN CERTIFICATE", at + 1)) {
        ++count;
    }
    CHECK(count == 2);
}

} // namespace

TEST_CASE("development identity: files, permissions, chain, CRL and names as openssl sees them", "[identity]") {
    const DevPki& pki = devPki();
    for (const char* name : {"ca.pem", "seal.pem", "seal.key.pem", "seal.p12", "seal.p12.password", "person.pem",
                             "person.key.pem", "tsa.pem", "tsa.key.pem", "ca.crl.pem"}) {
        INFO(name);
        CHECK(std::filesystem::is_regular_file(pki.file(name)));
    }
    for (const char* secret : {"seal.key.pem", "person.key.pem", "tsa.key.pem", "seal.p12", "seal.p12.password"}) {
        INFO(secret);
        CHECK(permissions(pki.file(secret)) == 0600);
    }
    CHECK(permissions(pki.dir) == 0700);
    // No temporary file is left behind.
    for (const auto& entry : std::filesystem::directory_iterator(pki.dir)) {
        CHECK(entry.path().filename().string().front() != '.');
    }

    const std::string ca = quote(pki.file("ca.pem"));
    const std::string crl = quote(pki.file("ca.crl.pem"));
    for (const char* leaf : {"seal.pem", "person.pem", "tsa.pem"}) {
        INFO(leaf);
        const CommandResult verified = runCommand("openssl verify -CAfile " + ca + " -crl_check -CRLfile " + crl + " " +
                                                  quote(pki.file(leaf)) + " 2>&1");
        INFO(verified.output);
        CHECK(verified.exitCode == 0);
    }
    CHECK(runCommand("openssl verify -purpose timestampsign -CAfile " + ca + " " + quote(pki.file("tsa.pem")) + " 2>&1")
              .exitCode == 0);
    CHECK(
        runCommand("openssl verify -purpose timestampsign -CAfile " + ca + " " + quote(pki.file("seal.pem")) + " 2>&1")
            .exitCode != 0);

    const CommandResult crlText = runCommand("openssl crl -in " + crl + " -noout -text -CAfile " + ca + " 2>&1");
    CHECK(crlText.exitCode == 0);
    CHECK(crlText.output.find("verify OK") != std::string::npos);
    CHECK(crlText.output.find("No Revoked Certificates") != std::string::npos);
    CHECK(crlText.output.find("X509v3 CRL Number") != std::string::npos);

    auto text = [&](const std::string& file) {
        const CommandResult result =
            runCommand("openssl x509 -noout -text -nameopt RFC2253,-esc_msb -in " + quote(pki.file(file)));
        REQUIRE(result.exitCode == 0);
        return result.output;
    };
    const std::string caText = text("ca.pem");
    CHECK(caText.find("Subject: CN=Kooperdoc Development CA,O=Środowisko deweloperskie,C=PL") != std::string::npos);
    CHECK(caText.find("Public-Key: (3072 bit)") != std::string::npos);
    CHECK(caText.find("CA:TRUE") != std::string::npos);
    const std::string sealText = text("seal.pem");
    CHECK(sealText.find("Subject: CN=Kooperdoc – pieczęć deweloperska,O=Środowisko deweloperskie,C=PL") !=
          std::string::npos);
    CHECK(sealText.find("Public-Key: (2048 bit)") != std::string::npos);
    CHECK(sealText.find("Digital Signature, Non Repudiation") != std::string::npos);
    const std::string personText = text("person.pem");
    CHECK(personText.find("CN=Jan Kowalski") != std::string::npos);
    CHECK(personText.find("serialNumber=PNOPL-44051401359") != std::string::npos);
    CHECK(personText.find("NIST CURVE: P-256") != std::string::npos);
    const std::string tsaText = text("tsa.pem");
    CHECK(tsaText.find("X509v3 Extended Key Usage: critical") != std::string::npos);
    CHECK(tsaText.find("Time Stamping") != std::string::npos);

    // Validity periods: -checkend N succeeds while the certificate outlives now + N.
    auto outlives = [&](const std::string& file, std::int64_t seconds) {
        return runCommand("openssl x509 -noout -checkend " + std::to_string(seconds) + " -in " + quote(pki.file(file)) +
                          " >/dev/null")
                   .exitCode == 0;
    };
    constexpr std::int64_t kDay = 24 * 60 * 60;
    CHECK(outlives("ca.pem", 10 * 365 * kDay - kDay));
    CHECK_FALSE(outlives("ca.pem", 10 * 366 * kDay));
    CHECK(outlives("seal.pem", 3 * 365 * kDay - kDay));
    CHECK_FALSE(outlives("seal.pem", 3 * 366 * kDay));

    // The PKCS#12 opens with the OpenSSL CLI and the written password, and not with another.
    CHECK(runCommand("openssl pkcs12 -noout -in " + quote(pki.file("seal.p12")) +
                     " -passin file:" + quote(pki.file("seal.p12.password")) + " 2>&1")
              .exitCode == 0);
    CHECK(
        runCommand("openssl pkcs12 -noout -in " + quote(pki.file("seal.p12")) + " -passin pass:wrong 2>&1").exitCode !=
        0);
    CHECK(readFile(pki.file("seal.p12.password")).size() >= 32);
}

TEST_CASE("development identity is never overwritten", "[identity]") {
    const DevPki& pki = devPki();
    const std::string before = readFile(pki.file("ca.pem"));
    const Error error = captureError([&] { writeDevelopmentIdentity(pki.dir, pki.createdAt); });
    CHECK(error.code() == ErrorCode::kAlreadyExists);
    CHECK(error.reason() == "identity.exists");
    CHECK(readFile(pki.file("ca.pem")) == before);

    // One leftover file is enough to refuse.
    TempDir other;
    writeFile(other.file("seal.key.pem"), "not mine");
    const Error partial = captureError([&] { writeDevelopmentIdentity(other.path(), pki.createdAt); });
    CHECK(partial.reason() == "identity.exists");
    CHECK(readFile(other.file("seal.key.pem")) == "not mine");
    CHECK_FALSE(std::filesystem::exists(other.file("ca.pem")));
}

TEST_CASE("seal loaded from PEM and from PKCS#12: the same certificate, as openssl describes it", "[identity]") {
    TempDir dir;
    const SigningIdentity pem = sealFromPem();
    const SigningIdentity p12 = sealFromPkcs12();
    const std::string sealPem = devPki().file("seal.pem");

    CHECK(pem.certificateDer() == certificateDerByOpenssl(dir, sealPem));
    CHECK(p12.certificateDer() == pem.certificateDer());
    REQUIRE(pem.chainDer().size() == 1);
    CHECK(pem.chainDer()[0] == certificateDerByOpenssl(dir, devPki().file("ca.pem")));
    CHECK(p12.chainDer() == pem.chainDer());

    const CommandResult subject =
        runCommand("openssl x509 -noout -subject -nameopt RFC2253,-esc_msb -in " + quote(sealPem));
    CHECK(pem.subject() == trim(subject.output.substr(std::string("subject=").size())));
    CHECK(pem.subject() == "CN=Kooperdoc – pieczęć deweloperska,O=Środowisko deweloperskie,C=PL");
    CHECK(pem.issuer() == "CN=Kooperdoc Development CA,O=Środowisko deweloperskie,C=PL");
    const CommandResult serial = runCommand("openssl x509 -noout -serial -in " + quote(sealPem));
    CHECK("serial=" + pem.serialHex() == trim(serial.output));
    CHECK(pem.notBefore() == devPki().createdAt);
    CHECK(pem.notAfter() == plusYears(devPki().createdAt, 3));
    CHECK(pem.keyAlgorithm() == "RSA-2048");
    CHECK(p12.keyAlgorithm() == "RSA-2048");
    CHECK(pem.hasPrivateKey());

    const SigningIdentity person = personFromPem();
    CHECK(person.keyAlgorithm() == "ECDSA-P256");
    CHECK(person.subject() == "CN=Jan Kowalski,serialNumber=PNOPL-44051401359,SN=Kowalski,GN=Jan,C=PL");

    const SigningIdentity ca = SigningIdentity::fromCertificates(readFile(devPki().file("ca.pem")));
    CHECK(ca.keyAlgorithm() == "RSA-3072");
    CHECK(ca.notAfter() == plusYears(devPki().createdAt, 10));
    CHECK_FALSE(ca.hasPrivateKey());
    CHECK(ca.chainDer().empty());
}

TEST_CASE("CAdES detached signature verifies with openssl cms, with exactly the B-B attributes", "[identity]") {
    TempDir dir;
    const std::string content = sampleContent();
    const std::int64_t now = devPki().createdAt + 60;

    SECTION("RSA seal from PEM") {
        checkBaselineCms(dir, sealFromPem().signCadesDetached(content, now), content);
    }
    SECTION("RSA seal from PKCS#12") {
        checkBaselineCms(dir, sealFromPkcs12().signCadesDetached(content, now), content);
    }
    SECTION("ECDSA P-256 person") {
        const std::string cms = personFromPem().signCadesDetached(content, now);
        checkBaselineCms(dir, cms, content);
        CHECK(printCms(dir, cms).find("ecdsa-with-SHA256") != std::string::npos);
    }
    SECTION("empty content") {
        checkBaselineCms(dir, sealFromPem().signCadesDetached("", now), "");
    }
}

TEST_CASE("the signed attributes hold the digests openssl computes of the content and the certificate", "[identity]") {
    TempDir dir;
    const std::string content = sampleContent();
    const std::string cms = sealFromPem().signCadesDetached(content, devPki().createdAt);
    writeFile(dir.file("content.bin"), content);
    writeFile(dir.file("sig.der"), cms);
    const std::string contentHash = upper(opensslSha256Hex(dir.file("content.bin")));
    const std::string certificateHash = upper(
        opensslSha256Hex((writeFile(dir.file("seal.der"), certificateDerByOpenssl(dir, devPki().file("seal.pem"))),
                          dir.file("seal.der"))));

    const CommandResult parsed = runCommand("openssl asn1parse -inform DER -in " + quote(dir.file("sig.der")));
    REQUIRE(parsed.exitCode == 0);
    INFO(parsed.output);
    CHECK(parsed.output.find("[HEX DUMP]:" + contentHash) != std::string::npos);     // messageDigest
    CHECK(parsed.output.find("[HEX DUMP]:" + certificateHash) != std::string::npos); // ESSCertIDv2.certHash
}

TEST_CASE("flipping one content byte makes openssl cms -verify fail", "[identity]") {
    TempDir dir;
    const std::string content = sampleContent();
    for (const SigningIdentity& identity : {sealFromPem(), personFromPem()}) {
        const std::string cms = identity.signCadesDetached(content, devPki().createdAt);
        REQUIRE(verifiesWithOpenssl(dir, cms, content));
        std::string tampered = content;
        tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x01);
        CHECK_FALSE(verifiesWithOpenssl(dir, cms, tampered));
    }
}

TEST_CASE("certificate validity and key usage are checked at the signing time", "[identity]") {
    const SigningIdentity seal = sealFromPem();
    const Error expired = captureError([&] { seal.signCadesDetached("x", seal.notAfter() + 1); });
    CHECK(expired.code() == ErrorCode::kFailedPrecondition);
    CHECK(expired.reason() == "identity.expired");
    const Error early = captureError([&] { seal.signCadesDetached("x", seal.notBefore() - 1); });
    CHECK(early.code() == ErrorCode::kFailedPrecondition);
    CHECK(early.reason() == "identity.not_yet_valid");
    CHECK(captureError([&] { seal.prepareSignature("x", seal.notAfter() + 1); }).reason() == "identity.expired");
    // Both ends of the validity period are inside it (RFC 5280 4.1.2.5).
    CHECK_NOTHROW(seal.signCadesDetached("x", seal.notAfter()));
    CHECK_NOTHROW(seal.signCadesDetached("x", seal.notBefore()));

    TempDir dir;
    REQUIRE(runCommand("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=Encipherment -days 2 -keyout " +
                       quote(dir.file("k.pem")) + " -out " + quote(dir.file("c.pem")) +
                       " -addext keyUsage=critical,keyEncipherment 2>/dev/null")
                .exitCode == 0);
    const SigningIdentity encipherment =
        SigningIdentity::fromPem(readFile(dir.file("c.pem")), readFile(dir.file("k.pem")));
    const Error usage = captureError([&] { encipherment.signCadesDetached("x", encipherment.notBefore() + 10); });
    CHECK(usage.code() == ErrorCode::kFailedPrecondition);
    CHECK(usage.reason() == "identity.key_usage");
}

TEST_CASE("bad identities are refused with stable reasons", "[identity]") {
    const std::string p12 = readFile(devPki().file("seal.p12"));
    const Error password = captureError([&] { SigningIdentity::fromPkcs12(p12, "wrong password"); });
    CHECK(password.code() == ErrorCode::kInvalidArgument);
    CHECK(password.reason() == "identity.bad_password");
    CHECK(captureError([&] { SigningIdentity::fromPkcs12(p12, ""); }).reason() == "identity.bad_password");

    CHECK(captureError([&] { SigningIdentity::fromPkcs12(p12.substr(0, p12.size() / 2), "x"); }).reason() ==
          "identity.invalid");
    CHECK(captureError([&] { SigningIdentity::fromPkcs12("not a PKCS#12 file", "x"); }).reason() == "identity.invalid");
    CHECK(captureError([&] { SigningIdentity::fromPkcs12(readFile(devPki().file("seal.pem")), "x"); }).reason() ==
          "identity.invalid");

    const std::string sealChain = readFile(devPki().file("seal.pem"));
    const Error mismatch =
        captureError([&] { SigningIdentity::fromPem(sealChain, readFile(devPki().file("person.key.pem"))); });
    CHECK(mismatch.code() == ErrorCode::kInvalidArgument);
    CHECK(mismatch.reason() == "identity.key_mismatch");
    // The CA is not the first certificate: the seal key does not belong to it.
    CHECK(captureError([&] {
              SigningIdentity::fromPem(readFile(devPki().file("ca.pem")) + sealChain,
                                       readFile(devPki().file("seal.key.pem")));
          }).reason() == "identity.key_mismatch");

    CHECK(captureError([&] { SigningIdentity::fromPem("", readFile(devPki().file("seal.key.pem"))); }).reason() ==
          "identity.invalid");
    CHECK(captureError([&] {
              // A PEM block with the private-key label and a body that is no key at all.
              const std::string label = std::string("PRIVATE") + " KEY";
              SigningIdentity::fromPem(sealChain, "-----BEGIN " + label + "-----\nAAAA\n-----END " + label + "-----\n");
          }).reason() == "identity.invalid");
    std::string brokenChain = sealChain;
    brokenChain[brokenChain.find("MII") + 40] = '*';
    CHECK(captureError([&] { SigningIdentity::fromCertificates(brokenChain); }).reason() == "identity.invalid");

    TempDir dir;
    REQUIRE(runCommand("openssl req -x509 -newkey ed25519 -nodes -subj /CN=Edwards -days 2 -keyout " +
                       quote(dir.file("k.pem")) + " -out " + quote(dir.file("c.pem")) + " 2>/dev/null")
                .exitCode == 0);
    CHECK(captureError([&] {
              SigningIdentity::fromPem(readFile(dir.file("c.pem")), readFile(dir.file("k.pem")));
          }).reason() == "identity.unsupported_key");

    // RC2-40 needs OpenSSL's legacy provider, which is not loaded: refused, with advice on re-exporting.
    REQUIRE(runCommand("openssl pkcs12 -export -legacy -in " + quote(devPki().file("seal.pem")) + " -inkey " +
                       quote(devPki().file("seal.key.pem")) + " -passout pass:abc -out " + quote(dir.file("old.p12")) +
                       " 2>&1")
                .exitCode == 0);
    const Error legacy = captureError([&] { SigningIdentity::fromPkcs12(readFile(dir.file("old.p12")), "abc"); });
    CHECK(legacy.reason() == "identity.invalid");
    CHECK(std::string(legacy.what()).find("legacy") != std::string::npos);

    const SigningIdentity certificateOnly = SigningIdentity::fromCertificates(sealChain);
    const Error noKey = captureError([&] { certificateOnly.signCadesDetached("x", devPki().createdAt); });
    CHECK(noKey.code() == ErrorCode::kFailedPrecondition);
    CHECK(noKey.reason() == "identity.no_private_key");
}

TEST_CASE("remote hash-then-sign: the OpenSSL CLI plays the card", "[identity]") {
    TempDir dir;
    const std::string content = sampleContent();
    const std::int64_t now = devPki().createdAt + 60;

    struct Card {
        const char* chain;
        const char* key;
    };
    for (const Card card : {Card{"seal.pem", "seal.key.pem"}, Card{"person.pem", "person.key.pem"}}) {
        INFO(card.chain);
        // The service never sees the key: a certificate-only identity prepares and assembles.
        const SigningIdentity identity = SigningIdentity::fromCertificates(readFile(devPki().file(card.chain)));
        const PreparedSignature prepared = identity.prepareSignature(content, now);
        CHECK(identity.prepareSignature(content, now).signedAttributesDer() == prepared.signedAttributesDer());

        // The prepared state survives as plain bytes (e.g. a restart between prepare and complete).
        const PreparedSignature restored(std::string(prepared.signedAttributesDer()));
        writeFile(dir.file("attrs.der"), restored.signedAttributesDer());
        const CommandResult parsedAttributes =
            runCommand("openssl asn1parse -inform DER -in " + quote(dir.file("attrs.der")));
        CHECK(parsedAttributes.exitCode == 0);
        CHECK(parsedAttributes.output.find("SET") != std::string::npos);

        const std::string key = quote(devPki().file(card.key));
        REQUIRE(runCommand("openssl dgst -sha256 -sign " + key + " -out " + quote(dir.file("raw.sig")) + " " +
                           quote(dir.file("attrs.der")))
                    .exitCode == 0);
        const std::string cms = identity.assembleCms(content, readFile(dir.file("raw.sig")), restored);
        checkBaselineCms(dir, cms, content);

        // A card that signs a precomputed digest (pkeyutl with the digest named) works the same.
        const Sha256 digest = restored.digest();
        writeFile(dir.file("digest.bin"), std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
        REQUIRE(runCommand("openssl pkeyutl -sign -inkey " + key + " -pkeyopt digest:sha256 -in " +
                           quote(dir.file("digest.bin")) + " -out " + quote(dir.file("raw2.sig")))
                    .exitCode == 0);
        CHECK(
            verifiesWithOpenssl(dir, identity.assembleCms(content, readFile(dir.file("raw2.sig")), restored), content));

        // Rejected: a signature over other bytes, garbage, the attributes of other content.
        REQUIRE(runCommand("openssl dgst -sha256 -sign " + key + " -out " + quote(dir.file("other.sig")) + " " +
                           quote(dir.file("digest.bin")))
                    .exitCode == 0);
        const Error wrong =
            captureError([&] { identity.assembleCms(content, readFile(dir.file("other.sig")), restored); });
        CHECK(wrong.code() == ErrorCode::kInvalidArgument);
        CHECK(wrong.reason() == "signature.invalid");
        std::string flipped = readFile(dir.file("raw.sig"));
        flipped[flipped.size() - 5] = static_cast<char>(flipped[flipped.size() - 5] ^ 0x10);
        CHECK(captureError([&] { identity.assembleCms(content, flipped, restored); }).reason() == "signature.invalid");
        CHECK(captureError([&] { identity.assembleCms(content, "", restored); }).reason() == "signature.invalid");
        const Error otherContent =
            captureError([&] { identity.assembleCms(content + "!", readFile(dir.file("raw.sig")), restored); });
        CHECK(otherContent.code() == ErrorCode::kInvalidArgument);
        CHECK(otherContent.reason() == "signature.attributes_mismatch");
    }

    // A signature by another key over the right attributes is not the certificate holder's.
    const SigningIdentity seal = SigningIdentity::fromCertificates(readFile(devPki().file("seal.pem")));
    const PreparedSignature prepared = seal.prepareSignature(content, now);
    writeFile(dir.file("attrs.der"), prepared.signedAttributesDer());
    REQUIRE(runCommand("openssl dgst -sha256 -sign " + quote(devPki().file("tsa.key.pem")) + " -out " +
                       quote(dir.file("tsa.sig")) + " " + quote(dir.file("attrs.der")))
                .exitCode == 0);
    CHECK(captureError([&] { seal.assembleCms(content, readFile(dir.file("tsa.sig")), prepared); }).reason() ==
          "signature.invalid");
}

TEST_CASE("remote ECDSA signature given as PKCS#11 r||s is accepted", "[identity]") {
    TempDir dir;
    const std::string content = sampleContent();
    const SigningIdentity person = SigningIdentity::fromCertificates(readFile(devPki().file("person.pem")));
    const PreparedSignature prepared = person.prepareSignature(content, devPki().createdAt);
    writeFile(dir.file("attrs.der"), prepared.signedAttributesDer());
    REQUIRE(runCommand("openssl dgst -sha256 -sign " + quote(devPki().file("person.key.pem")) + " -out " +
                       quote(dir.file("der.sig")) + " " + quote(dir.file("attrs.der")))
                .exitCode == 0);
    // asn1parse lists r and s as "INTEGER :HEX"; pad each to 32 bytes for the raw form.
    const CommandResult parsed = runCommand("openssl asn1parse -inform DER -in " + quote(dir.file("der.sig")));
    REQUIRE(parsed.exitCode == 0);
    std::string raw;
    std::istringstream lines(parsed.output);
    std::string line;
    while (std::getline(lines, line)) {
        const auto at = line.find("INTEGER           :");
        if (at == std::string::npos) continue;
        std::string hex = trim(line.substr(at + std::string("INTEGER           :").size()));
        hex = std::string(64 - hex.size(), '0') + hex;
        for (std::size_t i = 0; i < hex.size(); i += 2) {
            raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
        }
    }
    REQUIRE(raw.size() == 64);
    CHECK(verifiesWithOpenssl(dir, person.assembleCms(content, raw, prepared), content));
}

TEST_CASE("one identity signs from several threads at once", "[identity]") {
    TempDir dir;
    const SigningIdentity seal = sealFromPem();
    const std::string content = sampleContent();
    // RSA PKCS#1 v1.5 is deterministic and B-B has no time: every signature must be the same bytes.
    const std::string expected = seal.signCadesDetached(content, devPki().createdAt);
    REQUIRE(verifiesWithOpenssl(dir, expected, content));
    constexpr int kThreads = 4;
    std::vector<std::vector<std::string>> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t, copy = seal] {
            for (int i = 0; i < 10; ++i) {
                results[t].push_back(((t + i) % 2 == 0 ? seal : copy).signCadesDetached(content, devPki().createdAt));
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    for (const auto& perThread : results) {
        for (const std::string& cms : perThread)
            CHECK(cms == expected);
    }
}
