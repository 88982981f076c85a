// SPDX-License-Identifier: AGPL-3.0-or-later
// Render, seal and sign through the CLI; poppler's pdfsig (with our development CA in an NSS
// database) and qpdf are the judges.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "CliSupport.h"

using namespace kooperdoc::testing;

namespace {

struct SignatureVerdicts {
    int signatures = 0;  ///< signed fields; empty ready-to-sign fields are listed too but not counted
    int valid = 0;
    int trusted = 0;
    std::string text;
};

/// pdfsig exits 0 even on a digest mismatch, so its report is read line by line.
SignatureVerdicts pdfsig(const std::string& nssDir, const std::string& pdf) {
    SignatureVerdicts v;
    v.text = runCommand("pdfsig -nssdir sql:" + quote(nssDir) + " " + quote(pdf) + " 2>&1").output;
    const std::regex signature("Signature Validation: ");
    v.signatures = static_cast<int>(std::distance(std::sregex_iterator(v.text.begin(), v.text.end(), signature), std::sregex_iterator()));
    const std::regex valid("Signature Validation: Signature is Valid\\.");
    v.valid = static_cast<int>(std::distance(std::sregex_iterator(v.text.begin(), v.text.end(), valid), std::sregex_iterator()));
    const std::regex trusted("Certificate Validation: Certificate is Trusted\\.");
    v.trusted = static_cast<int>(std::distance(std::sregex_iterator(v.text.begin(), v.text.end(), trusted), std::sregex_iterator()));
    return v;
}

}  // namespace

TEST_CASE("a rendered sample is sealed and then signed, and pdfsig trusts every signature", "[signing][cli]") {
    const auto dir = scratchDir("seal");
    const auto identity = dir + "/identity";
    REQUIRE(runCommand(quote(cli()) + " dev-identity --out " + quote(identity)).exitCode == 0);
    const auto nss = dir + "/nss";
    std::filesystem::create_directories(nss);
    REQUIRE(runCommand("certutil -N -d sql:" + quote(nss) + " --empty-password >/dev/null 2>&1").exitCode == 0);
    REQUIRE(runCommand("certutil -A -d sql:" + quote(nss) + " -n kooperdoc-dev-ca -t CT,C,C -i " +
                       quote(identity + "/ca.pem") + " 2>&1").exitCode == 0);

    const std::string id = "m1-oswiadczenie-zgoda";
    const auto sealed = dir + "/sealed.pdf";
    const auto rendered = renderCli(id, sourceDir() + "/templates/catalog/" + id + "/samples/sample.json", sealed,
                                    "--seal --identity " + quote(identity));
    REQUIRE(rendered.exitCode == 0);
    CHECK(runCommand("qpdf --check " + quote(sealed) + " >/dev/null 2>&1").exitCode == 0);
    auto verdict = pdfsig(nss, sealed);
    INFO(verdict.text);
    CHECK(verdict.signatures == 1);
    CHECK(verdict.valid == 1);
    CHECK(verdict.trusted == 1);
    CHECK(verdict.text.find("ETSI.CAdES.detached") != std::string::npos);
    // Every signatory of the template has its empty field, ready to sign.
    CHECK(std::regex_search(verdict.text, std::regex("Signature Field Name: osoba-1\\s+The signature form field is not signed")));
    CHECK(foldWhitespace(pdfText(sealed)).find("podpis elektroniczny") != std::string::npos);

    // A person signs the first adult's field with a PKCS#12 made from the development identity.
    REQUIRE(runCommand("openssl pkcs12 -export -passout pass:tajne-hasło -inkey " + quote(identity + "/person.key.pem") +
                       " -in " + quote(identity + "/person.pem") + " -out " + quote(dir + "/person.p12") + " 2>&1")
                .exitCode == 0);
    writeFile(dir + "/password", "tajne-hasło\n");
    const auto signedPdf = dir + "/signed.pdf";
    const auto signedResult = runCommand(quote(cli()) + " sign " + quote(sealed) + " --field osoba-1 --p12 " +
                                         quote(dir + "/person.p12") + " --password-file " + quote(dir + "/password") +
                                         " -o " + quote(signedPdf) + " 2>&1");
    INFO(signedResult.output);
    REQUIRE(signedResult.exitCode == 0);
    const auto sealedBytes = readFile(sealed);
    const auto signedBytes = readFile(signedPdf);
    CHECK(signedBytes.compare(0, sealedBytes.size(), sealedBytes) == 0);  // an incremental update
    CHECK(runCommand("qpdf --check " + quote(signedPdf) + " >/dev/null 2>&1").exitCode == 0);
    verdict = pdfsig(nss, signedPdf);
    INFO(verdict.text);
    CHECK(verdict.signatures == 2);
    CHECK(verdict.valid == 2);
    CHECK(verdict.trusted == 2);
    // The same verdict from PDFBox + BouncyCastle, which share no code with poppler or us.
    const auto java = runCommand(std::string(KOOPERDOC_SIGNATURE_CHECK) + " " + quote(signedPdf) + " 2>&1");
    INFO(java.output);
    CHECK(java.exitCode == 0);
    CHECK(std::count(java.output.begin(), java.output.end(), '\n') == 2);
    CHECK(java.output.find("VALID pieczec-kooperdoc ETSI.CAdES.detached") != std::string::npos);

    // One flipped byte inside the signed range breaks the signatures that cover it.
    auto tampered = signedBytes;
    const auto at = tampered.find("/Producer");
    REQUIRE(at != std::string::npos);
    tampered[at + 12] = static_cast<char>(tampered[at + 12] ^ 0x01);
    writeFile(dir + "/tampered.pdf", tampered);
    verdict = pdfsig(nss, dir + "/tampered.pdf");
    INFO(verdict.text);
    CHECK(verdict.valid == 0);
    CHECK(runCommand(std::string(KOOPERDOC_SIGNATURE_CHECK) + " " + quote(dir + "/tampered.pdf") + " >/dev/null 2>&1").exitCode == 1);

    // Wrong password and an unknown field are clear errors, and nothing is written.
    writeFile(dir + "/wrong", "nie-to-hasło\n");
    CHECK(runCommand(quote(cli()) + " sign " + quote(sealed) + " --field osoba-1 --p12 " + quote(dir + "/person.p12") +
                     " --password-file " + quote(dir + "/wrong") + " -o " + quote(dir + "/x.pdf") + " 2>/dev/null")
              .exitCode != 0);
    CHECK(runCommand(quote(cli()) + " sign " + quote(sealed) + " --field nie-ma-takiego --p12 " +
                     quote(dir + "/person.p12") + " --password-file " + quote(dir + "/password") + " -o " +
                     quote(dir + "/x.pdf") + " 2>/dev/null")
              .exitCode != 0);
    CHECK_FALSE(std::filesystem::exists(dir + "/x.pdf"));
    CHECK(runCommand(quote(cli()) + " seal " + quote(sealed) + " -o " + quote(dir + "/y.pdf") + " --level B-LTA --identity " +
                     quote(identity) + " 2>/dev/null")
              .exitCode != 0);
    std::filesystem::remove_all(dir);
}
