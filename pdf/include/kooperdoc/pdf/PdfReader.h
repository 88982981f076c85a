// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A small, bounded PDF reader for untrusted files: it reads only what signature verification
// needs (objects, cross-reference tables and streams, object streams, the revision history) and
// nothing that draws. PoDoFo must not see an untrusted file in the verifier, so every loop,
// recursion and allocation here is capped by PdfLimits.
//
// Errors: every failure is a kooperdoc::Error with ErrorCode::kInvalidArgument and one of
//   "pdf.malformed"       the bytes are not a PDF we can read unambiguously,
//   "pdf.limit_exceeded"  a PdfLimits bound was hit (the file may be fine, but too costly),
//   "pdf.unsupported"     a feature the reader deliberately lacks (encryption, non-Flate filters
//                         on structural streams).
// Nothing else escapes: no std::bad_alloc from a claimed size, no out-of-range access, no
// unbounded recursion. A PdfReader is not thread-safe (it caches lazily); use one per thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kooperdoc::pdf {

inline constexpr std::size_t kNoOffset = static_cast<std::size_t>(-1);

/// Resource bounds for one PdfReader. The defaults suit documents up to a few hundred pages.
struct PdfLimits {
    std::size_t maxFileSize = 256u << 20;         ///< bytes of input
    std::size_t maxObjects = 1'000'000;           ///< object numbers, and xref entries in total
    std::size_t maxNestingDepth = 64;             ///< arrays/dictionaries inside each other
    std::size_t maxDecompressedBytes = 64u << 20; ///< all streams one reader inflates, together
    /// Length of the startxref//Prev chain; a file may also hold at most max(1024, 4 x this)
    /// "startxref" and "%%EOF" markers.
    std::size_t maxXrefSections = 256;
    std::size_t maxParsedValues = 2'000'000; ///< values parsed (and cached) by one reader
    /// Wall-clock budget of one reader, counted from its construction: loading, parsing,
    /// inflating and the revision analysis (and, in verify::verifyPdf, the CMS and chain work).
    /// The other limits bound each resource; this bounds their product, which a file can still
    /// make large (many cheap walks over the same objects). Zero fails at the first check; a
    /// budget of a year or more means none.
    std::chrono::milliseconds maxDuration{10'000};
};

struct ObjectRef {
    std::uint32_t number = 0;
    std::uint32_t generation = 0;
    friend bool operator==(ObjectRef a, ObjectRef b) { return a.number == b.number && a.generation == b.generation; }
    friend bool operator!=(ObjectRef a, ObjectRef b) { return !(a == b); }
    friend bool operator<(ObjectRef a, ObjectRef b) {
        return a.number != b.number ? a.number < b.number : a.generation < b.generation;
    }
};

class PdfObject;
class PdfDictionary;
struct PdfStream;
using PdfArray = std::vector<PdfObject>;

struct PdfString {
    std::string bytes; ///< decoded bytes (escapes and hex resolved)
    bool hex = false;
    /// Where the string's token (including "<" ">" or "(" ")") lies in the file; kNoOffset for
    /// strings read from an object stream. Signature coverage needs it.
    std::size_t fileBegin = kNoOffset;
    std::size_t fileEnd = kNoOffset;
};

struct PdfName {
    std::string value; ///< without the leading "/", #xx decoded
};

/// One PDF value. Arrays, dictionaries and streams are shared, immutable and cheap to copy.
class PdfObject {
public:
    enum class Type : std::uint8_t {
        kNull,
        kBool,
        kInteger,
        kReal,
        kString,
        kName,
        kArray,
        kDictionary,
        kStream,
        kReference
    };

    PdfObject() = default;
    static PdfObject boolean(bool value);
    static PdfObject integer(std::int64_t value);
    static PdfObject real(double value);
    static PdfObject string(PdfString value);
    static PdfObject name(std::string value);
    static PdfObject array(PdfArray values);
    static PdfObject dictionary(PdfDictionary values);
    static PdfObject stream(PdfStream value);
    static PdfObject reference(ObjectRef ref);

    Type type() const;
    bool isNull() const { return type() == Type::kNull; }

    std::optional<bool> asBool() const;
    std::optional<std::int64_t> asInteger() const;
    /// Integers and reals as double.
    std::optional<double> asNumber() const;
    const PdfString* asString() const;
    /// The name without "/", or nullptr.
    const std::string* asName() const;
    bool isName(std::string_view value) const;
    const PdfArray* asArray() const;
    /// Dictionaries, and the dictionary of a stream.
    const PdfDictionary* asDictionary() const;
    const PdfStream* asStream() const;
    std::optional<ObjectRef> asReference() const;

private:
    std::variant<std::monostate, bool, std::int64_t, double, PdfString, PdfName, std::shared_ptr<const PdfArray>,
                 std::shared_ptr<const PdfDictionary>, std::shared_ptr<const PdfStream>, ObjectRef>
        value_;
};

/// Keys are unique (a duplicate key is "pdf.malformed": readers disagree on which one wins, and
/// such disagreement is how shadow attacks hide content) and sorted for O(log n) look-up.
class PdfDictionary {
public:
    using Entry = std::pair<std::string, PdfObject>;

    PdfDictionary() = default;
    /// Sorts the entries; returns false (and leaves the dictionary empty) on a duplicate key.
    bool assign(std::vector<Entry> entries);

    const PdfObject* find(std::string_view key) const;
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    /// The value, or a null object when absent (a reference into the dictionary, so pointers
    /// from asString()/asName() stay valid as long as the dictionary does).
    const PdfObject& get(std::string_view key) const;
    const std::vector<Entry>& entries() const { return entries_; }
    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }

private:
    std::vector<Entry> entries_;
};

/// A stream as found in the file: its dictionary and where its (still encoded) data lie.
struct PdfStream {
    PdfDictionary dictionary;
    std::size_t dataBegin = 0;
    std::size_t dataLength = 0;
};

struct XrefEntry {
    enum class Kind : std::uint8_t { kFree, kInFile, kInObjectStream };
    std::uint32_t number = 0;
    Kind kind = Kind::kFree;
    std::uint32_t generation = 0;
    std::uint64_t offset = 0;        ///< kInFile: byte offset; kInObjectStream: stream number
    std::uint32_t indexInStream = 0; ///< kInObjectStream only
};

/// One cross-reference section of the startxref//Prev chain.
struct XrefSectionInfo {
    enum class Kind : std::uint8_t { kTable, kStream, kHybrid };
    Kind kind = Kind::kTable;
    std::size_t declaredOffset = 0;           ///< what startxref or /Prev said
    std::size_t actualOffset = 0;             ///< where it was found (off-by-a-few offsets are tolerated)
    std::size_t end = 0;                      ///< first byte after the table's trailer / the stream object
    std::optional<ObjectRef> streamRef;       ///< the xref stream object (kStream)
    std::optional<ObjectRef> hybridStreamRef; ///< the /XRefStm stream (kHybrid)
};

/// One revision: bytes [0, endOffset) are the document as it was after that revision was
/// saved, including the end-of-line after its "%%EOF" (as pyHanko and ETSI count it).
struct Revision {
    std::size_t index = 0;
    std::size_t endOffset = 0;
    std::size_t eofMarkerEnd = 0; ///< just after "%%EOF" (endOffset minus the EOL)
    std::size_t startxref = 0;    ///< the startxref value that ends this revision
    /// Usually one; two for the first revision of a linearized file (its first-page section and
    /// its main section share one %%EOF).
    std::vector<XrefSectionInfo> sections;
    PdfDictionary trailer;          ///< this revision's own trailer (or xref stream dictionary)
    std::int64_t declaredSize = 0;  ///< largest /Size of its sections
    std::vector<XrefEntry> entries; ///< entries written in this revision, sorted by number
};

class PdfReader {
public:
    /// Reads the file structure (every xref section and revision) eagerly; objects are parsed
    /// on demand. Throws kooperdoc::Error (see the top of this header).
    explicit PdfReader(std::string bytes, PdfLimits limits = {});
    ~PdfReader();
    PdfReader(const PdfReader&) = delete;
    PdfReader& operator=(const PdfReader&) = delete;

    std::string_view bytes() const { return bytes_; }
    const PdfLimits& limits() const { return limits_; }

    const std::vector<Revision>& revisions() const { return revisions_; }
    std::size_t revisionCount() const { return revisions_.size(); }
    std::size_t lastRevision() const { return revisions_.size() - 1; }

    /// Bytes after the end of the last revision (0 for a well-formed file).
    std::size_t trailingBytes() const { return bytes_.size() - revisions_.back().endOffset; }
    /// True when those bytes are only whitespace or NULs.
    bool trailingBytesAreWhitespace() const;
    /// Offsets (just after the marker) of "%%EOF" markers that end no revision: the dummy one of
    /// a linearized file, or the end of an appended section that the xref chain does not reach.
    const std::vector<std::size_t>& unaccountedEofMarkers() const { return strayEofMarkers_; }

    /// The entry in force for an object number as of a revision (nullopt: never defined).
    std::optional<XrefEntry> lookup(std::uint32_t number, std::size_t revision) const;
    /// The entry written for the number in exactly that revision, if any.
    const XrefEntry* entryInRevision(std::uint32_t number, std::size_t revision) const;
    /// True when the number is in use (not free, not undefined) as of the revision.
    bool inUse(std::uint32_t number, std::size_t revision) const;
    /// First revision with an in-use entry for the number, if any.
    std::optional<std::size_t> introducingRevision(std::uint32_t number) const;
    /// Last revision <= upTo that wrote an entry for the number, if any.
    std::optional<std::size_t> lastChange(std::uint32_t number, std::size_t upTo) const;

    /// The object as of a revision; null when free or undefined (as ISO 32000 says).
    PdfObject resolve(ObjectRef ref, std::size_t revision) const;
    /// Follows a reference (once); any other value is returned as it is.
    PdfObject deref(const PdfObject& value, std::size_t revision) const;
    /// The trailer as a reader sees it at that revision: the revision's own trailer, with keys
    /// it omits inherited from earlier trailers (xref stream keys such as /W are dropped).
    PdfDictionary trailer(std::size_t revision) const;

    /// The raw (encoded) bytes of a stream.
    std::string_view rawStreamData(const PdfStream& stream) const;
    /// The decoded bytes: no filter or FlateDecode, with PNG/TIFF predictors. Counts against
    /// maxDecompressedBytes. Throws "pdf.unsupported" for other filters.
    std::string decodeStream(const PdfStream& stream) const;

    /// Deep value equality; references compare by number and generation, streams by
    /// dictionary and raw data (like pyHanko's identity check).
    bool sameValue(const PdfObject& a, const PdfObject& b) const;

    /// Throws "pdf.limit_exceeded" once PdfLimits::maxDuration has passed since construction.
    /// The reader checks it itself while it parses, inflates and resolves; long loops outside
    /// it (the revision analysis, signature verification) call it too.
    void checkDeadline() const;

    /// Parses one direct object from text (for tests and tools); limits apply as for a file.
    static PdfObject parseValue(std::string_view text, const PdfLimits& limits = {});

private:
    class Impl;
    std::string bytes_;
    PdfLimits limits_;
    std::vector<Revision> revisions_;
    std::vector<std::size_t> strayEofMarkers_;
    std::unique_ptr<Impl> impl_;

    friend class Impl;
};

/// Text string (PDFDocEncoding or UTF-16BE with BOM) to UTF-8, e.g. for field names.
std::string textStringToUtf8(std::string_view bytes);

} // namespace kooperdoc::pdf
