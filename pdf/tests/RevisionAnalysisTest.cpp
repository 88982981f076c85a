// SPDX-License-Identifier: AGPL-3.0-or-later
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "Process.h"
#include "TestPaths.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/PdfReader.h"
#include "kooperdoc/pdf/RevisionAnalysis.h"

using namespace kooperdoc;
using namespace kooperdoc::pdf;

namespace {

std::string corpusRoot() {
    return testing::sharedDir() + "/corpus/pyhanko";
}
bool haveCorpus() {
    return std::filesystem::exists(corpusRoot() + "/manifest.json");
}
std::string corpusPdf(const std::string& name) {
    return testing::readFile(corpusRoot() + "/pdf/" + name);
}

const SignatureInfo* signatureNamed(const DocumentAnalysis& analysis, const std::string& field) {
    for (const auto& s : analysis.signatures)
        if (s.fieldName == field) return &s;
    return nullptr;
}

// ------------------------------------------------------------------ building incremental updates

std::string serialize(const PdfObject& value) {
    switch (value.type()) {
    case PdfObject::Type::kNull:
        return "null";
    case PdfObject::Type::kBool:
        return *value.asBool() ? "true" : "false";
    case PdfObject::Type::kInteger:
        return std::to_string(*value.asInteger());
    case PdfObject::Type::kReal: {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.6f", *value.asNumber());
        return buffer;
    }
    case PdfObject::Type::kString: {
        static const char* hex = "0123456789abcdef";
        std::string out = "<";
        for (const unsigned char c : value.asString()->bytes) {
            out += hex[c >> 4];
            out += hex[c & 15];
        }
        return out + ">";
    }
    case PdfObject::Type::kName: {
        std::string out = "/";
        for (const unsigned char c : *value.asName()) {
            if (c > 32 && c < 127 &&
                std::string_view("()<>[]{}/%#").find(static_cast<char>(c)) == std::string_view::npos) {
                out += static_cast<char>(c);
            } else {
                char buffer[4];
                std::snprintf(buffer, sizeof buffer, "#%02X", c);
                out += buffer;
            }
        }
        return out;
    }
    case PdfObject::Type::kArray: {
        std::string out = "[";
        for (const auto& v : *value.asArray())
            out += serialize(v) + " ";
        return out + "]";
    }
    case PdfObject::Type::kDictionary: {
        std::string out = "<<";
        for (const auto& [key, v] : value.asDictionary()->entries())
            out += serialize(PdfObject::name(key)) + " " + serialize(v) + " ";
        return out + ">>";
    }
    case PdfObject::Type::kReference:
        return std::to_string(value.asReference()->number) + " " + std::to_string(value.asReference()->generation) +
               " R";
    case PdfObject::Type::kStream:
        break;
    }
    FAIL("streams are not serialized by this helper");
    return "";
}

/// A dictionary with some keys replaced (value "" removes the key).
std::string withKeys(const PdfObject& dict, const std::map<std::string, std::string>& changes) {
    std::string out = "<<";
    for (const auto& [key, v] : dict.asDictionary()->entries())
        if (changes.count(key) == 0) out += serialize(PdfObject::name(key)) + " " + serialize(v) + " ";
    for (const auto& [key, v] : changes)
        if (!v.empty()) out += serialize(PdfObject::name(key)) + " " + v + " ";
    return out + ">>";
}

struct Update {
    std::map<std::uint32_t, std::string> objects; ///< number -> object body
    std::vector<std::uint32_t> freed;
    std::map<std::string, std::string> trailer; ///< keys to set in the new trailer
};

/// Appends an incremental update (classic xref table) to a PDF, like any signing tool would.
std::string appendUpdate(const std::string& base, const Update& update) {
    const PdfReader reader(base);
    const std::size_t last = reader.lastRevision();
    const PdfDictionary trailer = reader.trailer(last);
    std::map<std::string, std::string> keys;
    for (const char* key : {"Root", "Info", "ID"})
        if (trailer.contains(key)) keys[key] = serialize(trailer.get(key));
    for (const auto& [k, v] : update.trailer)
        keys[k] = v;
    std::int64_t size = reader.revisions().back().declaredSize;
    for (const auto& [n, body] : update.objects)
        size = std::max<std::int64_t>(size, n + 1);
    std::string out = base;
    if (out.back() != '\n' && out.back() != '\r') out += '\n';
    std::map<std::uint32_t, std::size_t> offsets;
    for (const auto& [n, body] : update.objects) {
        offsets[n] = out.size();
        out += std::to_string(n) + " 0 obj\n" + body + "\nendobj\n";
    }
    const std::size_t xref = out.size();
    out += "xref\n";
    for (const auto& [n, at] : offsets) {
        char line[32];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", at);
        out += std::to_string(n) + " 1\n" + line;
    }
    for (const auto n : update.freed)
        out += std::to_string(n) + " 1\n0000000000 00001 f \n";
    out +=
        "trailer\n<< /Size " + std::to_string(size) + " /Prev " + std::to_string(reader.revisions().back().startxref);
    for (const auto& [k, v] : keys)
        out += " /" + k + " " + v;
    out += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

/// Facts about a pyHanko-made file we build attacks on.
struct Layout {
    ObjectRef root;
    ObjectRef page;
    std::optional<ObjectRef> acroForm;
    std::uint32_t nextNumber = 0;
    PdfObject rootValue;
    PdfObject pageValue;
    PdfObject acroFormValue;
};

Layout layoutOf(const std::string& bytes) {
    const PdfReader reader(bytes);
    const std::size_t last = reader.lastRevision();
    Layout layout;
    layout.root = *reader.trailer(last).get("Root").asReference();
    layout.rootValue = reader.resolve(layout.root, last);
    const PdfObject pages = reader.deref(layout.rootValue.asDictionary()->get("Pages"), last);
    layout.page = *(*pages.asDictionary()->get("Kids").asArray())[0].asReference();
    layout.pageValue = reader.resolve(layout.page, last);
    layout.acroForm = layout.rootValue.asDictionary()->get("AcroForm").asReference();
    if (layout.acroForm) layout.acroFormValue = reader.resolve(*layout.acroForm, last);
    layout.nextNumber = static_cast<std::uint32_t>(reader.revisions().back().declaredSize);
    return layout;
}

/// Adds a new, unsigned signature field with a widget on the first page.
std::string addSignatureField(const std::string& base, const std::string& name, const std::string& rect) {
    const Layout l = layoutOf(base);
    REQUIRE(l.acroForm);
    const std::uint32_t field = l.nextNumber;
    Update u;
    u.objects[field] = "<< /FT /Sig /T (" + name + ") /Type /Annot /Subtype /Widget /F 4 /Rect " + rect + " /P " +
                       std::to_string(l.page.number) + " 0 R >>";
    std::string fields = serialize(l.acroFormValue.asDictionary()->get("Fields"));
    fields.insert(fields.size() - 1, std::to_string(field) + " 0 R ");
    u.objects[l.acroForm->number] = withKeys(l.acroFormValue, {{"Fields", fields}});
    std::string annots =
        l.pageValue.asDictionary()->contains("Annots") ? serialize(l.pageValue.asDictionary()->get("Annots")) : "[]";
    annots.insert(annots.size() - 1, std::to_string(field) + " 0 R ");
    u.objects[l.page.number] = withKeys(l.pageValue, {{"Annots", annots}});
    return appendUpdate(base, u);
}

std::string addFreeTextAnnotation(const std::string& base) {
    const Layout l = layoutOf(base);
    const std::uint32_t annot = l.nextNumber;
    Update u;
    u.objects[annot] = "<< /Type /Annot /Subtype /FreeText /Rect [10 10 200 60] /Contents (Evil) /DA (/Helv 12 Tf) >>";
    std::string annots =
        l.pageValue.asDictionary()->contains("Annots") ? serialize(l.pageValue.asDictionary()->get("Annots")) : "[]";
    annots.insert(annots.size() - 1, std::to_string(annot) + " 0 R ");
    u.objects[l.page.number] = withKeys(l.pageValue, {{"Annots", annots}});
    return appendUpdate(base, u);
}

std::string addInfoUpdate(const std::string& base) {
    const Layout l = layoutOf(base);
    Update u;
    u.objects[l.nextNumber] = "<< /Producer (another tool) >>";
    u.trailer["Info"] = std::to_string(l.nextNumber) + " 0 R";
    return appendUpdate(base, u);
}

} // namespace

// ------------------------------------------------------------------ the pyHanko corpus

TEST_CASE("coverage, modification level and docmdp_ok match pyHanko on the whole corpus", "[revisions][corpus]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found at " + corpusRoot() + "; skipped");
        return;
    }
    Poco::JSON::Parser parser;
    const auto manifest =
        parser.parse(testing::readFile(corpusRoot() + "/manifest.json")).extract<Poco::JSON::Array::Ptr>();
    std::size_t signedFiles = 0;
    std::size_t compared = 0;
    for (std::size_t i = 0; i < manifest->size(); ++i) {
        const auto entry = manifest->getObject(static_cast<unsigned>(i));
        const std::string file = entry->getValue<std::string>("file");
        if (entry->getValue<int>("signatures") == 0) continue;
        ++signedFiles;
        const DocumentAnalysis analysis = analyzeDocument(testing::readFile(corpusRoot() + "/" + file));
        std::vector<std::pair<std::string, Poco::JSON::Object::Ptr>> expectations;
        if (!entry->isNull("sig_field"))
            expectations.emplace_back(entry->getValue<std::string>("sig_field"), entry->getObject("expect"));
        if (entry->has("other_signatures") && !entry->isNull("other_signatures")) {
            const auto others = entry->getArray("other_signatures");
            for (std::size_t k = 0; k < others->size(); ++k) {
                const auto other = others->getObject(static_cast<unsigned>(k));
                expectations.emplace_back(other->getValue<std::string>("sig_field"), other->getObject("expect"));
            }
        }
        CHECK(analysis.signatures.size() == static_cast<std::size_t>(entry->getValue<int>("signatures")));
        for (const auto& [field, expect] : expectations) {
            INFO(file << " " << field);
            const SignatureInfo* sig = signatureNamed(analysis, field);
            REQUIRE(sig != nullptr);
            if (!expect->isNull("coverage")) {
                CHECK(toString(sig->coverage) == expect->getValue<std::string>("coverage"));
                ++compared;
            }
            if (!expect->isNull("modification_level")) {
                INFO((sig->findings.empty() ? std::string()
                                            : sig->findings.front().code + " " + sig->findings.front().detail));
                CHECK(toString(sig->modificationLevel) == expect->getValue<std::string>("modification_level"));
                ++compared;
            }
            if (!expect->isNull("docmdp_ok")) {
                CHECK(sig->docMdpOk == expect->getValue<bool>("docmdp_ok"));
                ++compared;
            }
        }
    }
    CHECK(signedFiles == 33);
    CHECK(compared == 154);
}

TEST_CASE("the sneaky corpus files are caught for the right object", "[revisions][corpus]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::map<std::string, std::uint32_t> attacked{
        {"form-update-override-appearance-stream-sneaky.pdf", 9},
        {"form-update-override-appearance-stream-ap-indirect-sneaky.pdf", 10},
        {"form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf", 10},
        {"form-update-ap-indirect-sneaky-trailer.pdf", 10},
        {"extensions-indirect-not-all-paths.pdf", 10},
    };
    for (const auto& [file, object] : attacked) {
        INFO(file);
        const DocumentAnalysis analysis = analyzeDocument(corpusPdf(file));
        const SignatureInfo* sig1 = signatureNamed(analysis, "Sig1");
        REQUIRE(sig1 != nullptr);
        CHECK(sig1->modificationLevel == ModificationLevel::kOther);
        REQUIRE_FALSE(sig1->findings.empty());
        CHECK(sig1->findings.front().object == object);
        CHECK(sig1->findings.front().code == "diff.shared_object_override");
    }
    const DocumentAnalysis certified = analyzeDocument(corpusPdf("certified-with-indirect-refs-in-dir.pdf"));
    CHECK(certified.certificationPermission == 1);
    CHECK(certified.certificationField == std::string("Sig1"));
    REQUIRE(certified.signatures.size() == 1);
    CHECK(certified.signatures[0].certification);
    CHECK(certified.signatures[0].docMdpPermission == 1);
    CHECK(certified.signatures[0].subFilter == "adbe.pkcs7.detached");
    CHECK(certified.signatures[0].byteRange == std::vector<std::int64_t>{0, 1187, 12535, 676});
}

// ------------------------------------------------------------------ coverage grading

TEST_CASE("coverage is graded strictly from the byte range and the gap", "[revisions][coverage]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::string original = corpusPdf("sig-no-signed-attrs.pdf");
    const std::string range = " 00000000 00001158 00011906 00000450 ";
    REQUIRE(original.find(range) != std::string::npos);
    auto withRange = [&](const std::string& replacement) {
        REQUIRE(replacement.size() == range.size());
        std::string bytes = original;
        bytes.replace(bytes.find(range), range.size(), replacement);
        const DocumentAnalysis analysis = analyzeDocument(bytes);
        REQUIRE(analysis.signatures.size() == 1);
        return analysis.signatures[0];
    };
    const auto intact = withRange(range);
    CHECK(intact.coverage == Coverage::kEntireFile);
    CHECK(intact.modificationLevel == ModificationLevel::kNone);
    CHECK(intact.signedRevision == std::size_t{1});

    // Ending right after "%%EOF" (without its end-of-line) still is the revision boundary.
    CHECK(withRange(" 00000000 00001158 00011906 00000449 ").coverage == Coverage::kEntireRevision);
    const auto shortTail = withRange(" 00000000 00001158 00011906 00000448 ");
    CHECK(shortTail.coverage == Coverage::kContiguousBlockFromStart);
    CHECK(shortTail.modificationLevel == ModificationLevel::kOther);
    CHECK_FALSE(shortTail.docMdpOk);
    CHECK(withRange(" 00000001 00001158 00011906 00000450 ").coverage == Coverage::kUnclear);
    CHECK(withRange(" 00000000 00001158 00011906 00000451 ").coverageProblem == "byterange.beyond_eof");
    CHECK(withRange(" 00000000 -0001158 00011906 00000450 ").coverageProblem == "byterange.negative");
    CHECK(withRange(" 00000000 00001157 00011905 00000451 ").coverageProblem == "byterange.gap_not_this_contents");
    CHECK(withRange(" 00000000 00001158 00011906 (0000450)").coverageProblem == "byterange.not_four_from_zero");

    // Whitespace inside the hex string still parses, but then the gap is not pure hex.
    std::string spaced = original;
    const std::size_t contents = spaced.find("/Contents <");
    REQUIRE(contents != std::string::npos);
    const std::size_t padding = spaced.find("0000", contents);
    spaced[padding] = ' ';
    spaced[padding + 1] = ' ';
    const DocumentAnalysis spacedAnalysis = analyzeDocument(spaced);
    CHECK(spacedAnalysis.signatures[0].coverage == Coverage::kUnclear);

    // Whitespace after the last %%EOF: the signature still covers its whole revision.
    const DocumentAnalysis padded = analyzeDocument(original + "\n");
    CHECK(padded.signatures[0].coverage == Coverage::kEntireRevision);
    CHECK(padded.signatures[0].modificationLevel == ModificationLevel::kNone);
    CHECK(padded.trailingBytesWhitespaceOnly);
}

// ------------------------------------------------------------------ change classification

TEST_CASE("updates after a signature are classified by whitelist", "[revisions][diff]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::string base = corpusPdf("sig-no-signed-attrs.pdf");
    const Layout l = layoutOf(base);
    const PdfReader baseReader(base);
    const DocumentAnalysis baseAnalysis = analyzeDocument(baseReader);
    REQUIRE(baseAnalysis.signatures.size() == 1);
    const SignatureInfo& original = baseAnalysis.signatures[0];
    auto sigAfter = [&](const std::string& bytes) {
        const DocumentAnalysis analysis = analyzeDocument(bytes);
        REQUIRE(analysis.signatures.size() == 1);
        return analysis.signatures[0];
    };
    auto objectsOf = [](const SignatureInfo& s) {
        std::vector<std::uint32_t> objects;
        for (const auto& f : s.findings)
            objects.push_back(f.object);
        return objects;
    };

    SECTION("new page content is OTHER") {
        Update u;
        u.objects[l.nextNumber] = "<< /Length 10 >>\nstream\n0 0 m 9 9\nendstream";
        u.objects[l.page.number] = withKeys(l.pageValue, {{"Contents", std::to_string(l.nextNumber) + " 0 R"}});
        const auto s = sigAfter(appendUpdate(base, u));
        CHECK(s.coverage == Coverage::kEntireRevision);
        CHECK(s.modificationLevel == ModificationLevel::kOther);
        CHECK_FALSE(s.docMdpOk);
        // The page and the new stream it now shows: nothing explains either.
        CHECK(objectsOf(s) == std::vector<std::uint32_t>{l.page.number, l.nextNumber});
    }
    SECTION("an existing content stream rewritten in place is OTHER") {
        const auto contents = *l.pageValue.asDictionary()->get("Contents").asReference();
        Update u;
        u.objects[contents.number] = "<< /Length 10 >>\nstream\n0 0 m 9 9\nendstream";
        CHECK(sigAfter(appendUpdate(base, u)).modificationLevel == ModificationLevel::kOther);
    }
    SECTION("a fake DocMDP in /Perms is OTHER") {
        Update u;
        u.objects[l.root.number] = withKeys(
            l.rootValue, {{"Perms", "<< /DocMDP " + std::to_string(original.signatureRef->number) + " 0 R >>"}});
        const auto s = sigAfter(appendUpdate(base, u));
        CHECK(s.modificationLevel == ModificationLevel::kOther);
        CHECK(s.findings.front().code == "diff.catalog_changed");
    }
    SECTION("a rewritten signature dictionary no longer covers anything") {
        const PdfObject dict = baseReader.resolve(*original.signatureRef, 1);
        Update u;
        u.objects[original.signatureRef->number] = withKeys(dict, {{"M", "(D:20990101000000Z)"}});
        const auto s = sigAfter(appendUpdate(base, u));
        CHECK(s.signedRevision == std::size_t{2});
        CHECK(s.coverage == Coverage::kUnclear);
        CHECK(s.coverageProblem == "byterange.gap_not_this_contents");
        CHECK(s.modificationLevel == ModificationLevel::kOther);
    }
    SECTION("/V repointed to a copy whose /Contents lies elsewhere") {
        const PdfObject dict = baseReader.resolve(*original.signatureRef, 1);
        const PdfObject field = baseReader.resolve(original.fieldRef, 1);
        Update u;
        u.objects[l.nextNumber] = serialize(dict);
        u.objects[original.fieldRef.number] = withKeys(field, {{"V", std::to_string(l.nextNumber) + " 0 R"}});
        const std::string attacked = appendUpdate(base, u);
        const auto s = sigAfter(attacked);
        CHECK(s.coverage == Coverage::kUnclear);
        CHECK(s.modificationLevel == ModificationLevel::kOther);
        const PdfReader reader(attacked);
        CHECK(diffRevisions(reader, 1, 2).level == ModificationLevel::kOther);
    }
    SECTION("freeing an object is OTHER") {
        Update u;
        u.freed.push_back(l.page.number);
        const auto s = sigAfter(appendUpdate(base, u));
        CHECK(s.modificationLevel == ModificationLevel::kOther);
        CHECK(s.findings.front().code == "diff.object_freed");
    }
    SECTION("a page added is OTHER") {
        const PdfReader reader(base);
        const ObjectRef pagesRef = *l.rootValue.asDictionary()->get("Pages").asReference();
        const PdfObject pages = reader.resolve(pagesRef, 1);
        Update u;
        u.objects[l.nextNumber] = withKeys(l.pageValue, {{"Annots", ""}});
        u.objects[pagesRef.number] = withKeys(
            pages, {{"Kids", "[" + std::to_string(l.page.number) + " 0 R " + std::to_string(l.nextNumber) + " 0 R]"},
                    {"Count", "2"}});
        const auto s = sigAfter(appendUpdate(base, u));
        CHECK(s.modificationLevel == ModificationLevel::kOther);
        CHECK(s.findings.front().code == "diff.page_tree_changed");
    }
    SECTION("an identical rewrite, an orphan and an /Info update are LTA_UPDATES") {
        Update u;
        u.objects[l.page.number] = serialize(l.pageValue);
        u.objects[l.nextNumber] = "(nobody refers to me)";
        u.objects[l.nextNumber + 1] = "<< /Producer (another tool) >>";
        u.trailer["Info"] = std::to_string(l.nextNumber + 1) + " 0 R";
        const auto s = sigAfter(appendUpdate(base, u));
        CHECK(s.coverage == Coverage::kEntireRevision);
        CHECK(s.modificationLevel == ModificationLevel::kLtaUpdates);
        CHECK(s.docMdpOk);
        REQUIRE(s.findings.empty()); // orphans are notes of the revision diff, not verdict findings
        const PdfReader reader(appendUpdate(base, u));
        const RevisionDiff diff = diffRevisions(reader, 1, 2);
        REQUIRE(diff.findings.size() == 1);
        CHECK(diff.findings[0].code == "diff.orphan_object");
        CHECK(diff.findings[0].object == l.nextNumber);
    }
    SECTION("a new markup annotation is ANNOTATIONS") {
        const auto s = sigAfter(addFreeTextAnnotation(base));
        CHECK(s.modificationLevel == ModificationLevel::kAnnotations);
        CHECK(s.docMdpOk); // an approval signature: pyHanko allows anything but OTHER
    }
    SECTION("a new empty signature field is FORM_FILLING when visible, LTA_UPDATES when not") {
        CHECK(sigAfter(addSignatureField(base, "Extra", "[10 10 100 50]")).modificationLevel ==
              ModificationLevel::kFormFilling);
        CHECK(sigAfter(addSignatureField(base, "Extra", "[0 0 0 0]")).modificationLevel ==
              ModificationLevel::kLtaUpdates);
    }
    SECTION("a non-signature field added is OTHER") {
        const std::string withField = addSignatureField(base, "Extra", "[0 0 0 0]");
        std::string text = withField;
        const std::size_t ft = text.rfind("/FT /Sig");
        text.replace(ft, 8, "/FT /Tx ");
        // The edit changed no lengths, so offsets stay valid.
        const auto s = sigAfter(text);
        CHECK(s.modificationLevel == ModificationLevel::kOther);
        CHECK(s.findings.front().code == "diff.non_signature_field_added");
    }
    SECTION("bytes after the last %%EOF that are no revision are OTHER") {
        const DocumentAnalysis analysis = analyzeDocument(base + "3 0 obj\n<< /Type /Page >>\nendobj\n");
        CHECK(analysis.signatures[0].coverage == Coverage::kEntireRevision);
        CHECK(analysis.signatures[0].modificationLevel == ModificationLevel::kOther);
        CHECK(analysis.signatures[0].findings.back().code == "diff.trailing_data");
        CHECK(analysis.warnings.front().code == "structure.trailing_data");
    }
}

TEST_CASE("updates to Adobe files with object streams are classified too", "[revisions][diff]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::string base = corpusPdf("minimal-two-fields-signed-twice.pdf");
    const Layout l = layoutOf(base);
    const PdfReader reader(base);
    const auto& entries = reader.revisions()[0].entries;
    CHECK(std::any_of(entries.begin(), entries.end(),
                      [](const XrefEntry& e) { return e.kind == XrefEntry::Kind::kInObjectStream; }));
    auto levelOf = [](const std::string& bytes, const std::string& field) {
        const DocumentAnalysis analysis = analyzeDocument(bytes);
        const SignatureInfo* sig = signatureNamed(analysis, field);
        REQUIRE(sig != nullptr);
        return sig->modificationLevel;
    };
    CHECK(levelOf(addInfoUpdate(base), "Sig1") == ModificationLevel::kLtaUpdates);
    CHECK(levelOf(addFreeTextAnnotation(base), "Sig1") == ModificationLevel::kAnnotations);
    Update u;
    u.objects[l.root.number] =
        withKeys(l.rootValue, {{"OpenAction", "[" + std::to_string(l.page.number) + " 0 R /Fit]"}});
    CHECK(levelOf(appendUpdate(base, u), "Sig1") == ModificationLevel::kOther);
    CHECK(levelOf(appendUpdate(base, u), "Sig2") == ModificationLevel::kOther);
}

TEST_CASE("a signature made after the signed revision may not change later, nor share its bytes", "[revisions][diff]") {
    // pyHanko compares every later revision with the signed one only: to the first signature, the
    // second one rewritten in a third update looks like the second field being signed. Our rules
    // look at the revision before, too.
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::string base = corpusPdf("minimal-signed-twice-second-created.pdf");
    const PdfReader reader(base);
    const std::size_t last = reader.lastRevision();
    const DocumentAnalysis genuine = analyzeDocument(reader);
    REQUIRE(genuine.signatures.size() == 2);
    // Signing order: the first one's review sees the second one's revision.
    const SignatureInfo* sig1 = &genuine.signatures[0];
    const SignatureInfo* sig2 = &genuine.signatures[1];
    const std::string first = sig1->fieldName;
    const std::string second = sig2->fieldName;
    REQUIRE(sig1->modificationLevel != ModificationLevel::kOther);
    REQUIRE(sig2->signatureRef);
    const PdfObject sig2Value = reader.resolve(*sig2->signatureRef, last);
    const PdfObject sig2Field = reader.resolve(sig2->fieldRef, last);
    const std::uint32_t next = layoutOf(base).nextNumber;
    auto findingsOf = [](const std::string& bytes, const std::string& field) {
        const DocumentAnalysis analysis = analyzeDocument(bytes);
        const SignatureInfo* sig = signatureNamed(analysis, field);
        REQUIRE(sig != nullptr);
        CHECK(sig->modificationLevel == ModificationLevel::kOther);
        CHECK_FALSE(sig->docMdpOk);
        std::set<std::string> codes;
        for (const auto& f : sig->findings) {
            UNSCOPED_INFO(field << ": " << f.code << " " << f.detail);
            codes.insert(f.code);
        }
        return codes;
    };

    SECTION("the second signature's dictionary rewritten with another /M") {
        Update u;
        u.objects[sig2->signatureRef->number] = withKeys(sig2Value, {{"M", "(D:20200101000000Z)"}});
        CHECK(findingsOf(appendUpdate(base, u), first).count("diff.signature_redefined") == 1);
    }
    SECTION("the second field pointed at a copy of its signature dictionary") {
        Update u;
        u.objects[next] = withKeys(sig2Value, {});
        u.objects[sig2->fieldRef.number] = withKeys(sig2Field, {{"V", std::to_string(next) + " 0 R"}});
        const std::string bytes = appendUpdate(base, u);
        CHECK(findingsOf(bytes, first).count("diff.signature_value_replaced") == 1);
    }
    SECTION("the second field's dictionary rewritten with another /Rect") {
        Update u;
        u.objects[sig2->fieldRef.number] = withKeys(sig2Field, {{"Rect", "[0 0 300 300]"}});
        CHECK(findingsOf(appendUpdate(base, u), first).count("diff.signed_field_changed") == 1);
    }
    SECTION("a rewrite with the same value is harmless") {
        Update u;
        u.objects[sig2->signatureRef->number] = withKeys(sig2Value, {});
        const DocumentAnalysis analysis = analyzeDocument(appendUpdate(base, u));
        CHECK(signatureNamed(analysis, first)->modificationLevel != ModificationLevel::kOther);
    }
    SECTION("two fields with one signature dictionary collide") {
        // The first field given the second one's dictionary: both claim the second one's bytes.
        const PdfObject sig1Field = reader.resolve(sig1->fieldRef, last);
        Update u;
        u.objects[sig1->fieldRef.number] =
            withKeys(sig1Field, {{"V", std::to_string(sig2->signatureRef->number) + " 0 R"}});
        const std::string bytes = appendUpdate(base, u);
        CHECK(findingsOf(bytes, first).count("signature.byterange_collision") == 1);
        CHECK(findingsOf(bytes, second).count("signature.byterange_collision") == 1);
    }
}

TEST_CASE("a certification signature's DocMDP permission bounds later changes", "[revisions][diff]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::string certified = corpusPdf("certified-with-indirect-refs-in-dir.pdf"); // P = 1
    auto sigAfter = [&](const std::string& bytes) {
        const DocumentAnalysis analysis = analyzeDocument(bytes);
        REQUIRE(analysis.signatures.size() == 1);
        return analysis.signatures[0];
    };
    const auto info = sigAfter(addInfoUpdate(certified));
    CHECK(info.modificationLevel == ModificationLevel::kLtaUpdates);
    CHECK(info.docMdpOk);
    const auto annotation = sigAfter(addFreeTextAnnotation(certified));
    CHECK(annotation.modificationLevel == ModificationLevel::kAnnotations);
    CHECK_FALSE(annotation.docMdpOk);
    // New visible signature fields are not allowed after a certification (pyHanko's default).
    const auto visible = sigAfter(addSignatureField(certified, "Extra", "[10 10 100 50]"));
    CHECK(visible.modificationLevel == ModificationLevel::kOther);
    CHECK(visible.findings.front().code == "diff.new_visible_field_after_certification");
    const auto invisible = sigAfter(addSignatureField(certified, "Extra", "[0 0 0 0]"));
    CHECK(invisible.modificationLevel == ModificationLevel::kLtaUpdates);
    CHECK(invisible.docMdpOk);
}

TEST_CASE("docMdpPermits follows ISO 32000 and pyHanko", "[revisions][diff]") {
    using L = ModificationLevel;
    CHECK(docMdpPermits(1, L::kNone));
    CHECK(docMdpPermits(1, L::kLtaUpdates));
    CHECK_FALSE(docMdpPermits(1, L::kFormFilling));
    CHECK(docMdpPermits(2, L::kFormFilling));
    CHECK_FALSE(docMdpPermits(2, L::kAnnotations));
    CHECK(docMdpPermits(3, L::kAnnotations));
    CHECK_FALSE(docMdpPermits(3, L::kOther));
    CHECK(docMdpPermits(std::nullopt, L::kAnnotations));
    CHECK_FALSE(docMdpPermits(std::nullopt, L::kOther));
    FieldLock lock{"Include", {"Sig1", "Party"}};
    CHECK(lock.locks("Sig1"));
    CHECK(lock.locks("Party.Name"));
    CHECK_FALSE(lock.locks("Sig2"));
    CHECK_FALSE(lock.locks("Sig10"));
    CHECK(FieldLock{"Exclude", {"Sig1"}}.locks("Sig2"));
    CHECK(FieldLock{"All", {}}.locks("Anything"));
}

// ------------------------------------------------------------------ issue 3: signed uploads

TEST_CASE("a signed upload is accepted only as allowed incremental updates", "[revisions][upload]") {
    if (!haveCorpus()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    const std::string twoFields = corpusPdf("minimal-two-fields.pdf");

    SECTION("two signatures in pre-created fields") {
        const UploadCheck check = checkIncrementalUpload(twoFields, corpusPdf("extensions-direct.pdf"));
        CHECK(check.allowed);
        CHECK(check.reason.empty());
        CHECK(check.issuedRevisions == 2);
        CHECK(check.uploadedRevisions == 4);
        CHECK(check.level == ModificationLevel::kFormFilling);
        REQUIRE(check.newSignatures.size() == 2);
        CHECK(check.newSignatures[0].fieldName == "Sig1");
        CHECK(check.newSignatures[0].revision == 2);
        CHECK(check.newSignatures[1].fieldName == "Sig2");
        CHECK(check.newSignatures[1].coverage == Coverage::kEntireFile);
        for (const auto& s : check.newSignatures) {
            // The DER SEQUENCE alone, without the zero padding of /Contents.
            REQUIRE(s.cmsDer.size() > 100);
            CHECK(static_cast<unsigned char>(s.cmsDer[0]) == 0x30);
            CHECK(static_cast<unsigned char>(s.cmsDer[1]) == 0x82);
            const std::size_t declared =
                (static_cast<unsigned char>(s.cmsDer[2]) << 8) | static_cast<unsigned char>(s.cmsDer[3]);
            CHECK(s.cmsDer.size() == 4 + declared);
        }
    }
    SECTION("a signature, DSS and a document timestamp") {
        const UploadCheck check = checkIncrementalUpload(corpusPdf("minimal-with-field.pdf"),
                                                         corpusPdf("pades-lta-dss-indirect-arrs-test.pdf"));
        CHECK(check.allowed);
        REQUIRE(check.newSignatures.size() == 2);
        CHECK(check.newSignatures[1].type == "DocTimeStamp");
    }
    SECTION("a catalog key added after we issued is refused, and so is the later override") {
        // Relative to the issued file, revision 2 already adds /DontOverrideMe to the catalog.
        const UploadCheck check = checkIncrementalUpload(twoFields, corpusPdf("extensions-indirect-not-all-paths.pdf"));
        CHECK_FALSE(check.allowed);
        CHECK(check.reason == "upload.forbidden_change");
        CHECK(check.level == ModificationLevel::kOther);
        CHECK(check.offendingObjects == std::vector<std::uint32_t>{1});
    }
    SECTION("issued = the revision that holds Sig1 of a pyHanko file") {
        for (const auto& [file, allowed] :
             std::vector<std::pair<std::string, bool>>{{"form-update-override-appearance-stream.pdf", true},
                                                       {"form-update-override-appearance-stream-sneaky.pdf", false},
                                                       {"form-update-ap-indirect-sneaky-trailer.pdf", false},
                                                       {"extensions-indirect.pdf", true},
                                                       {"extensions-indirect-not-all-paths.pdf", false}}) {
            INFO(file);
            const std::string uploaded = corpusPdf(file);
            const PdfReader reader(uploaded);
            const DocumentAnalysis analysis = analyzeDocument(reader);
            const SignatureInfo* sig1 = signatureNamed(analysis, "Sig1");
            REQUIRE(sig1 != nullptr);
            const std::string issued = uploaded.substr(0, reader.revisions()[*sig1->signedRevision].endOffset);
            const UploadCheck check = checkIncrementalUpload(issued, uploaded);
            CHECK(check.allowed == allowed);
            if (allowed) {
                REQUIRE(check.newSignatures.size() == 1);
                CHECK(check.newSignatures[0].fieldName == "Sig2");
            } else {
                CHECK(check.reason == "upload.forbidden_change");
                CHECK(check.offendingObjects.size() == 1);
                CHECK((check.offendingObjects[0] == 9 || check.offendingObjects[0] == 10));
            }
        }
    }
    SECTION("a later revision that breaks a new signature is refused") {
        // Relative to the issued file, Sig1's appearance stream is new, so pyHanko's comparison
        // with the issued revision alone takes its rewrite for form filling. Sig1 signed that
        // stream, though: the review of the issued revision refuses it (a signed field keeps its
        // appearance), and so would Sig1's own review.
        const std::string uploaded = corpusPdf("extensions-direct.pdf");
        const PdfReader reader(uploaded);
        const DocumentAnalysis analysis = analyzeDocument(reader);
        const SignatureInfo* sig1 = signatureNamed(analysis, "Sig1");
        REQUIRE(sig1 != nullptr);
        const PdfObject field = reader.resolve(sig1->fieldRef, reader.lastRevision());
        const PdfObject appearance = reader.deref(field.asDictionary()->get("AP"), reader.lastRevision());
        const auto normal = appearance.asDictionary()->get("N").asReference();
        REQUIRE(normal);
        Update u;
        u.objects[normal->number] =
            "<< /Type /XObject /Subtype /Form /BBox [0 0 100 100] /Length 14 >>\nstream\n0 0 100 100 re\nendstream";
        const UploadCheck check = checkIncrementalUpload(twoFields, appendUpdate(uploaded, u));
        CHECK_FALSE(check.allowed);
        CHECK(check.reason == "upload.forbidden_change");
        INFO(check.detail << (check.findings.empty()
                                  ? ""
                                  : " / " + check.findings.back().code + " " + check.findings.back().detail));
        CHECK(std::any_of(check.findings.begin(), check.findings.end(), [](const ChangeFinding& f) {
            return f.code == "diff.signed_appearance_changed" && f.detail.find("Sig1") != std::string::npos;
        }));
        CHECK(std::find(check.offendingObjects.begin(), check.offendingObjects.end(), normal->number) !=
              check.offendingObjects.end());
        const DocumentAnalysis attacked = analyzeDocument(appendUpdate(uploaded, u));
        CHECK(signatureNamed(attacked, "Sig1")->modificationLevel == ModificationLevel::kOther);
    }
    SECTION("refusals") {
        const std::string uploaded = corpusPdf("extensions-direct.pdf");
        std::string tampered = twoFields;
        tampered[tampered.find("Hello World")] = 'J';
        CHECK(checkIncrementalUpload(tampered, uploaded).reason == "upload.not_ours");
        CHECK(checkIncrementalUpload(uploaded + "x", uploaded).reason == "upload.not_ours");
        CHECK(checkIncrementalUpload(twoFields.substr(0, twoFields.size() - 20), uploaded).reason ==
              "upload.not_revision_boundary");
        CHECK(checkIncrementalUpload(twoFields, twoFields).reason == "upload.no_new_signature");
        CHECK(checkIncrementalUpload(twoFields, addInfoUpdate(twoFields)).reason == "upload.no_new_signature");
        CHECK(checkIncrementalUpload(twoFields, uploaded + "1 0 obj\n<< >>\nendobj\n").reason ==
              "upload.trailing_data");
        CHECK(checkIncrementalUpload(twoFields, addFreeTextAnnotation(uploaded)).reason == "upload.forbidden_change");
    }
    SECTION("a changed non-signature field") {
        // Issue a document with a text field, then change its value in an update.
        const Layout l = layoutOf(twoFields);
        Update addText;
        addText.objects[l.nextNumber] =
            "<< /FT /Tx /T (Name) /V (Alice) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P " +
            std::to_string(l.page.number) + " 0 R >>";
        std::string fields = serialize(l.acroFormValue.asDictionary()->get("Fields"));
        fields.insert(fields.size() - 1, std::to_string(l.nextNumber) + " 0 R ");
        addText.objects[l.acroForm->number] = withKeys(l.acroFormValue, {{"Fields", fields}});
        const std::string issued = appendUpdate(twoFields, addText);
        const PdfReader reader(issued);
        Update change;
        change.objects[l.nextNumber] =
            withKeys(reader.resolve({l.nextNumber, 0}, reader.lastRevision()), {{"V", "(Mallory)"}});
        const UploadCheck check = checkIncrementalUpload(issued, appendUpdate(issued, change));
        CHECK_FALSE(check.allowed);
        CHECK(check.reason == "upload.unsigned_field_changed");
        CHECK(check.level == ModificationLevel::kFormFilling);
    }
    SECTION("unreadable uploads throw, verdicts do not") {
        CHECK_THROWS_AS(checkIncrementalUpload(twoFields, "not a pdf"), Error);
    }
}
