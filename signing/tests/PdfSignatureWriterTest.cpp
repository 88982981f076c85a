// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "Process.h"
#include "TestPaths.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"

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
