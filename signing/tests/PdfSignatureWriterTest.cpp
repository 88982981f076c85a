// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "Process.h"
#include "TestPaths.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/signing/SigningIdentity.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;

namespace {

/// A CA, two RSA-2048 signers (a person and the service seal) and an ECDSA P-256 signer made with the openssl CLI, and
/// an NSS database trusting the CA for pdfsig. Keys are made per test process and never stored in the tree.
struct Pki {
    std::string dir;
    std::string nssDb;

    static const Pki& instance() {
        static const Pki pki = make();
        // Destroyed before pki; KOOPERDOC_KEEP_TEST_FILES keeps the PDFs for a look after a failure.
        static const struct Cleanup {
            ~Cleanup() {
                std::error_code ignored;
                if (std::getenv("KOOPERDOC_KEEP_TEST_FILES") == nullptr) std::filesystem::remove_all(dir, ignored);
            }
            std::string dir;
        } cleanup{pki.dir};
        return pki;
    }

private:
    static void run(const std::string& command) {
        const auto result = runCommand("(" + command + ") >/dev/null 2>&1");
        if (result.exitCode != 0) throw std::runtime_error("command failed: " + command);
    }

    static Pki make() {
        std::string pattern = (std::filesystem::temp_directory_path() / "kooperdoc-pdfsig-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        Pki pki;
        pki.dir = pattern;
        const std::string d = quote(pki.dir) + "/";
        writeFile(pki.dir + "/ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                                       "subjectKeyIdentifier=hash\n");
        writeFile(pki.dir + "/signer.ext",
                  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                  "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        run("openssl req -x509 -utf8 -newkey rsa:2048 -nodes -keyout " + d + "ca.key -out " + d +
            "ca.pem -days 30 -subj '/CN=Kooperdoc Testowe CA/O=Kooperdoc' -addext "
            "'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'");
        run("openssl req -new -utf8 -newkey rsa:2048 -nodes -keyout " + d + "rsa.key -out " + d +
            "rsa.csr -subj '/CN=Zażółć Gęślą Jaźń/O=Powiat Łódzki'");
        run("openssl req -new -utf8 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d + "ec.key -out " +
            d + "ec.csr -subj '/CN=Łucja Śliwińska/O=Gmina Żółkiewka'");
        run("openssl req -new -utf8 -newkey rsa:2048 -nodes -keyout " + d + "seal.key -out " + d +
            "seal.csr -subj '/CN=Kooperdoc Pieczęć Testowa/O=Kooperdoc'");
        for (const char* who : {"rsa", "ec", "seal"}) {
            const std::string w = who;
            run("openssl x509 -req -in " + d + w + ".csr -CA " + d + "ca.pem -CAkey " + d +
                "ca.key -CAcreateserial -out " + d + w + ".pem -days 30 -sha256 -extfile " + d + "signer.ext");
        }
        pki.nssDb = "sql:" + pki.dir + "/nss";
        run("mkdir " + d + "nss && certutil -N -d " + quote(pki.nssDb) + " --empty-password && certutil -A -d " +
            quote(pki.nssDb) + " -n ca -t CT,C,C -i " + d + "ca.pem");
        return pki;
    }
};

/// A detached CAdES CMS from the openssl CLI, standing in for the signing module's own signer.
signing::CmsProducer opensslSigner(const std::string& who) {
    return [who](std::string_view signedBytes) {
        const Pki& pki = Pki::instance();
        const std::string in = pki.dir + "/tbs-" + who + ".bin";
        const std::string out = pki.dir + "/cms-" + who + ".der";
        writeFile(in, std::string(signedBytes));
        const auto result =
            runCommand("openssl cms -sign -binary -cades -nosmimecap -md sha256 -outform DER -signer " +
                       quote(pki.dir + "/" + who + ".pem") + " -inkey " + quote(pki.dir + "/" + who + ".key") +
                       " -in " + quote(in) + " -out " + quote(out) + " 2>&1");
        if (result.exitCode != 0) throw std::runtime_error("openssl cms failed: " + result.output);
        return readFile(out);
    };
}

struct SignatureReport {
    std::string field, validation, certificate, type;
    bool totalDocumentSigned = false;
};

/// pdfsig also lists empty signature fields ("The signature form field is not signed.").
struct PdfsigResult {
    std::vector<SignatureReport> signatures;
    std::vector<std::string> emptyFields;

    const SignatureReport* find(const std::string& field) const {
        for (const auto& s : signatures) {
            if (s.field == field) return &s;
        }
        return nullptr;
    }
};

/// Parses pdfsig's report. pdfsig exits 0 even on "Digest Mismatch", so the text is the verdict.
PdfsigResult pdfsig(const std::string& file, std::string* raw = nullptr) {
    const auto result = runCommand("pdfsig -nssdir " + quote(Pki::instance().nssDb) + " " + quote(file) + " 2>&1");
    if (raw != nullptr) *raw = result.output;
    PdfsigResult reports;
    std::size_t pos = 0;
    auto valueAfter = [](const std::string& block, const std::string& key) {
        const auto at = block.find(key);
        if (at == std::string::npos) return std::string();
        const auto start = at + key.size();
        return block.substr(start, block.find('\n', start) - start);
    };
    while ((pos = result.output.find("Signature #", pos)) != std::string::npos) {
        const auto next = result.output.find("Signature #", pos + 1);
        const std::string block = result.output.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        SignatureReport report;
        report.field = valueAfter(block, "Signature Field Name: ");
        report.validation = valueAfter(block, "Signature Validation: ");
        report.certificate = valueAfter(block, "Certificate Validation: ");
        report.type = valueAfter(block, "Signature Type: ");
        report.totalDocumentSigned = block.find("- Total document signed") != std::string::npos;
        if (block.find("The signature form field is not signed.") != std::string::npos) {
            reports.emptyFields.push_back(report.field);
        } else {
            reports.signatures.push_back(report);
        }
        pos = next == std::string::npos ? result.output.size() : next;
    }
    return reports;
}

doc::Block paragraph(const std::string& text) {
    doc::Block b;
    b.kind = doc::Block::Kind::kParagraph;
    b.spans.push_back({text, false, false});
    return b;
}

pdf::RenderedPdf renderAgreement() {
    doc::Document d;
    d.provenance.documentId = "KD-TEST-SIGN-TEST-0001";
    d.provenance.documentNumber = "OPS.4321.7.2026";
    d.provenance.title = "Porozumienie testowe";
    d.provenance.templateId = "test";
    d.provenance.templateVersion = "1.0.0";
    d.provenance.templateSha256 = std::string(64, '0');
    d.provenance.inputSha256 = std::string(64, 'b');
    d.provenance.createdEpochSeconds = 1768471200;
    doc::Block title;
    title.kind = doc::Block::Kind::kTitle;
    title.spans.push_back({"POROZUMIENIE O WSPÓŁPRACY", false, false});
    d.blocks.push_back(title);
    d.blocks.push_back(paragraph("Strony zgodnie oświadczają, że zażółć gęślą jaźń w Łodzi."));
    doc::Block signatures;
    signatures.kind = doc::Block::Kind::kSignatures;
    signatures.signatures = {{"podpis_powiat", "starosta", "Podpis Przedstawiciela POWIATU", "Zażółć Gęślą Jaźń"},
                             {"podpis_gmina", "wójt", "Podpis Przedstawiciela GMINY", "Łucja Śliwińska"},
                             {"podpis_animator", "animator", "Podpis Animatora", "Jan Kowalski"}};
    d.blocks.push_back(signatures);
    return pdf::renderPdf(d);
}

std::vector<signing::FieldPlacement> placementsOf(const pdf::RenderedPdf& rendered) {
    std::vector<signing::FieldPlacement> fields;
    for (const auto& s : rendered.signatures) {
        signing::FieldPlacement f;
        f.name = s.field;
        f.page = s.page;
        f.x = s.x;
        f.y = s.y;
        f.width = s.width;
        f.height = s.height;
        f.appearanceText = (s.name.empty() ? "" : s.name + "\n") + s.role + "\npodpis elektroniczny";
        fields.push_back(f);
    }
    return fields;
}

std::string save(const std::string& name, const std::string& bytes) {
    const std::string path = Pki::instance().dir + "/" + name + ".pdf";
    writeFile(path, bytes);
    return path;
}

bool qpdfClean(const std::string& file) {
    const auto result = runCommand("qpdf --check " + quote(file) + " 2>&1");
    return result.exitCode == 0 && result.output.find("No syntax or stream encoding errors") != std::string::npos;
}

bool isPrefix(const std::string& prefix, const std::string& whole) {
    return whole.size() > prefix.size() && whole.compare(0, prefix.size(), prefix) == 0;
}

std::string infoDates(const std::string& file) {
    const auto out = runCommand("pdfinfo -isodates " + quote(file) + " | grep -E '^(CreationDate|ModDate|Title):'");
    return out.output;
}

void requireError(const std::function<void()>& action, ErrorCode code, const std::string& reason) {
    try {
        action();
        FAIL("expected Error " << reason);
    } catch (const Error& e) {
        CHECK(e.reason() == reason);
        CHECK(e.code() == code);
    }
}

signing::SignatureOptions fillField(const std::string& name) {
    signing::SignatureOptions o;
    o.fieldName = name;
    o.reason = "Zatwierdzam treść porozumienia";
    o.location = "Łódź";
    o.signingTimeEpoch = 1768474800;
    return o;
}

signing::SignatureOptions sealOptions() {
    signing::SignatureOptions o;
    o.fieldName = "Pieczęć Kooperdoc";
    o.createInvisibleField = true;
    o.certify = true;
    o.reason = "Pieczęć elektroniczna Kooperdoc";
    o.location = "Warszawa";
    o.signingTimeEpoch = 1768471260;
    return o;
}

} // namespace

TEST_CASE("fields, a certifying seal and three signers verify in pdfsig after every step", "[pdfsig]") {
    const auto rendered = renderAgreement();
    REQUIRE(rendered.signatures.size() == 3);
    const auto original = save("0-rendered", rendered.bytes);

    const std::string withFields = signing::addSignatureFields(rendered.bytes, placementsOf(rendered));
    const auto fieldsFile = save("1-fields", withFields);
    CHECK(isPrefix(rendered.bytes, withFields));
    CHECK(qpdfClean(fieldsFile));
    CHECK(infoDates(fieldsFile) == infoDates(original)); // ModDate not stamped with the clock
    // qpdf sees three empty signature fields under our names.
    const auto form = runCommand("qpdf --json --json-key=acroform " + quote(fieldsFile)).output;
    for (const char* name : {"podpis_powiat", "podpis_gmina", "podpis_animator"}) {
        CHECK(form.find(std::string("\"fullname\": \"") + name + "\"") != std::string::npos);
    }
    CHECK(form.find("\"fieldtype\": \"/Sig\"") != std::string::npos);
    // The fields' appearance draws ink over the signature block (box and text).
    const auto& block = rendered.signatures[2];
    auto inkIn = [&](const std::string& file) {
        const auto pgm =
            runCommand("pdftoppm -r 72 -gray -f " + std::to_string(block.page + 1) + " -l " +
                       std::to_string(block.page + 1) + " -x " + std::to_string(int(block.x)) + " -y " +
                       std::to_string(int(842 - block.y - block.height)) + " -W " + std::to_string(int(block.width)) +
                       " -H " + std::to_string(int(block.height)) + " " + quote(file) + " | tail -c " +
                       std::to_string(int(block.width) * int(block.height)))
                .output;
        int dark = 0;
        for (unsigned char c : pgm)
            dark += c < 128 ? 1 : 0;
        return dark;
    };
    CHECK(inkIn(fieldsFile) > inkIn(original));

    // 1. the service seal certifies (DocMDP /P 2) in a new invisible field, RSA.
    const std::string sealed = signing::signPdf(withFields, sealOptions(), opensslSigner("seal"));
    const auto sealedFile = save("2-sealed", sealed);
    CHECK(isPrefix(withFields, sealed));
    CHECK(qpdfClean(sealedFile));
    CHECK(infoDates(sealedFile) == infoDates(original));
    auto reports = pdfsig(sealedFile);
    REQUIRE(reports.signatures.size() == 1);
    CHECK(reports.emptyFields.size() == 3);
    CHECK(reports.signatures[0].field == "Pieczęć Kooperdoc");
    CHECK(reports.signatures[0].type == "ETSI.CAdES.detached");
    CHECK(reports.signatures[0].validation == "Signature is Valid.");
    CHECK(reports.signatures[0].certificate == "Certificate is Trusted.");
    CHECK(reports.signatures[0].totalDocumentSigned);
    // The certification as qpdf reads it: catalog /Perms /DocMDP and the signature's SigRef.
    const auto qdf = runCommand("qpdf --qdf --object-streams=disable " + quote(sealedFile) + " -").output;
    CHECK(qdf.find("/Perms <<\n    /DocMDP ") != std::string::npos);
    CHECK(qdf.find("/TransformMethod /DocMDP") != std::string::npos);
    CHECK(qdf.find("/P 2\n") != std::string::npos);
    CHECK(qdf.find("/V /1.2") != std::string::npos);

    // 2. and 3. the signatories fill their fields, RSA then ECDSA.
    const std::string second = signing::signPdf(sealed, fillField("podpis_powiat"), opensslSigner("rsa"));
    const auto secondFile = save("3-second", second);
    reports = pdfsig(secondFile);
    REQUIRE(reports.signatures.size() == 2);
    for (const auto& report : reports.signatures) {
        CHECK(report.validation == "Signature is Valid.");
        CHECK(report.certificate == "Certificate is Trusted.");
        CHECK(report.totalDocumentSigned == (report.field == "podpis_powiat"));
    }
    const std::string third = signing::signPdf(second, fillField("podpis_gmina"), opensslSigner("ec"));
    const auto thirdFile = save("4-third", third);
    CHECK(isPrefix(sealed, second));
    CHECK(isPrefix(second, third));
    for (const auto& file : {secondFile, thirdFile}) {
        INFO(file);
        CHECK(qpdfClean(file));
        CHECK(infoDates(file) == infoDates(original));
    }
    std::string raw;
    reports = pdfsig(thirdFile, &raw);
    INFO(raw);
    REQUIRE(reports.signatures.size() == 3);
    CHECK(reports.emptyFields == std::vector<std::string>{"podpis_animator"});
    for (const char* field : {"Pieczęć Kooperdoc", "podpis_powiat", "podpis_gmina"}) {
        INFO(field);
        const SignatureReport* report = reports.find(field);
        REQUIRE(report != nullptr);
        CHECK(report->validation == "Signature is Valid.");
        CHECK(report->certificate == "Certificate is Trusted.");
        CHECK(report->type == "ETSI.CAdES.detached");
        // Only the newest signature covers the whole file; earlier ones cover their revision.
        CHECK(report->totalDocumentSigned == (std::string(field) == "podpis_gmina"));
    }
    CHECK(reports.find("podpis_gmina")->certificate == "Certificate is Trusted.");
    const auto text = foldWhitespace(runCommand("pdftotext " + quote(thirdFile) + " -").output);
    CHECK(text.find("POROZUMIENIE O WSPÓŁPRACY") != std::string::npos);
    CHECK(text.find("zażółć gęślą jaźń w Łodzi") != std::string::npos);

    SECTION("one flipped byte inside the signed range breaks every signature covering it") {
        std::string tampered = third;
        const auto titleAt = tampered.find("/Title");
        REQUIRE(titleAt != std::string::npos);
        REQUIRE(titleAt + 20 < sealed.size()); // inside every revision's first range
        tampered[titleAt + 20] = tampered[titleAt + 20] == '0' ? '1' : '0';
        const auto tamperedFile = save("5-tampered", tampered);
        std::string tamperedRaw;
        const auto broken = pdfsig(tamperedFile, &tamperedRaw);
        INFO(tamperedRaw);
        REQUIRE(broken.signatures.size() == 3);
        for (const auto& report : broken.signatures)
            CHECK(report.validation != "Signature is Valid.");
        CHECK(tamperedRaw.find("Digest Mismatch") != std::string::npos);
    }

    SECTION("a filled field cannot be signed again") {
        requireError([&] { signing::signPdf(third, fillField("podpis_gmina"), opensslSigner("ec")); },
                     ErrorCode::kFailedPrecondition, "signature.field_signed");
        requireError([&] { signing::signPdf(third, fillField("Pieczęć Kooperdoc"), opensslSigner("ec")); },
                     ErrorCode::kFailedPrecondition, "signature.field_signed");
    }

    SECTION("only the first signature may certify") {
        auto options = fillField("podpis_animator");
        options.certify = true;
        requireError([&] { signing::signPdf(sealed, options, opensslSigner("rsa")); }, ErrorCode::kFailedPrecondition,
                     "signature.certify_not_first");
    }

    SECTION("no fields may be added to a document certified with /P 2") {
        signing::FieldPlacement late{"spozniony", 0, 50, 50, 100, 40, "Spóźniony"};
        requireError([&] { signing::addSignatureFields(sealed, {late}); }, ErrorCode::kFailedPrecondition,
                     "signature.document_certified");
    }

    SECTION("an unknown field name is refused unless a new invisible field is asked for") {
        requireError([&] { signing::signPdf(sealed, fillField("podpis_wojewoda"), opensslSigner("rsa")); },
                     ErrorCode::kNotFound, "signature.field_unknown");
        auto options = fillField("podpis_gmina");
        options.createInvisibleField = true;
        requireError([&] { signing::signPdf(sealed, options, opensslSigner("rsa")); }, ErrorCode::kAlreadyExists,
                     "signature.field_exists");
    }
}

TEST_CASE("an invisible ECDSA seal on a document without fields verifies", "[pdfsig]") {
    const auto rendered = renderAgreement();
    signing::SignatureOptions options;
    options.createInvisibleField = true; // empty name: "Signature1"
    options.signingTimeEpoch = 1768471260;
    const std::string sealed = signing::signPdf(rendered.bytes, options, opensslSigner("ec"));
    const auto file = save("seal-ec", sealed);
    CHECK(isPrefix(rendered.bytes, sealed));
    CHECK(qpdfClean(file));
    const auto reports = pdfsig(file);
    REQUIRE(reports.signatures.size() == 1);
    CHECK(reports.emptyFields.empty());
    CHECK(reports.signatures[0].field == "Signature1");
    CHECK(reports.signatures[0].validation == "Signature is Valid.");
    CHECK(reports.signatures[0].certificate == "Certificate is Trusted.");
    CHECK(reports.signatures[0].totalDocumentSigned);
}

TEST_CASE("adding fields is deterministic and validates its placements", "[pdfsig]") {
    const auto rendered = renderAgreement();
    const auto fields = placementsOf(rendered);
    const std::string a = signing::addSignatureFields(rendered.bytes, fields);
    CHECK(a == signing::addSignatureFields(rendered.bytes, fields));

    requireError([&] { signing::addSignatureFields(a, {fields[0]}); }, ErrorCode::kAlreadyExists,
                 "signature.field_exists");
    auto badPage = fields[0];
    badPage.name = "inny";
    badPage.page = rendered.pageCount;
    requireError([&] { signing::addSignatureFields(rendered.bytes, {badPage}); }, ErrorCode::kInvalidArgument,
                 "signature.placement_invalid");
    auto noArea = fields[0];
    noArea.width = 0;
    requireError([&] { signing::addSignatureFields(rendered.bytes, {noArea}); }, ErrorCode::kInvalidArgument,
                 "signature.placement_invalid");
    requireError(
        [&] {
            signing::addSignatureFields(rendered.bytes, {fields[0], fields[0]});
        },
        ErrorCode::kInvalidArgument, "signature.placement_invalid");
}

TEST_CASE("bad input to signPdf is a clear error", "[pdfsig]") {
    const auto rendered = renderAgreement();
    const std::string withFields = signing::addSignatureFields(rendered.bytes, placementsOf(rendered));

    SECTION("a PDF PoDoFo cannot load") {
        for (const std::string& bytes :
             {std::string(), std::string("not a pdf at all"), rendered.bytes.substr(0, rendered.bytes.size() / 3)}) {
            requireError([&] { signing::signPdf(bytes, fillField("podpis_gmina"), opensslSigner("rsa")); },
                         ErrorCode::kInvalidArgument, "pdf.unreadable");
        }
        requireError([&] { signing::addSignatureFields("%PDF-1.7\ngarbage", placementsOf(rendered)); },
                     ErrorCode::kInvalidArgument, "pdf.unreadable");
    }

    SECTION("a CMS larger than the reserved room is refused before PoDoFo sees it") {
        auto options = fillField("podpis_gmina");
        options.reservedBytes = 512;
        requireError([&] { signing::signPdf(withFields, options, opensslSigner("rsa")); }, ErrorCode::kInternal,
                     "signature.too_large");
        requireError(
            [&] {
                signing::signPdf(withFields, fillField("podpis_gmina"), [](std::string_view) { return std::string(); });
            },
            ErrorCode::kInternal, "signature.cms_empty");
    }

    SECTION("a signer that throws leaves its error unchanged") {
        requireError(
            [&] {
                signing::signPdf(withFields, fillField("podpis_gmina"), [](std::string_view) -> std::string {
                    throw Error(ErrorCode::kPermissionDenied, "identity.locked", "locked");
                });
            },
            ErrorCode::kPermissionDenied, "identity.locked");
    }

    SECTION("options that cannot work") {
        auto options = fillField("");
        requireError([&] { signing::signPdf(withFields, options, opensslSigner("rsa")); }, ErrorCode::kInvalidArgument,
                     "signature.options_invalid");
        options = fillField("podpis_gmina");
        options.reservedBytes = 0;
        requireError([&] { signing::signPdf(withFields, options, opensslSigner("rsa")); }, ErrorCode::kInvalidArgument,
                     "signature.options_invalid");
    }

    SECTION("the signed bytes are the whole file except the /Contents hole") {
        std::string seen;
        const std::string signedPdf =
            signing::signPdf(withFields, fillField("podpis_gmina"), [&](std::string_view bytes) {
                seen = std::string(bytes);
                return opensslSigner("rsa")(bytes);
            });
        const auto contents = signedPdf.rfind("/Contents <");
        REQUIRE(contents != std::string::npos);
        const auto holeStart = contents + std::string("/Contents ").size();
        const auto holeEnd = signedPdf.find('>', holeStart) + 1;
        CHECK(seen == signedPdf.substr(0, holeStart) + signedPdf.substr(holeEnd));
        CHECK(holeEnd - holeStart == 2 * 16384 + 2);
    }
}

// ---- PAdES B-LT / B-LTA and remote signing ----

namespace {

void shell(const std::string& command) {
    const auto result = runCommand("(" + command + ") 2>&1");
    if (result.exitCode != 0) throw std::runtime_error("command failed: " + command + "\n" + result.output);
}

/// The signing module's development PKI (seal, TSA, CA, CRL) next to the openssl-made one, its CA
/// trusted in the same NSS database, an openssl.cnf for `openssl ts -reply` and an OCSP response.
struct DevPki {
    std::string dir;
    std::string sealPem, sealKey, tsaPem, tsaKey, caPem, crlPem, tsaConfig;
    std::string ocspDer; ///< a "good" OCSP response for the openssl-made rsa.pem, signed by that CA

    static const DevPki& instance() {
        static const DevPki pki = make();
        return pki;
    }

private:
    static DevPki make() {
        const Pki& base = Pki::instance();
        DevPki pki;
        pki.dir = base.dir + "/dev";
        // An hour back, so a signing time or a TSA clock of "now" lies inside every validity period.
        signing::writeDevelopmentIdentity(pki.dir, static_cast<std::int64_t>(std::time(nullptr)) - 3600);
        pki.sealPem = pki.dir + "/seal.pem";
        pki.sealKey = pki.dir + "/seal.key.pem";
        pki.tsaPem = pki.dir + "/tsa.pem";
        pki.tsaKey = pki.dir + "/tsa.key.pem";
        pki.caPem = pki.dir + "/ca.pem";
        pki.crlPem = pki.dir + "/ca.crl.pem";
        shell("certutil -A -d " + quote(base.nssDb) + " -n devca -t CT,C,C -i " + quote(pki.caPem));

        pki.tsaConfig = pki.dir + "/tsa.cnf";
        writeFile(pki.dir + "/tsaserial", "01\n");
        writeFile(pki.tsaConfig, "[ tsa ]\ndefault_tsa = test_tsa\n[ test_tsa ]\nserial = " + pki.dir +
                                     "/tsaserial\ncrypto_device = builtin\nsigner_digest = sha256\n"
                                     "default_policy = 1.3.6.1.4.1.55555.1\ndigests = sha256\naccuracy = secs:1\n"
                                     "ordering = yes\ntsa_name = no\ness_cert_id_chain = no\n"
                                     "ess_cert_id_alg = sha256\n");

        const std::string b = quote(base.dir) + "/";
        const std::string serial = runCommand("openssl x509 -in " + b + "rsa.pem -noout -serial | cut -d= -f2").output;
        writeFile(base.dir + "/index.txt",
                  "V\t491231000000Z\t\t" + serial.substr(0, serial.find('\n')) + "\tunknown\t/CN=rsa\n");
        shell("openssl ocsp -issuer " + b + "ca.pem -cert " + b + "rsa.pem -no_nonce -reqout " + b + "ocsp.req");
        shell("openssl ocsp -index " + b + "index.txt -rsigner " + b + "ca.pem -rkey " + b + "ca.key -CA " + b +
              "ca.pem -reqin " + b + "ocsp.req -respout " + b + "ocsp.der -ndays 1");
        pki.ocspDer = readFile(base.dir + "/ocsp.der");
        return pki;
    }
};

/// DER of a PEM certificate or CRL, converted by the openssl CLI.
std::string derOf(const std::string& pemFile, const char* kind = "x509") {
    const std::string out = pemFile + ".der";
    shell(std::string("openssl ") + kind + " -in " + quote(pemFile) + " -outform DER -out " + quote(out));
    return readFile(out);
}

/// An RFC 3161 TimeStampToken over SHA-256 of the signed bytes, from `openssl ts` as the TSA.
std::string opensslTimestamp(std::string_view signedBytes) {
    const DevPki& pki = DevPki::instance();
    const std::string d = quote(pki.dir) + "/";
    writeFile(pki.dir + "/ts-data.bin", std::string(signedBytes));
    shell("openssl ts -query -data " + d + "ts-data.bin -sha256 -cert -out " + d + "ts.tsq");
    shell("openssl ts -reply -queryfile " + d + "ts.tsq -signer " + quote(pki.tsaPem) + " -inkey " + quote(pki.tsaKey) +
          " -chain " + quote(pki.caPem) + " -config " + quote(pki.tsaConfig) + " -token_out -out " + d + "ts.der");
    // openssl checks its own token against the data, so a wrong message imprint fails here already.
    shell("openssl ts -verify -data " + d + "ts-data.bin -in " + d + "ts.der -token_in -CAfile " + quote(pki.caPem) +
          " -untrusted " + quote(pki.tsaPem));
    return readFile(pki.dir + "/ts.der");
}

/// Wraps a producer so the test keeps the CMS it returned.
signing::CmsProducer keeping(std::string& cms, signing::CmsProducer producer) {
    return [&cms, producer](std::string_view bytes) { return cms = producer(bytes); };
}

std::string qpdfShow(const std::string& file, const std::string& object) {
    return runCommand("qpdf --show-object=" + object + " " + quote(file) + " 2>&1").output;
}

/// "12" for "/Key 12 0 R" in a dictionary qpdf printed; "" when missing.
std::string referenceUnder(const std::string& dictionary, const std::string& key) {
    std::smatch match;
    if (std::regex_search(dictionary, match, std::regex("/" + key + R"(\s+(\d+)\s+0\s+R)"))) return match[1];
    return "";
}

/// The object numbers of "/Key [ 1 0 R 2 0 R ]" in a dictionary qpdf printed.
std::vector<std::string> referencesIn(const std::string& dictionary, const std::string& key) {
    std::vector<std::string> numbers;
    std::smatch match;
    if (!std::regex_search(dictionary, match, std::regex("/" + key + R"(\s*\[([^\]]*)\])"))) return numbers;
    const std::string items = match[1];
    const std::regex reference(R"((\d+)\s+0\s+R)");
    for (auto it = std::sregex_iterator(items.begin(), items.end(), reference); it != std::sregex_iterator(); ++it)
        numbers.push_back((*it)[1]);
    return numbers;
}

/// The catalog's /DSS dictionary as qpdf prints it.
std::string qpdfDss(const std::string& file) {
    const std::string root = referenceUnder(qpdfShow(file, "trailer"), "Root");
    const std::string dss = referenceUnder(qpdfShow(file, root), "DSS");
    return dss.empty() ? std::string() : qpdfShow(file, dss);
}

std::string streamData(const std::string& file, const std::string& object) {
    return runCommand("qpdf --show-object=" + object + " --filtered-stream-data " + quote(file)).output;
}

/// Object numbers the appended revision writes ("N 0 obj" at a line start after the prefix).
std::set<int> objectsWrittenAfter(const std::string& before, const std::string& after) {
    std::set<int> numbers;
    const std::string appended = after.substr(before.size());
    const std::regex header(R"((?:^|[\r\n])(\d+) 0 obj)");
    for (auto it = std::sregex_iterator(appended.begin(), appended.end(), header); it != std::sregex_iterator(); ++it)
        numbers.insert(std::stoi((*it)[1]));
    return numbers;
}

std::string opensslSha1Upper(const std::string& file) {
    std::string out = runCommand("openssl dgst -sha1 -r " + quote(file)).output;
    out = out.substr(0, out.find(' '));
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

/// Checks every embedded CIDFontType2 (qpdf JSON, fontTools reading the embedded program): each /W
/// width must be the program's advance (within 0.01/1000 em), which PDF/A validators compare.
const char* kFontWidthCheck = R"PY(
import base64, io, json, sys
from fontTools.ttLib import TTFont
objects = json.load(sys.stdin)["qpdf"][1]
def value(ref):
    entry = objects["obj:" + ref]
    return entry.get("value", entry.get("stream", {}).get("dict"))
def resolve(item):
    return value(item) if isinstance(item, str) and item.endswith(" R") else item
fonts = checked = mismatched = 0
for key, entry in objects.items():
    font = entry.get("value")
    if not isinstance(font, dict) or font.get("/Subtype") != "/CIDFontType2":
        continue
    fonts += 1
    name = font.get("/BaseFont")
    if font.get("/CIDToGIDMap") != "/Identity":
        print("not identity", name); mismatched += 1; continue
    descriptor = resolve(font["/FontDescriptor"])
    ttf = TTFont(io.BytesIO(base64.b64decode(objects["obj:" + descriptor["/FontFile2"]]["stream"]["data"])))
    upm, order, hmtx = ttf["head"].unitsPerEm, ttf.getGlyphOrder(), ttf["hmtx"]
    widths = resolve(font.get("/W", []))
    pairs, i = [], 0
    while i < len(widths):
        if isinstance(widths[i + 1], list):
            pairs += [(widths[i] + k, w) for k, w in enumerate(resolve(widths[i + 1]))]
            i += 2
        else:
            pairs += [(g, widths[i + 2]) for g in range(widths[i], widths[i + 1] + 1)]
            i += 3
    for gid, width in pairs:
        checked += 1
        exact = hmtx[order[gid]][0] * 1000.0 / upm
        if abs(width - exact) > 0.01:
            mismatched += 1
            print("%s gid %d: /W %s, font program %.4f" % (name, gid, width, exact))
print("fonts %d checked %d mismatched %d" % (fonts, checked, mismatched))
)PY";

std::string fontWidthReport(const std::string& file) {
    const std::string script = Pki::instance().dir + "/fontcheck.py";
    writeFile(script, kFontWidthCheck);
    return runCommand("qpdf --json --json-stream-data=inline --decode-level=generalized " + quote(file) +
                      " | /usr/bin/python3 " + quote(script) + " 2>&1")
        .output;
}

/// pdffonts rows as {name, emb}.
std::vector<std::pair<std::string, std::string>> pdffonts(const std::string& file) {
    std::vector<std::pair<std::string, std::string>> fonts;
    const std::string out = runCommand("pdffonts " + quote(file)).output;
    const std::regex row(R"((\S+)\s.*\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*)");
    std::size_t start = 0;
    while (start < out.size()) {
        const std::size_t end = out.find('\n', start);
        const std::string line = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::smatch match;
        if (std::regex_match(line, match, row)) fonts.emplace_back(match[1], match[2]);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return fonts;
}

/// The newest /DocTimeStamp of a file as qpdf reads it, checked by `openssl ts -verify`: the token's
/// message imprint must be SHA-256 of the bytes its /ByteRange names, and its TSA chain to the dev CA.
bool timestampVerifies(const std::string& file, const std::string& pdf) {
    const auto qdf = runCommand("qpdf --qdf --object-streams=disable " + quote(file) + " -").output;
    const auto at = qdf.rfind("/Type /DocTimeStamp");
    if (at == std::string::npos) return false;
    const std::string object = qdf.substr(qdf.rfind(" obj\n", at), qdf.find("endobj", at) - qdf.rfind(" obj\n", at));
    std::smatch range;
    const auto contentsAt = object.find("/Contents <");
    if (!std::regex_search(object, range, std::regex(R"(/ByteRange \[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\])")) ||
        contentsAt == std::string::npos) {
        return false;
    }
    const auto number = [&](int i) { return static_cast<std::size_t>(std::stoull(range[i])); };
    const std::string covered = pdf.substr(number(1), number(2)) + pdf.substr(number(3), number(4));
    std::string token;
    // (not a regex: libstdc++'s recursive matcher overflows the stack on 32 K hex digits)
    const auto hexStart = contentsAt + std::string("/Contents <").size();
    const std::string hex = object.substr(hexStart, object.find('>', hexStart) - hexStart);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        token += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    // The DER ends where its outer SEQUENCE says; the rest of /Contents is zero padding.
    if (token.size() < 4 || static_cast<unsigned char>(token[0]) != 0x30) return false;
    std::size_t length = static_cast<unsigned char>(token[1]), header = 2;
    if (length & 0x80) {
        const std::size_t bytes = length & 0x7f;
        length = 0;
        for (std::size_t i = 0; i < bytes; ++i)
            length = (length << 8) | static_cast<unsigned char>(token[2 + i]);
        header += bytes;
    }
    const DevPki& dev = DevPki::instance();
    writeFile(dev.dir + "/verify-data.bin", covered);
    writeFile(dev.dir + "/verify-token.der", token.substr(0, header + length));
    const auto result = runCommand("openssl ts -verify -data " + quote(dev.dir + "/verify-data.bin") + " -in " +
                                   quote(dev.dir + "/verify-token.der") + " -token_in -CAfile " + quote(dev.caPem) +
                                   " -untrusted " + quote(dev.tsaPem) + " 2>&1");
    if (result.output.find("Verification: OK") == std::string::npos) {
        WARN("openssl ts -verify: " << result.output);
        return false;
    }
    return true;
}

signing::SignatureOptions timestampOptions() {
    signing::SignatureOptions o;
    o.documentTimestamp = true;
    return o;
}

} // namespace

TEST_CASE("B-LT and B-LTA: DSS updates and document timestamps keep every signature valid", "[pdfsig]") {
    const Pki& pki = Pki::instance();
    const DevPki& dev = DevPki::instance();
    const auto rendered = renderAgreement();
    const std::string withFields = signing::addSignatureFields(rendered.bytes, placementsOf(rendered));
    std::string sealCms, personCms;
    const std::string sealed = signing::signPdf(withFields, sealOptions(), keeping(sealCms, opensslSigner("seal")));
    const std::string signed_ =
        signing::signPdf(sealed, fillField("podpis_powiat"), keeping(personCms, opensslSigner("rsa")));
    const auto signedFile = save("lt-0-signed", signed_);
    writeFile(pki.dir + "/seal-cms.der", sealCms);
    writeFile(pki.dir + "/person-cms.der", personCms);

    const std::string caDer = derOf(pki.dir + "/ca.pem"), sealDer = derOf(pki.dir + "/seal.pem"),
                      rsaDer = derOf(pki.dir + "/rsa.pem"), crlDer = derOf(dev.crlPem, "crl"),
                      tsaDer = derOf(dev.tsaPem), devCaDer = derOf(dev.caPem);
    signing::DssMaterial material;
    material.certificatesDer = {caDer, sealDer, rsaDer};
    material.crlsDer = {crlDer};
    material.ocspResponsesDer = {dev.ocspDer};
    material.vri = {{sealCms, {0, 1}, {0}, {}}, {personCms, {0, 2}, {}, {0}}};

    // 1. the first DSS: one update, catalog (and Info) the only earlier objects written again.
    const std::string withDss = signing::addDocumentSecurityStore(signed_, material);
    const auto dssFile = save("lt-1-dss", withDss);
    CHECK(isPrefix(signed_, withDss));
    CHECK(qpdfClean(dssFile));
    CHECK(withDss == signing::addDocumentSecurityStore(signed_, material)); // no clock
    const std::string trailer = qpdfShow(signedFile, "trailer");
    const int oldSize = std::stoi([&] {
        std::smatch m;
        std::regex_search(trailer, m, std::regex(R"(/Size\s+(\d+))"));
        return m[1].str();
    }());
    std::set<int> rewritten;
    for (int number : objectsWrittenAfter(signed_, withDss))
        if (number < oldSize) rewritten.insert(number);
    CHECK(rewritten ==
          std::set<int>{std::stoi(referenceUnder(trailer, "Root")), std::stoi(referenceUnder(trailer, "Info"))});

    std::string dss = qpdfDss(dssFile);
    INFO(dss);
    const auto certs = referencesIn(dss, "Certs");
    REQUIRE(certs.size() == 3);
    REQUIRE(referencesIn(dss, "CRLs").size() == 1);
    REQUIRE(referencesIn(dss, "OCSPs").size() == 1);
    CHECK(streamData(dssFile, certs[0]) == caDer);
    CHECK(streamData(dssFile, certs[2]) == rsaDer);
    CHECK(streamData(dssFile, referencesIn(dss, "CRLs")[0]) == crlDer);
    CHECK(streamData(dssFile, referencesIn(dss, "OCSPs")[0]) == dev.ocspDer);
    // /VRI keys: upper-case hex SHA-1 of each signature's CMS, as openssl computes it.
    const std::string sealKey = opensslSha1Upper(pki.dir + "/seal-cms.der");
    const std::string personKey = opensslSha1Upper(pki.dir + "/person-cms.der");
    CHECK(dss.find("/" + sealKey + " << /CRL [ " + referencesIn(dss, "CRLs")[0] + " 0 R ] /Cert [ " + certs[0] +
                   " 0 R " + certs[1] + " 0 R ] >>") != std::string::npos);
    CHECK(dss.find("/" + personKey + " << /Cert [ " + certs[0] + " 0 R " + certs[2] + " 0 R ] /OCSP [ " +
                   referencesIn(dss, "OCSPs")[0] + " 0 R ] >>") != std::string::npos);

    auto reports = pdfsig(dssFile);
    REQUIRE(reports.signatures.size() == 2);
    for (const auto& report : reports.signatures) {
        CHECK(report.validation == "Signature is Valid.");
        CHECK(report.certificate == "Certificate is Trusted.");
        CHECK_FALSE(report.totalDocumentSigned);
    }

    const signing::DssContents read = signing::readDocumentSecurityStore(withDss);
    CHECK(read.present);
    CHECK(read.certificatesDer == material.certificatesDer);
    CHECK(read.crlsDer == material.crlsDer);
    CHECK(read.ocspResponsesDer == material.ocspResponsesDer);
    REQUIRE(read.vri.count(sealKey) == 1);
    CHECK(read.vri.at(sealKey).certificatesDer == std::vector<std::string>{caDer, sealDer});
    CHECK(read.vri.at(sealKey).crlsDer == std::vector<std::string>{crlDer});
    CHECK(read.vri.at(personKey).ocspResponsesDer == std::vector<std::string>{dev.ocspDer});
    CHECK_FALSE(signing::readDocumentSecurityStore(signed_).present);

    // 2. a document timestamp (B-LTA) after the certification and the DSS.
    std::string token;
    const std::string stamped = signing::signPdf(withDss, timestampOptions(), keeping(token, opensslTimestamp));
    const auto stampedFile = save("lt-2-stamped", stamped);
    CHECK(isPrefix(withDss, stamped));
    CHECK(qpdfClean(stampedFile));
    std::string raw;
    reports = pdfsig(stampedFile, &raw);
    INFO(raw);
    REQUIRE(reports.signatures.size() == 3);
    // poppler 22.12 lists a document timestamp (signer: the TSA, covering the whole file) but reports
    // its type as "unknown" and does not validate it; openssl checks the token against the PDF.
    const SignatureReport* timestamp = reports.find("DocTimeStamp1");
    REQUIRE(timestamp != nullptr);
    CHECK(raw.find("Signer Certificate Common Name: Kooperdoc – znacznik czasu deweloperski") != std::string::npos);
    CHECK(timestamp->totalDocumentSigned);
    CHECK(timestampVerifies(stampedFile, stamped));
    for (const char* field : {"Pieczęć Kooperdoc", "podpis_powiat"}) {
        INFO(field);
        REQUIRE(reports.find(field) != nullptr);
        CHECK(reports.find(field)->validation == "Signature is Valid.");
    }
    // The timestamp dictionary as qpdf reads it: DocTimeStamp, RFC 3161, no claimed time or text.
    const auto qdf = runCommand("qpdf --qdf --object-streams=disable " + quote(stampedFile) + " -").output;
    const auto docTimeStampAt = qdf.find("/Type /DocTimeStamp");
    REQUIRE(docTimeStampAt != std::string::npos);
    const auto objectStart = qdf.rfind(" obj\n", docTimeStampAt);
    const std::string timestampDictionary = qdf.substr(objectStart, qdf.find("endobj", docTimeStampAt) - objectStart);
    CHECK(timestampDictionary.find("/SubFilter /ETSI.RFC3161") != std::string::npos);
    CHECK(timestampDictionary.find("/Filter /Adobe.PPKLite") != std::string::npos);
    for (const char* absent : {"/M ", "/Reason", "/Location", "/Name", "/Reference"})
        CHECK(timestampDictionary.find(absent) == std::string::npos);
    CHECK(qdf.find("/P 2\n") != std::string::npos); // still certified with /P 2

    // 3. a second DSS with overlapping material (the TSA's certificate is new) is de-duplicated.
    signing::DssMaterial more;
    more.certificatesDer = {caDer, tsaDer, devCaDer, tsaDer};
    more.crlsDer = {crlDer};
    more.vri = {{token, {1, 2}, {0}, {}}, {sealCms, {0}, {}, {}}};
    const std::string renewed = signing::addDocumentSecurityStore(stamped, more);
    const auto renewedFile = save("lt-3-renewed", renewed);
    CHECK(isPrefix(stamped, renewed));
    CHECK(qpdfClean(renewedFile));
    const std::string dss2 = qpdfDss(renewedFile);
    INFO(dss2);
    const auto certs2 = referencesIn(dss2, "Certs");
    REQUIRE(certs2.size() == 5);
    CHECK(std::vector<std::string>(certs2.begin(), certs2.begin() + 3) == certs); // the stored streams, reused
    CHECK(referencesIn(dss2, "CRLs") == referencesIn(dss, "CRLs"));
    CHECK(referencesIn(dss2, "OCSPs") == referencesIn(dss, "OCSPs"));
    const auto read2 = signing::readDocumentSecurityStore(renewed);
    CHECK(read2.certificatesDer == std::vector<std::string>{caDer, sealDer, rsaDer, tsaDer, devCaDer});
    REQUIRE(read2.vri.size() == 3);
    CHECK(read2.vri.at(sealKey).certificatesDer == std::vector<std::string>{caDer, sealDer}); // merged, no duplicate
    CHECK(read2.vri.at(opensslSha1Upper(pki.dir + "/dev/ts.der")).certificatesDer ==
          std::vector<std::string>{tsaDer, devCaDer});
    reports = pdfsig(renewedFile, &raw);
    INFO(raw);
    REQUIRE(reports.signatures.size() == 3);
    for (const char* field : {"Pieczęć Kooperdoc", "podpis_powiat"}) {
        INFO(field);
        REQUIRE(reports.find(field) != nullptr);
        CHECK(reports.find(field)->validation == "Signature is Valid.");
    }
    CHECK(timestampVerifies(renewedFile, renewed));

    SECTION("a document timestamp needs no fields and refuses what it cannot record") {
        const std::string plain = signing::signPdf(rendered.bytes, timestampOptions(), opensslTimestamp);
        const auto plainFile = save("lt-plain-stamp", plain);
        CHECK(qpdfClean(plainFile));
        const auto plainReports = pdfsig(plainFile);
        REQUIRE(plainReports.signatures.size() == 1);
        CHECK(plainReports.signatures[0].field == "DocTimeStamp1");
        CHECK(plainReports.signatures[0].totalDocumentSigned);
        CHECK(timestampVerifies(plainFile, plain));
        // the next one is DocTimeStamp2
        CHECK(pdfsig(save("lt-stamp-2", signing::signPdf(stamped, timestampOptions(), opensslTimestamp)))
                  .find("DocTimeStamp2") != nullptr);

        auto options = timestampOptions();
        options.certify = true;
        requireError([&] { signing::signPdf(rendered.bytes, options, opensslTimestamp); }, ErrorCode::kInvalidArgument,
                     "signature.options_invalid");
        options = timestampOptions();
        options.reason = "Archiwizacja";
        requireError([&] { signing::prepareSignature(rendered.bytes, options); }, ErrorCode::kInvalidArgument,
                     "signature.options_invalid");
        options = timestampOptions();
        options.signingTimeEpoch = 1768471260;
        requireError([&] { signing::prepareSignature(rendered.bytes, options); }, ErrorCode::kInvalidArgument,
                     "signature.options_invalid");
        options = timestampOptions();
        options.fieldName = "podpis_gmina";
        requireError([&] { signing::prepareSignature(withFields, options); }, ErrorCode::kAlreadyExists,
                     "signature.field_exists");
    }

    SECTION("an input with object streams and an xref stream takes a signature, a DSS and a timestamp") {
        const auto packedFile = pki.dir + "/lt-packed-0.pdf";
        shell("qpdf --object-streams=generate " + quote(save("lt-packed-in", withFields)) + " " + quote(packedFile));
        const std::string packed = readFile(packedFile);
        REQUIRE(packed.find("/Type /ObjStm") != std::string::npos);
        std::string cms;
        const std::string packedSigned =
            signing::signPdf(packed, fillField("podpis_gmina"), keeping(cms, opensslSigner("ec")));
        signing::DssMaterial packedMaterial;
        packedMaterial.certificatesDer = {caDer};
        packedMaterial.vri = {{cms, {0}, {}, {}}};
        const std::string packedDss = signing::addDocumentSecurityStore(packedSigned, packedMaterial);
        const std::string packedStamped = signing::signPdf(packedDss, timestampOptions(), opensslTimestamp);
        CHECK(isPrefix(packed, packedSigned));
        CHECK(isPrefix(packedSigned, packedDss));
        CHECK(isPrefix(packedDss, packedStamped));
        const auto file = save("lt-packed-3", packedStamped);
        CHECK(qpdfClean(file));
        CHECK(signing::readDocumentSecurityStore(packedStamped).certificatesDer == packedMaterial.certificatesDer);
        const auto packedReports = pdfsig(file);
        REQUIRE(packedReports.find("podpis_gmina") != nullptr);
        CHECK(packedReports.find("podpis_gmina")->validation == "Signature is Valid.");
        CHECK(timestampVerifies(file, packedStamped));
    }

    SECTION("DSS material that cannot be stored is refused") {
        requireError([&] { signing::addDocumentSecurityStore(signed_, {}); }, ErrorCode::kInvalidArgument,
                     "dss.material_invalid");
        signing::DssMaterial bad;
        bad.certificatesDer = {caDer, ""};
        requireError([&] { signing::addDocumentSecurityStore(signed_, bad); }, ErrorCode::kInvalidArgument,
                     "dss.material_invalid");
        bad.certificatesDer = {caDer};
        bad.vri = {{sealCms, {1}, {}, {}}};
        requireError([&] { signing::addDocumentSecurityStore(signed_, bad); }, ErrorCode::kInvalidArgument,
                     "dss.material_invalid");
        requireError([&] { signing::addDocumentSecurityStore("not a pdf", material); }, ErrorCode::kInvalidArgument,
                     "pdf.unreadable");
        requireError([&] { signing::readDocumentSecurityStore("not a pdf"); }, ErrorCode::kInvalidArgument,
                     "pdf.unreadable");
    }
}

TEST_CASE("remote signing: prepare, persist only the PDF, restore, sign elsewhere and embed", "[pdfsig]") {
    const DevPki& dev = DevPki::instance();
    const auto rendered = renderAgreement();
    const std::string withFields = signing::addSignatureFields(rendered.bytes, placementsOf(rendered));
    auto options = fillField("podpis_gmina");
    options.signingTimeEpoch = static_cast<std::int64_t>(std::time(nullptr)); // inside the dev seal's validity

    const signing::PreparedPdfSignature prepared = signing::prepareSignature(withFields, options);
    CHECK(isPrefix(withFields, prepared.pdf));
    CHECK(prepared.contentsLength == 2 * options.reservedBytes + 2);
    CHECK(prepared.pdf.substr(prepared.contentsOffset, prepared.contentsLength) ==
          "<" + std::string(2 * options.reservedBytes, '0') + ">");
    CHECK(prepared.byteRange[0] == 0);
    CHECK(prepared.byteRange[1] == static_cast<std::int64_t>(prepared.contentsOffset));
    CHECK(prepared.byteRange[2] == static_cast<std::int64_t>(prepared.contentsOffset + prepared.contentsLength));
    CHECK(prepared.byteRange[2] + prepared.byteRange[3] == static_cast<std::int64_t>(prepared.pdf.size()));
    CHECK(prepared.signedBytes() == prepared.pdf.substr(0, prepared.contentsOffset) +
                                        prepared.pdf.substr(prepared.contentsOffset + prepared.contentsLength));
    // The PDF itself says the same (qpdf reads the /ByteRange of the new signature dictionary).
    const auto preparedFile = save("remote-0-prepared", prepared.pdf);
    CHECK(qpdfClean(preparedFile));
    const auto preparedQdf = runCommand("qpdf --qdf --object-streams=disable " + quote(preparedFile) + " -").output;
    CHECK(std::regex_search(preparedQdf, std::regex("/ByteRange \\[\\s*0\\s+" + std::to_string(prepared.byteRange[1]) +
                                                    "\\s+" + std::to_string(prepared.byteRange[2]) + "\\s+" +
                                                    std::to_string(prepared.byteRange[3]) + "\\s*\\]")));

    // "Restart": only the PDF was kept.
    const signing::PreparedPdfSignature restored = signing::restorePreparedSignature(readFile(preparedFile));
    CHECK(restored.pdf == prepared.pdf);
    CHECK(restored.byteRange == prepared.byteRange);
    CHECK(restored.contentsOffset == prepared.contentsOffset);
    CHECK(restored.contentsLength == prepared.contentsLength);

    // Hash-then-sign elsewhere: the key never meets the PDF code; openssl signs the attributes.
    const auto identity = signing::SigningIdentity::fromCertificates(readFile(dev.sealPem)); // seal, then CA
    const signing::PreparedSignature attributes =
        identity.prepareSignature(restored.signedBytes(), options.signingTimeEpoch);
    writeFile(dev.dir + "/attrs.der", attributes.signedAttributesDer());
    shell("openssl dgst -sha256 -sign " + quote(dev.sealKey) + " -out " + quote(dev.dir + "/attrs.sig") + " " +
          quote(dev.dir + "/attrs.der"));
    const std::string cms = identity.assembleCms(restored.signedBytes(), readFile(dev.dir + "/attrs.sig"), attributes);
    const std::string remote = signing::embedSignature(restored, cms);
    const auto remoteFile = save("remote-1-signed", remote);
    CHECK(remote.size() == prepared.pdf.size());
    CHECK(isPrefix(withFields, remote));
    CHECK(qpdfClean(remoteFile));
    std::string raw;
    auto reports = pdfsig(remoteFile, &raw);
    INFO(raw);
    REQUIRE(reports.signatures.size() == 1);
    CHECK(reports.signatures[0].field == "podpis_gmina");
    CHECK(reports.signatures[0].type == "ETSI.CAdES.detached");
    CHECK(reports.signatures[0].validation == "Signature is Valid.");
    CHECK(reports.signatures[0].certificate == "Certificate is Trusted.");
    CHECK(reports.signatures[0].totalDocumentSigned);

    // signPdf is the same path: with the same (deterministic RSA) CMS it gives the same bytes.
    const auto sealIdentity = signing::SigningIdentity::fromPem(readFile(dev.sealPem), readFile(dev.sealKey));
    const std::string local = signing::signPdf(withFields, options, [&](std::string_view bytes) {
        return sealIdentity.signCadesDetached(bytes, options.signingTimeEpoch);
    });
    CHECK(local == remote);

    SECTION("a document timestamp goes through the same steps") {
        const auto stampPrepared = signing::prepareSignature(remote, timestampOptions());
        const auto stampRestored = signing::restorePreparedSignature(stampPrepared.pdf);
        CHECK(stampRestored.byteRange == stampPrepared.byteRange);
        const auto stampFile = save(
            "remote-2-stamped", signing::embedSignature(stampRestored, opensslTimestamp(stampRestored.signedBytes())));
        const auto stampReports = pdfsig(stampFile);
        REQUIRE(stampReports.signatures.size() == 2);
        CHECK(stampReports.find("podpis_gmina")->validation == "Signature is Valid.");
        CHECK(timestampVerifies(stampFile, readFile(stampFile)));
    }

    SECTION("a CMS that does not fit, or none, is refused") {
        auto small = options;
        small.reservedBytes = 512;
        const auto tight = signing::prepareSignature(withFields, small);
        requireError([&] { signing::embedSignature(tight, cms); }, ErrorCode::kInternal, "signature.too_large");
        requireError([&] { signing::embedSignature(prepared, ""); }, ErrorCode::kInternal, "signature.cms_empty");
        CHECK_NOTHROW(signing::embedSignature(tight, std::string(512, '\x30'))); // exactly full is fine
    }

    SECTION("a prepared state that does not hold together is refused, not signed") {
        auto expectInvalid = [&](const signing::PreparedPdfSignature& state) {
            requireError([&] { signing::embedSignature(state, cms); }, ErrorCode::kInvalidArgument,
                         "signature.prepared_invalid");
        };
        auto damaged = prepared;
        damaged.pdf[damaged.contentsOffset + 100] = '7'; // the hole is no longer empty
        expectInvalid(damaged);
        damaged = prepared;
        damaged.contentsLength -= 2; // the hole's size
        expectInvalid(damaged);
        damaged = prepared;
        damaged.byteRange[3] += 1;
        expectInvalid(damaged);
        damaged = prepared;
        damaged.pdf += "\n"; // bytes appended after preparing
        expectInvalid(damaged);
        damaged = prepared;
        damaged.pdf.pop_back(); // truncated
        expectInvalid(damaged);
        damaged = prepared;
        damaged.contentsOffset += 2; // numbers that agree with each other, not with the PDF
        damaged.byteRange = {0, damaged.byteRange[1] + 2, damaged.byteRange[2] + 2, damaged.byteRange[3] - 2};
        expectInvalid(damaged);
        damaged = prepared;
        const auto rangeAt = damaged.pdf.rfind("/ByteRange");
        damaged.pdf[damaged.pdf.find(' ', rangeAt + 14) - 1] ^= 1; // the PDF's own /ByteRange no longer agrees
        expectInvalid(damaged);
        damaged = prepared;
        damaged.byteRange[2] = static_cast<std::int64_t>(damaged.pdf.size()) + 10;
        requireError([&] { (void)damaged.signedBytes(); }, ErrorCode::kInvalidArgument, "signature.prepared_invalid");

        // Restoring finds nothing to fill in a signed PDF, and refuses a damaged hole.
        requireError([&] { signing::restorePreparedSignature(remote); }, ErrorCode::kInvalidArgument,
                     "signature.prepared_invalid");
        requireError([&] { signing::restorePreparedSignature(withFields); }, ErrorCode::kInvalidArgument,
                     "signature.prepared_invalid");
        std::string holed = prepared.pdf;
        holed[prepared.contentsOffset + 1] = '1';
        requireError([&] { signing::restorePreparedSignature(holed); }, ErrorCode::kInvalidArgument,
                     "signature.prepared_invalid");
        requireError([&] { signing::restorePreparedSignature("%PDF-1.7\ngarbage"); }, ErrorCode::kInvalidArgument,
                     "pdf.unreadable");
        // Embedding twice: the first result is no prepared state any more.
        auto twice = prepared;
        twice.pdf = remote;
        expectInvalid(twice);
    }
}

TEST_CASE("signature appearances embed their font with exact widths and a subset name of their own (PDF/A)",
          "[pdfsig]") {
    const auto rendered = renderAgreement();
    auto placements = placementsOf(rendered);
    const std::string withFields = signing::addSignatureFields(rendered.bytes, placements);
    const std::string sealed = signing::signPdf(withFields, sealOptions(), opensslSigner("seal"));
    const std::string signed_ = signing::signPdf(sealed, fillField("podpis_powiat"), opensslSigner("rsa"));
    for (const auto& [name, bytes] :
         {std::pair<std::string, std::string>{"font-fields", withFields}, {"font-signed", signed_}}) {
        INFO(name);
        const auto file = save(name, bytes);
        const auto fonts = pdffonts(file);
        REQUIRE(fonts.size() == 3); // the body's two and the appearances' one
        for (const auto& [fontName, embedded] : fonts) {
            INFO(fontName);
            CHECK(embedded == "yes");
            CHECK(fontName.rfind("AAAAAA+", 0) != 0); // PoDoFo's fixed tag is replaced
        }
        const std::string widths = fontWidthReport(file);
        INFO(widths);
        CHECK(widths.find("fonts 3 checked") != std::string::npos);
        CHECK(widths.find(" mismatched 0") != std::string::npos);
    }

    // Two updates with different glyphs: two subsets, two names.
    auto first = placements;
    first.resize(1);
    auto second = placements;
    second.erase(second.begin());
    second[0].appearanceText = "Ęść ŹŻ\nqwxyz";
    const std::string twice = signing::addSignatureFields(signing::addSignatureFields(rendered.bytes, first), second);
    const auto fonts = pdffonts(save("font-twice", twice));
    REQUIRE(fonts.size() == 4);
    CHECK(fonts[2].first != fonts[3].first);
    CHECK(fontWidthReport(save("font-twice", twice)).find(" mismatched 0") != std::string::npos);
}
