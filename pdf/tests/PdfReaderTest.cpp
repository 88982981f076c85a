// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>
#include <zlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "Process.h"
#include "TestPaths.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/PdfReader.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/pdf/RevisionAnalysis.h"

using namespace kooperdoc;
using namespace kooperdoc::pdf;

namespace {

std::string corpusDir() {
    return testing::sharedDir() + "/corpus/pyhanko/pdf";
}

std::vector<std::string> corpusFiles() {
    std::vector<std::string> files;
    if (!std::filesystem::is_directory(corpusDir())) return files;
    for (const auto& entry : std::filesystem::directory_iterator(corpusDir()))
        if (entry.path().extension() == ".pdf") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

std::string flate(std::string_view data) {
    uLongf size = compressBound(static_cast<uLong>(data.size()));
    std::string out(size, '\0');
    REQUIRE(compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(data.data()),
                      static_cast<uLong>(data.size()), 9) == Z_OK);
    out.resize(size);
    return out;
}

/// Writes small PDFs with correct offsets: objects, then a classic xref table or an xref
/// stream per revision.
class PdfWriter {
public:
    PdfWriter() : out_("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n") {}

    void object(std::uint32_t number, const std::string& body) {
        entries_.push_back({number, 1, out_.size(), 0});
        out_ += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
    }
    void stream(std::uint32_t number, const std::string& dict, const std::string& data) {
        object(number,
               "<< " + dict + " /Length " + std::to_string(data.size()) + " >>\nstream\n" + data + "\nendstream");
    }
    /// An object stream holding `objects`; their xref entries become type 2.
    void objectStream(std::uint32_t number, const std::vector<std::pair<std::uint32_t, std::string>>& objects) {
        std::string header;
        std::string body;
        for (const auto& [n, text] : objects) {
            header += std::to_string(n) + " " + std::to_string(body.size()) + " ";
            body += text + "\n";
        }
        stream(number,
               "/Type /ObjStm /N " + std::to_string(objects.size()) + " /First " + std::to_string(header.size()) +
                   " /Filter /FlateDecode",
               flate(header + body));
        for (std::size_t i = 0; i < objects.size(); ++i)
            entries_.push_back({objects[i].first, 2, number, i});
    }
    void freeEntry(std::uint32_t number) { entries_.push_back({number, 0, 0, 1}); }
    void compressedEntry(std::uint32_t number, std::uint32_t stream, std::size_t index) {
        entries_.push_back({number, 2, stream, index});
    }

    /// Ends a revision with a classic table; returns the xref offset.
    std::size_t finishTable(const std::string& trailerExtra = "/Root 1 0 R") {
        const std::size_t xref = out_.size();
        out_ += "xref\n";
        if (prev_ == 0) out_ += "0 1\n0000000000 65535 f \n";
        for (const auto& e : entries_) {
            char line[32];
            std::snprintf(line, sizeof line, "%010zu %05d %c \n", e.type == 1 ? e.offset : 0, e.type == 0 ? 1 : 0,
                          e.type == 1 ? 'n' : 'f');
            out_ += std::to_string(e.number) + " 1\n" + line;
        }
        out_ += "trailer\n<< /Size " + std::to_string(size()) + " " + trailerExtra;
        if (prev_ != 0) out_ += " /Prev " + std::to_string(prev_);
        out_ += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
        prev_ = xref;
        entries_.clear();
        return xref;
    }

    /// Ends a revision with an xref stream (W [1 4 2], PNG Up predictor); returns its offset.
    std::size_t finishStream(std::uint32_t streamNumber, const std::string& trailerExtra = "/Root 1 0 R") {
        const std::size_t at = out_.size();
        entries_.push_back({streamNumber, 1, at, 0});
        std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.number < b.number; });
        std::string rows;
        std::string index;
        std::string previous(7, '\0');
        for (const auto& e : entries_) {
            index += std::to_string(e.number) + " 1 ";
            std::string row(7, '\0');
            row[0] = static_cast<char>(e.type);
            const std::uint64_t second = e.type == 1 ? e.offset : e.type == 2 ? e.offset : 0;
            for (int i = 0; i < 4; ++i)
                row[1 + i] = static_cast<char>((second >> (8 * (3 - i))) & 0xFF);
            const std::uint64_t third = e.type == 2 ? e.index : e.type == 0 ? 1 : 0;
            row[5] = static_cast<char>((third >> 8) & 0xFF);
            row[6] = static_cast<char>(third & 0xFF);
            rows += '\x02'; // PNG "Up"
            for (int i = 0; i < 7; ++i)
                rows += static_cast<char>(row[static_cast<std::size_t>(i)] - previous[static_cast<std::size_t>(i)]);
            previous = row;
        }
        const std::string data = flate(rows);
        out_ += std::to_string(streamNumber) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(size()) +
                " /W [1 4 2] /Index [" + index + "] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >> " +
                trailerExtra + (prev_ != 0 ? " /Prev " + std::to_string(prev_) : "") + " /Length " +
                std::to_string(data.size()) + " >>\nstream\n" + data + "\nendstream\nendobj\nstartxref\n" +
                std::to_string(at) + "\n%%EOF\n";
        prev_ = at;
        entries_.clear();
        return at;
    }

    std::string& bytes() { return out_; }

private:
    struct Entry {
        std::uint32_t number;
        int type; // 0 free, 1 in file, 2 in object stream
        std::size_t offset;
        std::size_t index;
    };
    std::size_t size() {
        for (const auto& e : entries_)
            maxNumber_ = std::max(maxNumber_, e.number);
        return maxNumber_ + 1;
    }
    std::string out_;
    std::vector<Entry> entries_;
    std::size_t prev_ = 0;
    std::uint32_t maxNumber_ = 0;
};

/// The smallest useful document: catalog, page tree, one page, its content stream.
PdfWriter minimalDocument() {
    PdfWriter w;
    w.object(1, "<< /Type /Catalog /Pages 2 0 R >>");
    w.object(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.object(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>");
    w.stream(4, "", "BT /F1 12 Tf (Hello) Tj ET");
    return w;
}

bool documentedReason(const std::string& reason) {
    return reason == "pdf.malformed" || reason == "pdf.limit_exceeded" || reason == "pdf.unsupported";
}

std::string reasonOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::kInvalidArgument);
        return e.reason();
    }
    return "";
}

/// Everything an untrusted file can make the verifier do: structure, every object of every
/// revision, the signature analysis. Returns "" or the documented error reason.
std::string exercise(const std::string& bytes, const PdfLimits& limits = {}) {
    try {
        const PdfReader reader(bytes, limits);
        for (std::size_t r = 0; r < reader.revisionCount(); ++r)
            for (const auto& e : reader.revisions()[r].entries) {
                if (e.kind == XrefEntry::Kind::kFree) continue;
                try {
                    const PdfObject value =
                        reader.resolve({e.number, e.kind == XrefEntry::Kind::kInFile ? e.generation : 0}, r);
                    if (const PdfStream* s = value.asStream()) {
                        try {
                            (void)reader.decodeStream(*s);
                        } catch (const Error& err) {
                            if (!documentedReason(err.reason())) return "undocumented:" + err.reason();
                        }
                    }
                } catch (const Error& err) {
                    if (!documentedReason(err.reason())) return "undocumented:" + err.reason();
                }
            }
        (void)analyzeDocument(reader);
    } catch (const Error& e) {
        return e.reason();
    }
    return "";
}

} // namespace

// ------------------------------------------------------------------ object parser

TEST_CASE("the object parser reads every PDF value type", "[revisions][parser]") {
    CHECK(PdfReader::parseValue("null").isNull());
    CHECK(PdfReader::parseValue("true").asBool() == true);
    CHECK(PdfReader::parseValue("false").asBool() == false);
    CHECK(PdfReader::parseValue("-42").asInteger() == -42);
    CHECK(PdfReader::parseValue("+17").asInteger() == 17);
    CHECK(PdfReader::parseValue("3.5").asNumber() == Approx(3.5));
    CHECK(PdfReader::parseValue("-.25").asNumber() == Approx(-0.25));
    CHECK(PdfReader::parseValue("4.").type() == PdfObject::Type::kReal);
    CHECK(PdfReader::parseValue("12 0 R").asReference() == ObjectRef{12, 0});
    CHECK(PdfReader::parseValue("/Name#20with#2Fhash").asName() != nullptr);
    CHECK(*PdfReader::parseValue("/Name#20with#2Fhash").asName() == "Name with/hash");
    CHECK(*PdfReader::parseValue("/").asName() == "");

    const PdfObject literal = PdfReader::parseValue("(a\\(b\\)c (nested) \\n\\101\\7\\\r\nd\re)");
    REQUIRE(literal.asString() != nullptr);
    CHECK(literal.asString()->bytes == std::string("a(b)c (nested) \nA\x07"
                                                   "d\ne"));
    CHECK_FALSE(literal.asString()->hex);

    const PdfObject hex = PdfReader::parseValue("<48 65 6c6C 6>");
    REQUIRE(hex.asString() != nullptr);
    CHECK(hex.asString()->bytes == "Hell`");
    CHECK(hex.asString()->hex);

    const PdfObject array = PdfReader::parseValue("[1 2 0 R 3 (x) /N [4] << /K 5 >> 6 7]");
    REQUIRE(array.asArray() != nullptr);
    REQUIRE(array.asArray()->size() == 9);
    CHECK((*array.asArray())[0].asInteger() == 1);
    CHECK((*array.asArray())[1].asReference() == ObjectRef{2, 0});
    CHECK((*array.asArray())[2].asInteger() == 3);
    CHECK((*array.asArray())[6].asDictionary()->get("K").asInteger() == 5);
    CHECK((*array.asArray())[7].asInteger() == 6);

    const PdfObject dict = PdfReader::parseValue("<</Type/Sig/Contents<00ff>/ByteRange[0 1 2 3]%comment\n/M(D:2020)>>");
    REQUIRE(dict.asDictionary() != nullptr);
    CHECK(dict.asDictionary()->get("Type").isName("Sig"));
    CHECK(dict.asDictionary()->get("Contents").asString()->bytes == std::string("\x00\xff", 2));
    CHECK(dict.asDictionary()->get("ByteRange").asArray()->size() == 4);
    CHECK(dict.asDictionary()->get("Missing").isNull());
    CHECK(dict.asDictionary()->size() == 4);
}

TEST_CASE("the object parser rejects malformed values as pdf.malformed", "[revisions][parser]") {
    for (const char* bad : {"", "(unterminated", "<4142", "<41 zz>", "[1 2", "<< /A 1", "<< 1 2 >>", "<< /A 1 /A 2 >>",
                            "1.2.3", "--5", "12abc", "endobj", ")", "{", "99999999999999999999", "<< /A >>"}) {
        INFO(bad);
        CHECK(reasonOf([&] { PdfReader::parseValue(bad); }) == "pdf.malformed");
    }
}

TEST_CASE("nesting beyond the limit is pdf.limit_exceeded, never a stack overflow", "[revisions][parser]") {
    PdfLimits limits;
    limits.maxNestingDepth = 64;
    CHECK(reasonOf([&] { PdfReader::parseValue(std::string(63, '[') + std::string(63, ']'), limits); }).empty());
    CHECK(reasonOf([&] { PdfReader::parseValue(std::string(100000, '['), limits); }) == "pdf.limit_exceeded");
    std::string dicts;
    for (int i = 0; i < 100000; ++i)
        dicts += "<</A ";
    CHECK(reasonOf([&] { PdfReader::parseValue(dicts, limits); }) == "pdf.limit_exceeded");
    // A configured depth beyond what the stack can take is capped, not trusted.
    limits.maxNestingDepth = 10'000'000;
    CHECK(reasonOf([&] { PdfReader::parseValue(std::string(1'000'000, '['), limits); }) == "pdf.limit_exceeded");
    limits = {};
    limits.maxParsedValues = 1000;
    std::string many = "[";
    for (int i = 0; i < 2000; ++i)
        many += "1 ";
    CHECK(reasonOf([&] { PdfReader::parseValue(many + "]", limits); }) == "pdf.limit_exceeded");
}

TEST_CASE("a spent time budget is pdf.limit_exceeded wherever it runs out", "[revisions][hostile]") {
    PdfWriter w = minimalDocument();
    w.finishTable();
    PdfLimits limits;
    CHECK(limits.maxDuration == std::chrono::seconds(10));
    SECTION("a zero budget refuses the file before reading it") {
        limits.maxDuration = std::chrono::milliseconds(0);
        CHECK(reasonOf([&] { (void)PdfReader(w.bytes(), limits); }) == "pdf.limit_exceeded");
        CHECK(exercise(w.bytes(), limits) == "pdf.limit_exceeded");
    }
    SECTION("the parser reads the clock while it parses, not only at the start") {
        limits.maxDuration = std::chrono::milliseconds(0);
        CHECK(reasonOf([&] { PdfReader::parseValue("[1 2 3]", limits); }).empty()); // fewer values than a clock read
        std::string many = "[";
        for (int i = 0; i < 2000; ++i)
            many += "1 ";
        CHECK(reasonOf([&] { PdfReader::parseValue(many + "]", limits); }) == "pdf.limit_exceeded");
    }
    SECTION("the budget runs from construction on, into the analysis") {
        // Deterministic without an injected clock: the steady clock never runs backwards, so
        // after the sleep the budget is spent, however fast or slow the machine is.
        limits.maxDuration = std::chrono::milliseconds(200);
        const PdfReader reader(w.bytes(), limits);
        CHECK_NOTHROW(reader.checkDeadline());
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        CHECK(reasonOf([&] { reader.checkDeadline(); }) == "pdf.limit_exceeded");
        CHECK(reasonOf([&] { (void)analyzeDocument(reader); }) == "pdf.limit_exceeded");
    }
    SECTION("a year or more is no budget at all") {
        limits.maxDuration = std::chrono::milliseconds::max();
        CHECK(exercise(w.bytes(), limits).empty());
        limits.maxDuration = std::chrono::hours(24 * 365);
        CHECK(exercise(w.bytes(), limits).empty());
    }
}

TEST_CASE("text strings decode PDFDocEncoding and UTF-16BE", "[revisions][parser]") {
    CHECK(textStringToUtf8("Sig1") == "Sig1");
    CHECK(textStringToUtf8(std::string("\xFE\xFF\x00\x5A\x01\x7C\xD8\x3D\xDE\x00", 10)) == "Zż\xF0\x9F\x98\x80");
    CHECK(textStringToUtf8("\x95\xA0") == "Ł€");
}

// ------------------------------------------------------------------ structure

TEST_CASE("a classic file with an incremental update has two revisions", "[revisions][structure]") {
    PdfWriter w = minimalDocument();
    w.object(5, "42");
    w.object(6, "<< /Length 5 0 R >>\nstream\n" + std::string(42, 'x') + "\nendstream");
    w.finishTable();
    const std::size_t firstEnd = w.bytes().size();
    w.object(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>");
    w.object(7, "(new)");
    w.finishTable();

    const PdfReader reader(w.bytes());
    REQUIRE(reader.revisionCount() == 2);
    CHECK(reader.revisions()[0].endOffset == firstEnd);
    CHECK(reader.revisions()[0].eofMarkerEnd == firstEnd - 1);
    CHECK(reader.revisions()[1].endOffset == w.bytes().size());
    CHECK(reader.trailingBytes() == 0);
    CHECK(reader.unaccountedEofMarkers().empty());
    CHECK(reader.revisions()[1].trailer.get("Prev").asInteger().has_value());
    CHECK(reader.trailer(1).get("Root").asReference() == ObjectRef{1, 0});
    CHECK_FALSE(reader.trailer(1).contains("Prev"));

    // Values as of each revision.
    const auto oldBox = reader.resolve({3, 0}, 0).asDictionary()->get("MediaBox").asArray();
    const auto newBox = reader.resolve({3, 0}, 1).asDictionary()->get("MediaBox").asArray();
    CHECK((*oldBox)[2].asInteger() == 595);
    CHECK((*newBox)[2].asInteger() == 612);
    CHECK(reader.resolve({7, 0}, 0).isNull());
    CHECK(reader.resolve({7, 0}, 1).asString()->bytes == "new");
    CHECK(reader.resolve({3, 1}, 1).isNull()); // wrong generation: null, as ISO 32000 says
    CHECK(reader.resolve({99, 0}, 1).isNull());
    CHECK(reader.introducingRevision(7) == std::size_t{1});
    CHECK(reader.lastChange(3, 1) == std::size_t{1});
    CHECK(reader.lastChange(3, 0) == std::size_t{0});
    CHECK(reader.entryInRevision(4, 1) == nullptr);

    // An indirect /Length resolves, and the data are checked against endstream.
    const PdfObject stream = reader.resolve({6, 0}, 1);
    REQUIRE(stream.asStream() != nullptr);
    CHECK(reader.rawStreamData(*stream.asStream()) == std::string(42, 'x'));
    CHECK(reader.sameValue(reader.resolve({4, 0}, 0), reader.resolve({4, 0}, 1)));
    CHECK_FALSE(reader.sameValue(reader.resolve({3, 0}, 0), reader.resolve({3, 0}, 1)));
}

TEST_CASE("xref streams with PNG predictors and object streams resolve", "[revisions][structure]") {
    PdfWriter w;
    w.objectStream(10, {{1, "<< /Type /Catalog /Pages 2 0 R >>"},
                        {2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
                        {3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [] >>"}});
    w.stream(4, "/Filter /FlateDecode", flate("0 0 m 10 10 l S"));
    w.finishStream(11);
    w.objectStream(12, {{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"}});
    w.freeEntry(4);
    w.finishStream(13);

    const PdfReader reader(w.bytes());
    REQUIRE(reader.revisionCount() == 2);
    CHECK(reader.revisions()[0].sections[0].kind == XrefSectionInfo::Kind::kStream);
    CHECK(reader.revisions()[0].sections[0].streamRef == ObjectRef{11, 0});
    CHECK(reader.trailer(1).get("Root").asReference() == ObjectRef{1, 0});
    CHECK_FALSE(reader.trailer(1).contains("W"));
    const auto e = reader.lookup(2, 1);
    REQUIRE(e);
    CHECK(e->kind == XrefEntry::Kind::kInObjectStream);
    CHECK(e->offset == 10);
    CHECK(e->indexInStream == 1);
    CHECK(reader.resolve({1, 0}, 1).asDictionary()->get("Type").isName("Catalog"));
    CHECK(reader.resolve({3, 0}, 0).asDictionary()->contains("Annots"));
    CHECK_FALSE(reader.resolve({3, 0}, 1).asDictionary()->contains("Annots"));
    const PdfObject content = reader.resolve({4, 0}, 0);
    REQUIRE(content.asStream() != nullptr);
    CHECK(reader.decodeStream(*content.asStream()) == "0 0 m 10 10 l S");
    CHECK(reader.resolve({4, 0}, 1).isNull()); // freed in the update
    CHECK_FALSE(reader.inUse(4, 1));
}

TEST_CASE("hybrid files take from /XRefStm what the table leaves free", "[revisions][structure]") {
    PdfWriter w = minimalDocument();
    std::string& out = w.bytes();
    // Object 5 lives in an object stream that only the hybrid xref stream knows about.
    const std::string header = "5 0 ";
    const std::string objstmData = flate(header + "(hidden in objstm)");
    const std::size_t objstmAt = out.size();
    out += "6 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length " + std::to_string(objstmData.size()) +
           " >>\nstream\n" + objstmData + "\nendstream\nendobj\n";
    std::string rows;
    rows += std::string("\x02\x00\x06\x00", 4); // object 5: type 2, stream 6, index 0
    const std::string xrefStm = flate(rows);
    const std::size_t xrefStmAt = out.size();
    out += "7 0 obj\n<< /Type /XRef /Size 8 /W [1 2 1] /Index [5 1] /Filter /FlateDecode /Length " +
           std::to_string(xrefStm.size()) + " >>\nstream\n" + xrefStm + "\nendstream\nendobj\n";
    // Write the table by hand: objects 1-4, 6 and 7 in the file, 5 free.
    PdfReader plain([&] {
        PdfWriter copy = minimalDocument();
        copy.finishTable();
        return copy.bytes();
    }());
    const std::size_t xref = out.size();
    out += "xref\n0 8\n0000000000 65535 f \n";
    for (std::uint32_t n = 1; n <= 4; ++n) {
        char line[32];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", static_cast<std::size_t>(plain.lookup(n, 0)->offset));
        out += line;
    }
    out += "0000000000 65535 f \n";
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", objstmAt);
    out += line;
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", xrefStmAt);
    out += line;
    out += "trailer\n<< /Size 8 /Root 1 0 R /XRefStm " + std::to_string(xrefStmAt) + " >>\nstartxref\n" +
           std::to_string(xref) + "\n%%EOF\n";

    const PdfReader reader(out);
    REQUIRE(reader.revisionCount() == 1);
    CHECK(reader.revisions()[0].sections[0].kind == XrefSectionInfo::Kind::kHybrid);
    CHECK(reader.revisions()[0].sections[0].hybridStreamRef == ObjectRef{7, 0});
    CHECK(reader.resolve({5, 0}, 0).asString()->bytes == "hidden in objstm");
    CHECK(reader.resolve({3, 0}, 0).asDictionary()->get("Type").isName("Page"));
}

TEST_CASE("an object must lie inside the revision whose xref wrote it", "[revisions][hostile]") {
    // Revision 0 lists object 5 at an offset past its own %%EOF; the bytes arrive with
    // revision 1, whose xref does not mention object 5. Readers that accept this let unsigned
    // bytes change what the signed revision shows.
    PdfWriter w = minimalDocument();
    w.object(5, "(placeholder)");
    w.finishTable();
    std::string bytes = w.bytes();
    const PdfReader honest(bytes);
    const std::size_t placeholderAt = static_cast<std::size_t>(honest.lookup(5, 0)->offset);
    char original[16];
    std::snprintf(original, sizeof original, "%010zu", placeholderAt);
    const std::size_t entry = bytes.find(std::string(original) + " 00000 n");
    REQUIRE(entry != std::string::npos);
    const std::size_t sneakyAt = bytes.size();
    char patched[16];
    std::snprintf(patched, sizeof patched, "%010zu", sneakyAt);
    bytes.replace(entry, 10, patched);
    bytes += "5 0 obj\n(shown only later)\nendobj\n";
    const std::size_t xref = bytes.size();
    bytes += "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev " +
             std::to_string(honest.revisions()[0].startxref) + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    const PdfReader reader(bytes);
    REQUIRE(reader.revisionCount() == 2);
    CHECK(reasonOf([&] { reader.resolve({5, 0}, 0); }) == "pdf.malformed");
    CHECK(reasonOf([&] { reader.resolve({5, 0}, 1); }) == "pdf.malformed");
    CHECK(reader.resolve({3, 0}, 1).asDictionary() != nullptr);
}

TEST_CASE("offsets that are off by a few bytes are tolerated", "[revisions][structure]") {
    PdfWriter w = minimalDocument();
    w.finishTable();
    std::string bytes = w.bytes();
    // Shift every object and the table by three bytes without fixing any offset.
    const std::size_t firstObject = bytes.find("1 0 obj");
    bytes.insert(firstObject, "   ");
    const PdfReader reader(bytes);
    CHECK(reader.revisionCount() == 1);
    CHECK(reader.resolve({3, 0}, 0).asDictionary()->get("Type").isName("Page"));
    CHECK(reader.revisions()[0].sections[0].actualOffset == reader.revisions()[0].sections[0].declaredOffset + 3);
}

TEST_CASE("trailing garbage and stray %%EOF markers are reported", "[revisions][structure]") {
    PdfWriter w = minimalDocument();
    w.finishTable();
    const std::size_t end = w.bytes().size();
    const PdfReader clean(w.bytes() + "\n\n");
    CHECK(clean.trailingBytes() == 2);
    CHECK(clean.trailingBytesAreWhitespace());
    // An "update" without xref and trailer (ISA without xref): bytes after the revision.
    const PdfReader appended(w.bytes() + "3 0 obj\n<< /Type /Page >>\nendobj\n%%EOF\n");
    CHECK(appended.revisionCount() == 1);
    CHECK(appended.revisions()[0].endOffset == end);
    CHECK(appended.trailingBytes() > 0);
    CHECK_FALSE(appended.trailingBytesAreWhitespace());
    CHECK(appended.unaccountedEofMarkers().size() == 1);
}

// ------------------------------------------------------------------ hostile structure

TEST_CASE("hostile structures end in documented errors", "[revisions][hostile]") {
    SECTION("not a PDF") {
        CHECK(reasonOf([] { (void)PdfReader(""); }) == "pdf.malformed");
        CHECK(reasonOf([] { (void)PdfReader("\x89PNG\r\n\x1a\n"); }) == "pdf.malformed");
        CHECK(reasonOf([] { (void)PdfReader("%PDF-1.7\n1 0 obj null endobj\n"); }) == "pdf.malformed");
    }
    SECTION("larger than maxFileSize") {
        PdfLimits limits;
        limits.maxFileSize = 100;
        PdfWriter w = minimalDocument();
        w.finishTable();
        CHECK(reasonOf([&] { (void)PdfReader(w.bytes(), limits); }) == "pdf.limit_exceeded");
    }
    SECTION("xref /Prev loop") {
        PdfWriter w = minimalDocument();
        const std::size_t xref = w.finishTable();
        std::string bytes = w.bytes();
        const std::size_t size = bytes.find("/Size");
        bytes.insert(size, "/Prev " + std::to_string(xref) + " ");
        CHECK(reasonOf([&] { (void)PdfReader(bytes); }) == "pdf.malformed");
    }
    SECTION("an xref chain longer than maxXrefSections") {
        PdfWriter w = minimalDocument();
        w.finishTable();
        for (int i = 0; i < 20; ++i) {
            w.object(5, std::to_string(i));
            w.finishTable();
        }
        PdfLimits limits;
        limits.maxXrefSections = 10;
        CHECK(reasonOf([&] { (void)PdfReader(w.bytes(), limits); }) == "pdf.limit_exceeded");
        CHECK(PdfReader(w.bytes()).revisionCount() == 21);
    }
    SECTION("a huge or wrong /Length, a 1 GB claimed stream") {
        for (const std::string& length : {std::string("1073741824"), std::string("99999999999999"), std::string("3"),
                                          std::string("-5"), std::string("(x)")}) {
            PdfWriter w = minimalDocument();
            w.object(5, "<< /Length " + length + " >>\nstream\nabcdefgh\nendstream");
            w.finishTable();
            const PdfReader reader(w.bytes());
            INFO(length);
            CHECK(reasonOf([&] { reader.resolve({5, 0}, 0); }) == "pdf.malformed");
        }
    }
    SECTION("a /Length that refers to itself") {
        PdfWriter w = minimalDocument();
        w.object(5, "<< /Length 5 0 R >>\nstream\nabc\nendstream");
        w.finishTable();
        const PdfReader reader(w.bytes());
        CHECK(reasonOf([&] { reader.resolve({5, 0}, 0); }) == "pdf.malformed");
    }
    SECTION("object streams with bogus /N or /First") {
        for (const std::string& dict :
             {std::string("/N 1000000000 /First 4"), std::string("/N 1 /First 999999"), std::string("/N -1 /First 4"),
              std::string("/N 1 /First -3"), std::string("/N 5 /First 4")}) {
            INFO(dict);
            PdfWriter w;
            w.objectStream(10, {{1, "<< /Type /Catalog /Pages 2 0 R >>"}});
            w.finishStream(11);
            std::string bytes = w.bytes();
            const std::size_t n = bytes.find("/N 1 /First");
            REQUIRE(n != std::string::npos);
            bytes.replace(n, bytes.find(" /Filter", n) - n, dict); // later offsets shift: tolerated
            CHECK(reasonOf([&] {
                      const PdfReader reader(bytes);
                      reader.resolve({1, 0}, 0);
                  }) == "pdf.malformed");
        }
    }
    SECTION("an xref entry pointing into an object stream at another object") {
        PdfWriter w;
        w.objectStream(10, {{7, "<< /Type /Catalog >>"}});
        w.compressedEntry(8, 10, 0);
        w.compressedEntry(9, 10, 5);
        w.compressedEntry(12, 4, 0); // "object stream" 4 does not exist
        w.finishStream(11, "/Root 7 0 R");
        const PdfReader reader(w.bytes());
        CHECK(reader.resolve({7, 0}, 0).asDictionary() != nullptr);
        CHECK(reasonOf([&] { reader.resolve({8, 0}, 0); }) == "pdf.malformed");
        CHECK(reasonOf([&] { reader.resolve({9, 0}, 0); }) == "pdf.malformed");
        CHECK(reasonOf([&] { reader.resolve({12, 0}, 0); }) == "pdf.malformed");
    }
    SECTION("a flate bomb stops at maxDecompressedBytes") {
        PdfWriter w = minimalDocument();
        w.stream(5, "/Filter /FlateDecode", flate(std::string(8u << 20, '\0')));
        w.finishTable();
        PdfLimits limits;
        limits.maxDecompressedBytes = 1u << 20;
        const PdfReader reader(w.bytes(), limits);
        const PdfObject bomb = reader.resolve({5, 0}, 0);
        REQUIRE(bomb.asStream() != nullptr);
        CHECK(reasonOf([&] { reader.decodeStream(*bomb.asStream()); }) == "pdf.limit_exceeded");
    }
    SECTION("filters we do not implement") {
        PdfWriter w = minimalDocument();
        w.stream(5, "/Filter /LZWDecode", "abc");
        w.finishTable();
        const PdfReader reader(w.bytes());
        CHECK(reasonOf([&] { reader.decodeStream(*reader.resolve({5, 0}, 0).asStream()); }) == "pdf.unsupported");
    }
    SECTION("encrypted documents") {
        PdfWriter w = minimalDocument();
        w.object(5, "<< /Filter /Standard /V 2 /R 3 >>");
        w.finishTable("/Root 1 0 R /Encrypt 5 0 R");
        CHECK(reasonOf([&] { (void)PdfReader(w.bytes()); }) == "pdf.unsupported");
    }
    SECTION("deeply nested arrays inside a file object") {
        PdfWriter w = minimalDocument();
        w.object(5, std::string(200000, '['));
        w.finishTable();
        const PdfReader reader(w.bytes());
        CHECK(reasonOf([&] { reader.resolve({5, 0}, 0); }) == "pdf.limit_exceeded");
        CHECK(exercise(w.bytes()).empty()); // the analysis never needs object 5
    }
    SECTION("xref entries beyond maxObjects") {
        std::string bytes = "%PDF-1.7\nxref\n0 2000000\n";
        bytes += "trailer\n<< /Size 2000000 >>\nstartxref\n9\n%%EOF\n";
        CHECK(reasonOf([&] { (void)PdfReader(bytes); }) == "pdf.limit_exceeded");
    }
    SECTION("a file full of startxref markers") {
        PdfWriter w = minimalDocument();
        w.finishTable();
        std::string bytes = w.bytes();
        for (int i = 0; i < 5000; ++i)
            bytes += "startxref\n9\n%%EOF\n";
        CHECK(reasonOf([&] { (void)PdfReader(bytes); }) == "pdf.limit_exceeded");
    }
    SECTION("an xref stream whose predictor claims enormous rows") {
        PdfWriter w;
        w.objectStream(10, {{1, "<< /Type /Catalog >>"}});
        w.finishStream(11);
        std::string bytes = w.bytes();
        const std::size_t columns = bytes.find("/Columns 7");
        REQUIRE(columns != std::string::npos);
        bytes.replace(columns, 10, "/Columns 16777216");
        CHECK(reasonOf([&] { (void)PdfReader(bytes); }) == "pdf.malformed");
    }
    SECTION("a startxref pointing nowhere") {
        CHECK(reasonOf([] { (void)PdfReader("%PDF-1.7\n" + std::string(2000, ' ') + "startxref\n5\n%%EOF\n"); }) ==
              "pdf.malformed");
    }
}

// ------------------------------------------------------------------ our renderer and the corpus

TEST_CASE("PDFs from our renderer parse with exactly one revision", "[revisions][renderer]") {
    doc::Document d;
    d.provenance.documentId = "KD-TEST-TEST-TEST-TEST";
    d.provenance.documentNumber = "OPS.1234.5.2026";
    d.provenance.title = "Dokument testowy";
    d.provenance.templateId = "test";
    d.provenance.templateVersion = "1.0.0";
    d.provenance.templateSha256 = std::string(64, '0');
    d.provenance.inputSha256 = std::string(64, 'a');
    d.provenance.createdEpochSeconds = 1768471200;
    doc::Block title;
    title.kind = doc::Block::Kind::kTitle;
    title.spans.push_back({"ZAŻÓŁĆ GĘŚLĄ JAŹŃ", false, false});
    d.blocks.push_back(title);
    const auto rendered = renderPdf(d);

    const PdfReader reader(rendered.bytes);
    CHECK(reader.revisionCount() == 1);
    CHECK(reader.revisions()[0].endOffset == rendered.bytes.size());
    CHECK(reader.trailingBytes() == 0);
    CHECK(reader.unaccountedEofMarkers().empty());
    CHECK(exercise(rendered.bytes).empty());
    const DocumentAnalysis analysis = analyzeDocument(reader);
    CHECK(analysis.signatures.empty());
    CHECK(analysis.warnings.empty());
}

TEST_CASE("every corpus PDF loads with every revision and every object", "[revisions][corpus]") {
    const auto files = corpusFiles();
    if (files.empty()) {
        WARN("pyHanko corpus not found at " + corpusDir() + "; skipped");
        return;
    }
    CHECK(files.size() == 36);
    for (const auto& file : files) {
        INFO(file);
        const std::string bytes = testing::readFile(file);
        const PdfReader reader(bytes);
        CHECK(reader.revisions().back().endOffset == bytes.size());
        CHECK(reader.trailingBytes() == 0);
        for (std::size_t r = 1; r < reader.revisionCount(); ++r)
            CHECK(reader.revisions()[r].endOffset > reader.revisions()[r - 1].endOffset);
        CHECK(exercise(bytes).empty());
    }
    // Linearized Adobe output: the main xref section has no startxref of its own, so it joins
    // the first-page section's revision, and the dummy "startxref 0" is no revision.
    const PdfReader adobe(testing::readFile(corpusDir() + "/minimal-two-fields-signed-twice.pdf"));
    REQUIRE(adobe.revisionCount() == 2);
    CHECK(adobe.revisions()[0].sections.size() == 2);
    CHECK(adobe.revisions()[0].endOffset == 26384);
    CHECK(adobe.unaccountedEofMarkers().size() == 1);
    const PdfReader lta(testing::readFile(corpusDir() + "/pades-lta-dss-indirect-arrs-test-2.pdf"));
    CHECK(lta.revisionCount() == 7);
}

namespace {

std::vector<std::string> hostileSeeds() {
    std::vector<std::string> seeds;
    for (const char* name : {"form-update-override-appearance-stream-sneaky.pdf", "minimal-two-fields-signed-twice.pdf",
                             "pades-lta-dss-indirect-arrs-test.pdf", "certified-with-indirect-refs-in-dir.pdf"}) {
        const std::string path = corpusDir() + "/" + name;
        if (std::filesystem::exists(path)) seeds.push_back(testing::readFile(path));
    }
    return seeds;
}

} // namespace

TEST_CASE("corpus files truncated at every 97th byte never crash", "[revisions][hostile]") {
    const auto seeds = hostileSeeds();
    if (seeds.empty()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    std::size_t parsed = 0;
    std::size_t refused = 0;
    for (const auto& seed : seeds) {
        for (std::size_t cut = 0; cut < seed.size(); cut += 97) {
            const std::string reason = exercise(seed.substr(0, cut));
            INFO("cut at " << cut << ": " << reason);
            CHECK((reason.empty() || documentedReason(reason)));
            (reason.empty() ? parsed : refused) += 1;
        }
    }
    CHECK(refused > 0);
    CHECK(parsed > 0); // a cut after an earlier %%EOF leaves a readable earlier revision
}

TEST_CASE("random byte flips in corpus files never crash", "[revisions][hostile]") {
    const auto seeds = hostileSeeds();
    if (seeds.empty()) {
        WARN("pyHanko corpus not found; skipped");
        return;
    }
    std::mt19937 random(20261123); // deterministic: a failure reproduces
    const char interesting[] = {'0', '9', ' ', '\n', '<', '>', '[', ']', '(', ')', '/', 'R', '%', '\\', '\0', '\xff'};
    std::size_t mutants = 0;
    for (const auto& seed : seeds) {
        for (int round = 0; round < 250; ++round) {
            std::string mutant = seed;
            const int flips = 1 + static_cast<int>(random() % 8);
            for (int i = 0; i < flips; ++i) {
                const std::size_t at = random() % mutant.size();
                mutant[at] =
                    random() % 2 == 0 ? static_cast<char>(random() & 0xFF) : interesting[random() % sizeof interesting];
            }
            const std::string reason = exercise(mutant);
            INFO("round " << round << ": " << reason);
            CHECK((reason.empty() || documentedReason(reason)));
            ++mutants;
        }
    }
    CHECK(mutants == 250 * seeds.size());
}
