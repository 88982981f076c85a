// SPDX-License-Identifier: AGPL-3.0-or-later
// Certificate and CMS cases for `kooperdoc verify` (reliability.md §7 S03, S21–S24): expired, not
// yet valid, revoked (CRL and OCSP), untrusted and self-signed look-alike certificates, weak
// algorithms and wrong digest algorithm claims, CMS structures a PDF signature must not have.
// Each verdict is compared with poppler's pdfsig (NSS, with our test CAs) and with PDFBox +
// BouncyCastle (tests/tools/SignatureCheck.java, which checks the CMS only, never trust).
//
// Certificates come from `openssl ca` (so `openssl ocsp` and `openssl ca -gencrl` can answer for
// them); odd CMS containers from `openssl cms`, written into the /Contents hole of a signature made
// by `kooperdoc sign` (the byte range stays as signed, only the container changes).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <utility>
#include <vector>

#include "VerifySupport.h"

using namespace kooperdoc::testing;

namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t nowEpoch() { return static_cast<std::int64_t>(std::time(nullptr)); }

/// For `openssl ca -startdate/-enddate`.
std::string generalizedTime(std::int64_t epoch) {
    const auto seconds = static_cast<std::time_t>(epoch);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M%SZ", &parts);
    return buffer;
}

/// For `kooperdoc verify --at`.
std::string isoTime(std::int64_t epoch) {
    const auto seconds = static_cast<std::time_t>(epoch);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

std::string toHex(const std::string& bytes) {
    static const char* const kDigits = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

std::string fromHex(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

/// The /Contents hole of the last signature of \p pdf: [start, end) including the angle brackets,
/// from its /ByteRange [0 start end length].
std::pair<std::size_t, std::size_t> lastHole(const std::string& pdf) {
    const auto at = pdf.rfind("/ByteRange");
    REQUIRE(at != std::string::npos);
    std::smatch m;
    const std::string rest = pdf.substr(at, 200);
    REQUIRE(std::regex_search(rest, m, std::regex(R"(/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\])")));
    const auto start = std::stoul(m[1].str()), end = std::stoul(m[2].str());
    REQUIRE(pdf[start] == '<');
    REQUIRE(pdf[end - 1] == '>');
    return {start, end};
}

/// The bytes the last signature signs (its byte range without the hole).
std::string lastSignedBytes(const std::string& pdf) {
    const auto [start, end] = lastHole(pdf);
    return pdf.substr(0, start) + pdf.substr(end);
}

/// The DER of the last signature's CMS, without the zero padding.
std::string lastCms(const std::string& pdf) {
    const auto [start, end] = lastHole(pdf);
    const std::string bytes = fromHex(pdf.substr(start + 1, end - start - 2));
    REQUIRE(static_cast<unsigned char>(bytes[0]) == 0x30);
    const auto lengthByte = static_cast<unsigned char>(bytes[1]);
    std::size_t length = 0, header = 2;
    if (lengthByte < 0x80) {
        length = lengthByte;
    } else {
        header += lengthByte & 0x7f;
        for (std::size_t i = 2; i < header; ++i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
    }
    return bytes.substr(0, header + length);
}

/// \p pdf with another CMS in the last signature's hole: same byte range, same file size.
std::string withLastCms(const std::string& pdf, const std::string& cmsDer) {
    const auto [start, end] = lastHole(pdf);
    const std::size_t capacity = end - start - 2;
    const std::string hex = toHex(cmsDer);
    REQUIRE(hex.size() <= capacity);
    std::string out = pdf;
    out.replace(start + 1, capacity, hex + std::string(capacity - hex.size(), '0'));
    return out;
}


/// The lines pdfsig prints about one field (it lists fields in form order, signed or not).
std::string pdfsigField(const std::string& report, const std::string& field) {
    const auto name = report.find("Signature Field Name: " + field + "\n");
    if (name == std::string::npos) return {};
    const auto end = report.find("Signature #", name);
    return report.substr(name, end == std::string::npos ? std::string::npos : end - name);
}

/// A development identity (VerifyLab: the seal and the TSA) and two CAs of our own made with
/// `openssl ca`, so their index files can feed `openssl ocsp` and CRLs. The test CA is in pdfsig's
/// NSS database and is a `--trust` anchor; the other CA is neither.
class CertificateLab {
public:
    CertificateLab() {
        writeFile(lab.file("password"), "tajne\n");
        for (const char* ca : {"testca", "otherca"}) {
            std::filesystem::create_directories(lab.file(std::string(ca) + "/issued"));
            writeFile(lab.file(std::string(ca) + "/index.txt"), "");
            writeFile(lab.file(std::string(ca) + "/serial"), std::string(ca) == "testca" ? "1000\n" : "2000\n");
        }
        std::string config = "[req]\ndistinguished_name=dn\n[dn]\n"
                             "[ca_ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                             "subjectKeyIdentifier=hash\n"
                             "[signer]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                             "[responder]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                             "extendedKeyUsage=OCSPSigning\n"
                             "[anything]\ncommonName=supplied\ncountryName=optional\norganizationName=optional\n"
                             "serialNumber=optional\n";
        for (const char* ca : {"testca", "otherca"}) {
            const std::string dir = lab.file(ca);
            config += std::string("[") + ca + "]\ndatabase=" + dir + "/index.txt\nnew_certs_dir=" + dir + "/issued\nserial=" + dir +
                      "/serial\ncertificate=" + dir + "/ca.pem\nprivate_key=" + dir + "/ca.key\ndefault_md=sha256\n" +
                      "policy=anything\nunique_subject=no\nemail_in_dn=no\ndefault_crl_days=7\ncrlnumber=" + dir + "/crlnumber\n";
            writeFile(dir + "/crlnumber", "01\n");
        }
        writeFile(lab.file("openssl.cnf"), config);
        makeCa("testca", "/CN=Testowe CA certyfikatów/O=Kooperdoc testy/C=PL");
        makeCa("otherca", "/CN=Obce CA/O=Ktoś inny/C=PL");
        REQUIRE(VerifyLab::run("certutil -A -d sql:" + quote(lab.file("nss")) + " -n test-ca -t CT,C,C -i " +
                               quote(lab.file("testca/ca.pem"))).exitCode == 0);
        // The base document: the dev seal, then osoba-1 still empty.
        REQUIRE(VerifyLab::run("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " render m1-oswiadczenie-zgoda " +
                               quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") + " -o " +
                               quote(sealed()) + " --seal --level B-B --identity " + quote(lab.identity())).exitCode == 0);
    }

    std::string file(const std::string& name) const { return lab.file(name); }
    std::string sealed() const { return lab.file("sealed.pdf"); }
    std::string trust() const { return " --trust " + quote(lab.file("testca/ca.pem")) + " --trust " + quote(lab.ca()); }

    /// A certificate \p name (key, PEM, chain and PKCS#12) from \p ca, valid [notBefore, notAfter].
    void issue(const std::string& name, const std::string& subject, std::int64_t notBefore, std::int64_t notAfter,
               const std::string& ca = "testca", const std::string& extensions = "signer",
               const std::string& key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256") const {
        REQUIRE(VerifyLab::run("openssl req -new " + key + " -nodes -keyout " + quote(file(name + ".key")) + " -out " +
                               quote(file(name + ".csr")) + " -subj " + quote(subject) + " -utf8 -config " +
                               quote(file("openssl.cnf"))).exitCode == 0);
        REQUIRE(VerifyLab::run("openssl ca -batch -notext -preserveDN -utf8 -config " + quote(file("openssl.cnf")) + " -name " + ca +
                               " -in " + quote(file(name + ".csr")) + " -out " + quote(file(name + ".pem")) + " -extensions " +
                               extensions + " -startdate " + generalizedTime(notBefore) + " -enddate " +
                               generalizedTime(notAfter)).exitCode == 0);
        REQUIRE(VerifyLab::run("cat " + quote(file(name + ".pem")) + " " + quote(file(ca + "/ca.pem")) + " > " +
                               quote(file(name + "-chain.pem")) + " && openssl pkcs12 -export -passout pass:tajne -inkey " +
                               quote(file(name + ".key")) + " -in " + quote(file(name + "-chain.pem")) + " -out " +
                               quote(file(name + ".p12"))).exitCode == 0);
    }

    /// osoba-1 of the sealed document signed through the CLI with \p name's PKCS#12.
    std::string sign(const std::string& name, const std::string& level) const {
        const auto out = file(name + "-" + level + ".pdf");
        REQUIRE(VerifyLab::run(quote(cli()) + " sign " + quote(sealed()) + " --field osoba-1 --p12 " + quote(file(name + ".p12")) +
                               " --password-file " + quote(file("password")) + " --level " + level + " --identity " +
                               quote(lab.identity()) + " -o " + quote(out)).exitCode == 0);
        return out;
    }

    /// `openssl cms -sign` over the last signature's signed bytes of \p pdf, written into its hole.
    std::string resigned(const std::string& pdf, const std::string& out, const std::string& signerOptions,
                         const std::string& md = "sha256") const {
        writeFile(file("content.bin"), lastSignedBytes(readFile(pdf)));
        REQUIRE(VerifyLab::run("openssl cms -sign -binary -nosmimecap -outform DER -md " + md + " -in " + quote(file("content.bin")) +
                               " " + signerOptions + " -out " + quote(file("resigned.cms"))).exitCode == 0);
        writeFile(out, withLastCms(readFile(pdf), readFile(file("resigned.cms"))));
        return out;
    }

    std::string signerOptions(const std::string& name, const std::string& ca = "testca") const {
        return "-signer " + quote(file(name + ".pem")) + " -inkey " + quote(file(name + ".key")) + " -certfile " +
               quote(file(ca + "/ca.pem"));
    }

    /// `openssl ocsp` as the responder for \p name, signed by \p responder (the CA by default).
    std::string ocsp(const std::string& name, const std::string& responder = "testca/ca") const {
        const auto out = file(name + "-ocsp-" + std::filesystem::path(responder).filename().string() + ".der");
        REQUIRE(VerifyLab::run("openssl ocsp -index " + quote(file("testca/index.txt")) + " -rsigner " + quote(file(responder + ".pem")) +
                               " -rkey " + quote(file(responder + ".key")) + " -CA " + quote(file("testca/ca.pem")) + " -issuer " +
                               quote(file("testca/ca.pem")) + " -cert " + quote(file(name + ".pem")) + " -respout " + quote(out) +
                               " -ndays 1").exitCode == 0);
        return out;
    }

    /// \p pdf (without a DSS) with a DSS holding only \p ocspDer, in one incremental update.
    std::string withDssOcsp(const std::string& pdf, const std::string& ocspDer, const std::string& out) const {
        const std::string bytes = readFile(pdf);
        REQUIRE(bytes.find("/DSS") == std::string::npos);
        const auto trailer = bytes.rfind("trailer");
        std::smatch root, size;
        const std::string trailerText = bytes.substr(trailer);
        REQUIRE(std::regex_search(trailerText, root, std::regex("/Root (\\d+) 0 R")));
        REQUIRE(std::regex_search(trailerText, size, std::regex("/Size (\\d+)")));
        auto catalog = VerifyLab::run("qpdf --show-object=" + root[1].str() + " " + quote(pdf)).output;
        const auto close = catalog.rfind(">>");
        REQUIRE(close != std::string::npos);
        const int stream = std::stoi(size[1].str()), dss = stream + 1;
        catalog = catalog.substr(0, close) + " /DSS " + std::to_string(dss) + " 0 R >>";
        const std::string streamBody = "<< /Length " + std::to_string(ocspDer.size()) + " >>\nstream\n" + ocspDer + "\nendstream";
        writeFile(out, appendObjects(bytes, {{std::stoi(root[1].str()), catalog},
                                             {stream, streamBody},
                                             {dss, "<< /OCSPs [" + std::to_string(stream) + " 0 R] >>"}}));
        return out;
    }

    /// Our verdict on osoba-1 (the JSON block of that signature).
    std::string verdict(const std::string& pdf, const std::string& extra = "") const {
        const auto result = VerifyLab::verify(pdf, trust() + " " + extra);
        const auto block = signatureBlock(result.output, "osoba-1");
        UNSCOPED_INFO(block);
        return block;
    }

    /// pdfsig's lines on osoba-1.
    std::string pdfsig(const std::string& pdf) const {
        const auto lines = pdfsigField(lab.pdfsig(pdf), "osoba-1");
        UNSCOPED_INFO(lines);
        return lines;
    }

    VerifyLab lab;

private:
    void makeCa(const std::string& ca, const std::string& subject) const {
        REQUIRE(VerifyLab::run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                               quote(file(ca + "/ca.key")) + " -out " + quote(file(ca + "/ca.pem")) + " -days 3650 -subj " +
                               quote(subject) + " -utf8 -config " + quote(file("openssl.cnf")) + " -extensions ca_ext")
                    .exitCode == 0);
    }
};

/// PDFBox + BouncyCastle over several files in one JVM: its line on osoba-1, per file in order.
std::vector<std::string> pdfboxOnOsoba1(const std::vector<std::string>& pdfs) {
    std::string files;
    for (const auto& pdf : pdfs) files += " " + quote(pdf);
    const auto output = runCommand(std::string(KOOPERDOC_SIGNATURE_CHECK) + files + " 2>&1").output;
    UNSCOPED_INFO(output);
    std::vector<std::string> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
        if (std::regex_search(line, std::regex("^(IN)?VALID osoba-1 "))) lines.push_back(line);
    }
    REQUIRE(lines.size() == pdfs.size());
    return lines;
}

bool has(const std::string& text, const std::string& pattern) { return std::regex_search(text, std::regex(pattern)); }

std::string verdictOf(const std::string& indication, const std::string& subIndication) {
    return jsonPair("indication", indication) + "[^}]*" +
           (subIndication.empty() ? "\"sub_indication\" ?: ?null" : jsonPair("sub_indication", subIndication));
}

}  // namespace

TEST_CASE("certificate validity: expired, not yet valid, and a timestamp as proof of existence", "[verify][cli][certificates]") {
    CertificateLab cert;
    const auto now = nowEpoch();
    // Valid now (so `kooperdoc sign` accepts it) but only until tomorrow; verified three days on.
    cert.issue("short", "/CN=Anna Krótka/C=PL", now - 3600, now + kDay);
    const auto shortBB = cert.sign("short", "B-B");
    const auto shortBT = cert.sign("short", "B-T");
    const std::string later = " --at " + isoTime(now + 3 * kDay);

    // S23: expired, no timestamp → nothing proves the signature older than the expiry.
    const auto expiredBB = cert.verdict(shortBB, later);
    CHECK(has(expiredBB, verdictOf("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")));
    CHECK(has(expiredBB, jsonPair("reason", "verify.expired_no_poe")));
    // S23: the same certificate with a B-T signature timestamp from before the expiry.
    const auto expiredBT = cert.verdict(shortBT, later);
    CHECK(has(expiredBT, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(expiredBT, "verify.validated_at_timestamp"));
    CHECK(has(expiredBT, jsonPair("pades_level", "B-T")));
    // pdfsig judges at the wall clock and has no --at: the certificate is still valid for it.
    CHECK(has(cert.pdfsig(shortBB), "Certificate Validation: Certificate is Trusted\\."));

    // Expired already now: a certificate valid ten to two days ago, its CMS made by openssl.
    cert.issue("expired", "/CN=Anna Wygasła/C=PL", now - 10 * kDay, now - 2 * kDay);
    const auto expired = cert.resigned(shortBB, cert.file("expired.pdf"), cert.signerOptions("expired"));
    const auto expiredNow = cert.verdict(expired);
    CHECK(has(expiredNow, verdictOf("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")));
    CHECK(has(cert.pdfsig(expired), "Signature Validation: Signature is Valid\\."));
    CHECK(has(cert.pdfsig(expired), "Certificate Validation: Certificate has Expired"));

    // Not yet valid: from the day after tomorrow.
    cert.issue("future", "/CN=Anna Przyszła/C=PL", now + 2 * kDay, now + 30 * kDay);
    const auto future = cert.resigned(shortBB, cert.file("future.pdf"), cert.signerOptions("future"));
    const auto futureNow = cert.verdict(future);
    CHECK(has(futureNow, verdictOf("INDETERMINATE", "NOT_YET_VALID")));
    CHECK(has(futureNow, jsonPair("reason", "verify.not_yet_valid")));
    CHECK(has(cert.pdfsig(future), "Signature Validation: Signature is Valid\\."));
    // NSS has one error for both ends of the validity period.
    CHECK(has(cert.pdfsig(future), "Certificate Validation: Certificate has Expired"));

    // BouncyCastle checks the certificate against the CMS signing-time attribute openssl wrote
    // (now): outside the validity it refuses the signature; our own CMS carries no signing-time.
    const auto java = pdfboxOnOsoba1({shortBB, shortBT, expired, future});
    CHECK(has(java[0], "^VALID osoba-1 .*Anna Krótka"));
    CHECK(has(java[1], "^VALID osoba-1 .*Anna Krótka.* ts="));
    CHECK(has(java[2], "^INVALID osoba-1 "));
    CHECK(has(java[3], "^INVALID osoba-1 "));
}

TEST_CASE("revocation: a CRL and OCSP responses, in the DSS and configured", "[verify][cli][certificates][ocsp]") {
    CertificateLab cert;
    const auto now = nowEpoch();
    cert.issue("good", "/CN=Anna Dobra/C=PL", now - 3600, now + 30 * kDay);
    cert.issue("revoked", "/CN=Anna Unieważniona/C=PL", now - 3600, now + 30 * kDay);
    cert.issue("responder", "/CN=Responder OCSP testowego CA/C=PL", now - 3600, now + 30 * kDay, "testca", "responder");
    cert.issue("impostor", "/CN=Nie responder/C=PL", now - 3600, now + 30 * kDay);
    const auto goodBT = cert.sign("good", "B-T");
    const auto revokedBB = cert.sign("revoked", "B-B");
    const auto config = quote(cert.file("openssl.cnf"));
    REQUIRE(VerifyLab::run("openssl ca -batch -config " + config + " -name testca -revoke " + quote(cert.file("revoked.pem")) +
                           " -crl_reason keyCompromise").exitCode == 0);
    REQUIRE(VerifyLab::run("openssl ca -batch -config " + config + " -name testca -gencrl -out " + quote(cert.file("testca.crl.pem")) +
                           " 2>&1 && openssl crl -in " + quote(cert.file("testca.crl.pem")) + " -outform DER -out " +
                           quote(cert.file("testca.crl.der"))).exitCode == 0);

    // Without revocation data the revoked certificate still looks fine: nothing says otherwise.
    const auto unknowing = cert.verdict(revokedBB);
    CHECK(has(unknowing, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(unknowing, jsonPair("revocation", "not_checked")));
    CHECK(has(unknowing, "verify.no_revocation_data"));

    // Revoked by a configured CRL.
    const auto byCrl = cert.verdict(revokedBB, "--crl " + quote(cert.file("testca.crl.pem")));
    CHECK(has(byCrl, verdictOf("TOTAL-FAILED", "REVOKED")));
    CHECK(has(byCrl, jsonPair("revocation", "revoked")));
    // pdfsig knows no CRL until NSS holds it; then it agrees.
    CHECK(has(cert.pdfsig(revokedBB), "Certificate is Trusted"));
    REQUIRE(VerifyLab::run("crlutil -I -d sql:" + quote(cert.file("nss")) + " -t 1 -i " + quote(cert.file("testca.crl.der"))).exitCode == 0);
    const auto pdfsigRevoked = cert.pdfsig(revokedBB);
    CHECK(has(pdfsigRevoked, "Signature Validation: Signature is Valid\\."));
    CHECK(has(pdfsigRevoked, "Certificate Validation: Certificate has been Revoked\\."));

    // Revoked by OCSP: in the DSS (an appended LTA update) and configured with --ocsp.
    const auto revokedOcsp = cert.ocsp("revoked");
    const auto revokedWithDss = cert.withDssOcsp(revokedBB, readFile(revokedOcsp), cert.file("revoked-dss.pdf"));
    const auto byDssOcsp = cert.verdict(revokedWithDss);
    CHECK(has(byDssOcsp, verdictOf("TOTAL-FAILED", "REVOKED")));
    CHECK(has(byDssOcsp, jsonPair("modification_level", "LTA_UPDATES")));
    CHECK(!has(byDssOcsp, "ocsp_not_evaluated|ocsp_unusable"));
    CHECK(has(cert.verdict(revokedBB, "--ocsp " + quote(revokedOcsp)), verdictOf("TOTAL-FAILED", "REVOKED")));

    // OCSP "good" in the DSS of a B-T signature: revocation good for the whole chain, B-LT.
    const auto goodOcsp = cert.ocsp("good");
    const auto goodLt = cert.withDssOcsp(goodBT, readFile(goodOcsp), cert.file("good-lt.pdf"));
    const auto byGoodOcsp = cert.verdict(goodLt, "--require-revocation");
    CHECK(has(byGoodOcsp, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(byGoodOcsp, jsonPair("revocation", "good")));
    CHECK(has(byGoodOcsp, jsonPair("pades_level", "B-LT")));
    CHECK(!has(byGoodOcsp, "verify.revocation_leaf_only|verify.no_revocation_data|ocsp"));
    // Configured rather than embedded: good, but the level stays B-T (the file alone does not carry it).
    const auto configuredGood = cert.verdict(goodBT, "--require-revocation --ocsp " + quote(goodOcsp));
    CHECK(has(configuredGood, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(configuredGood, jsonPair("pades_level", "B-T")));
    // A delegated responder (id-kp-OCSPSigning, issued by the CA) may answer (RFC 6960 4.2.2.2).
    const auto delegated = cert.verdict(goodBT, "--require-revocation --ocsp " + quote(cert.ocsp("good", "responder")));
    CHECK(has(delegated, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(delegated, jsonPair("revocation", "good")));
    // A certificate of the same CA without that purpose may not: the response is ignored.
    const auto impostor = cert.verdict(goodBT, "--require-revocation --ocsp " + quote(cert.ocsp("good", "impostor")));
    CHECK(has(impostor, verdictOf("INDETERMINATE", "TRY_LATER")));
    CHECK(has(impostor, "verify.ocsp_unusable: .*neither the issuing CA nor its delegated OCSP signer"));
    // A response valid for one day does not speak for a validation time a week later.
    const auto stale = cert.verdict(goodBT, "--ocsp " + quote(goodOcsp) + " --at " + isoTime(now + 7 * kDay));
    CHECK(has(stale, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(stale, jsonPair("revocation", "unknown")));
    CHECK(has(stale, "verify.revocation_unknown: .*stale"));
    // A response about another certificate says nothing about this one.
    CHECK(has(cert.verdict(goodBT, "--require-revocation --ocsp " + quote(revokedOcsp)), verdictOf("INDETERMINATE", "TRY_LATER")));

    // Neither pdfsig nor PDFBox reads the DSS's OCSP responses; both call the CMS valid (pdfsig's
    // certificate verdict comes from the CRL NSS holds by now).
    CHECK(has(cert.pdfsig(revokedWithDss), "Signature Validation: Signature is Valid\\."));
    const auto java = pdfboxOnOsoba1({revokedWithDss, goodLt});
    CHECK(has(java[0], "^VALID osoba-1 .*Anna Unieważniona"));
    CHECK(has(java[1], "^VALID osoba-1 .*Anna Dobra.* ts="));
}

TEST_CASE("chains: a signer from a CA nobody trusts, and a self-signed look-alike of the seal", "[verify][cli][certificates]") {
    CertificateLab cert;
    const auto now = nowEpoch();
    cert.issue("stranger", "/CN=Anna Obca/C=PL", now - 3600, now + 30 * kDay, "otherca");
    const auto untrusted = cert.sign("stranger", "B-B");
    const auto stranger = cert.verdict(untrusted);
    CHECK(has(stranger, verdictOf("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")));
    CHECK(has(stranger, jsonPair("reason", "verify.no_chain")));
    CHECK(has(cert.pdfsig(untrusted), "Signature Validation: Signature is Valid\\."));
    CHECK(has(cert.pdfsig(untrusted), "Certificate Validation: Certificate issuer isn't Trusted\\."));

    // S22: a self-signed certificate with the seal's subject DN, signing osoba-1.
    const auto sealPem = quote(cert.lab.identity() + "/seal.pem");
    std::smatch subject, fingerprint;
    const auto sealSubject = VerifyLab::run("openssl x509 -noout -subject -nameopt RFC2253,-esc_msb -in " + sealPem).output;
    REQUIRE(std::regex_search(sealSubject, subject, std::regex("subject=([^\n]*)")));
    const auto sealFingerprint = VerifyLab::run("openssl x509 -noout -fingerprint -sha256 -in " + sealPem).output;
    REQUIRE(std::regex_search(sealFingerprint, fingerprint, std::regex("=([0-9A-F:]+)")));
    std::string sealSha256 = std::regex_replace(fingerprint[1].str(), std::regex(":"), "");
    std::transform(sealSha256.begin(), sealSha256.end(), sealSha256.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // RFC 2253 lists the most specific RDN first; `openssl req -subj` wants them the other way round.
    std::string slashSubject;
    std::stringstream rdns(subject[1].str());
    for (std::string rdn; std::getline(rdns, rdn, ',');) slashSubject = "/" + rdn + slashSubject;
    REQUIRE(VerifyLab::run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + quote(cert.file("lookalike.key")) + " -out " +
                           quote(cert.file("lookalike.pem")) + " -days 30 -utf8 -subj " + quote(slashSubject) + " -config " +
                           quote(cert.file("openssl.cnf")) + " -extensions signer").exitCode == 0);
    const auto lookalike = cert.resigned(untrusted, cert.file("lookalike.pdf"),
                                         "-signer " + quote(cert.file("lookalike.pem")) + " -inkey " + quote(cert.file("lookalike.key")));
    const auto report = cert.verdict(lookalike);
    CHECK(has(report, verdictOf("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")));
    CHECK(report.find("\"" + subject[1].str() + "\"") != std::string::npos);  // the same subject as the seal…
    std::smatch shown;
    REQUIRE(std::regex_search(report, shown, std::regex(jsonPair("sha256", "([0-9a-f]{64})"))));
    CHECK(shown[1].str() != sealSha256);  // …but not the seal's certificate, which the report shows
    const auto lookalikeSig = cert.pdfsig(lookalike);
    CHECK(has(lookalikeSig, "Signature Validation: Signature is Valid\\."));
    CHECK(has(lookalikeSig, "Certificate Validation: Certificate issuer is unknown\\."));

    const auto java = pdfboxOnOsoba1({untrusted, lookalike});
    CHECK(has(java[0], "^VALID osoba-1 .*Anna Obca"));
    CHECK(has(java[1], "^VALID osoba-1 .*pieczęć deweloperska"));  // the CMS is sound; whose key it is, PDFBox does not ask
}

TEST_CASE("CMS cases: a flipped signature bit, weak algorithms, wrong digest claims, two signers, eContent",
          "[verify][cli][certificates][cms]") {
    CertificateLab cert;
    const auto now = nowEpoch();
    cert.issue("good", "/CN=Anna Dobra/C=PL", now - 3600, now + 30 * kDay);
    cert.issue("second", "/CN=Bartosz Drugi/C=PL", now - 3600, now + 30 * kDay);
    cert.issue("weak", "/CN=Anna Słaba/C=PL", now - 3600, now + 30 * kDay, "testca", "signer", "-newkey rsa:1024");
    const auto good = cert.sign("good", "B-B");
    CHECK(has(cert.verdict(good), verdictOf("TOTAL-PASSED", "")));
    const std::string cms = lastCms(readFile(good));

    // S03: the last byte of the DER is the last byte of the signature value (B-B: no unsigned
    // attributes follow it); one bit of it flipped leaves valid DER.
    std::string flippedCms = cms;
    flippedCms.back() = static_cast<char>(flippedCms.back() ^ 0x01);
    const auto flipped = cert.file("flipped.pdf");
    writeFile(flipped, withLastCms(readFile(good), flippedCms));
    const auto flippedReport = cert.verdict(flipped);
    CHECK(has(flippedReport, verdictOf("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")));
    CHECK(has(flippedReport, "\"intact\" ?: ?true"));
    CHECK(has(cert.pdfsig(flipped), "Signature Validation: Signature is Invalid\\."));

    // S24: SHA-1, and an RSA-1024 key; both verify cryptographically, both are below the policy.
    const auto sha1 = cert.resigned(good, cert.file("sha1.pdf"), cert.signerOptions("good"), "sha1");
    const auto sha1Report = cert.verdict(sha1);
    CHECK(has(sha1Report, verdictOf("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE")));
    CHECK(has(sha1Report, jsonPair("digest_algorithm", "SHA1")));
    CHECK(has(sha1Report, "verify.crypto_constraint: the digest algorithm SHA1"));
    const auto rsa1024 = cert.resigned(good, cert.file("rsa1024.pdf"), cert.signerOptions("weak"));
    const auto rsa1024Report = cert.verdict(rsa1024);
    CHECK(has(rsa1024Report, verdictOf("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE")));
    CHECK(has(rsa1024Report, "verify.crypto_constraint: the signer's RSA key has 1024 bits"));
    // pdfsig (NSS) still accepts both; our policy is stricter, as EU DSS's default one is.
    CHECK(has(cert.pdfsig(sha1), "Signature Validation: Signature is Valid\\."));
    CHECK(has(cert.pdfsig(rsa1024), "Signature Validation: Signature is Valid\\."));

    // Wrong digest algorithm claims: the SignerInfo (and the SignedData's digestAlgorithms) say
    // SHA-512 while the message-digest attribute holds a SHA-256, or name an OID nobody knows.
    const std::string sha256Oid = fromHex("0609608648016503040201");
    const auto claiming = [&](char lastOidByte) {
        std::string patched = cms;
        std::size_t at = 0;
        for (int i = 0; i < 2; ++i) {
            at = patched.find(sha256Oid, at);
            REQUIRE(at != std::string::npos);
            patched[at + sha256Oid.size() - 1] = lastOidByte;
            at += sha256Oid.size();
        }
        return patched;
    };
    const auto sha512Claim = cert.file("claims-sha512.pdf");
    writeFile(sha512Claim, withLastCms(readFile(good), claiming('\x03')));
    const auto sha512Report = cert.verdict(sha512Claim);
    CHECK(has(sha512Report, verdictOf("TOTAL-FAILED", "HASH_FAILURE")));
    CHECK(has(sha512Report, jsonPair("digest_algorithm", "SHA512")));
    const auto unknownClaim = cert.file("claims-unknown.pdf");
    writeFile(unknownClaim, withLastCms(readFile(good), claiming('\x7f')));
    const auto unknownReport = cert.verdict(unknownClaim);
    // Not HASH_FAILURE: with an algorithm we cannot compute, nothing shows the file changed.
    CHECK(has(unknownReport, verdictOf("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE")));
    CHECK(has(unknownReport, jsonPair("digest_algorithm", "unknown")));
    CHECK(has(cert.pdfsig(sha512Claim), "Signature Validation: Digest Mismatch\\."));
    CHECK(has(cert.pdfsig(unknownClaim), "Signature Validation: Unknown Validation Failure\\."));

    // S21: two SignerInfos over the same bytes, and a CMS carrying content of its own.
    const auto twoSigners = cert.resigned(good, cert.file("two-signers.pdf"), cert.signerOptions("good") + " " + cert.signerOptions("second"));
    const auto twoReport = cert.verdict(twoSigners);
    CHECK(has(twoReport, verdictOf("TOTAL-FAILED", "FORMAT_FAILURE")));
    CHECK(has(twoReport, jsonPair("reason", "verify.cms_unreadable")));
    writeFile(cert.file("small.txt"), "treść podpisana zamiast dokumentu");
    REQUIRE(VerifyLab::run("openssl cms -sign -binary -nodetach -nosmimecap -outform DER -md sha256 -in " + quote(cert.file("small.txt")) +
                           " " + cert.signerOptions("good") + " -out " + quote(cert.file("econtent.cms"))).exitCode == 0);
    const auto econtent = cert.file("econtent.pdf");
    writeFile(econtent, withLastCms(readFile(good), readFile(cert.file("econtent.cms"))));
    const auto econtentReport = cert.verdict(econtent);
    CHECK(has(econtentReport, verdictOf("TOTAL-FAILED", "FORMAT_FAILURE")));
    CHECK(has(econtentReport, jsonPair("reason", "verify.cms_not_detached")));

    // pdfsig judges the first SignerInfo only and calls the two-signer CMS valid. Stricter here: a
    // PDF signature has one signer (PAdES, ETSI EN 319 142-1 5.1), and a second SignerInfo is a
    // place to smuggle a signer the reader never sees, so the container is malformed.
    CHECK(has(cert.pdfsig(twoSigners), "Signature Validation: Signature is Valid\\."));
    CHECK(has(cert.pdfsig(econtent), "Signature Validation: Digest Mismatch\\."));

    const auto java = pdfboxOnOsoba1({flipped, sha1, rsa1024, sha512Claim, unknownClaim, twoSigners, econtent});
    CHECK(has(java[0], "^INVALID osoba-1 "));
    CHECK(has(java[1], "^VALID osoba-1 .*Anna Dobra"));
    CHECK(has(java[2], "^VALID osoba-1 .*Anna S"));
    CHECK(has(java[3], "^INVALID osoba-1 "));
    CHECK(has(java[4], "^INVALID osoba-1 "));
    CHECK(has(java[5], "^INVALID osoba-1 2 signers"));
    CHECK(has(java[6], "^INVALID osoba-1 "));
}

TEST_CASE("pyHanko's PAdES-LTA file: its DSS OCSP responses alone vouch for a three-level chain", "[verify][cli][certificates][ocsp]") {
    // Made by another implementation: OCSP responses for the signer (from the intermediate CA's
    // side) and for the intermediate CA, no CRLs at all (pinned by the corpus manifest as valid).
    const auto corpus = sharedDir() + "/corpus/pyhanko";
    if (!std::filesystem::exists(corpus + "/manifest.json")) FAIL("pyHanko corpus not found at " + corpus);
    const auto pdf = corpus + "/pdf/pades-lta-dss-indirect-arrs-test.pdf";
    const auto anchor = " --trust " + quote(corpus + "/certs/testing-ca-root.pem") + " --require-revocation";
    const auto result = VerifyLab::verify(pdf, anchor + " --at 2020-11-01T00:00:00Z");
    CHECK(result.exitCode == 0);
    const auto sig1 = signatureBlock(result.output, "Sig1");
    INFO(sig1);
    CHECK(has(sig1, verdictOf("TOTAL-PASSED", "")));
    CHECK(has(sig1, jsonPair("revocation", "good")));
    CHECK(has(sig1, jsonPair("pades_level", "B-LTA")));
    CHECK(has(sig1, "\"warnings\" ?: ?\\[\\s*\\]"));
    // A month later the responses are past their nextUpdate. Revocation data is judged at the
    // validation time: the document timestamp's proof of existence does not make them fresh (past
    // signature validation, ETSI EN 319 102-1 5.6, is not implemented), so TRY_LATER.
    const auto later = signatureBlock(VerifyLab::verify(pdf, anchor + " --at 2020-12-01T00:00:00Z").output, "Sig1");
    INFO(later);
    CHECK(has(later, jsonPair("revocation", "unknown")));
    CHECK(has(later, verdictOf("INDETERMINATE", "TRY_LATER")));
}
