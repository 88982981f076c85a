// SPDX-License-Identifier: AGPL-3.0-or-later
// Render, seal and sign through the CLI at every PAdES level; poppler's pdfsig (with our CAs in
// an NSS database), PDFBox + BouncyCastle (tests/tools/SignatureCheck.java) and qpdf judge.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include "CliSupport.h"
#include "ServerProcess.h"
#include "TempDir.h"

using namespace kooperdoc::testing;

namespace {

int countMatches(const std::string& text, const std::string& pattern) {
    const std::regex re(pattern);
    return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

struct PdfsigReport {
    int validated = 0;  ///< signed fields pdfsig checked; empty ready-to-sign fields are not counted
    int valid = 0;
    int trusted = 0;
    std::string text;
};

struct JavaReport {
    int exitCode = -1;
    std::vector<std::string> lines;
    std::string text;
    int count(const std::string& pattern) const {
        return static_cast<int>(std::count_if(lines.begin(), lines.end(),
                                              [&](const std::string& l) { return std::regex_search(l, std::regex(pattern)); }));
    }
};

/// A development identity (seal: RSA-2048, person: ECDSA P-256), a third signer with an RSA-3072
/// key from a CA of the test's own, both CAs in an NSS database for pdfsig.
class SigningLab {
public:
    SigningLab() : dir_(scratchDir("signing")) {
        REQUIRE(run(quote(cli()) + " dev-identity --out " + quote(identity())).exitCode == 0);
        REQUIRE(run("openssl pkcs12 -export -passout pass:tajne-hasło -inkey " + quote(identity() + "/person.key.pem") +
                    " -in " + quote(identity() + "/person.pem") + " -out " + quote(file("jan.p12"))).exitCode == 0);
        const auto config = file("openssl.cnf");
        writeFile(config, "[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\n"
                          "keyUsage=critical,keyCertSign,cRLSign\n[signer]\nbasicConstraints=CA:FALSE\n"
                          "keyUsage=critical,digitalSignature,nonRepudiation\n");
        REQUIRE(run("openssl req -x509 -newkey rsa:3072 -nodes -keyout " + quote(file("test-ca.key")) + " -out " +
                    quote(file("test-ca.pem")) + " -days 30 -subj '/CN=Testowe CA/O=Kooperdoc testy/C=PL' -config " +
                    quote(config) + " -extensions ca -utf8").exitCode == 0);
        REQUIRE(run("openssl req -new -newkey rsa:3072 -nodes -keyout " + quote(file("anna.key")) + " -out " +
                    quote(file("anna.csr")) + " -subj '/CN=Anna Nowak/serialNumber=PNOPL-02070803628/C=PL' -config " +
                    quote(config) + " -utf8").exitCode == 0);
        REQUIRE(run("openssl x509 -req -in " + quote(file("anna.csr")) + " -CA " + quote(file("test-ca.pem")) + " -CAkey " +
                    quote(file("test-ca.key")) + " -CAcreateserial -days 30 -extfile " + quote(config) +
                    " -extensions signer -out " + quote(file("anna.pem"))).exitCode == 0);
        REQUIRE(run("cat " + quote(file("anna.pem")) + " " + quote(file("test-ca.pem")) + " > " + quote(file("anna-chain.pem")) +
                    " && openssl pkcs12 -export -passout pass:tajne-hasło -inkey " + quote(file("anna.key")) + " -in " +
                    quote(file("anna-chain.pem")) + " -out " + quote(file("anna.p12"))).exitCode == 0);
        writeFile(file("password"), "tajne-hasło\n");
        std::filesystem::create_directories(file("nss"));
        REQUIRE(run("certutil -N -d sql:" + quote(file("nss")) + " --empty-password").exitCode == 0);
        REQUIRE(run("certutil -A -d sql:" + quote(file("nss")) + " -n kooperdoc-dev-ca -t CT,C,C -i " +
                    quote(identity() + "/ca.pem")).exitCode == 0);
        REQUIRE(run("certutil -A -d sql:" + quote(file("nss")) + " -n test-ca -t CT,C,C -i " + quote(file("test-ca.pem"))).exitCode == 0);
    }
    ~SigningLab() { std::filesystem::remove_all(dir_); }

    std::string file(const std::string& name) const { return dir_ + "/" + name; }
    std::string identity() const { return dir_ + "/identity"; }

    static CommandResult run(const std::string& command) {
        auto result = runCommand(command + " 2>&1");
        UNSCOPED_INFO(command << "\n" << result.output);
        return result;
    }

    CommandResult sealSample(const std::string& id, const std::string& out, const std::string& level) const {
        return runCommand("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " render " + id + " " +
                          quote(sourceDir() + "/templates/catalog/" + id + "/samples/sample.json") + " -o " + quote(out) +
                          " --seal --level " + level + " --identity " + quote(identity()) + " 2>&1");
    }

    CommandResult sign(const std::string& in, const std::string& field, const std::string& p12, const std::string& out,
                       const std::string& level, const std::string& password = "password") const {
        return runCommand(quote(cli()) + " sign " + quote(in) + " --field " + field + " --p12 " + quote(file(p12)) +
                          " --password-file " + quote(file(password)) + " --level " + level + " --identity " +
                          quote(identity()) + " -o " + quote(out) + " 2>&1");
    }

    PdfsigReport pdfsig(const std::string& pdf) const {
        PdfsigReport r;
        // pdfsig exits 0 even on a digest mismatch, so its report is read line by line.
        r.text = runCommand("pdfsig -nssdir sql:" + quote(file("nss")) + " " + quote(pdf) + " 2>&1").output;
        r.validated = countMatches(r.text, "Signature Validation: ");
        r.valid = countMatches(r.text, "Signature Validation: Signature is Valid\\.");
        r.trusted = countMatches(r.text, "Certificate Validation: Certificate is Trusted\\.");
        return r;
    }

    static JavaReport java(const std::string& pdf) {
        JavaReport r;
        const auto result = runCommand(std::string(KOOPERDOC_SIGNATURE_CHECK) + " " + quote(pdf) + " 2>&1");
        r.exitCode = result.exitCode;
        r.text = result.output;
        std::istringstream lines(result.output);
        for (std::string line; std::getline(lines, line);) {
            if (!line.empty()) r.lines.push_back(line);
        }
        return r;
    }

    static bool qpdfClean(const std::string& pdf) { return runCommand("qpdf --check " + quote(pdf) + " >/dev/null 2>&1").exitCode == 0; }

    static bool hasDss(const std::string& pdf) {
        return runCommand("qpdf --json=2 --json-key=qpdf " + quote(pdf) + " 2>&1").output.find("\"/DSS\": ") != std::string::npos;
    }

private:
    std::string dir_;
};

/// Seals a sample at \p level, has two people sign it at the same level, and checks every step.
void sealAndSignThreeTimes(const std::string& level) {
    SigningLab lab;
    const bool timestamped = level != "B-B";
    const bool longTerm = level == "B-LT" || level == "B-LTA";
    const int documentTimestampsPerStep = level == "B-LTA" ? 1 : 0;
    const std::string id = "m1-oswiadczenie-zgoda";

    const std::vector<std::string> steps{lab.file("sealed.pdf"), lab.file("signed-1.pdf"), lab.file("signed-2.pdf")};
    INFO("level " << level);
    const auto sealed = lab.sealSample(id, steps[0], level);
    INFO(sealed.output);
    REQUIRE(sealed.exitCode == 0);
    const auto first = lab.sign(steps[0], "osoba-1", "jan.p12", steps[1], level);
    INFO(first.output);
    REQUIRE(first.exitCode == 0);
    const auto second = lab.sign(steps[1], "osoba-2", "anna.p12", steps[2], level);
    INFO(second.output);
    REQUIRE(second.exitCode == 0);

    for (std::size_t step = 0; step < steps.size(); ++step) {
        const int signatures = static_cast<int>(step) + 1;
        const int expected = signatures * (1 + documentTimestampsPerStep);
        INFO("after step " << step << ": " << steps[step]);
        CHECK(SigningLab::qpdfClean(steps[step]));
        if (step > 0) {  // every step is an incremental update: the earlier file is a prefix
            const auto before = readFile(steps[step - 1]);
            CHECK(readFile(steps[step]).compare(0, before.size(), before) == 0);
        }
        const auto verdict = lab.pdfsig(steps[step]);
        INFO(verdict.text);
        CHECK(verdict.validated == expected);
        // poppler 22.12 cannot validate document timestamps (ETSI.RFC3161): it lists them as
        // "Signature Type: unknown ... has not yet been verified". PDFBox + BouncyCastle below
        // checks them; pdfsig judges every CAdES signature of the same file.
        CHECK(verdict.valid == signatures);
        CHECK(verdict.trusted == signatures);
        CHECK(countMatches(verdict.text, "Signature Validation: Signature has not yet been verified") ==
              signatures * documentTimestampsPerStep);
        const auto java = SigningLab::java(steps[step]);
        INFO(java.text);
        CHECK(java.exitCode == 0);
        CHECK(static_cast<int>(java.lines.size()) == expected);
        CHECK(java.count("^VALID ") == expected);
        CHECK(java.count("^VALID \\S+ ETSI.CAdES.detached ") == signatures);
        CHECK(java.count("^VALID \\S+ ETSI.CAdES.detached .* ts=") == (timestamped ? signatures : 0));
        CHECK(java.count("^VALID \\S+ ETSI.RFC3161 ") == signatures * documentTimestampsPerStep);
        CHECK(SigningLab::hasDss(steps[step]) == longTerm);
    }
    const auto java = SigningLab::java(steps[2]);
    CHECK(java.count("^VALID pieczec-kooperdoc ETSI.CAdES.detached .*Kooperdoc") == 1);
    CHECK(java.count("^VALID osoba-1 ETSI.CAdES.detached .*Jan Kowalski") == 1);
    CHECK(java.count("^VALID osoba-2 ETSI.CAdES.detached .*Anna Nowak") == 1);
}

}  // namespace

TEST_CASE("PAdES B-B: a sealed sample signed by two more people is valid in pdfsig and PDFBox", "[signing][cli]") {
    sealAndSignThreeTimes("B-B");
}

TEST_CASE("PAdES B-T: every signature carries a valid signature timestamp", "[signing][cli]") {
    sealAndSignThreeTimes("B-T");
}

TEST_CASE("PAdES B-LT: the DSS holds the validation data and every signature stays valid", "[signing][cli]") {
    sealAndSignThreeTimes("B-LT");
}

TEST_CASE("PAdES B-LTA: a document timestamp follows every signature", "[signing][cli]") {
    sealAndSignThreeTimes("B-LTA");
}

TEST_CASE("the seal leaves an empty field for every signatory and tampering is caught", "[signing][cli]") {
    SigningLab lab;
    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(lab.sealSample("m1-oswiadczenie-zgoda", sealed, "B-B").exitCode == 0);
    const auto verdict = lab.pdfsig(sealed);
    INFO(verdict.text);
    CHECK(std::regex_search(verdict.text, std::regex("Signature Field Name: osoba-1\\s+The signature form field is not signed")));
    CHECK(verdict.text.find("ETSI.CAdES.detached") != std::string::npos);
    CHECK(foldWhitespace(pdfText(sealed)).find("podpis elektroniczny") != std::string::npos);

    const auto signedPdf = lab.file("signed.pdf");
    REQUIRE(lab.sign(sealed, "osoba-1", "jan.p12", signedPdf, "B-B").exitCode == 0);
    // One flipped byte inside the signed range breaks every signature that covers it.
    auto tampered = readFile(signedPdf);
    const auto at = tampered.find("/Producer");
    REQUIRE(at != std::string::npos);
    tampered[at + 12] = static_cast<char>(tampered[at + 12] ^ 0x01);
    writeFile(lab.file("tampered.pdf"), tampered);
    const auto broken = lab.pdfsig(lab.file("tampered.pdf"));
    INFO(broken.text);
    CHECK(broken.validated == 2);
    CHECK(broken.valid == 0);
    CHECK(SigningLab::java(lab.file("tampered.pdf")).exitCode == 1);
}

TEST_CASE("signing refuses a wrong password, an unknown or signed field and a PDF that is not one, writing nothing",
          "[signing][cli]") {
    SigningLab lab;
    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(lab.sealSample("m1-oswiadczenie-zgoda", sealed, "B-B").exitCode == 0);
    writeFile(lab.file("wrong"), "nie-to-hasło\n");
    const auto out = lab.file("out.pdf");
    auto result = lab.sign(sealed, "osoba-1", "jan.p12", out, "B-B", "wrong");
    CHECK(result.exitCode != 0);
    CHECK(result.output.find("identity.bad_password") != std::string::npos);
    result = lab.sign(sealed, "nie-ma-takiego", "jan.p12", out, "B-B");
    CHECK(result.exitCode != 0);
    CHECK(result.output.find("signature.field_unknown") != std::string::npos);
    REQUIRE(lab.sign(sealed, "osoba-1", "jan.p12", lab.file("signed.pdf"), "B-B").exitCode == 0);
    result = lab.sign(lab.file("signed.pdf"), "osoba-1", "anna.p12", out, "B-B");
    CHECK(result.exitCode != 0);
    CHECK(result.output.find("signature.field_signed") != std::string::npos);
    writeFile(lab.file("not.pdf"), "to nie jest PDF");
    result = lab.sign(lab.file("not.pdf"), "osoba-1", "jan.p12", out, "B-B");
    CHECK(result.exitCode != 0);
    CHECK(result.output.find("pdf.unreadable") != std::string::npos);
    result = lab.sealSample("m1-oswiadczenie-zgoda", out, "B-XL");
    CHECK(result.exitCode != 0);
    CHECK(result.output.find("signing.level_unknown") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("remote signing: prepare, sign with a key only the test holds, complete, finalize", "[signing][cli][remote]") {
    SigningLab lab;
    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(lab.sealSample("m1-oswiadczenie-zgoda", sealed, "B-B").exitCode == 0);
    const auto state = lab.file("state.json");
    const auto identity = " --identity " + quote(lab.identity());
    const auto prepared = SigningLab::run(quote(cli()) + " prepare " + quote(sealed) + " --field osoba-2 --certificate " +
                                          quote(lab.file("anna-chain.pem")) + " --state " + quote(state) +
                                          " --to-be-signed " + quote(lab.file("tbs.der")) + " --level B-T" + identity);
    REQUIRE(prepared.exitCode == 0);
    CHECK(std::regex_search(prepared.output, std::regex("\"signed_attributes_sha256\": \"[0-9a-f]{64}\"")));

    // A signature by another key is refused, and the state stays as it was.
    REQUIRE(SigningLab::run("openssl dgst -sha256 -sign " + quote(lab.identity() + "/person.key.pem") + " -out " +
                            quote(lab.file("wrong.sig")) + " " + quote(lab.file("tbs.der"))).exitCode == 0);
    const auto stateBefore = readFile(state);
    const auto refused = SigningLab::run(quote(cli()) + " complete " + quote(state) + " --signature " + quote(lab.file("wrong.sig")));
    CHECK(refused.exitCode != 0);
    CHECK(refused.output.find("signature.invalid") != std::string::npos);
    CHECK(readFile(state) == stateBefore);
    CHECK(SigningLab::run(quote(cli()) + " finalize " + quote(state) + " -o " + quote(lab.file("early.pdf")) + identity)
              .output.find("remote.not_completed") != std::string::npos);

    // The "card": the OpenSSL CLI with Anna's key, which Kooperdoc never sees.
    REQUIRE(SigningLab::run("openssl dgst -sha256 -sign " + quote(lab.file("anna.key")) + " -out " + quote(lab.file("anna.sig")) +
                            " " + quote(lab.file("tbs.der"))).exitCode == 0);
    REQUIRE(SigningLab::run(quote(cli()) + " complete " + quote(state) + " --signature " + quote(lab.file("anna.sig")) +
                            " --certificate " + quote(lab.file("anna.pem"))).exitCode == 0);
    const auto finalPdf = lab.file("remote.pdf");
    REQUIRE(SigningLab::run(quote(cli()) + " finalize " + quote(state) + " -o " + quote(finalPdf) + identity).exitCode == 0);
    CHECK(SigningLab::qpdfClean(finalPdf));
    const auto verdict = lab.pdfsig(finalPdf);
    INFO(verdict.text);
    CHECK(verdict.validated == 2);
    CHECK(verdict.valid == 2);
    CHECK(verdict.trusted == 2);
    const auto java = SigningLab::java(finalPdf);
    INFO(java.text);
    CHECK(java.exitCode == 0);
    CHECK(java.count("^VALID osoba-2 ETSI.CAdES.detached .*Anna Nowak.* ts=") == 1);
}

TEST_CASE("remote signing with a CMS built by the client, a CMS over other bytes refused", "[signing][cli][remote]") {
    SigningLab lab;
    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(lab.sealSample("m1-oswiadczenie-zgoda", sealed, "B-B").exitCode == 0);
    const auto state = lab.file("state.json");
    const auto identity = " --identity " + quote(lab.identity());
    REQUIRE(SigningLab::run(quote(cli()) + " prepare " + quote(sealed) + " --field osoba-1 --certificate " +
                            quote(lab.identity() + "/person.pem") + " --state " + quote(state) + " --content " +
                            quote(lab.file("content.bin")) + " --level B-B" + identity).exitCode == 0);
    const auto cms = [&](const std::string& content, const std::string& out) {
        return SigningLab::run("openssl cms -sign -binary -md sha256 -nosmimecap -outform DER -in " + quote(content) +
                               " -signer " + quote(lab.identity() + "/person.pem") + " -inkey " +
                               quote(lab.identity() + "/person.key.pem") + " -out " + quote(out)).exitCode;
    };
    writeFile(lab.file("other.bin"), readFile(lab.file("content.bin")) + " ");
    REQUIRE(cms(lab.file("other.bin"), lab.file("other.cms")) == 0);
    const auto refused = SigningLab::run(quote(cli()) + " complete " + quote(state) + " --cms " + quote(lab.file("other.cms")));
    CHECK(refused.exitCode != 0);
    CHECK(refused.output.find("signature.invalid") != std::string::npos);

    REQUIRE(cms(lab.file("content.bin"), lab.file("good.cms")) == 0);
    REQUIRE(SigningLab::run(quote(cli()) + " complete " + quote(state) + " --cms " + quote(lab.file("good.cms"))).exitCode == 0);
    const auto again = SigningLab::run(quote(cli()) + " complete " + quote(state) + " --cms " + quote(lab.file("good.cms")));
    CHECK(again.output.find("remote.already_completed") != std::string::npos);
    const auto finalPdf = lab.file("remote.pdf");
    REQUIRE(SigningLab::run(quote(cli()) + " finalize " + quote(state) + " -o " + quote(finalPdf) + identity).exitCode == 0);
    const auto verdict = lab.pdfsig(finalPdf);
    INFO(verdict.text);
    CHECK(verdict.valid == 2);
    CHECK(verdict.trusted == 2);
    CHECK(SigningLab::java(finalPdf).count("^VALID osoba-1 ETSI.CAdES.detached .*Jan Kowalski") == 1);

    // A state file damaged in storage is refused before anything is signed.
    auto damaged = readFile(state);
    damaged[damaged.find("prepared_pdf") + 40] ^= 0x01;
    writeFile(lab.file("damaged.json"), damaged);
    CHECK(SigningLab::run(quote(cli()) + " finalize " + quote(lab.file("damaged.json")) + " -o " + quote(lab.file("x.pdf")) + identity)
              .output.find("remote.state_invalid") != std::string::npos);
}

TEST_CASE("re-timestamping renews a B-LTA archive and keeps every earlier signature valid", "[signing][cli]") {
    SigningLab lab;
    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(lab.sealSample("m1-oswiadczenie-zgoda", sealed, "B-LTA").exitCode == 0);
    const auto renewed = lab.file("renewed.pdf");
    REQUIRE(SigningLab::run(quote(cli()) + " timestamp " + quote(sealed) + " -o " + quote(renewed) + " --identity " +
                            quote(lab.identity())).exitCode == 0);
    const auto before = readFile(sealed);
    CHECK(readFile(renewed).compare(0, before.size(), before) == 0);
    CHECK(SigningLab::qpdfClean(renewed));
    const auto verdict = lab.pdfsig(renewed);
    INFO(verdict.text);
    CHECK(verdict.validated == 3);
    CHECK(verdict.valid == 1);  // the seal; poppler cannot validate the two document timestamps
    const auto java = SigningLab::java(renewed);
    INFO(java.text);
    CHECK(java.exitCode == 0);
    CHECK(java.count("^VALID \\S+ ETSI.RFC3161 ") == 2);
}

TEST_CASE("a seal timestamped by the service's TSA over HTTP (RFC 3161 client and server)", "[signing][cli][server]") {
    SigningLab lab;
    writeFile(lab.file("server.properties"), "kooperdoc.signing.identity.dir = " + lab.identity() + "\n");
    ServerProcess server({"--config", lab.file("server.properties")});
    writeFile(lab.file("client.properties"), "kooperdoc.signing.identity.dir = " + lab.identity() +
                                                 "\nkooperdoc.signing.tsa.url = " + server.url() + "/v1/timestamp\n"
                                                 "kooperdoc.signing.tsa.trusted-ca = " + lab.identity() + "/ca.pem\n");
    const auto sealed = lab.file("sealed.pdf");
    const auto result = SigningLab::run("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " --config " +
                                        quote(lab.file("client.properties")) + " render m1-oswiadczenie-zgoda " +
                                        quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") +
                                        " -o " + quote(sealed) + " --seal --level B-T");
    REQUIRE(result.exitCode == 0);
    const auto java = SigningLab::java(sealed);
    INFO(java.text);
    CHECK(java.exitCode == 0);
    CHECK(java.count("^VALID pieczec-kooperdoc ETSI.CAdES.detached .* ts=") == 1);

    // A TSA that is not there is a clear error, not a seal without its timestamp.
    CHECK(server.stop() == 0);
    const auto unreachable = SigningLab::run(quote(cli()) + " --config " + quote(lab.file("client.properties")) +
                                             " render m1-oswiadczenie-zgoda " +
                                             quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") +
                                             " -o " + quote(lab.file("again.pdf")) + " --seal --level B-T");
    CHECK(unreachable.exitCode != 0);
    CHECK(unreachable.output.find("timestamp.unavailable") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(lab.file("again.pdf")));
}

namespace {

/// Appends an incremental update that replaces object \p number with \p body: the classic
/// incremental-saving attack, made by hand as an attacker would.
std::string appendUpdate(const std::string& pdf, int number, const std::string& body) {
    const auto startxref = pdf.rfind("startxref");
    REQUIRE(startxref != std::string::npos);
    const auto previous = std::stoll(pdf.substr(startxref + 9));
    const auto trailer = pdf.rfind("trailer");
    REQUIRE(trailer != std::string::npos);
    std::smatch size, root;
    const std::string trailerText = pdf.substr(trailer, startxref - trailer);
    REQUIRE(std::regex_search(trailerText, size, std::regex("/Size (\\d+)")));
    REQUIRE(std::regex_search(trailerText, root, std::regex("/Root (\\d+ \\d+ R)")));
    std::string out = pdf;
    if (out.back() != '\n') out += '\n';
    const auto offset = out.size();
    out += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
    const auto xref = out.size();
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    out += "xref\n" + std::to_string(number) + " 1\n" + entry + "trailer\n<< /Size " + size[1].str() + " /Root " +
           root[1].str() + " /Prev " + std::to_string(previous) + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

}  // namespace

TEST_CASE("a signed upload is accepted only as an allowed incremental update by the expected signer", "[signing][cli][upload]") {
    SigningLab lab;
    const auto issued = lab.file("issued.pdf");
    REQUIRE(lab.sealSample("m1-oswiadczenie-zgoda", issued, "B-B").exitCode == 0);
    const auto uploaded = lab.file("uploaded.pdf");
    REQUIRE(lab.sign(issued, "osoba-1", "jan.p12", uploaded, "B-LTA").exitCode == 0);
    const auto check = [&](const std::string& file, const std::string& extra = "") {
        return runCommand(quote(cli()) + " check-upload " + quote(issued) + " " + quote(file) + " --json " + extra + " 2>&1");
    };

    auto result = check(uploaded);
    INFO(result.output);
    CHECK(result.exitCode == 0);
    CHECK(result.output.find("\"accepted\": true") != std::string::npos);
    CHECK(std::regex_search(result.output, std::regex("\"field\": \"osoba-1\"[^}]*\"signer\": \"CN=Jan Kowalski")));
    CHECK(result.output.find("\"document_timestamp\": true") != std::string::npos);
    CHECK(check(uploaded, "--expect osoba-1=pesel:44051401359 --expect 'osoba-1=subject:CN=Jan Kowalski'").exitCode == 0);

    result = check(uploaded, "--expect osoba-1=pesel:02070803628");
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("upload.unexpected_signer") != std::string::npos);
    result = check(uploaded, "--expect osoba-2=pesel:02070803628");
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("upload.expected_field_unsigned") != std::string::npos);

    // What came back is what we issued, unsigned.
    result = check(issued);
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("upload.no_new_signature") != std::string::npos);

    // Another document of the same form (another creation date, so other bytes) is not ours.
    const auto other = lab.file("other.pdf");
    REQUIRE(runCommand("SOURCE_DATE_EPOCH=1768557600 " + quote(cli()) + " render m1-oswiadczenie-zgoda " +
                       quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") + " -o " +
                       quote(other) + " --seal --level B-B --identity " + quote(lab.identity()))
                .exitCode == 0);
    const auto signedOther = lab.file("signed-other.pdf");
    REQUIRE(lab.sign(other, "osoba-1", "jan.p12", signedOther, "B-B").exitCode == 0);
    result = check(signedOther);
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("upload.not_ours") != std::string::npos);

    // Signed, then the first page's text replaced in a later update: pdfsig still calls the
    // signatures valid (they cover their own revisions), the upload check refuses.
    const auto original = readFile(uploaded);
    std::smatch contents;
    REQUIRE(std::regex_search(original, contents, std::regex("/Contents (\\d+) 0 R")));
    const std::string stream = "BT /F1 12 Tf 72 700 Td (Zmieniona tresc) Tj ET";
    const auto attacked = appendUpdate(original, std::stoi(contents[1].str()),
                                       "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream");
    writeFile(lab.file("attacked.pdf"), attacked);
    CHECK(SigningLab::qpdfClean(lab.file("attacked.pdf")));
    CHECK(lab.pdfsig(lab.file("attacked.pdf")).valid >= 2);
    result = check(lab.file("attacked.pdf"));
    INFO(result.output);
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("upload.forbidden_change") != std::string::npos);

    // A flipped byte inside the new signature's signed range.
    auto flipped = original;
    const auto at = flipped.find("/M (D:20", readFile(issued).size());
    REQUIRE(at != std::string::npos);
    flipped[at + 9] = static_cast<char>(flipped[at + 9] ^ 0x01);  // a digit of the year: still a date
    writeFile(lab.file("flipped.pdf"), flipped);
    result = check(lab.file("flipped.pdf"));
    CHECK(result.exitCode == 1);
    CHECK(result.output.find("upload.signature_invalid") != std::string::npos);
}

TEST_CASE("sealing and signing keep a PDF/A-1b rendering valid in PDFBox Preflight", "[signing][cli][pdfa]") {
    SigningLab lab;
    const std::string id = "m3-deklaracja-pzk";
    const auto sealed = lab.file("sealed.pdf");
    REQUIRE(runCommand("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " render " + id + " " +
                       quote(sourceDir() + "/templates/catalog/" + id + "/samples/sample.json") + " -o " + quote(sealed) +
                       " --pdfa 1b --seal --level B-LTA --identity " + quote(lab.identity()) + " 2>&1")
                .exitCode == 0);
    const auto fields = lab.pdfsig(sealed).text;
    std::smatch field;
    REQUIRE(std::regex_search(fields, field, std::regex("Signature Field Name: (\\S+)\\s+The signature form field is not signed")));
    const auto signedPdf = lab.file("signed.pdf");
    REQUIRE(lab.sign(sealed, field[1].str(), "jan.p12", signedPdf, "B-LT").exitCode == 0);
    const auto result = runCommand(std::string(KOOPERDOC_PREFLIGHT) + " " + quote(sealed) + " " + quote(signedPdf) + " 2>&1");
    INFO(result.output);
    CHECK(result.exitCode == 0);
    CHECK(result.output.find("INVALID") == std::string::npos);
    CHECK(countMatches(result.output, "(^|\\n)VALID ") == 2);
}

TEST_CASE("a seal from a PKCS#12 and a TSA certificate named in the configuration", "[signing][cli]") {
    SigningLab lab;
    const auto id = lab.identity();
    writeFile(lab.file("kooperdoc.properties"),
              "kooperdoc.signing.identity.p12 = " + id + "/seal.p12\n"
              "kooperdoc.signing.identity.p12-password-file = " + id + "/seal.p12.password\n"
              "kooperdoc.signing.level = B-LT\n"
              "kooperdoc.signing.tsa.certificate = " + id + "/tsa.pem\n"
              "kooperdoc.signing.tsa.key = " + id + "/tsa.key.pem\n"
              "kooperdoc.signing.dss.certificates = " + id + "/ca.pem\n"
              "kooperdoc.signing.dss.crls = " + id + "/ca.crl.pem\n");
    const auto sealed = lab.file("sealed.pdf");
    const auto result = SigningLab::run("cd " + quote(lab.file("")) + " && " + quote(cli()) + " --config kooperdoc.properties render m1-oswiadczenie-zgoda " +
                                        quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") +
                                        " -o " + quote(sealed) + " --seal");
    REQUIRE(result.exitCode == 0);
    // No development identity was created beside the configuration: the configured one sealed.
    CHECK_FALSE(std::filesystem::exists(lab.file(".kooperdoc")));
    const auto java = SigningLab::java(sealed);
    INFO(java.text);
    CHECK(java.count("^VALID pieczec-kooperdoc ETSI.CAdES.detached .*Kooperdoc.* ts=") == 1);
    CHECK(SigningLab::hasDss(sealed));
    const auto verdict = lab.pdfsig(sealed);
    CHECK(verdict.valid == 1);
    CHECK(verdict.trusted == 1);

    writeFile(lab.file("broken.properties"), "kooperdoc.signing.identity.p12 = " + id + "/seal.p12\n"
                                             "kooperdoc.signing.identity.p12-password-file = " + lab.file("password") + "\n");
    const auto wrong = SigningLab::run(quote(cli()) + " --config " + quote(lab.file("broken.properties")) + " seal " +
                                       quote(sealed) + " -o " + quote(lab.file("x.pdf")));
    CHECK(wrong.exitCode != 0);
    CHECK(wrong.output.find("identity.bad_password") != std::string::npos);
}

TEST_CASE("processes starting at once create one development identity and all seal with it", "[cli][seal]") {
    // The service and a command, or parallel tests, may find no identity at the same moment:
    // one creates it, the others wait for it instead of failing on its files.
    const TempDir dir("kooperdoc-identity-race");
    const std::string k = quote(cli());
    REQUIRE(runCommand(k + " sample m1-klauzula-informacyjna > " + quote(dir.file("in.json"))).exitCode == 0);
    std::string script = "cd " + quote(dir.path()) + " && pids=''; for i in 1 2 3 4; do " + k +
                         " render m1-klauzula-informacyjna in.json -o out$i.pdf --seal --level B-B --identity id 2>err$i & "
                         "pids=\"$pids $!\"; done; rc=0; for p in $pids; do wait $p || rc=1; done; cat err*; exit $rc";
    const auto raced = runCommand("sh -c " + quote(script));
    INFO(raced.output);
    CHECK(raced.exitCode == 0);
    // One notice: one process created the identity, the others used it.
    std::size_t notices = 0;
    for (auto at = raced.output.find("created a development signing identity"); at != std::string::npos;
         at = raced.output.find("created a development signing identity", at + 1)) {
        ++notices;
    }
    CHECK(notices == 1);
    for (int i = 1; i <= 4; ++i) {
        const auto sig = runCommand("pdfsig " + quote(dir.file("out" + std::to_string(i) + ".pdf")) + " 2>&1").output;
        CHECK(sig.find("Signature Validation: Signature is Valid") != std::string::npos);
    }
}
