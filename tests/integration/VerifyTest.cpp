// SPDX-License-Identifier: AGPL-3.0-or-later
// `kooperdoc verify` on documents we seal and sign through the CLI at every PAdES level, on
// tampered copies of them, and on garbage; poppler's pdfsig judges the cryptographic part.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include "CliSupport.h"
#include "VerifySupport.h"

using namespace kooperdoc::testing;

namespace {

/// A DER or PEM certificate's base64 body, as a trusted list's X509Certificate holds it.
std::string pemBody(const std::string& pem) {
    std::string body;
    const auto begin = pem.find('\n') + 1;
    const auto end = pem.find("-----END");
    for (auto i = begin; i < end; ++i) {
        if (pem[i] != '\n' && pem[i] != '\r') body += pem[i];
    }
    return body;
}

/// An ETSI TS 119 612 trusted list that names \p caPem as a granted CA/QC service for
/// \p purposeUri (and as a TSA/QTST service), signed with xmlsec1 --sign the way
/// trust/tests/TrustedListTest.cpp builds its lists. The signer's key and certificate are
/// made with openssl in \p dir (signer.key, signer.pem).
std::string signedTrustedList(const std::string& dir, const std::string& caPem, const std::string& purposeUri,
                              const std::string& name) {
    if (!std::filesystem::exists(dir + "/signer.pem")) {
        REQUIRE(VerifyLab::run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + quote(dir + "/signer.key") + " -out " +
                               quote(dir + "/signer.pem") + " -days 30 -subj '/C=PL/O=Test NCCert/CN=Test list signer'")
                    .exitCode == 0);
    }
    const std::string ca = pemBody(caPem);
    const auto service = [&](const std::string& type, const std::string& extension) {
        return "<TSPService><ServiceInformation><ServiceTypeIdentifier>" + type +
               "</ServiceTypeIdentifier><ServiceName><Name xml:lang=\"en\">Kooperdoc dev CA</Name></ServiceName>"
               "<ServiceDigitalIdentity><DigitalId><X509Certificate>" + ca +
               "</X509Certificate></DigitalId></ServiceDigitalIdentity>"
               "<ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</ServiceStatus>"
               "<StatusStartingTime>2020-01-01T00:00:00Z</StatusStartingTime>" + extension +
               "</ServiceInformation></TSPService>\n";
    };
    const std::string purpose = "<ServiceInformationExtensions><Extension Critical=\"true\"><AdditionalServiceInformation>"
                                "<URI xml:lang=\"en\">" + purposeUri +
                                "</URI></AdditionalServiceInformation></Extension></ServiceInformationExtensions>";
    const std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<TrustServiceStatusList xmlns=\"http://uri.etsi.org/02231/v2#\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
        "Id=\"tsl\" TSLTag=\"http://uri.etsi.org/19612/TSLTag\">\n<SchemeInformation>\n"
        "<TSLVersionIdentifier>5</TSLVersionIdentifier>\n<TSLSequenceNumber>1</TSLSequenceNumber>\n"
        "<TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</TSLType>\n"
        "<SchemeOperatorName><Name xml:lang=\"pl\">Narodowe Centrum Certyfikacji (test)</Name></SchemeOperatorName>\n"
        "<SchemeTerritory>PL</SchemeTerritory>\n<ListIssueDateTime>2020-01-01T00:00:00Z</ListIssueDateTime>\n"
        "<NextUpdate><dateTime>2099-01-01T00:00:00Z</dateTime></NextUpdate>\n</SchemeInformation>\n"
        "<TrustServiceProviderList><TrustServiceProvider>\n"
        "<TSPInformation><TSPName><Name xml:lang=\"en\">Kooperdoc test TSP</Name></TSPName></TSPInformation>\n<TSPServices>\n" +
        service("http://uri.etsi.org/TrstSvc/Svctype/CA/QC", purpose) +
        service("http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST", "") +
        "</TSPServices></TrustServiceProvider></TrustServiceProviderList>\n"
        "<ds:Signature Id=\"tsl-signature\"><ds:SignedInfo>"
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>"
        "<ds:Reference URI=\"\"><ds:Transforms>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "</ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/>"
        "</ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>\n"
        "</TrustServiceStatusList>\n";
    const std::string in = dir + "/" + name + ".tmpl.xml", out = dir + "/" + name + ".xml";
    writeFile(in, xml);
    REQUIRE(VerifyLab::run("xmlsec1 --sign --privkey-pem " + quote(dir + "/signer.key," + dir + "/signer.pem") + " --output " +
                           quote(out) + " " + quote(in)).exitCode == 0);
    return out;
}

}  // namespace

TEST_CASE("documents sealed and signed at every PAdES level pass and report their level", "[verify][cli]") {
    VerifyLab lab;
    for (const std::string level : {"B-B", "B-T", "B-LT", "B-LTA"}) {
        const auto pdf = lab.sealedAndSigned(level);
        const auto result = VerifyLab::verify(pdf, "--trust " + quote(lab.ca()));
        INFO(level << "\n" << result.output);
        CHECK(result.exitCode == 0);
        const int signatures = countMatches(result.output, jsonPair("type", "signature"));
        CHECK(signatures == 2);  // the seal and Jan Kowalski
        CHECK(countMatches(result.output, jsonPair("pades_level", level)) == signatures);
        CHECK(countMatches(result.output, jsonPair("indication", "TOTAL-PASSED")) ==
              signatures + countMatches(result.output, jsonPair("type", "document_timestamp")));
        CHECK(countMatches(result.output, jsonPair("type", "document_timestamp")) == (level == "B-LTA" ? 2 : 0));
        CHECK(result.output.find("CN=Jan Kowalski") != std::string::npos);
        // B-LT and B-LTA carry the CRLs in the DSS: revocation is checked, no warning.
        const bool longTerm = level == "B-LT" || level == "B-LTA";
        CHECK((countMatches(result.output, jsonPair("revocation", "good")) >= signatures) == longTerm);
        CHECK((result.output.find("verify.no_revocation_data") == std::string::npos) == longTerm);
        // --require-revocation: only the long-term levels have what it asks for.
        const auto strict = VerifyLab::verify(pdf, "--trust " + quote(lab.ca()) + " --require-revocation");
        CHECK(strict.exitCode == (longTerm ? 0 : 1));
        if (!longTerm) CHECK(countMatches(strict.output, jsonPair("sub_indication", "TRY_LATER")) == signatures);
    }
}

TEST_CASE("verify says why a signature is not TOTAL-PASSED", "[verify][cli]") {
    VerifyLab lab;
    const auto pdf = lab.sealedAndSigned("B-T");

    // No trust anchor: nothing embedded is trusted.
    auto result = VerifyLab::verify(pdf);
    CHECK(result.exitCode == 1);
    CHECK(countMatches(result.output, jsonPair("sub_indication", "NO_CERTIFICATE_CHAIN_FOUND")) == 2);
    CHECK(countMatches(result.output, jsonPair("indication", "INDETERMINATE")) == 2);

    // Before the certificates were issued.
    result = VerifyLab::verify(pdf, "--trust " + quote(lab.ca()) + " --at 2001-01-01T00:00:00Z");
    CHECK(result.exitCode == 1);
    CHECK(countMatches(result.output, jsonPair("sub_indication", "NOT_YET_VALID")) == 2);

    // One flipped byte inside Jan Kowalski's signed range: HASH_FAILURE, and pdfsig agrees.
    const auto original = readFile(pdf);
    const auto sealedSize = readFile(lab.file("sealed-B-T.pdf")).size();
    auto flipped = original;
    const auto at = flipped.find("/M (D:20", sealedSize);
    REQUIRE(at != std::string::npos);
    flipped[at + 9] = static_cast<char>(flipped[at + 9] ^ 0x01);  // a digit of the year: still a date
    writeFile(lab.file("flipped.pdf"), flipped);
    result = VerifyLab::verify(lab.file("flipped.pdf"), "--trust " + quote(lab.ca()));
    CHECK(result.exitCode == 1);
    CHECK(countMatches(result.output, jsonPair("sub_indication", "HASH_FAILURE")) == 1);
    CHECK(std::regex_search(signatureBlock(result.output, "osoba-1"), std::regex(jsonPair("indication", "TOTAL-FAILED"))));
    const auto pdfsigFlipped = lab.pdfsig(lab.file("flipped.pdf"));
    INFO(pdfsigFlipped);
    CHECK(countMatches(pdfsigFlipped, "Signature Validation: Digest Mismatch") == 1);

    // Page content replaced in an appended update. pdfsig still says both signatures are valid
    // (each covers its own revision; it does no update analysis); we fail them, because the text
    // people see is no longer what they signed (Kooperdoc policy, issue 4: every change no rule
    // allows is TOTAL-FAILED / FORMAT_FAILURE, where EU DSS's default policy only warns).
    std::smatch contents;
    REQUIRE(std::regex_search(original, contents, std::regex("/Contents (\\d+) 0 R")));
    const std::string stream = "BT /F1 12 Tf 72 700 Td (Zmieniona tresc) Tj ET";
    writeFile(lab.file("attacked.pdf"),
              appendUpdate(original, std::stoi(contents[1].str()),
                           "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream"));
    const auto pdfsigAttacked = lab.pdfsig(lab.file("attacked.pdf"));
    INFO(pdfsigAttacked);
    CHECK(countMatches(pdfsigAttacked, "Signature Validation: Signature is Valid\\.") == 2);
    result = VerifyLab::verify(lab.file("attacked.pdf"), "--trust " + quote(lab.ca()));
    CHECK(result.exitCode == 1);
    CHECK(countMatches(result.output, jsonPair("reason", "verify.forbidden_modification")) == 2);
    CHECK(countMatches(result.output, jsonPair("modification_level", "OTHER")) == 2);

    // Bytes appended after the last %%EOF.
    writeFile(lab.file("trailing.pdf"), original + "garbage after the end\n");
    result = VerifyLab::verify(lab.file("trailing.pdf"), "--trust " + quote(lab.ca()));
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("TOTAL-PASSED") == std::string::npos);
}

TEST_CASE("garbage and truncated files are FORMAT_FAILURE with exit 1, usage errors exit 2", "[verify][cli]") {
    VerifyLab lab;
    const auto pdf = lab.sealedAndSigned("B-B");
    const auto original = readFile(pdf);
    writeFile(lab.file("garbage.pdf"), std::string(5000, '\x7f') + "%PDF-1.7 nonsense");
    writeFile(lab.file("empty.pdf"), "");
    writeFile(lab.file("truncated.pdf"), original.substr(0, original.size() / 2));
    writeFile(lab.file("truncated-end.pdf"), original.substr(0, original.size() - 20));
    for (const std::string name : {"garbage.pdf", "empty.pdf", "truncated.pdf", "truncated-end.pdf"}) {
        const auto result = VerifyLab::verify(lab.file(name), "--trust " + quote(lab.ca()));
        INFO(name << "\n" << result.output);
        CHECK(result.exitCode == 1);  // not a crash (a signal would not give 1), not an error
        CHECK(result.output.find("FORMAT_FAILURE") != std::string::npos);
        CHECK(result.output.find("TOTAL-PASSED") == std::string::npos);
    }
    // Human-readable output too.
    const auto plain = VerifyLab::run(quote(cli()) + " verify " + quote(pdf) + " --trust " + quote(lab.ca()));
    CHECK(plain.exitCode == 0);
    CHECK(plain.output.find("TOTAL-PASSED") != std::string::npos);
    CHECK(plain.output.find("Podpis jest nienaruszony") != std::string::npos);

    CHECK(VerifyLab::run(quote(cli()) + " verify").exitCode == 2);
    CHECK(VerifyLab::run(quote(cli()) + " verify " + quote(pdf) + " --at yesterday").exitCode == 2);
    CHECK(VerifyLab::run(quote(cli()) + " verify " + quote(pdf) + " --trust " + quote(lab.file("garbage.pdf"))).exitCode == 2);
    CHECK(VerifyLab::run(quote(cli()) + " verify " + quote(pdf) + " --bogus").exitCode == 2);
}

TEST_CASE("a revoked signer certificate is TOTAL-FAILED / REVOKED, a clean CRL gives revocation good", "[verify][cli]") {
    VerifyLab lab;
    // A CA of the test's own (the development CA's key is not kept), a signer, and CRLs made
    // with `openssl ca` before and after revoking the signer.
    const auto config = lab.file("ca.cnf");
    std::filesystem::create_directories(lab.file("db"));
    writeFile(lab.file("db/index.txt"), "");
    writeFile(lab.file("db/crlnumber"), "1000\n");
    writeFile(config, "[req]\ndistinguished_name=dn\n[dn]\n[ext_ca]\nbasicConstraints=critical,CA:TRUE\n"
                      "keyUsage=critical,keyCertSign,cRLSign\n[ext_signer]\nbasicConstraints=CA:FALSE\n"
                      "keyUsage=critical,digitalSignature,nonRepudiation\n"
                      "[ca]\ndefault_ca=own\n[own]\ndatabase=" + lab.file("db/index.txt") + "\ncrlnumber=" +
                      lab.file("db/crlnumber") + "\ndefault_md=sha256\ndefault_crl_days=30\ncertificate=" +
                      lab.file("ca.pem") + "\nprivate_key=" + lab.file("ca.key") + "\n");
    REQUIRE(VerifyLab::run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + quote(lab.file("ca.key")) + " -out " +
                           quote(lab.file("ca.pem")) + " -days 30 -subj '/CN=Testowe CA CRL/C=PL' -config " + quote(config) +
                           " -extensions ext_ca").exitCode == 0);
    REQUIRE(VerifyLab::run("openssl req -new -newkey rsa:2048 -nodes -keyout " + quote(lab.file("anna.key")) + " -out " +
                           quote(lab.file("anna.csr")) + " -subj '/CN=Anna Nowak/C=PL' -config " + quote(config)).exitCode == 0);
    REQUIRE(VerifyLab::run("openssl x509 -req -in " + quote(lab.file("anna.csr")) + " -CA " + quote(lab.file("ca.pem")) +
                           " -CAkey " + quote(lab.file("ca.key")) + " -CAcreateserial -days 30 -extfile " + quote(config) +
                           " -extensions ext_signer -out " + quote(lab.file("anna.pem"))).exitCode == 0);
    REQUIRE(VerifyLab::run("cat " + quote(lab.file("anna.pem")) + " " + quote(lab.file("ca.pem")) + " > " +
                           quote(lab.file("anna-chain.pem")) + " && openssl pkcs12 -export -passout pass:tajne -inkey " +
                           quote(lab.file("anna.key")) + " -in " + quote(lab.file("anna-chain.pem")) + " -out " +
                           quote(lab.file("anna.p12"))).exitCode == 0);
    REQUIRE(VerifyLab::run("openssl ca -batch -config " + quote(config) + " -gencrl -out " + quote(lab.file("clean.crl"))).exitCode == 0);
    REQUIRE(VerifyLab::run("openssl ca -batch -config " + quote(config) + " -revoke " + quote(lab.file("anna.pem"))).exitCode == 0);
    REQUIRE(VerifyLab::run("openssl ca -batch -config " + quote(config) + " -gencrl -out " + quote(lab.file("revoked.crl"))).exitCode == 0);

    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(VerifyLab::run("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " render m1-oswiadczenie-zgoda " +
                           quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") + " -o " +
                           quote(sealed) + " --seal --level B-B --identity " + quote(lab.identity())).exitCode == 0);
    const auto signedPdf = lab.file("anna-signed.pdf");
    REQUIRE(VerifyLab::run(quote(cli()) + " sign " + quote(sealed) + " --field osoba-1 --p12 " + quote(lab.file("anna.p12")) +
                           " --password-file " + quote(lab.file("password")) + " --level B-B --identity " +
                           quote(lab.identity()) + " -o " + quote(signedPdf)).exitCode == 0);
    const std::string trust = " --trust " + quote(lab.ca()) + " --trust " + quote(lab.file("ca.pem"));

    auto result = VerifyLab::verify(signedPdf, trust + " --crl " + quote(lab.file("clean.crl")));
    CHECK(result.exitCode == 0);
    CHECK(std::regex_search(signatureBlock(result.output, "osoba-1"), std::regex(jsonPair("revocation", "good"))));

    result = VerifyLab::verify(signedPdf, trust + " --crl " + quote(lab.file("revoked.crl")));
    CHECK(result.exitCode == 1);
    CHECK(std::regex_search(signatureBlock(result.output, "osoba-1"), std::regex(jsonPair("sub_indication", "REVOKED"))));
    CHECK(countMatches(result.output, jsonPair("indication", "TOTAL-PASSED")) == 1);  // the seal is unaffected
    CHECK(VerifyLab::run(quote(cli()) + " verify " + quote(signedPdf) + " --crl " + quote(lab.file("anna.pem"))).exitCode == 2);
}

TEST_CASE("an EU trusted list makes its qualified CA an anchor and tells qualified from advanced", "[verify][cli][trustlist]") {
    VerifyLab lab;
    const auto pdf = lab.sealedAndSigned("B-T");
    const auto caPem = readFile(lab.ca());
    const auto forSignatures = signedTrustedList(lab.file(""), caPem,
                                                 "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures", "tl-esig");
    const auto forSeals = signedTrustedList(lab.file(""), caPem,
                                            "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals", "tl-eseal");
    const std::string signer = " --list-signer " + quote(lab.file("signer.pem"));

    // Without --trust and without a list, nothing is trusted.
    auto result = VerifyLab::verify(pdf);
    CHECK(result.exitCode == 1);
    CHECK(countMatches(result.output, jsonPair("sub_indication", "NO_CERTIFICATE_CHAIN_FOUND")) == 2);
    CHECK(countMatches(result.output, jsonPair("qualification", "none")) == 2);

    // The list alone: the dev CA is a qualified CA for e-signatures and the signature timestamps
    // come from a qualified TSA.
    result = VerifyLab::verify(pdf, "--trusted-list " + quote(forSignatures) + signer);
    CHECK(result.exitCode == 0);
    const auto jan = signatureBlock(result.output, "osoba-1");
    CHECK(std::regex_search(jan, std::regex(jsonPair("indication", "TOTAL-PASSED"))));
    CHECK(std::regex_search(jan, std::regex(jsonPair("qualification", "qualified_esignature"))));
    CHECK(std::regex_search(jan, std::regex("\"timestamp_qualified\" ?: ?true")));

    // ForeSeals: the seal (and, from the same dev CA, Jan's signature) counts as an e-seal.
    result = VerifyLab::verify(pdf, "--trusted-list " + quote(forSeals) + signer);
    CHECK(result.exitCode == 0);
    CHECK(std::regex_search(signatureBlock(result.output, "pieczec-kooperdoc"), std::regex(jsonPair("qualification", "qualified_eseal"))));

    // --trust alone: trusted, but nothing says the CA is qualified.
    result = VerifyLab::verify(pdf, "--trust " + quote(lab.ca()));
    CHECK(result.exitCode == 0);
    CHECK(countMatches(result.output, jsonPair("qualification", "advanced")) == 2);

    // A list that does not verify with the configured signer is a usage error naming the reason.
    result = VerifyLab::run(quote(cli()) + " verify " + quote(pdf) + " --trusted-list " + quote(forSignatures) +
                            " --list-signer " + quote(lab.ca()));
    CHECK(result.exitCode == 2);
    CHECK(result.output.find("trustlist.signer_untrusted") != std::string::npos);
    auto tampered = readFile(forSignatures);
    tampered.replace(tampered.find("Kooperdoc test TSP"), 18, "Kooperdoc evil TSP");
    writeFile(lab.file("tampered.xml"), tampered);
    result = VerifyLab::run(quote(cli()) + " verify " + quote(pdf) + " --trusted-list " + quote(lab.file("tampered.xml")) + signer);
    CHECK(result.exitCode == 2);
    CHECK(result.output.find("trustlist.signature_invalid") != std::string::npos);
}

TEST_CASE("the document section tells a Kooperdoc document, its template and its empty fields", "[verify][cli]") {
    VerifyLab lab;
    const auto pdf = lab.sealedAndSigned("B-B");
    auto result = VerifyLab::verify(pdf, "--trust " + quote(lab.ca()));
    INFO(result.output);
    CHECK(std::regex_search(result.output, std::regex("\"kooperdoc\" ?: ?true")));
    CHECK(std::regex_search(result.output, std::regex(jsonPair("template_id", "m1-oswiadczenie-zgoda"))));
    CHECK(std::regex_search(result.output, std::regex(jsonPair("template_version", "1.0.0"))));
    CHECK(std::regex_search(result.output, std::regex("\"template_known\" ?: ?true")));
    CHECK(std::regex_search(result.output, std::regex("\"template_sha256_matches\" ?: ?true")));
    CHECK(std::regex_search(result.output, std::regex("\"document_id\" ?: ?\"[^\"]+\"")));
    CHECK(std::regex_search(result.output, std::regex("\"empty_signature_fields\" ?: ?\\[\\s*\"osoba-2\",\\s*\"osoba-3\"\\s*\\]")));
    CHECK(result.output.find("Niepodpisane jeszcze pola podpisu: osoba-2, osoba-3.") != std::string::npos);

    // A later revision cannot forge the provenance: only the first revision's Info (object 3,
    // as the renderer writes it) counts. Rewriting the Info dictionary is itself allowed (as in
    // pyHanko, an LTA_UPDATES-level change), so the signatures still pass.
    writeFile(lab.file("forged.pdf"), appendUpdate(readFile(pdf), 3, "<< /KooperdocDocumentId (forged) "
                                                                      "/KooperdocTemplateId (m2-evil) /KooperdocTemplateVersion (9.9.9) >>"));
    result = VerifyLab::verify(lab.file("forged.pdf"), "--trust " + quote(lab.ca()));
    CHECK(result.exitCode == 0);
    CHECK(std::regex_search(signatureBlock(result.output, "osoba-1"), std::regex(jsonPair("modification_level", "LTA_UPDATES"))));
    CHECK(std::regex_search(result.output, std::regex(jsonPair("template_id", "m1-oswiadczenie-zgoda"))));
    CHECK(result.output.find("m2-evil") == std::string::npos);

    // A PDF from elsewhere is not a Kooperdoc document.
    const auto foreign = sharedDir() + "/corpus/pyhanko/pdf/coverage-anomalies-base.pdf";
    REQUIRE(std::filesystem::exists(foreign));
    result = VerifyLab::verify(foreign);
    CHECK(std::regex_search(result.output, std::regex("\"kooperdoc\" ?: ?false")));
    CHECK(std::regex_search(result.output, std::regex("\"template_id\" ?: ?null")));
}

TEST_CASE("verify writes the Polish report as HTML and as a PDF/A that independent tools read", "[verify][cli][report]") {
    VerifyLab lab;
    const auto pdf = lab.sealedAndSigned("B-B");
    const auto html = lab.file("raport.html"), report = lab.file("raport.pdf");
    const auto result = VerifyLab::run("SOURCE_DATE_EPOCH=1700000000 " + quote(cli()) + " verify " + quote(pdf) + " --trust " +
                                       quote(lab.ca()) + " --html " + quote(html) + " --pdf " + quote(report));
    INFO(result.output);
    CHECK(result.exitCode == 0);
    const auto page = readFile(html);
    CHECK(page.find("<html lang=\"pl\"") != std::string::npos);
    CHECK(page.find("Wszystkie podpisy są prawidłowe") != std::string::npos);
    CHECK(page.find("signed-B-B.pdf") != std::string::npos);
    CHECK(page.find("m1-oswiadczenie-zgoda") != std::string::npos);
    CHECK(runCommand("qpdf --check " + quote(report) + " >/dev/null 2>&1").exitCode == 0);
    // Table cells wrap anywhere: compare with whitespace folded to single spaces.
    const auto text = std::regex_replace(runCommand("pdftotext " + quote(report) + " -").output, std::regex("\\s+"), " ");
    INFO(text);
    CHECK(text.find("Raport weryfikacji podpisów") != std::string::npos);
    CHECK(text.find("Kowalski,serialNumber=PNOPL-44051401359") != std::string::npos);
    CHECK(text.find("osoba-2") != std::string::npos);  // still to be signed
    // The report of a failing file says so, and the command still exits 1.
    auto tampered = readFile(pdf);
    tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x20);
    writeFile(lab.file("tampered.pdf"), tampered);
    const auto failed = VerifyLab::run(quote(cli()) + " verify " + quote(lab.file("tampered.pdf")) + " --trust " + quote(lab.ca()) +
                                       " --html " + quote(html));
    CHECK(failed.exitCode == 1);
    CHECK(readFile(html).find("Wszystkie podpisy są prawidłowe") == std::string::npos);
}
