// SPDX-License-Identifier: AGPL-3.0-or-later
// The PDF-signature attack corpus (issue 4): every attack class of reliability.md §1.2 and §7
// (S01–S20 without the certificate cases), built by the test from a genuine document sealed and
// signed through the CLI, and judged three times: by `kooperdoc verify`, by poppler's pdfsig (NSS)
// and by PDFBox + BouncyCastle (tests/tools/SignatureCheck.java).
//
// pdfsig and PDFBox only check the CMS over each signature's byte range. Neither looks at what
// later revisions change, so they call most of these attacks valid. Kooperdoc's policy is
// stricter (docs/verification-report.md, issue 4): every DocMDP/FieldMDP violation, every change
// no whitelist rule explains, every ByteRange collision and every byte after the last revision
// is TOTAL-FAILED / FORMAT_FAILURE. Where the judges disagree, the case says why.
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "CliSupport.h"
#include "VerifySupport.h"

using namespace kooperdoc::testing;

namespace {

// ------------------------------------------------------------ reading the PDFs we write

/// Bytes [begin, end) of a file.
struct Span {
    std::size_t begin = 0;
    std::size_t end = 0;
};

/// The newest definition of object \p number, "N 0 obj" up to and including "endobj". Our
/// renderer and PoDoFo write classic xref tables and append every revision, so the last
/// definition in the file is the one the newest xref points at.
Span objectSpan(const std::string& pdf, int number) {
    const std::string header = "\n" + std::to_string(number) + " 0 obj";
    const auto at = pdf.rfind(header);
    REQUIRE(at != std::string::npos);
    const auto begin = at + 1;
    auto endobj = pdf.find("endobj", begin);
    const auto stream = pdf.find("stream", begin);
    // Stream data is binary: look for "endobj" only after the stream ends.
    if (stream < endobj) endobj = pdf.find("endobj", pdf.find("endstream", stream + 6));
    REQUIRE(endobj != std::string::npos);
    return {begin, endobj + 6};
}

/// What lies between "N 0 obj" and "endobj": the object's value, to copy into an update.
std::string objectBody(const std::string& pdf, int number) {
    const Span span = objectSpan(pdf, number);
    const auto header = std::to_string(number).size() + 6; // "N 0 obj"
    return pdf.substr(span.begin + header, span.end - 6 - span.begin - header);
}

/// The object number that \p key refers to (`/Key N 0 R`) in \p text.
int reference(const std::string& text, const std::string& key) {
    std::smatch match;
    REQUIRE(std::regex_search(text, match, std::regex(key + "\\s*(\\d+) 0 R")));
    return std::stoi(match[1].str());
}

/// The newest form field whose /T is \p name.
int fieldObject(const std::string& pdf, const std::string& name) {
    const auto title = pdf.rfind("/T (" + name + ")");
    REQUIRE(title != std::string::npos);
    const auto header = pdf.rfind(" 0 obj", title);
    REQUIRE(header != std::string::npos);
    return std::stoi(pdf.substr(pdf.rfind('\n', header) + 1));
}

int signatureObject(const std::string& pdf, const std::string& field) {
    return reference(objectBody(pdf, fieldObject(pdf, field)), "/V");
}

/// The last trailer's entry \p key (e.g. "/Size", "/Root"), as written.
int catalogObject(const std::string& pdf) {
    return std::stoi(trailerEntry(pdf, "/Root"));
}

/// The page objects, in page order (our page tree is one /Pages node).
std::vector<int> pageObjects(const std::string& pdf) {
    const auto pages = objectBody(pdf, reference(objectBody(pdf, catalogObject(pdf)), "/Pages"));
    std::smatch kids;
    REQUIRE(std::regex_search(pages, kids, std::regex("/Kids\\s*\\[([^\\]]*)\\]")));
    std::vector<int> numbers;
    const std::string list = kids[1].str();
    const std::regex ref("(\\d+) 0 R");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), ref); it != std::sregex_iterator(); ++it)
        numbers.push_back(std::stoi((*it)[1].str()));
    return numbers;
}

std::string streamObject(const std::string& content, const std::string& dictionary = "") {
    return "<< " + dictionary + " /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
           "\nendstream";
}


/// \p pdf with the bytes at \p span replaced by \p text padded with spaces: every offset and
/// every byte range stays where it was.
std::string overwrite(const std::string& pdf, Span span, const std::string& text) {
    REQUIRE(text.size() <= span.end - span.begin);
    std::string out = pdf;
    out.replace(span.begin, span.end - span.begin, text + std::string(span.end - span.begin - text.size(), ' '));
    return out;
}

/// `/Key value` inside the signature dictionary at \p sig: up to the closing `]` of /ByteRange or
/// the closing `>` of /Contents.
Span entrySpan(const std::string& pdf, Span sig, const std::string& key) {
    const auto begin = pdf.find(key, sig.begin);
    REQUIRE(begin < sig.end);
    const auto end = pdf.find(key == "/ByteRange" ? ']' : '>', begin);
    REQUIRE(end < sig.end);
    return {begin, end + 1};
}

std::vector<long long> byteRange(const std::string& pdf, Span sig) {
    const Span span = entrySpan(pdf, sig, "/ByteRange");
    std::vector<long long> values;
    const std::string text = pdf.substr(span.begin, span.end - span.begin);
    const std::regex number("-?\\d+");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it)
        values.push_back(std::stoll(it->str()));
    return values;
}

// ------------------------------------------------------------ the three judges

/// `INDICATION/SUB_INDICATION/reason` of one signature in `kooperdoc verify --json`, "-" for a
/// null sub-indication, "absent" when the report has no such signature.
std::string verdict(const std::string& json, const std::string& field) {
    const auto block = signatureBlock(json, field);
    if (block.empty()) return "absent";
    std::smatch indication, sub, reason;
    if (!std::regex_search(block, indication, std::regex("\"indication\" ?: ?\"([^\"]+)\"")) ||
        !std::regex_search(block, sub, std::regex("\"sub_indication\" ?: ?(null|\"([^\"]+)\")")) ||
        !std::regex_search(block, reason, std::regex("\"reason\" ?: ?\"([^\"]+)\"")))
        return "unparsed";
    return indication[1].str() + "/" + (sub[1].str() == "null" ? "-" : sub[2].str()) + "/" + reason[1].str();
}

/// A string or bare value of the first \p key in \p json (e.g. of one signatureBlock).
std::string value(const std::string& json, const std::string& key) {
    std::smatch match;
    if (!std::regex_search(json, match, std::regex("\"" + key + "\" ?: ?(\"([^\"]*)\"|[^,\\n\\]}]+)"))) return "absent";
    return match[2].matched ? match[2].str() : match[1].str();
}

const std::string kPassed = "TOTAL-PASSED/-/verify.passed";

std::string formatFailure(const std::string& reason) {
    return "TOTAL-FAILED/FORMAT_FAILURE/" + reason;
}

/// pdfsig's lines about one field: from its "Signature Field Name" to the next "Signature #".
std::string pdfsigBlock(const std::string& report, const std::string& field) {
    const auto begin = report.find("Signature Field Name: " + field + "\n");
    if (begin == std::string::npos) return {};
    const auto end = report.find("\nSignature #", begin);
    return report.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

/// What pdfsig says of one signature value ("Signature is Valid.", "Digest Mismatch.", …), "not
/// signed" for an empty field, "absent" when pdfsig does not list the field.
std::string pdfsigVerdict(const std::string& report, const std::string& field) {
    const auto block = pdfsigBlock(report, field);
    if (block.empty()) return "absent";
    if (block.find("The signature form field is not signed.") != std::string::npos) return "not signed";
    std::smatch match;
    if (!std::regex_search(block, match, std::regex("Signature Validation: ([^\\n]*)"))) return "no validation";
    return match[1].str();
}

bool pdfsigTotalDocumentSigned(const std::string& report, const std::string& field) {
    return pdfsigBlock(report, field).find("\n  - Total document signed") != std::string::npos;
}

/// "VALID" or "INVALID" from SignatureCheck's line about \p field, "absent" without one.
std::string pdfboxVerdict(const std::string& output, const std::string& field) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex("(^|\\n)(VALID|INVALID) " + field + "( |\\n|$)"))) return "absent";
    return match[2].str();
}

/// Everything the three judges said about one file.
struct Judged {
    std::string name;
    int exitCode = -1; ///< of kooperdoc verify
    std::string ours;  ///< kooperdoc verify --json
    std::string pdfsig;
    std::string pdfbox;
};

std::ostream& operator<<(std::ostream& out, const Judged& j) {
    return out << j.name << ": exit " << j.exitCode << "\n"
               << j.ours << "\n--- pdfsig\n"
               << j.pdfsig << "\n--- PDFBox\n"
               << j.pdfbox;
}

/// A VerifyLab with the genuine document every attack starts from, and the three judges. PDFBox
/// runs once per batch (a JVM start costs more than all our verifications of a file): the files
/// alternate with a separator PDF whose only signed field is named `pdfbox-separator`.
class AttackLab {
public:
    explicit AttackLab(const std::string& level = "B-B")
        : genuinePath_(lab_.sealedAndSigned(level)), genuine_(readFile(genuinePath_)) {
        // The seal's field renamed in an update: PDFBox reads the newest /T, while its byte range
        // (the sealed revision) still verifies.
        const auto sealed = readFile(lab_.file("sealed-" + level + ".pdf"));
        const int field = fieldObject(sealed, "pieczec-kooperdoc");
        auto body = objectBody(sealed, field);
        body.replace(body.find("/T (pieczec-kooperdoc)"), 22, "/T (pdfbox-separator)");
        separator_ = lab_.file("pdfbox-separator.pdf");
        writeFile(separator_, appendObjects(sealed, {{field, body}}));
    }

    VerifyLab& lab() { return lab_; }
    const std::string& genuine() const { return genuine_; }
    const std::string& genuinePath() const { return genuinePath_; }

    /// Writes \p bytes as the attack file \p name and returns its path.
    std::string write(const std::string& name, const std::string& bytes) const {
        const auto path = lab_.file(name + ".pdf");
        writeFile(path, bytes);
        return path;
    }

    /// Every judge on every file; the genuine file's CA is the only trust anchor, so a genuine
    /// file is TOTAL-PASSED and only the attack can explain a failure.
    std::map<std::string, Judged> judge(const std::vector<std::string>& paths) const {
        std::map<std::string, Judged> results;
        std::string command = std::string(KOOPERDOC_SIGNATURE_CHECK);
        for (const auto& path : paths) {
            Judged& j = results[path];
            j.name = path.substr(path.rfind('/') + 1);
            const auto ours =
                runCommand(quote(cli()) + " verify " + quote(path) + " --json --trust " + quote(lab_.ca()) + " 2>&1");
            j.exitCode = ours.exitCode;
            j.ours = ours.output;
            j.pdfsig = lab_.pdfsig(path);
            command += " " + quote(path) + " " + quote(separator_);
        }
        // Split PDFBox's report at the separator lines; if PDFBox stopped early (an exception
        // while loading a file), the files it did not reach get a run of their own.
        const auto output = runCommand(command + " 2>&1").output;
        std::size_t done = 0;
        std::string segment;
        std::size_t start = 0;
        while (start < output.size() && done < paths.size()) {
            auto end = output.find('\n', start);
            if (end == std::string::npos) end = output.size();
            const std::string line = output.substr(start, end - start);
            start = end + 1;
            if (line.rfind("VALID pdfbox-separator ", 0) == 0) {
                results[paths[done++]].pdfbox = segment;
                segment.clear();
            } else {
                segment += line + "\n";
            }
        }
        for (; done < paths.size(); ++done)
            results[paths[done]].pdfbox = VerifyLab::pdfbox(paths[done]).output;
        return results;
    }

private:
    VerifyLab lab_;
    std::string genuinePath_;
    std::string genuine_;
    std::string separator_;
};

// ------------------------------------------------------------ building attacks

/// The entries ("n" only) of the classic xref table at \p offset, and its trailer's /Prev.
std::map<int, std::size_t> xrefEntries(const std::string& pdf, std::size_t offset, long long& previous) {
    std::map<int, std::size_t> entries;
    std::istringstream in(pdf.substr(offset, pdf.find("startxref", offset) - offset));
    std::string token;
    in >> token;
    REQUIRE(token == "xref");
    while (in >> token && token != "trailer") {
        const int first = std::stoi(token);
        int count = 0;
        in >> count;
        for (int i = 0; i < count; ++i) {
            std::size_t position = 0;
            std::string generation, kind;
            in >> position >> generation >> kind;
            if (kind == "n") entries[first + i] = position;
        }
    }
    std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch prev;
    REQUIRE(std::regex_search(rest, prev, std::regex("/Prev (\\d+)")));
    previous = std::stoll(prev[1].str());
    return entries;
}

/// Signature wrapping (Mladenov et al., CCS 2019) on the last signature, whose range ends the
/// file: the signed tail after /Contents moves to the end, and the room it leaves holds the
/// attacker's xref table exactly where the signed `startxref` points, the \p payload objects and
/// a copy of the signature dictionary whose second range starts later. Both ranges still hash
/// to the signed digest.
std::string wrapSignature(const std::string& pdf, int signature, const std::map<int, std::string>& payload) {
    const Span sig = objectSpan(pdf, signature);
    const auto br = byteRange(pdf, sig);
    REQUIRE(br.size() == 4);
    const auto tailStart = static_cast<std::size_t>(br[2]);
    REQUIRE(tailStart + static_cast<std::size_t>(br[3]) == pdf.size());
    const auto signedXref = static_cast<std::size_t>(std::stoll(pdf.substr(pdf.rfind("startxref") + 9)));
    REQUIRE(signedXref > tailStart);
    long long previous = 0;
    auto entries = xrefEntries(pdf, signedXref, previous);
    const auto info = trailerEntry(pdf, "/Info");
    const std::string trailer = "trailer\n<< /Size " + std::to_string(nextObjectNumber(pdf)) + " /Root " +
                                trailerEntry(pdf, "/Root") + (info.empty() ? "" : " /Info " + info) + " /Prev " +
                                std::to_string(previous) + " >>\n";
    const Span range = entrySpan(pdf, sig, "/ByteRange");
    auto build = [&](std::size_t movedTail) {
        auto objects = payload;
        const std::string moved = "/ByteRange [0 " + std::to_string(br[1]) + " " + std::to_string(movedTail) + " " +
                                  std::to_string(br[3]) + "]";
        const auto copy = overwrite(pdf, range, moved);
        objects[signature] = objectBody(copy, signature);
        // The xref table goes where the signed startxref points; entries have a fixed width,
        // so its length is known before the offsets are.
        std::string table = "xref\n0 1\n0000000000 65535 f \n";
        for (const auto& [number, body] : objects)
            entries[number] = 0;
        const std::size_t tableLength = table.size() + entries.size() * 20 + [&] {
            std::size_t headers = 0;
            for (const auto& e : entries)
                headers += std::to_string(e.first).size() + 3;
            return headers;
        }() + trailer.size();
        std::string block(signedXref - tailStart, ' ');
        std::string bodies;
        for (const auto& [number, body] : objects) {
            entries[number] = tailStart + block.size() + tableLength + bodies.size();
            bodies += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
        }
        for (const auto& [number, offset] : entries) {
            char entry[32];
            std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
            table += std::to_string(number) + " 1\n" + entry;
        }
        REQUIRE(table.size() + trailer.size() == tableLength);
        return block + table + trailer + bodies;
    };
    const auto attackerLength = build(tailStart).size();
    const auto attacker = build(tailStart + attackerLength);
    REQUIRE(attacker.size() == attackerLength);
    return pdf.substr(0, tailStart) + attacker + pdf.substr(tailStart);
}

/// An update with nothing but an xref section: object \p number now lives at \p offset.
std::string appendXrefOnly(const std::string& pdf, int number, std::size_t offset) {
    const auto previous = std::stoll(pdf.substr(pdf.rfind("startxref") + 9));
    const auto info = trailerEntry(pdf, "/Info");
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    return pdf + "xref\n" + std::to_string(number) + " 1\n" + entry + "trailer\n<< /Size " +
           std::to_string(nextObjectNumber(pdf)) + " /Root " + trailerEntry(pdf, "/Root") +
           (info.empty() ? "" : " /Info " + info) + " /Prev " + std::to_string(previous) + " >>\nstartxref\n" +
           std::to_string(pdf.size()) + "\n%%EOF\n";
}

/// \p pageBody with \p annotation added to its /Annots.
std::string withAnnotation(std::string pageBody, int annotation) {
    const auto annots = pageBody.find("/Annots [");
    REQUIRE(annots != std::string::npos);
    pageBody.insert(annots + 9, " " + std::to_string(annotation) + " 0 R");
    return pageBody;
}

// ------------------------------------------------------------ what each judge must say

const std::string kSeal = "pieczec-kooperdoc";
const std::string kJan = "osoba-1";
const std::string kValid = "Signature is Valid.";
const std::string kDigestMismatch = "Digest Mismatch.";
const std::string kNotVerified = "Signature has not yet been verified.";
const std::string kUnknownFailure = "Unknown Validation Failure.";

/// What the three judges must say about one signature of a file.
struct Expected {
    std::string field;
    std::string ours;   ///< verdict(): INDICATION/SUB_INDICATION/reason
    std::string pdfsig; ///< pdfsigVerdict()
    std::string pdfbox; ///< pdfboxVerdict()
};

void expectJudges(const Judged& j, int exitCode, const std::vector<Expected>& expected) {
    INFO(j);
    CHECK(j.exitCode == exitCode);
    for (const auto& e : expected) {
        INFO("field " << e.field);
        CHECK(verdict(j.ours, e.field) == e.ours);
        CHECK(pdfsigVerdict(j.pdfsig, e.field) == e.pdfsig);
        CHECK(pdfboxVerdict(j.pdfbox, e.field) == e.pdfbox);
    }
}

/// The findings of one signature, to say which rule caught an attack.
bool hasFinding(const std::string& json, const std::string& field, const std::string& code) {
    return signatureBlock(json, field).find("\"" + code + ":") != std::string::npos;
}

} // namespace

// ====================================================================== S01, S02

TEST_CASE("a genuine document passes with every judge and one changed byte fails with every judge", "[attack][cli]") {
    AttackLab attack;
    const auto& genuine = attack.genuine();
    // S02: one byte of the first revision, which both signatures cover: /Creator (Kooperdoc → kooperdoc).
    auto changed = genuine;
    const auto creator = changed.find("/Creator (Kooperdoc");
    REQUIRE(creator != std::string::npos);
    changed[creator + 10] = 'k';
    const auto s02 = attack.write("s02-byte-changed", changed);
    const auto judged = attack.judge({attack.genuinePath(), s02});

    // S01: the seal covers its revision, and Jan Kowalski's signing is the allowed form filling
    // after it; Jan's signature covers the whole file.
    const Judged& s01 = judged.at(attack.genuinePath());
    expectJudges(s01, 0, {{kSeal, kPassed, kValid, "VALID"}, {kJan, kPassed, kValid, "VALID"}});
    CHECK(value(signatureBlock(s01.ours, kSeal), "coverage") == "ENTIRE_REVISION");
    CHECK(value(signatureBlock(s01.ours, kSeal), "modification_level") == "FORM_FILLING");
    CHECK(value(signatureBlock(s01.ours, kJan), "coverage") == "ENTIRE_FILE");
    CHECK(pdfsigTotalDocumentSigned(s01.pdfsig, kJan));
    CHECK_FALSE(pdfsigTotalDocumentSigned(s01.pdfsig, kSeal));
    CHECK(pdfsigVerdict(s01.pdfsig, "osoba-2") == "not signed");

    const std::string hashFailure = "TOTAL-FAILED/HASH_FAILURE/verify.hash_failure";
    expectJudges(judged.at(s02), 1,
                 {{kSeal, hashFailure, kDigestMismatch, "INVALID"}, {kJan, hashFailure, kDigestMismatch, "INVALID"}});
}

// ====================================================================== S04, S05

TEST_CASE("universal signature forgery: no usable Contents or ByteRange never passes", "[attack][cli]") {
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int jan = signatureObject(genuine, kJan);
    const Span sig = objectSpan(genuine, jan);
    const Span contents = entrySpan(genuine, sig, "/Contents");
    const Span range = entrySpan(genuine, sig, "/ByteRange");
    const auto br = byteRange(genuine, sig);
    REQUIRE(br.size() == 4);
    const auto n = [](long long v) { return std::to_string(v); };
    const auto hexDigits = contents.end - 1 - (contents.begin + 11); // between "/Contents <" and ">"

    // Jan Kowalski's signature dictionary forged in place (same length, padded with spaces), and
    // the same dictionary written by an appended update instead, which leaves the signed bytes
    // alone. pdfsig's answer depends on the forgery; PDFBox reads the CMS from the file between
    // the two ranges, not from the dictionary, so it still verifies the genuine CMS when only an
    // update's /Contents is forged.
    struct Forgery {
        std::string name;
        Span span;
        std::string text;
        std::string reason;
        std::string pdfsigInPlace;
        std::string pdfsigUpdate;
    };
    const std::vector<Forgery> forgeries{
        {"s04-contents-removed", contents, "", "verify.contents_missing", kNotVerified, kNotVerified},
        {"s04-contents-null", contents, "/Contents null", "verify.contents_missing", kNotVerified, kNotVerified},
        {"s04-contents-empty", contents, "/Contents <>", "verify.contents_missing", kUnknownFailure, kUnknownFailure},
        {"s04-contents-zeros", contents, "/Contents <" + std::string(hexDigits, '0') + ">", "verify.contents_missing",
         kUnknownFailure, kUnknownFailure},
        {"s05-byterange-removed", range, "", "verify.byte_range_invalid", kNotVerified, kNotVerified},
        {"s05-byterange-null", range, "/ByteRange null", "verify.byte_range_invalid", kNotVerified, kNotVerified},
        {"s05-byterange-zeros", range, "/ByteRange [0 0 0 0]", "verify.byte_range_invalid", kDigestMismatch,
         kDigestMismatch},
        {"s05-byterange-negative", range, "/ByteRange [0 " + n(br[1]) + " " + n(br[2]) + " -" + n(br[3]) + "]",
         "verify.byte_range_invalid", kNotVerified, kNotVerified},
        // Six numbers that hash exactly the signed bytes: pdfsig takes them when they are not
        // the signed ones (in an update), and calls the signature valid.
        {"s05-byterange-six", range,
         "/ByteRange [0 " + n(br[1]) + " " + n(br[2]) + " 100 " + n(br[2] + 100) + " " + n(br[3] - 100) + "]",
         "verify.byte_range_invalid", kDigestMismatch, kValid},
        // A thousand times the second range: past the end of either file.
        {"s05-byterange-beyond-eof", range, "/ByteRange [0 " + n(br[1]) + " " + n(br[2]) + " " + n(br[3] * 1000) + "]",
         "verify.byte_range_invalid", kNotVerified, kNotVerified},
    };
    std::vector<std::string> files;
    for (const auto& forgery : forgeries) {
        const auto inPlace = overwrite(genuine, forgery.span, forgery.text);
        files.push_back(attack.write(forgery.name + "-in-place", inPlace));
        files.push_back(
            attack.write(forgery.name + "-update", appendObjects(genuine, {{jan, objectBody(inPlace, jan)}})));
    }
    const auto judged = attack.judge(files);
    for (std::size_t i = 0; i < forgeries.size(); ++i) {
        const Forgery& f = forgeries[i];
        // In place, only Jan's signature is touched; the seal's review sees a signing of osoba-1.
        expectJudges(judged.at(files[2 * i]), 1,
                     {{kSeal, kPassed, kValid, "VALID"}, {kJan, formatFailure(f.reason), f.pdfsigInPlace, "INVALID"}});
        // An update that rewrites Jan's signature dictionary also fails the seal: a signature
        // dictionary, once signed, is never rewritten (Kooperdoc policy; pdfsig and PDFBox only
        // check the seal's own byte range).
        const bool contentsForged = f.reason == "verify.contents_missing";
        const Judged& update = judged.at(files[2 * i + 1]);
        expectJudges(update, 1,
                     {{kSeal, formatFailure("verify.forbidden_modification"), kValid, "VALID"},
                      {kJan, formatFailure(f.reason), f.pdfsigUpdate, contentsForged ? "VALID" : "INVALID"}});
        CHECK(hasFinding(update.ours, kSeal, "diff.signature_redefined"));
    }
}

// ====================================================================== S06, S07, S08

TEST_CASE("incremental saving attacks on the catalog, the form and a signed field, without xref and as a full copy",
          "[attack][cli]") {
    // pdfsig and PDFBox call every signature here valid: each still hashes its own byte range.
    // They do not look at what the later revisions change; we do (Kooperdoc policy: every change
    // no whitelist rule allows, and any byte after the last revision, is TOTAL-FAILED).
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int catalog = catalogObject(genuine);
    const auto catalogBody = objectBody(genuine, catalog);
    const int acroForm = reference(catalogBody, "/AcroForm");
    const int janField = fieldObject(genuine, kJan);
    const int jan = signatureObject(genuine, kJan);
    const int next = nextObjectNumber(genuine);
    const int firstPage = pageObjects(genuine).front();
    const int firstContent = reference(objectBody(genuine, firstPage), "/Contents");
    const std::string forgedText = streamObject("BT /F1 12 Tf 72 700 Td <0030> Tj ET");

    // S06: the catalog gains an action, the form gains an XFA form that some viewers render
    // instead of the pages, Jan's field points at a copy of his signature dictionary.
    auto catalogWithAction = catalogBody;
    catalogWithAction.replace(catalogWithAction.find("<<"), 2,
                              "<< /OpenAction << /S /URI /URI (https://example.invalid/) >>");
    auto formWithXfa = objectBody(genuine, acroForm);
    formWithXfa.replace(formWithXfa.find("<<"), 2, "<< /XFA " + std::to_string(next) + " 0 R");
    auto janFieldRevalued = objectBody(genuine, janField);
    janFieldRevalued =
        std::regex_replace(janFieldRevalued, std::regex("/V \\d+ 0 R"), "/V " + std::to_string(next) + " 0 R");
    // S07: a new first-page text appended after %%EOF without xref or trailer, for viewers that
    // repair the file. S08: every object written again in one update (Adobe Illustrator saves a
    // signed file like this), the first page's text replaced.
    const auto withoutXref = genuine + std::to_string(firstContent) + " 0 obj\n" + forgedText + "\nendobj\n";
    std::map<int, std::string> everything;
    for (int number = 1; number < next; ++number)
        if (genuine.find("\n" + std::to_string(number) + " 0 obj") != std::string::npos)
            everything[number] = objectBody(genuine, number);
    everything[firstContent] = forgedText;

    const auto s06Catalog = attack.write("s06-catalog", appendObjects(genuine, {{catalog, catalogWithAction}}));
    const auto s06Form = attack.write(
        "s06-acroform",
        appendObjects(genuine, {{acroForm, formWithXfa},
                                {next, streamObject("<xdp:xdp xmlns:xdp=\"http://ns.adobe.com/xdp/\"/>")}}));
    const auto s06Value =
        attack.write("s06-signed-field-value",
                     appendObjects(genuine, {{janField, janFieldRevalued}, {next, objectBody(genuine, jan)}}));
    const auto s07 = attack.write("s07-no-xref", withoutXref);
    const auto s08 = attack.write("s08-full-copy", appendObjects(genuine, everything));
    const auto judged = attack.judge({s06Catalog, s06Form, s06Value, s07, s08});

    const auto forbidden = formatFailure("verify.forbidden_modification");
    expectJudges(judged.at(s06Catalog), 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, forbidden, kValid, "VALID"}});
    CHECK(hasFinding(judged.at(s06Catalog).ours, kJan, "diff.catalog_changed"));
    expectJudges(judged.at(s06Form), 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, forbidden, kValid, "VALID"}});
    CHECK(hasFinding(judged.at(s06Form).ours, kJan, "diff.acroform_changed"));
    // Jan's signature is now a dictionary whose /Contents is not the gap of its range; to the
    // seal, a field that was signed got another value.
    expectJudges(
        judged.at(s06Value), 1,
        {{kSeal, forbidden, kValid, "VALID"}, {kJan, formatFailure("verify.coverage_unclear"), kValid, "VALID"}});
    CHECK(hasFinding(judged.at(s06Value).ours, kSeal, "diff.signature_value_replaced"));
    const auto trailing = formatFailure("verify.trailing_data");
    expectJudges(judged.at(s07), 1, {{kSeal, trailing, kValid, "VALID"}, {kJan, trailing, kValid, "VALID"}});
    // The full copy rewrites both signature dictionaries elsewhere in the file: neither range's
    // gap is the /Contents of the dictionary the field now points at.
    const auto unclear = formatFailure("verify.coverage_unclear");
    expectJudges(judged.at(s08), 1, {{kSeal, unclear, kValid, "VALID"}, {kJan, unclear, kValid, "VALID"}});
}

// ====================================================================== S09, S10, S11

TEST_CASE("signature wrapping, dirty Contents and a redefined signature dictionary are format failures",
          "[attack][cli]") {
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int jan = signatureObject(genuine, kJan);
    const int seal = signatureObject(genuine, kSeal);
    const Span contents = entrySpan(genuine, objectSpan(genuine, jan), "/Contents");
    const int secondContent = reference(objectBody(genuine, pageObjects(genuine).back()), "/Contents");

    // S09: objects hidden in the zero padding of /Contents, hex-encoded so that it stays a hex
    // string. S10: bytes that are no hex digits at all, white space inside the hex string, and
    // one non-zero byte after the DER.
    const std::string hidden = "\n99 0 obj\n<< /Type /Page >>\nendobj\n";
    std::string hiddenHex;
    for (const unsigned char c : hidden) {
        char pair[3];
        std::snprintf(pair, sizeof pair, "%02X", c);
        hiddenHex += pair;
    }
    auto inPadding = genuine;
    inPadding.replace(contents.end - 1 - hiddenHex.size() - 64, hiddenHex.size(), hiddenHex);
    auto notHex = genuine;
    notHex.replace(contents.end - 1 - 40, 4, "zz z");
    auto whiteSpace = genuine;
    whiteSpace.replace(contents.end - 1 - 40, 2, "\n ");
    auto nonZeroAfterDer = genuine;
    nonZeroAfterDer.replace(contents.end - 3, 2, "42");
    // S11: a later revision rewrites a signature dictionary, same /ByteRange and /Contents, with
    // a /Reason and /M nobody signed, which viewers would show.
    const auto janRedefined = std::regex_replace(objectBody(genuine, jan), std::regex("/M \\([^)]*\\)"),
                                                 "/M (D:20200101000000+00'00') /Reason (Akceptuje zmiany)");
    const auto sealRedefined =
        std::regex_replace(objectBody(genuine, seal), std::regex("/M \\([^)]*\\)"), "/M (D:20200101000000+00'00')");

    const auto s09Wrapping =
        attack.write("s09-wrapping", wrapSignature(genuine, jan, {{secondContent, streamObject("BT ET")}}));
    const auto s09Padding = attack.write("s09-object-in-padding", inPadding);
    const auto s10NotHex = attack.write("s10-not-hex", notHex);
    const auto s10WhiteSpace = attack.write("s10-white-space", whiteSpace);
    const auto s10AfterDer = attack.write("s10-non-zero-after-der", nonZeroAfterDer);
    const auto s11Jan = attack.write("s11-redefined-signature", appendObjects(genuine, {{jan, janRedefined}}));
    const auto s11Seal = attack.write("s11-redefined-seal", appendObjects(genuine, {{seal, sealRedefined}}));
    const auto judged = attack.judge({s09Wrapping, s09Padding, s10NotHex, s10WhiteSpace, s10AfterDer, s11Jan, s11Seal});

    const auto forbidden = formatFailure("verify.forbidden_modification");
    const auto unclear = formatFailure("verify.coverage_unclear");
    const auto padding = formatFailure("verify.contents_padding");
    // Wrapping: both ranges hash the signed bytes, so pdfsig calls Jan's signature valid (while
    // it notes "Not total document signed", the gap being wider than the CMS); PDFBox fails it
    // only because it decodes the whole gap as the CMS. We fail it because the gap is more than
    // its /Contents, and the seal because the attacker's revision replaces a page's content.
    expectJudges(judged.at(s09Wrapping), 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, unclear, kValid, "INVALID"}});
    CHECK_FALSE(pdfsigTotalDocumentSigned(judged.at(s09Wrapping).pdfsig, kJan));
    CHECK(value(signatureBlock(judged.at(s09Wrapping).ours, kJan), "intact") == "true");
    // Padding: the DER still parses and verifies (NSS and BouncyCastle ignore what follows it);
    // we refuse unsigned bytes inside the signed-looking gap. The seal's revision and the
    // signing after it are untouched: the seal stays valid, the document does not.
    expectJudges(judged.at(s09Padding), 1, {{kSeal, kPassed, kValid, "VALID"}, {kJan, padding, kValid, "VALID"}});
    expectJudges(judged.at(s10AfterDer), 1, {{kSeal, kPassed, kValid, "VALID"}, {kJan, padding, kValid, "VALID"}});
    // Not hex: our reader refuses the whole file (a malformed object in the signature-critical
    // path is never repaired); pdfsig skips the bad characters.
    const Judged& notHexJudged = judged.at(s10NotHex);
    expectJudges(notHexJudged, 1, {{kSeal, "absent", kValid, "VALID"}, {kJan, "absent", kValid, "INVALID"}});
    CHECK(std::regex_search(notHexJudged.ours, std::regex("\"readable\" ?: ?false")));
    CHECK(value(notHexJudged.ours, "sub_indication") == "FORMAT_FAILURE");
    CHECK(value(notHexJudged.ours, "reason") == "pdf.malformed");
    // White space is legal inside a hex string, but then the gap is no longer exactly the hex
    // digits of this /Contents (PDFBox, decoding the gap itself, fails too; pdfsig does not).
    expectJudges(judged.at(s10WhiteSpace), 1, {{kSeal, kPassed, kValid, "VALID"}, {kJan, unclear, kValid, "INVALID"}});
    // A redefined dictionary no longer ends its range at its own revision; to the signature
    // before it, a signed dictionary was rewritten.
    expectJudges(judged.at(s11Jan), 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, unclear, kValid, "VALID"}});
    CHECK(hasFinding(judged.at(s11Jan).ours, kSeal, "diff.signature_redefined"));
    expectJudges(judged.at(s11Seal), 1, {{kSeal, unclear, kValid, "VALID"}, {kJan, forbidden, kValid, "VALID"}});
}

// ====================================================================== S12

TEST_CASE("two signatures claiming one byte range fail", "[attack][cli]") {
    // pdfsig and PDFBox verify each field's CMS over its range and find all three valid; we
    // refuse two signatures claiming one revision (EU DSS's ByteRangeCollision). The seal's own
    // revision is untouched and the update only fills osoba-2, so the seal alone stays valid; the
    // document is not.
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int jan = signatureObject(genuine, kJan);
    const int secondField = fieldObject(genuine, "osoba-2");
    const int next = nextObjectNumber(genuine);
    auto sharing = objectBody(genuine, secondField);
    sharing.insert(sharing.rfind(">>"), "/V " + std::to_string(jan) + " 0 R\n");
    auto copying = objectBody(genuine, secondField);
    copying.insert(copying.rfind(">>"), "/V " + std::to_string(next) + " 0 R\n");
    // osoba-2's value is osoba-1's signature dictionary itself, or a copy of it.
    const auto shared = attack.write("s12-shared-dictionary", appendObjects(genuine, {{secondField, sharing}}));
    const auto duplicated = attack.write(
        "s12-duplicated-byterange", appendObjects(genuine, {{secondField, copying}, {next, objectBody(genuine, jan)}}));
    const auto judged = attack.judge({shared, duplicated});

    const auto forbidden = formatFailure("verify.forbidden_modification");
    expectJudges(judged.at(shared), 1,
                 {{kSeal, kPassed, kValid, "VALID"},
                  {kJan, forbidden, kValid, "VALID"},
                  {"osoba-2", forbidden, kValid, "VALID"}});
    CHECK(hasFinding(judged.at(shared).ours, kJan, "signature.byterange_collision"));
    CHECK(hasFinding(judged.at(shared).ours, "osoba-2", "signature.byterange_collision"));
    // The copy's /Contents is not the gap of its range either.
    expectJudges(judged.at(duplicated), 1,
                 {{kSeal, kPassed, kValid, "VALID"},
                  {kJan, forbidden, kValid, "VALID"},
                  {"osoba-2", formatFailure("verify.coverage_unclear"), kValid, "VALID"}});
    CHECK(hasFinding(judged.at(duplicated).ours, kJan, "signature.byterange_collision"));
}

// ====================================================================== S13, S16

TEST_CASE("shadow hide and hide-and-replace on a prepared document fail the certification", "[attack][cli]") {
    AttackLab attack;
    // The attacker prepares the document before it is sealed: on the first page a line of text
    // under an opaque white form XObject, a second, transparent body of that XObject that no xref
    // points at, and a complete page with its own page tree that nothing shows.
    const auto plain = attack.lab().file("plain.pdf");
    REQUIRE(renderCli("m1-oswiadczenie-zgoda",
                      sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json", plain)
                .exitCode == 0);
    const auto rendered = readFile(plain);
    const int pages = reference(objectBody(rendered, catalogObject(rendered)), "/Pages");
    const auto pageNumbers = pageObjects(rendered);
    const int firstPage = pageNumbers.front();
    const int firstContent = reference(objectBody(rendered, firstPage), "/Contents");
    const int next = nextObjectNumber(rendered);
    const int font = next, hiddenText = next + 1, cover = next + 2, shadowPage = next + 3, shadowContent = next + 4,
              shadowPages = next + 5;
    const auto ref = [](int number) { return std::to_string(number) + " 0 R"; };
    const std::string formDictionary = "/Type /XObject /Subtype /Form /BBox [0 0 595.276 841.89]";
    const std::string transparentCover = streamObject("", formDictionary);
    auto firstPageBody = objectBody(rendered, firstPage);
    firstPageBody = std::regex_replace(firstPageBody, std::regex("/Contents \\d+ 0 R"),
                                       "/Contents [" + ref(firstContent) + " " + ref(hiddenText) + "]");
    firstPageBody = std::regex_replace(firstPageBody, std::regex("/Font <<"), "/Font << /F9 " + ref(font));
    firstPageBody = std::regex_replace(firstPageBody, std::regex("/XObject <<"), "/XObject << /Cover " + ref(cover));
    const auto twinOffset = rendered.size();
    const auto prepared = appendObjects(
        rendered + std::to_string(cover) + " 0 obj\n" + transparentCover + "\nendobj\n",
        {{font, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"},
         {hiddenText, streamObject("q BT /F9 14 Tf 72 320 Td (Kwota do zaplaty: 1 000 000 PLN) Tj ET Q q /Cover Do Q")},
         {cover, streamObject("1 1 1 rg 60 300 480 50 re f", formDictionary)},
         {firstPage, firstPageBody},
         {shadowPage, "<< /Type /Page /Parent " + ref(pages) +
                          " /MediaBox [0 0 595.276 841.89] /Resources << /Font << /F9 " + ref(font) +
                          " >> >> /Contents " + ref(shadowContent) + " >>"},
         {shadowContent, streamObject("BT /F9 14 Tf 72 700 Td (Tresc podmieniona po zapieczetowaniu) Tj ET")},
         {shadowPages, "<< /Type /Pages /Kids [" + ref(shadowPage) + " " + ref(pageNumbers.back()) + "] /Count 2 >>"}});
    writeFile(attack.lab().file("prepared.pdf"), prepared);
    const auto sealedPath = attack.lab().file("prepared-sealed.pdf");
    REQUIRE(VerifyLab::run(quote(cli()) + " seal " + quote(attack.lab().file("prepared.pdf")) + " -o " +
                           quote(sealedPath) + " --level B-B --identity " + quote(attack.lab().identity()))
                .exitCode == 0);
    const auto sealed = readFile(sealedPath);
    REQUIRE(sealed.compare(0, prepared.size(), prepared) == 0);
    REQUIRE(sealed.compare(twinOffset, std::to_string(cover).size() + 6, std::to_string(cover) + " 0 obj") == 0);

    auto pagesSwapped = std::regex_replace(objectBody(sealed, pages), std::regex("/Kids \\[[^\\]]*\\]"),
                                           "/Kids [" + ref(shadowPage) + " " + ref(pageNumbers.back()) + "]");
    auto catalogRepointed = std::regex_replace(objectBody(sealed, catalogObject(sealed)), std::regex("/Pages \\d+ 0 R"),
                                               "/Pages " + ref(shadowPages));
    auto contentRepointed = std::regex_replace(objectBody(sealed, firstPage), std::regex("/Contents \\[[^\\]]*\\]"),
                                               "/Contents " + ref(shadowContent));
    auto coverNotDrawn = std::regex_replace(objectBody(sealed, firstPage), std::regex("/Contents \\[[^\\]]*\\]"),
                                            "/Contents " + ref(firstContent));

    const std::vector<std::string> attacks{
        // S13: the cover goes: redefined as an empty form, its xref entry pointed at the
        // transparent twin already inside the sealed bytes (no new object at all), or no longer
        // drawn by the page.
        attack.write("s13-cover-redefined", appendObjects(sealed, {{cover, transparentCover}})),
        attack.write("s13-cover-xref-swapped", appendXrefOnly(sealed, cover, twinOffset)),
        attack.write("s13-cover-not-drawn", appendObjects(sealed, {{firstPage, coverNotDrawn}})),
        // S16: only references change, to the prepared page nothing showed: in the page tree, in
        // the catalog, in the first page's /Contents.
        attack.write("s16-page-tree-kids", appendObjects(sealed, {{pages, pagesSwapped}})),
        attack.write("s16-catalog-pages", appendObjects(sealed, {{catalogObject(sealed), catalogRepointed}})),
        attack.write("s16-page-contents", appendObjects(sealed, {{firstPage, contentRepointed}})),
    };
    auto files = attacks;
    files.push_back(sealedPath);
    const auto judged = attack.judge(files);

    const Judged& genuine = judged.at(sealedPath);
    expectJudges(genuine, 0, {{kSeal, kPassed, kValid, "VALID"}});
    CHECK(pdfsigTotalDocumentSigned(genuine.pdfsig, kSeal));
    // What the seal certified is no longer what a viewer shows. pdfsig and PDFBox check only the
    // sealed bytes, which are intact; DocMDP P2 allows filling fields and signing, nothing else.
    for (const auto& file : attacks) {
        const Judged& j = judged.at(file);
        expectJudges(j, 1, {{kSeal, formatFailure("verify.forbidden_modification"), kValid, "VALID"}});
        CHECK(value(signatureBlock(j.ours, kSeal), "modification_level") == "OTHER");
        CHECK_FALSE(pdfsigTotalDocumentSigned(j.pdfsig, kSeal));
    }
}

// ====================================================================== S14, S15

TEST_CASE("shadow replace through appearances and fonts fails", "[attack][cli]") {
    // pdfsig and PDFBox find both signatures valid in every file: the signed bytes are intact.
    // What the signed revisions show is not: an appearance or a font of theirs was replaced.
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int janField = fieldObject(genuine, kJan);
    const int secondField = fieldObject(genuine, "osoba-2");
    const int janAppearance = reference(objectBody(genuine, janField), "/N");
    const int appearanceFont = reference(objectBody(genuine, janAppearance), "/Ft24");
    const int firstPage = pageObjects(genuine).front();
    const int pageFont = reference(objectBody(genuine, firstPage), "/F1");
    const int boldFont = reference(objectBody(genuine, firstPage), "/F2");
    const int boldDescendant = reference(objectBody(genuine, boldFont), "/DescendantFonts \\[");
    const auto fontFileOf = [&](int type0) {
        const int descendant = reference(objectBody(genuine, type0), "/DescendantFonts \\[");
        return reference(objectBody(genuine, reference(objectBody(genuine, descendant), "/FontDescriptor")),
                         "/FontFile2");
    };
    const int next = nextObjectNumber(genuine);
    const auto ref = [](int number) { return std::to_string(number) + " 0 R"; };
    const std::string forgedAppearance =
        streamObject("BT /Ft24 9 Tf 2 30 Td <0030> Tj ET",
                     "/Type /XObject /Subtype /Form /BBox [0 0 145.5 45.4] /Resources << /Font << /Ft24 " +
                         ref(appearanceFont) + " >> >>");
    const auto janFieldRepointed =
        std::regex_replace(objectBody(genuine, janField), std::regex("/N \\d+ 0 R"), "/N " + ref(next));
    const auto secondFieldDrawn =
        std::regex_replace(objectBody(genuine, secondField), std::regex("/N \\d+ 0 R"), "/N " + ref(next));
    const auto appearanceFontSwapped =
        std::regex_replace(objectBody(genuine, appearanceFont), std::regex("/DescendantFonts \\[ \\d+ 0 R \\]"),
                           "/DescendantFonts [ " + ref(boldDescendant) + " ]");
    const auto pageFontSwapped =
        std::regex_replace(objectBody(genuine, pageFont), std::regex("/DescendantFonts \\[\\d+ 0 R\\]"),
                           "/DescendantFonts [" + ref(boldDescendant) + "]");
    REQUIRE(appearanceFontSwapped != objectBody(genuine, appearanceFont));
    REQUIRE(pageFontSwapped != objectBody(genuine, pageFont));

    const auto overridden =
        attack.write("s14-signed-appearance-overridden", appendObjects(genuine, {{janAppearance, forgedAppearance}}));
    const auto repointed =
        attack.write("s14-signed-appearance-repointed",
                     appendObjects(genuine, {{janField, janFieldRepointed}, {next, forgedAppearance}}));
    const auto sharedFont = attack.write("s14-shared-font-of-appearances",
                                         appendObjects(genuine, {{secondField, secondFieldDrawn},
                                                                 {next, forgedAppearance},
                                                                 {appearanceFont, appearanceFontSwapped}}));
    const auto fontProgram =
        attack.write("s15-font-program",
                     appendObjects(genuine, {{fontFileOf(pageFont), objectBody(genuine, fontFileOf(boldFont))}}));
    const auto fontDescendant =
        attack.write("s15-font-descendant", appendObjects(genuine, {{pageFont, pageFontSwapped}}));
    const auto judged = attack.judge({overridden, repointed, sharedFont, fontProgram, fontDescendant});

    const auto forbidden = formatFailure("verify.forbidden_modification");
    for (const auto& file : {overridden, repointed, sharedFont, fontProgram, fontDescendant})
        expectJudges(judged.at(file), 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, forbidden, kValid, "VALID"}});
    // S14: the appearance Jan saw when he signed, overridden in place or repointed. To the seal
    // both look like the filling of osoba-1 until compared with the revision Jan signed.
    CHECK(hasFinding(judged.at(overridden).ours, kSeal, "diff.signed_appearance_changed"));
    CHECK(hasFinding(judged.at(repointed).ours, kSeal, "diff.signed_field_changed"));
    // S14, an appearance used elsewhere: drawing the empty osoba-2 would be form filling, but the
    // font it redefines is shared with the appearances of the signed fields.
    CHECK(hasFinding(judged.at(sharedFont).ours, kJan, "diff.unexplained_object"));
    // S15: the same character codes drawn with the bold glyphs, by replacing the font program or
    // by pointing the page font at the bold descendant font.
    CHECK(hasFinding(judged.at(fontProgram).ours, kSeal, "diff.unexplained_object"));
    CHECK(hasFinding(judged.at(fontDescendant).ours, kSeal, "diff.unexplained_object"));
}

// ====================================================================== S17, S18

TEST_CASE("an evil annotation or a sneaky signature field after certification fails the seal", "[attack][cli]") {
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int secondPage = pageObjects(genuine).back(); // the page with the signature fields
    const int acroForm = reference(objectBody(genuine, catalogObject(genuine)), "/AcroForm");
    const int next = nextObjectNumber(genuine);
    const auto ref = [](int number) { return std::to_string(number) + " 0 R"; };
    const std::string appearance =
        streamObject("0 0 1 rg BT /Helv 14 Tf 4 20 Td (Kwota: 1 000 000 PLN) Tj ET",
                     "/Type /XObject /Subtype /Form /BBox [0 0 300 40] /Resources << /Font << /Helv << "
                     "/Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>");
    const auto annotated = [&](const std::string& subtype) {
        const std::string annotation = "<< /Type /Annot /Subtype /" + subtype +
                                       " /Rect [56 500 356 540] /Contents (Kwota: 1 000 000 PLN) /F 4 /P " +
                                       ref(secondPage) + " /AP << /N " + ref(next + 1) + " >>" +
                                       (subtype == "FreeText" ? " /DA (/Helv 14 Tf 0 0 1 rg)" : " /Name /Approved") +
                                       " >>";
        return appendObjects(genuine, {{next, annotation},
                                       {next + 1, appearance},
                                       {secondPage, withAnnotation(objectBody(genuine, secondPage), next)}});
    };
    // S18: a new signature field whose widget draws over the page, then really signed.
    auto formWithField = objectBody(genuine, acroForm);
    formWithField.insert(formWithField.find("/Fields [") + 9, " " + ref(next));
    const auto fieldAdded =
        attack.write("s18-field-added",
                     appendObjects(genuine, {{next, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (osoba-4) /F 4 /P " +
                                                        ref(secondPage) + " /Rect [56 500 356 540] /AP << /N " +
                                                        ref(next + 1) + " >> >>"},
                                             {next + 1, appearance},
                                             {secondPage, withAnnotation(objectBody(genuine, secondPage), next)},
                                             {acroForm, formWithField}}));
    const auto sneaky = attack.lab().file("s18-sneaky-signature.pdf");
    REQUIRE(VerifyLab::run(quote(cli()) + " sign " + quote(fieldAdded) + " --field osoba-4 --p12 " +
                           quote(attack.lab().file("jan.p12")) + " --password-file " +
                           quote(attack.lab().file("password")) + " --level B-B --identity " +
                           quote(attack.lab().identity()) + " -o " + quote(sneaky))
                .exitCode == 0);
    const auto freeText = attack.write("s17-freetext", annotated("FreeText"));
    const auto stamp = attack.write("s17-stamp", annotated("Stamp"));
    const auto judged = attack.judge({freeText, stamp, fieldAdded, sneaky});

    // S17: DocMDP P2 allows no annotation: the seal fails. Jan's approval signature carries no
    // DocMDP of its own, and pyHanko would let the ANNOTATIONS level pass after it; but DocMDP
    // binds the whole document, so Kooperdoc fails Jan's signature too (diff.docmdp_document).
    // pdfsig and PDFBox do not look at either.
    const auto forbidden = formatFailure("verify.forbidden_modification");
    for (const auto& file : {freeText, stamp}) {
        const Judged& j = judged.at(file);
        expectJudges(j, 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, forbidden, kValid, "VALID"}});
        CHECK(value(signatureBlock(j.ours, kSeal), "modification_level") == "ANNOTATIONS");
        CHECK(value(signatureBlock(j.ours, kSeal), "docmdp_ok") == "false");
        CHECK(value(signatureBlock(j.ours, kJan), "modification_level") == "ANNOTATIONS");
        CHECK(value(signatureBlock(j.ours, kJan), "docmdp_ok") == "false");
        CHECK(hasFinding(j.ours, kJan, "diff.docmdp_document"));
    }
    // S18: after a certification only the fields it created may be signed; a new visible one is
    // the sneaky signature attack, whether signed yet or not. The new signature itself is sound
    // and judged on its own; Jan's approval signature allows new signature fields (pyHanko's
    // FORM_FILLING).
    expectJudges(judged.at(fieldAdded), 1,
                 {{kSeal, forbidden, kValid, "VALID"},
                  {kJan, kPassed, kValid, "VALID"},
                  {"osoba-4", "absent", "not signed", "absent"}});
    CHECK(hasFinding(judged.at(fieldAdded).ours, kSeal, "diff.new_visible_field_after_certification"));
    expectJudges(
        judged.at(sneaky), 1,
        {{kSeal, forbidden, kValid, "VALID"}, {kJan, kPassed, kValid, "VALID"}, {"osoba-4", kPassed, kValid, "VALID"}});
    CHECK(hasFinding(judged.at(sneaky).ours, kSeal, "diff.new_visible_field_after_certification"));
}

// ====================================================================== S19, S20

TEST_CASE("pages added or removed fail, the updates Kooperdoc allows pass with every judge", "[attack][cli]") {
    AttackLab attack;
    const auto& genuine = attack.genuine();
    const int pages = reference(objectBody(genuine, catalogObject(genuine)), "/Pages");
    const auto pageNumbers = pageObjects(genuine);
    const int next = nextObjectNumber(genuine);
    const auto ref = [](int number) { return std::to_string(number) + " 0 R"; };
    auto added = std::regex_replace(objectBody(genuine, pages), std::regex("/Kids \\[([^\\]]*)\\]"),
                                    "/Kids [$1 " + ref(next) + "]");
    added = std::regex_replace(added, std::regex("/Count \\d+"), "/Count " + std::to_string(pageNumbers.size() + 1));
    // The first page, with the whole text of the declaration, removed.
    auto removed = std::regex_replace(objectBody(genuine, pages), std::regex("/Kids \\[[^\\]]*\\]"),
                                      "/Kids [" + ref(pageNumbers.back()) + "]");
    removed = std::regex_replace(removed, std::regex("/Count \\d+"), "/Count 1");
    const auto pageAdded = attack.write(
        "s19-page-added",
        appendObjects(genuine, {{next, "<< /Type /Page /Parent " + ref(pages) +
                                           " /MediaBox [0 0 595.276 841.89] /Contents " + ref(next + 1) + " >>"},
                                {next + 1, streamObject("BT /F1 12 Tf 72 700 Td <0030> Tj ET")},
                                {pages, added}}));
    const auto pageRemoved = attack.write("s19-page-removed", appendObjects(genuine, {{pages, removed}}));
    // S20: osoba-2 signs the field the seal prepared for it, at B-LTA: a signature timestamp,
    // then a DSS with the certificates and CRLs and a document timestamp.
    const auto allowed = attack.lab().file("s20-allowed-updates.pdf");
    REQUIRE(VerifyLab::run(quote(cli()) + " sign " + quote(attack.genuinePath()) + " --field osoba-2 --p12 " +
                           quote(attack.lab().file("jan.p12")) + " --password-file " +
                           quote(attack.lab().file("password")) + " --level B-LTA --identity " +
                           quote(attack.lab().identity()) + " -o " + quote(allowed))
                .exitCode == 0);
    const auto judged = attack.judge({pageAdded, pageRemoved, allowed});

    // S19: pdfsig and PDFBox check the signed bytes only; the page tree is not what was signed.
    const auto forbidden = formatFailure("verify.forbidden_modification");
    for (const auto& file : {pageAdded, pageRemoved}) {
        expectJudges(judged.at(file), 1, {{kSeal, forbidden, kValid, "VALID"}, {kJan, forbidden, kValid, "VALID"}});
        CHECK(hasFinding(judged.at(file).ours, kSeal, "diff.page_tree_changed"));
    }

    const Judged& s20 = judged.at(allowed);
    expectJudges(
        s20, 0,
        {{kSeal, kPassed, kValid, "VALID"}, {kJan, kPassed, kValid, "VALID"}, {"osoba-2", kPassed, kValid, "VALID"}});
    for (const auto& field : {kSeal, kJan, std::string("osoba-2")}) {
        INFO(field);
        CHECK(value(signatureBlock(s20.ours, field), "coverage") == "ENTIRE_REVISION");
        CHECK(value(signatureBlock(s20.ours, field), "modification_level") == "FORM_FILLING");
    }
    CHECK(value(signatureBlock(s20.ours, "osoba-2"), "pades_level") == "B-LTA");
    // The document timestamp covers the whole file. pdfsig lists it but does not verify RFC 3161
    // document timestamps; PDFBox checks the token's imprint over the range.
    std::smatch timestamp;
    REQUIRE(std::regex_search(s20.ours, timestamp,
                              std::regex("\"field\" ?: ?\"([^\"]+)\",\\s*\"type\" ?: ?\"document_timestamp\"")));
    const std::string timestampField = timestamp[1].str();
    expectJudges(s20, 0, {{timestampField, kPassed, kNotVerified, "VALID"}});
    CHECK(value(signatureBlock(s20.ours, timestampField), "coverage") == "ENTIRE_FILE");
    CHECK(pdfsigTotalDocumentSigned(s20.pdfsig, timestampField));
    CHECK(countMatches(s20.ours, jsonPair("indication", "TOTAL-PASSED")) == 4);
}
