// SPDX-License-Identifier: AGPL-3.0-or-later
#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "Process.h"
#include "TempDir.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/SigningIdentity.h"
#include "kooperdoc/signing/Timestamp.h"

using namespace kooperdoc;
using namespace kooperdoc::signing;
using namespace kooperdoc::testing;

namespace {

constexpr const char* kSha256Oid = "2.16.840.1.101.3.4.2.1";


struct DevPki {
    TempDir root;
    std::string dir;
    std::int64_t createdAt = 0;
    std::string caDer;  ///< DER of ca.pem, converted by the openssl CLI
    std::string tsaDer; ///< DER of the first certificate of tsa.pem

    std::string file(const std::string& name) const { return dir + "/" + name; }
};

std::string certificateDerByOpenssl(const std::string& pemPath, const std::string& outPath) {
    const CommandResult converted =
        runCommand("openssl x509 -in " + quote(pemPath) + " -outform DER -out " + quote(outPath));
    if (converted.exitCode != 0) throw std::runtime_error("openssl x509 failed for " + pemPath);
    return readFile(outPath);
}

/// One development PKI per test process, created at the real current time because the openssl CLI
/// checks certificate validity against the clock.
const DevPki& devPki() {
    static const std::unique_ptr<DevPki> pki = [] {
        auto made = std::make_unique<DevPki>();
        made->dir = made->root.file("pki");
        made->createdAt = static_cast<std::int64_t>(std::time(nullptr));
        writeDevelopmentIdentity(made->dir, made->createdAt);
        made->caDer = certificateDerByOpenssl(made->file("ca.pem"), made->root.file("ca.der"));
        made->tsaDer = certificateDerByOpenssl(made->file("tsa.pem"), made->root.file("tsa.der"));
        return made;
    }();
    return *pki;
}

/// Inside the validity of every development certificate, and not the wall clock.
std::int64_t fixedTime() {
    return devPki().createdAt + 3600;
}

EmbeddedTsa makeTsa(EmbeddedTsaOptions options = {}) {
    if (!options.clock) options.clock = [] { return fixedTime(); };
    return EmbeddedTsa(readFile(devPki().file("tsa.pem")), readFile(devPki().file("tsa.key.pem")), std::move(options));
}

SigningIdentity seal() {
    return SigningIdentity::fromPem(readFile(devPki().file("seal.pem")), readFile(devPki().file("seal.key.pem")));
}
SigningIdentity person() {
    return SigningIdentity::fromPem(readFile(devPki().file("person.pem")), readFile(devPki().file("person.key.pem")));
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

/// `openssl ts -verify` on a bare token: the independent check of signature, chain and imprint.
CommandResult opensslVerifyToken(const TempDir& dir, const std::string& token, const Sha256& imprint) {
    writeFile(dir.file("token.der"), token);
    return runCommand("openssl ts -verify -digest " + toHex(imprint) + " -in " + quote(dir.file("token.der")) +
                      " -token_in -CAfile " + quote(devPki().file("ca.pem")) + " -untrusted " +
                      quote(devPki().file("tsa.pem")) + " 2>&1");
}

/// `openssl ts -reply -text` of a token or of a whole response.
std::string opensslPrint(const TempDir& dir, const std::string& der, bool isToken) {
    writeFile(dir.file("print.der"), der);
    const CommandResult printed = runCommand("openssl ts -reply -in " + quote(dir.file("print.der")) +
                                             (isToken ? " -token_in" : "") + " -text 2>&1");
    INFO(printed.output);
    REQUIRE(printed.exitCode == 0);
    return printed.output;
}

CommandResult opensslCmsVerify(const TempDir& dir, const std::string& cms, const std::string& content) {
    writeFile(dir.file("cms.der"), cms);
    writeFile(dir.file("content.bin"), content);
    return runCommand("openssl cms -verify -binary -inform DER -in " + quote(dir.file("cms.der")) + " -content " +
                      quote(dir.file("content.bin")) + " -CAfile " + quote(devPki().file("ca.pem")) +
                      " -purpose any -out /dev/null 2>&1");
}

struct CmsFree {
    void operator()(CMS_ContentInfo* cms) const noexcept { CMS_ContentInfo_free(cms); }
};
struct Pkcs7Free {
    void operator()(PKCS7* p7) const noexcept { PKCS7_free(p7); }
};

/// The signature value of the first SignerInfo, read with OpenSSL directly.
std::string signatureValue(const std::string& cmsDer) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(cmsDer.data());
    std::unique_ptr<CMS_ContentInfo, CmsFree> cms(
        d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(cmsDer.size())));
    REQUIRE(cms);
    STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
    REQUIRE(sk_CMS_SignerInfo_num(signers) == 1);
    const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(signers, 0));
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                       static_cast<std::size_t>(ASN1_STRING_length(value)));
}

/// The signingTime signed attribute of a token, as epoch seconds (-1 when absent).
std::int64_t tokenSigningTime(const std::string& token, bool* hasEssCertIdV2, bool* hasEssCertIdV1) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(token.data());
    std::unique_ptr<PKCS7, Pkcs7Free> p7(d2i_PKCS7(nullptr, &cursor, static_cast<long>(token.size())));
    REQUIRE(p7);
    STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(p7.get());
    REQUIRE(sk_PKCS7_SIGNER_INFO_num(signers) == 1);
    PKCS7_SIGNER_INFO* signer = sk_PKCS7_SIGNER_INFO_value(signers, 0);
    *hasEssCertIdV2 = PKCS7_get_signed_attribute(signer, NID_id_smime_aa_signingCertificateV2) != nullptr;
    *hasEssCertIdV1 = PKCS7_get_signed_attribute(signer, NID_id_smime_aa_signingCertificate) != nullptr;
    ASN1_TYPE* signingTime = PKCS7_get_signed_attribute(signer, NID_pkcs9_signingTime);
    if (signingTime == nullptr) return -1;
    std::tm parts{};
    REQUIRE(ASN1_TIME_to_tm(signingTime->value.utctime, &parts) == 1);
    return static_cast<std::int64_t>(timegm(&parts));
}

std::uint64_t serialValue(const std::string& token) {
    const std::string hex = inspectTimestampToken(token).serialHex;
    REQUIRE(hex.size() <= 16);
    return std::stoull(hex, nullptr, 16);
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string sampleContent() {
    std::string content = "%PDF-1.7\r\nZażółć gęślą jaźń\n";
    for (int i = 0; i < 700; ++i)
        content += static_cast<char>(i * 13);
    return content;
}

/// A TSA that answers with a token over a digest it was not asked for.
class MisdirectedTsa : public TimestampAuthority {
public:
    explicit MisdirectedTsa(EmbeddedTsa& real) : real_(real) {}
    std::string timestamp(const Sha256& /*messageImprint*/) override { return real_.timestamp(sha256("other")); }

private:
    EmbeddedTsa& real_;
};

} // namespace

TEST_CASE("embedded TSA: the token verifies with our verifier and with openssl ts -verify", "[timestamp]") {
    TempDir dir;
    EmbeddedTsa tsa = makeTsa();
    const Sha256 imprint = sha256(sampleContent());
    const std::string token = tsa.timestamp(imprint);

    std::string whyNot = "stale";
    CHECK(verifyTimestampToken(token, imprint, {devPki().caDer}, &whyNot));
    CHECK(whyNot.empty());

    const CommandResult verified = opensslVerifyToken(dir, token, imprint);
    INFO(verified.output);
    CHECK(verified.exitCode == 0);
    CHECK(contains(verified.output, "Verification: OK"));
    // The same check fails for another digest, so the one above means something.
    CHECK(opensslVerifyToken(dir, token, sha256("something else")).exitCode != 0);
}

TEST_CASE("embedded TSA: genTime and signingTime come from the clock, and policy, accuracy, ESSCertIDv2, certificates",
          "[timestamp]") {
    TempDir dir;
    const std::int64_t when = fixedTime() + 12345; // an odd value, far from the wall clock's seconds
    EmbeddedTsaOptions options;
    options.clock = [when] { return when; };
    EmbeddedTsa tsa = makeTsa(options);
    const Sha256 imprint = sha256("abc");
    const std::string token = tsa.timestamp(imprint);

    const TimestampInfo info = inspectTimestampToken(token);
    CHECK(info.genTime == when);
    CHECK(info.policyOid == kDevelopmentTsaPolicyOid);
    CHECK(info.imprintAlgorithmOid == kSha256Oid);
    CHECK(info.imprint == imprint);
    CHECK(info.tsaCertificateDer == devPki().tsaDer);
    CHECK(std::count(info.certificatesDer.begin(), info.certificatesDer.end(), devPki().tsaDer) == 1);
    CHECK(std::count(info.certificatesDer.begin(), info.certificatesDer.end(), devPki().caDer) == 1);

    bool essV2 = false;
    bool essV1 = false;
    CHECK(tokenSigningTime(token, &essV2, &essV1) == when); // OpenSSL would put the wall clock here
    CHECK(essV2);
    CHECK_FALSE(essV1);

    // What an independent reader sees: the time (in the format openssl prints), accuracy, policy.
    const std::string printed = opensslPrint(dir, token, true);
    const std::time_t time = static_cast<std::time_t>(when);
    std::tm parts{};
    REQUIRE(gmtime_r(&time, &parts) != nullptr);
    char expectedTime[64];
    std::strftime(expectedTime, sizeof expectedTime, "%b %e %H:%M:%S %Y GMT", &parts);
    CHECK(contains(printed, std::string("Time stamp: ") + expectedTime));
    CHECK(contains(printed, "Accuracy: 0x01 seconds"));
    CHECK(contains(printed, std::string("Policy OID: ") + kDevelopmentTsaPolicyOid));
    CHECK(contains(printed, "Nonce: unspecified"));

    // Another policy, when configured.
    EmbeddedTsaOptions otherPolicy;
    otherPolicy.policyOid = "1.2.3.4.5";
    CHECK(inspectTimestampToken(makeTsa(otherPolicy).timestamp(imprint)).policyOid == "1.2.3.4.5");
}

TEST_CASE("embedded TSA: serial numbers count up, also across threads", "[timestamp]") {
    EmbeddedTsa tsa = makeTsa();
    const std::uint64_t first = serialValue(tsa.timestamp(sha256("1")));
    const std::uint64_t second = serialValue(tsa.timestamp(sha256("2")));
    const std::uint64_t third = serialValue(tsa.timestamp(sha256("3")));
    CHECK(second == first + 1);
    CHECK(third == second + 1);
    // Another instance starts somewhere else (random base), so restarts do not repeat serials.
    CHECK(serialValue(makeTsa().timestamp(sha256("1"))) != third + 1);

    constexpr int kThreads = 4;
    constexpr int kPerThread = 10;
    std::mutex mutex;
    std::vector<std::string> tokens;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                std::string token = tsa.timestamp(sha256(std::to_string(t * 1000 + i)));
                std::lock_guard<std::mutex> lock(mutex);
                tokens.push_back(std::move(token));
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    std::set<std::uint64_t> serials;
    for (const std::string& token : tokens) {
        serials.insert(serialValue(token));
        CHECK(verifyTimestampToken(token, inspectTimestampToken(token).imprint, {devPki().caDer}));
    }
    CHECK(serials.size() == kThreads * kPerThread);
    CHECK(*serials.begin() == third + 1);
    CHECK(*serials.rbegin() == third + kThreads * kPerThread);
}

TEST_CASE("embedded TSA: refuses unfit certificates and keys, and times outside its certificate", "[timestamp]") {
    const std::string tsaPem = readFile(devPki().file("tsa.pem"));
    const std::string tsaKey = readFile(devPki().file("tsa.key.pem"));
    // The seal has no timeStamping extended key usage.
    const Error notTsa = captureError(
        [&] { EmbeddedTsa(readFile(devPki().file("seal.pem")), readFile(devPki().file("seal.key.pem"))); });
    CHECK(notTsa.code() == ErrorCode::kInvalidArgument);
    CHECK(notTsa.reason() == "timestamp.tsa_invalid");
    CHECK(contains(notTsa.what(), "timeStamping"));
    CHECK(captureError([&] { EmbeddedTsa(tsaPem, readFile(devPki().file("seal.key.pem"))); }).reason() ==
          "timestamp.tsa_invalid");
    CHECK(captureError([&] { EmbeddedTsa("not a PEM", tsaKey); }).reason() == "timestamp.tsa_invalid");
    CHECK(captureError([&] { EmbeddedTsa(tsaPem, ""); }).reason() == "timestamp.tsa_invalid");
    EmbeddedTsaOptions badPolicy;
    badPolicy.policyOid = "policy";
    CHECK(captureError([&] { EmbeddedTsa(tsaPem, tsaKey, badPolicy); }).reason() == "timestamp.tsa_invalid");

    EmbeddedTsaOptions early;
    early.clock = [] { return devPki().createdAt - 10; };
    EmbeddedTsa tsa = makeTsa(early);
    const Error refused = captureError([&] { tsa.timestamp(sha256("abc")); });
    CHECK(refused.code() == ErrorCode::kUnavailable);
    CHECK(refused.reason() == "timestamp.unavailable");
    CHECK(contains(refused.what(), "rejection"));
    CHECK(contains(refused.what(), "not valid at"));
    CHECK(contains(refused.what(), "timeNotAvailable"));
}

TEST_CASE("embedded TSA: respond() answers openssl ts -query requests and rejects bad ones", "[timestamp]") {
    TempDir dir;
    EmbeddedTsa tsa = makeTsa();
    const Sha256 imprint = sha256(sampleContent());

    // A request made by the openssl CLI, with a nonce and certReq; the CLI checks the answer.
    REQUIRE(runCommand("openssl ts -query -digest " + toHex(imprint) + " -sha256 -cert -out " +
                       quote(dir.file("request.tsq")))
                .exitCode == 0);
    writeFile(dir.file("response.tsr"), tsa.respond(readFile(dir.file("request.tsq"))));
    const CommandResult verified =
        runCommand("openssl ts -verify -queryfile " + quote(dir.file("request.tsq")) + " -in " +
                   quote(dir.file("response.tsr")) + " -CAfile " + quote(devPki().file("ca.pem")) + " 2>&1");
    INFO(verified.output);
    CHECK(verified.exitCode == 0);
    CHECK(contains(verified.output, "Verification: OK"));

    // The answer to another request does not pass the same check (nonce and imprint differ).
    REQUIRE(runCommand("openssl ts -query -digest " + toHex(sha256("other")) + " -sha256 -cert -out " +
                       quote(dir.file("other.tsq")))
                .exitCode == 0);
    writeFile(dir.file("other.tsr"), tsa.respond(readFile(dir.file("other.tsq"))));
    CHECK(runCommand("openssl ts -verify -queryfile " + quote(dir.file("request.tsq")) + " -in " +
                     quote(dir.file("other.tsr")) + " -CAfile " + quote(devPki().file("ca.pem")) + " 2>&1")
              .exitCode != 0);

    const std::string garbage = opensslPrint(dir, tsa.respond("not a request"), false);
    CHECK(contains(garbage, "Status: Rejected"));
    CHECK(contains(garbage, "Bad request format"));
    CHECK(contains(garbage, "the data submitted has the wrong format")); // badDataFormat
    CHECK(contains(opensslPrint(dir, tsa.respond(""), false), "Status: Rejected"));

    // SHA-1 imprints are refused; SHA-512 ones are served.
    REQUIRE(runCommand("openssl ts -query -data " + quote(dir.file("request.tsq")) + " -sha1 -out " +
                       quote(dir.file("sha1.tsq")))
                .exitCode == 0);
    const std::string sha1 = opensslPrint(dir, tsa.respond(readFile(dir.file("sha1.tsq"))), false);
    CHECK(contains(sha1, "Status: Rejected"));
    CHECK(contains(sha1, "unrecognized or unsupported algorithm identifier"));
    REQUIRE(runCommand("openssl ts -query -data " + quote(dir.file("request.tsq")) + " -sha512 -out " +
                       quote(dir.file("sha512.tsq")))
                .exitCode == 0);
    CHECK(contains(opensslPrint(dir, tsa.respond(readFile(dir.file("sha512.tsq"))), false), "Status: Granted"));

    // A policy the TSA does not have.
    REQUIRE(runCommand("openssl ts -query -digest " + toHex(imprint) + " -sha256 -tspolicy 1.2.3.4 -out " +
                       quote(dir.file("policy.tsq")))
                .exitCode == 0);
    CHECK(contains(opensslPrint(dir, tsa.respond(readFile(dir.file("policy.tsq"))), false), "Status: Rejected"));
}

TEST_CASE("Rfc3161Client: nonce and certReq, checked answer, stable errors", "[timestamp]") {
    TempDir dir;
    EmbeddedTsa tsa = makeTsa();
    const Sha256 imprint = sha256(sampleContent());
    const std::string url = "https://tsa.example.test/tsr";

    std::vector<std::string> requests;
    std::vector<std::string> responses;
    auto honest = [&](const std::string& toUrl, const std::string& body, const std::string& contentType) {
        CHECK(toUrl == url);
        CHECK(contentType == "application/timestamp-query");
        requests.push_back(body);
        responses.push_back(tsa.respond(body));
        return responses.back();
    };

    SECTION("a granted answer gives a token that verifies") {
        Rfc3161Client client(url, honest);
        const std::string token = client.timestamp(imprint);
        CHECK(verifyTimestampToken(token, imprint, {devPki().caDer}));
        CHECK(inspectTimestampToken(token).tsaCertificateDer == devPki().tsaDer);
        CHECK(opensslVerifyToken(dir, token, imprint).exitCode == 0);

        // The request as the openssl CLI reads it.
        REQUIRE(requests.size() == 1);
        writeFile(dir.file("request.tsq"), requests[0]);
        const CommandResult printed =
            runCommand("openssl ts -query -in " + quote(dir.file("request.tsq")) + " -text 2>&1");
        INFO(printed.output);
        REQUIRE(printed.exitCode == 0);
        CHECK(contains(printed.output, "Hash Algorithm: sha256"));
        CHECK(contains(printed.output, "Certificate required: yes"));
        CHECK(contains(printed.output, "Nonce: 0x"));

        // Every request gets its own nonce.
        client.timestamp(imprint);
        REQUIRE(requests.size() == 2);
        CHECK(requests[0] != requests[1]);

        // With trust configured, the token must also chain to it.
        CHECK_NOTHROW(Rfc3161Client(url, honest, {devPki().caDer}).timestamp(imprint));
        const Error untrusted = captureError([&] { Rfc3161Client(url, honest, {devPki().tsaDer}).timestamp(imprint); });
        CHECK(untrusted.reason() == "timestamp.invalid_response");
    }

    SECTION("garbage and empty answers are invalid responses") {
        for (const std::string& answer : {std::string("<html>502 Bad Gateway</html>"), std::string()}) {
            Rfc3161Client client(url,
                                 [&](const std::string&, const std::string&, const std::string&) { return answer; });
            const Error error = captureError([&] { client.timestamp(imprint); });
            CHECK(error.code() == ErrorCode::kUnavailable);
            CHECK(error.reason() == "timestamp.invalid_response");
        }
        // A valid response followed by junk is not a DER TimeStampResp either.
        Rfc3161Client trailing(url, [&](const std::string&, const std::string& body, const std::string&) {
            return tsa.respond(body) + "x";
        });
        CHECK(captureError([&] { trailing.timestamp(imprint); }).reason() == "timestamp.invalid_response");
    }

    SECTION("a replayed answer (other nonce, or other imprint) is refused") {
        Rfc3161Client client(url, honest);
        client.timestamp(imprint);
        client.timestamp(sha256("other"));
        REQUIRE(responses.size() == 2);
        const std::string sameImprintOtherNonce = responses[0];
        const std::string otherImprint = responses[1];
        for (const std::string& replay : {sameImprintOtherNonce, otherImprint}) {
            Rfc3161Client replaying(url,
                                    [&](const std::string&, const std::string&, const std::string&) { return replay; });
            const Error error = captureError([&] { replaying.timestamp(imprint); });
            CHECK(error.code() == ErrorCode::kUnavailable);
            CHECK(error.reason() == "timestamp.invalid_response");
            CHECK(contains(error.what(), "does not match the request"));
        }
    }

    SECTION("a transport failure or a refusal is timestamp.unavailable, with the TSA's words") {
        Rfc3161Client unreachable(url, [](const std::string&, const std::string&, const std::string&) -> std::string {
            throw std::runtime_error("connection refused");
        });
        const Error down = captureError([&] { unreachable.timestamp(imprint); });
        CHECK(down.code() == ErrorCode::kUnavailable);
        CHECK(down.reason() == "timestamp.unavailable");
        CHECK(contains(down.what(), "connection refused"));
        CHECK(contains(down.what(), url));

        EmbeddedTsaOptions expired;
        expired.clock = [] { return devPki().createdAt + 20LL * 365 * 24 * 3600; };
        EmbeddedTsa expiredTsa = makeTsa(expired);
        Rfc3161Client refusing(url, [&](const std::string&, const std::string& body, const std::string&) {
            return expiredTsa.respond(body);
        });
        const Error refused = captureError([&] { refusing.timestamp(imprint); });
        CHECK(refused.code() == ErrorCode::kUnavailable);
        CHECK(refused.reason() == "timestamp.unavailable");
        CHECK(contains(refused.what(), "rejection: The TSA certificate is not valid at"));
        CHECK(contains(refused.what(), "timeNotAvailable"));
    }
}

TEST_CASE("addSignatureTimestamp: B-T for an RSA and an ECDSA signer keeps the signature valid", "[timestamp]") {
    TempDir dir;
    EmbeddedTsa tsa = makeTsa();
    const std::string content = sampleContent();
    for (const SigningIdentity& signer : {seal(), person()}) {
        INFO(signer.keyAlgorithm());
        const std::string cms = signer.signCadesDetached(content, devPki().createdAt + 60);
        REQUIRE(opensslCmsVerify(dir, cms, content).exitCode == 0);
        CHECK(signatureTimestampTokens(cms).empty());

        const std::string timestamped = addSignatureTimestamp(cms, tsa);
        CHECK(timestamped.size() > cms.size());
        const CommandResult verified = opensslCmsVerify(dir, timestamped, content);
        INFO(verified.output);
        CHECK(verified.exitCode == 0);

        // Signed attributes and signature are the same bytes: the [0] IMPLICIT signed attributes as
        // prepareSignature() gives them (the SET tag 0x31 becomes 0xA0) and the signature value.
        const std::string signedAttributes =
            signer.prepareSignature(content, devPki().createdAt + 60).signedAttributesDer();
        const std::string implicitSignedAttributes = "\xA0" + signedAttributes.substr(1);
        REQUIRE(contains(cms, implicitSignedAttributes));
        CHECK(contains(timestamped, implicitSignedAttributes));
        const std::string signature = signatureValue(cms);
        CHECK(signatureValue(timestamped) == signature);
        CHECK(contains(timestamped, signature));
        // The prefix up to the end of the signature is unchanged apart from the outer lengths: the
        // unsigned attributes come right after the signature.
        const std::size_t signatureEnd = timestamped.find(signature) + signature.size();
        CHECK(timestamped.substr(signatureEnd, 1) == "\xA1");

        const std::vector<std::string> tokens = signatureTimestampTokens(timestamped);
        REQUIRE(tokens.size() == 1);
        const Sha256 signatureImprint = sha256(signature);
        CHECK(inspectTimestampToken(tokens[0]).imprint == signatureImprint);
        CHECK(verifyTimestampToken(tokens[0], signatureImprint, {devPki().caDer}));
        const CommandResult tokenVerified = opensslVerifyToken(dir, tokens[0], signatureImprint);
        INFO(tokenVerified.output);
        CHECK(tokenVerified.exitCode == 0);

        // What openssl sees: the timestamp as an unsigned attribute.
        writeFile(dir.file("print.der"), timestamped);
        const CommandResult printed =
            runCommand("openssl cms -cmsout -print -inform DER -in " + quote(dir.file("print.der")));
        REQUIRE(printed.exitCode == 0);
        const std::size_t unsignedAt = printed.output.find("unsignedAttrs:");
        REQUIRE(unsignedAt != std::string::npos);
        CHECK(printed.output.find("id-smime-aa-timeStampToken", unsignedAt) != std::string::npos);
    }
}

TEST_CASE("addSignatureTimestamp: padding, a second timestamp, refused inputs and a misdirected token", "[timestamp]") {
    TempDir dir;
    EmbeddedTsa tsa = makeTsa();
    const std::string content = sampleContent();
    const std::string cms = seal().signCadesDetached(content, devPki().createdAt + 60);

    // /Contents padding is ignored; a second timestamp is added beside the first.
    const std::string once = addSignatureTimestamp(cms + std::string(300, '\0'), tsa);
    CHECK(opensslCmsVerify(dir, once, content).exitCode == 0);
    const std::string twice = addSignatureTimestamp(once, tsa);
    CHECK(opensslCmsVerify(dir, twice, content).exitCode == 0);
    const std::vector<std::string> tokens = signatureTimestampTokens(twice + std::string(10, '\0'));
    REQUIRE(tokens.size() == 2);
    CHECK(tokens[0] != tokens[1]);
    for (const std::string& token : tokens)
        CHECK(verifyTimestampToken(token, sha256(signatureValue(cms)), {devPki().caDer}));

    for (const std::string& bad : {std::string("garbage"), cms + "x", std::string(), cms.substr(0, cms.size() - 1)}) {
        const Error error = captureError([&] { addSignatureTimestamp(bad, tsa); });
        CHECK(error.code() == ErrorCode::kInvalidArgument);
        CHECK(error.reason() == "timestamp.cms_invalid");
    }
    CHECK(captureError([&] { signatureTimestampTokens("garbage"); }).reason() == "timestamp.cms_invalid");

    // Two signers: which signature would the timestamp be for?
    writeFile(dir.file("content.bin"), content);
    REQUIRE(runCommand("openssl cms -sign -binary -outform DER -in " + quote(dir.file("content.bin")) + " -signer " +
                       quote(devPki().file("seal.pem")) + " -inkey " + quote(devPki().file("seal.key.pem")) +
                       " -signer " + quote(devPki().file("person.pem")) + " -inkey " +
                       quote(devPki().file("person.key.pem")) + " -out " + quote(dir.file("two.der")))
                .exitCode == 0);
    const Error twoSigners = captureError([&] { addSignatureTimestamp(readFile(dir.file("two.der")), tsa); });
    CHECK(twoSigners.reason() == "timestamp.cms_invalid");
    CHECK(contains(twoSigners.what(), "exactly one SignerInfo"));

    // BER (streamed, indefinite lengths): re-encoding would change it, so it is refused.
    REQUIRE(runCommand("openssl cms -sign -binary -stream -outform DER -in " + quote(dir.file("content.bin")) +
                       " -signer " + quote(devPki().file("seal.pem")) + " -inkey " +
                       quote(devPki().file("seal.key.pem")) + " -out " + quote(dir.file("ber.der")))
                .exitCode == 0);
    const Error ber = captureError([&] { addSignatureTimestamp(readFile(dir.file("ber.der")), tsa); });
    CHECK(ber.reason() == "timestamp.cms_invalid");
    CHECK(contains(ber.what(), "not in DER"));

    MisdirectedTsa misdirected(tsa);
    const Error wrongImprint = captureError([&] { addSignatureTimestamp(cms, misdirected); });
    CHECK(wrongImprint.code() == ErrorCode::kUnavailable);
    CHECK(wrongImprint.reason() == "timestamp.invalid_response");
}

TEST_CASE("document timestamp: a token over sha256(\"abc\") verifies, and only for that", "[timestamp]") {
    EmbeddedTsa tsa = makeTsa();
    const Sha256 abc = sha256("abc");
    const std::string token = tsa.timestamp(abc);
    const std::vector<std::string> trusted = {devPki().caDer};

    std::string whyNot;
    CHECK(verifyTimestampToken(token, abc, trusted, &whyNot));
    CHECK(whyNot.empty());

    CHECK_FALSE(verifyTimestampToken(token, sha256("abd"), trusted, &whyNot));
    CHECK(contains(whyNot, "message imprint mismatch"));

    CHECK_FALSE(verifyTimestampToken(token, abc, {}, &whyNot));
    CHECK(contains(whyNot, "no trusted CA"));
    CHECK_FALSE(verifyTimestampToken(token, abc, {devPki().tsaDer}, &whyNot)); // not a CA
    CHECK(contains(whyNot, "certificate verify error"));
    CHECK_FALSE(verifyTimestampToken(token, abc, {"not DER"}, &whyNot));
    CHECK_FALSE(verifyTimestampToken("not a token", abc, trusted, &whyNot));
    CHECK_FALSE(verifyTimestampToken(token + "x", abc, trusted, &whyNot));

    // One flipped bit in the last bytes (the TSA's signature value).
    std::string tampered = token;
    tampered[tampered.size() - 5] = static_cast<char>(tampered[tampered.size() - 5] ^ 0x01);
    CHECK_FALSE(verifyTimestampToken(tampered, abc, trusted, &whyNot));
    CHECK_FALSE(whyNot.empty());

    // The chain must be valid at the validation time: after the TSA certificate (5 years) expired,
    // and before it began, the token does not verify.
    CHECK(verifyTimestampToken(token, abc, trusted, &whyNot, fixedTime()));
    CHECK_FALSE(verifyTimestampToken(token, abc, trusted, &whyNot, devPki().createdAt + 6LL * 366 * 24 * 3600));
    CHECK(contains(whyNot, "expired"));
    CHECK_FALSE(verifyTimestampToken(token, abc, trusted, &whyNot, devPki().createdAt - 3600));
}

TEST_CASE("inspectTimestampToken and verifyTimestampToken read tokens of the openssl ts CLI (fractional genTime)",
          "[timestamp]") {
    TempDir dir;
    const std::string config = "[tsa]\n"
                               "default_tsa = tsa_config\n"
                               "[tsa_config]\n"
                               "serial = " +
                               dir.file("serial") +
                               "\n"
                               "crypto_device = builtin\n"
                               "signer_cert = " +
                               devPki().file("tsa.pem") +
                               "\n"
                               "certs = " +
                               devPki().file("ca.pem") +
                               "\n"
                               "signer_key = " +
                               devPki().file("tsa.key.pem") +
                               "\n"
                               "signer_digest = sha256\n"
                               "default_policy = 1.2.3.4.1\n"
                               "digests = sha256\n"
                               "accuracy = secs:1\n"
                               "clock_precision_digits = 3\n"
                               "ordering = no\n"
                               "tsa_name = no\n"
                               "ess_cert_id_chain = no\n"
                               "ess_cert_id_alg = sha256\n";
    writeFile(dir.file("tsa.cnf"), config);
    writeFile(dir.file("serial"), "1F\n");
    const Sha256 imprint = sha256("abc");
    REQUIRE(runCommand("openssl ts -query -digest " + toHex(imprint) + " -sha256 -cert -no_nonce -out " +
                       quote(dir.file("q.tsq")))
                .exitCode == 0);
    // A whole millisecond (genTime without fraction) happens one time in a thousand: try again then,
    // so that the fraction is really there to be parsed.
    std::int64_t before = 0;
    std::int64_t after = 0;
    std::string token;
    bool fractional = false;
    for (int attempt = 0; attempt < 5 && !fractional; ++attempt) {
        before = static_cast<std::int64_t>(std::time(nullptr));
        const CommandResult replied =
            runCommand("openssl ts -reply -config " + quote(dir.file("tsa.cnf")) + " -queryfile " +
                       quote(dir.file("q.tsq")) + " -token_out -out " + quote(dir.file("token.der")) + " 2>&1");
        after = static_cast<std::int64_t>(std::time(nullptr));
        INFO(replied.output);
        REQUIRE(replied.exitCode == 0);
        token = readFile(dir.file("token.der"));
        const std::string printed = opensslPrint(dir, token, true);
        const std::size_t line = printed.find("Time stamp: ");
        REQUIRE(line != std::string::npos);
        fractional = printed.substr(line, printed.find('\n', line) - line).find('.') != std::string::npos;
    }
    REQUIRE(fractional);

    const TimestampInfo info = inspectTimestampToken(token);
    CHECK(info.genTime >= before);
    CHECK(info.genTime <= after);
    // The CLI counts up from the number in its serial file (1F), once per attempt.
    const unsigned long serial = std::stoul(info.serialHex, nullptr, 16);
    CHECK(serial >= 0x20);
    CHECK(serial <= 0x24);
    CHECK(info.policyOid == "1.2.3.4.1");
    CHECK(info.imprint == imprint);
    CHECK(info.tsaCertificateDer == devPki().tsaDer);
    CHECK(verifyTimestampToken(token, imprint, {devPki().caDer}));

    CHECK(captureError([] { inspectTimestampToken("garbage"); }).reason() == "timestamp.token_invalid");
    CHECK(captureError([&] { inspectTimestampToken(token.substr(0, token.size() - 1)); }).reason() ==
          "timestamp.token_invalid");
}
