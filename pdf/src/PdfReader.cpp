// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/pdf/PdfReader.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <limits>
#include <set>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Utf8.h"

namespace kooperdoc::pdf {

namespace {

[[noreturn]] void rethrow(const std::pair<std::string, std::string>& failure) {
    throw Error(ErrorCode::kInvalidArgument, failure.first, failure.second);
}

[[noreturn]] void malformed(const std::string& detail) {
    throw Error(ErrorCode::kInvalidArgument, "pdf.malformed", "malformed PDF: " + detail);
}

[[noreturn]] void limitExceeded(const std::string& detail) {
    throw Error(ErrorCode::kInvalidArgument, "pdf.limit_exceeded", "PDF exceeds a reader limit: " + detail);
}

[[noreturn]] void unsupported(const std::string& detail) {
    throw Error(ErrorCode::kInvalidArgument, "pdf.unsupported", "unsupported PDF feature: " + detail);
}

// A configured depth beyond this would risk the stack itself; the parser recurses per level.
constexpr std::size_t kHardNestingCap = 512;
// How far from a declared offset we look for the object or xref section it should point to.
constexpr std::size_t kOffsetTolerance = 512;
// Indirect objects resolved while resolving another one (a /Length, an object stream).
constexpr std::size_t kMaxResolutionDepth = 16;

bool isWhite(unsigned char c) {
    return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32;
}
bool isDelimiter(unsigned char c) {
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' ||
           c == '%';
}
bool isRegular(unsigned char c) {
    return !isWhite(c) && !isDelimiter(c);
}
bool isDigit(unsigned char c) {
    return c >= '0' && c <= '9';
}
int hexValue(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// PdfLimits::maxDuration as a point in time. Reading the clock costs tens of nanoseconds, so
/// hot loops call checkSometimes(), which reads it once per kCallsPerClockRead calls.
class Deadline {
public:
    explicit Deadline(std::chrono::milliseconds budget) {
        using namespace std::chrono;
        // A year or more is "no limit": it also keeps now() + budget from overflowing.
        if (budget < hours(24 * 365)) deadline_ = steady_clock::now() + std::max(budget, milliseconds(0));
    }

    void check() const {
        if (deadline_ && std::chrono::steady_clock::now() >= *deadline_)
            limitExceeded("took longer than maxDuration");
    }
    void checkSometimes() {
        if (++calls_ % kCallsPerClockRead == 0) check();
    }

private:
    static constexpr std::size_t kCallsPerClockRead = 256;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::size_t calls_ = 0;
};

/// What every parser of one reader draws from: the count of parsed values and the deadline.
struct ParseBudget {
    explicit ParseBudget(const PdfLimits& limits) : deadline(limits.maxDuration) {}
    std::size_t valuesParsed = 0;
    Deadline deadline;
};

/// Resolves an indirect /Length while a stream is parsed; structural streams get one that
/// refuses (their dictionaries must be direct).
using LengthResolver = std::function<std::optional<std::int64_t>(ObjectRef)>;

/// Tokenizer and recursive-descent parser over one buffer: the file, or an object stream's
/// decoded data (then string positions are not file offsets).
class Parser {
public:
    Parser(std::string_view data, bool fileOffsets, const PdfLimits& limits, ParseBudget& budget)
        : data_(data), fileOffsets_(fileOffsets), limits_(limits), budget_(budget) {}

    std::size_t pos = 0;

    bool atEnd() const { return pos >= data_.size(); }
    unsigned char peek(std::size_t ahead = 0) const {
        return pos + ahead < data_.size() ? static_cast<unsigned char>(data_[pos + ahead]) : 0;
    }

    void skipWhitespaceAndComments() {
        while (pos < data_.size()) {
            const auto c = static_cast<unsigned char>(data_[pos]);
            if (isWhite(c)) {
                ++pos;
            } else if (c == '%') {
                while (pos < data_.size() && data_[pos] != '\n' && data_[pos] != '\r')
                    ++pos;
            } else {
                break;
            }
        }
    }

    /// The keyword at pos, if it is followed by a non-regular character; advances past it.
    bool tryKeyword(std::string_view keyword) {
        if (data_.substr(pos, keyword.size()) != keyword) return false;
        const std::size_t after = pos + keyword.size();
        if (after < data_.size() && isRegular(static_cast<unsigned char>(data_[after]))) return false;
        pos = after;
        return true;
    }

    /// Digits only (no sign, no point), followed by a non-regular character.
    std::optional<std::uint64_t> tryUnsigned() {
        std::size_t p = pos;
        std::uint64_t value = 0;
        while (p < data_.size() && isDigit(static_cast<unsigned char>(data_[p]))) {
            const unsigned digit = static_cast<unsigned char>(data_[p]) - '0';
            if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
            value = value * 10 + digit;
            ++p;
        }
        if (p == pos) return std::nullopt;
        if (p < data_.size() && isRegular(static_cast<unsigned char>(data_[p]))) return std::nullopt;
        pos = p;
        return value;
    }

    /// "n g obj" at pos; advances past "obj" when it matches.
    bool tryObjectHeader(ObjectRef& ref) {
        const std::size_t start = pos;
        const auto number = tryUnsigned();
        if (number) {
            skipWhitespaceAndComments();
            const auto generation = tryUnsigned();
            if (generation && *number <= UINT32_MAX && *generation <= 65535) {
                skipWhitespaceAndComments();
                if (data_.substr(pos, 3) == "obj") {
                    pos += 3;
                    ref = {static_cast<std::uint32_t>(*number), static_cast<std::uint32_t>(*generation)};
                    return true;
                }
            }
        }
        pos = start;
        return false;
    }

    PdfObject parseValue(std::size_t depth) {
        skipWhitespaceAndComments();
        if (atEnd()) malformed("unexpected end of data at " + std::to_string(pos));
        if (++budget_.valuesParsed > limits_.maxParsedValues) limitExceeded("more than maxParsedValues values");
        budget_.deadline.checkSometimes();
        const unsigned char c = peek();
        switch (c) {
        case '[':
            return parseArray(depth);
        case '<':
            return peek(1) == '<' ? parseDictionary(depth) : parseHexString();
        case '(':
            return parseLiteralString();
        case '/':
            return PdfObject::name(parseName());
        default:
            break;
        }
        if (isDigit(c) || c == '+' || c == '-' || c == '.') return parseNumberOrReference();
        if (isRegular(c)) {
            if (tryKeyword("true")) return PdfObject::boolean(true);
            if (tryKeyword("false")) return PdfObject::boolean(false);
            if (tryKeyword("null")) return {};
            malformed("unexpected keyword at " + std::to_string(pos));
        }
        malformed("unexpected character at " + std::to_string(pos));
    }

    PdfDictionary parseDictionaryBody(std::size_t depth) {
        checkDepth(depth);
        pos += 2; // "<<"
        std::vector<PdfDictionary::Entry> entries;
        for (;;) {
            skipWhitespaceAndComments();
            if (atEnd()) malformed("unterminated dictionary");
            if (peek() == '>' && peek(1) == '>') {
                pos += 2;
                break;
            }
            if (peek() != '/') malformed("dictionary key is not a name at " + std::to_string(pos));
            std::string key = parseName();
            PdfObject value = parseValue(depth + 1);
            entries.emplace_back(std::move(key), std::move(value));
        }
        PdfDictionary dictionary;
        if (!dictionary.assign(std::move(entries))) malformed("duplicate dictionary key");
        return dictionary;
    }

private:
    void checkDepth(std::size_t depth) const {
        if (depth >= std::min(limits_.maxNestingDepth, kHardNestingCap))
            limitExceeded("nesting deeper than maxNestingDepth");
    }

    PdfObject parseArray(std::size_t depth) {
        checkDepth(depth);
        ++pos;
        PdfArray values;
        for (;;) {
            skipWhitespaceAndComments();
            if (atEnd()) malformed("unterminated array");
            if (peek() == ']') {
                ++pos;
                break;
            }
            values.push_back(parseValue(depth + 1));
        }
        return PdfObject::array(std::move(values));
    }

    PdfObject parseDictionary(std::size_t depth) { return PdfObject::dictionary(parseDictionaryBody(depth)); }

    PdfObject parseHexString() {
        const std::size_t begin = pos;
        ++pos;
        PdfString result;
        result.hex = true;
        int high = -1;
        for (;;) {
            if (atEnd()) malformed("unterminated hex string");
            const unsigned char c = peek();
            ++pos;
            if (c == '>') break;
            if (isWhite(c)) continue;
            const int v = hexValue(c);
            if (v < 0) malformed("non-hex character in hex string at " + std::to_string(pos - 1));
            if (high < 0) {
                high = v;
            } else {
                result.bytes.push_back(static_cast<char>(high * 16 + v));
                high = -1;
            }
        }
        if (high >= 0) result.bytes.push_back(static_cast<char>(high * 16));
        setPosition(result, begin);
        return PdfObject::string(std::move(result));
    }

    PdfObject parseLiteralString() {
        const std::size_t begin = pos;
        ++pos;
        PdfString result;
        std::size_t nesting = 1;
        for (;;) {
            if (atEnd()) malformed("unterminated literal string");
            const unsigned char c = peek();
            ++pos;
            if (c == '(') {
                ++nesting;
                result.bytes.push_back('(');
            } else if (c == ')') {
                if (--nesting == 0) break;
                result.bytes.push_back(')');
            } else if (c == '\r') {
                // An unescaped end of line of any kind reads as one LF.
                if (peek() == '\n') ++pos;
                result.bytes.push_back('\n');
            } else if (c == '\\') {
                if (atEnd()) malformed("unterminated literal string");
                const unsigned char e = peek();
                ++pos;
                switch (e) {
                case 'n':
                    result.bytes.push_back('\n');
                    break;
                case 'r':
                    result.bytes.push_back('\r');
                    break;
                case 't':
                    result.bytes.push_back('\t');
                    break;
                case 'b':
                    result.bytes.push_back('\b');
                    break;
                case 'f':
                    result.bytes.push_back('\f');
                    break;
                case '\r':
                    if (peek() == '\n') ++pos;
                    break;
                case '\n':
                    break;
                default:
                    if (e >= '0' && e <= '7') {
                        unsigned value = e - '0';
                        for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i) {
                            value = value * 8 + (peek() - '0');
                            ++pos;
                        }
                        result.bytes.push_back(static_cast<char>(value & 0xFF));
                    } else {
                        result.bytes.push_back(static_cast<char>(e));
                    }
                }
            } else {
                result.bytes.push_back(static_cast<char>(c));
            }
        }
        setPosition(result, begin);
        return PdfObject::string(std::move(result));
    }

    void setPosition(PdfString& s, std::size_t begin) const {
        if (!fileOffsets_) return;
        s.fileBegin = begin;
        s.fileEnd = pos;
    }

    std::string parseName() {
        ++pos; // "/"
        std::string name;
        while (!atEnd() && isRegular(peek())) {
            const unsigned char c = peek();
            if (c == '#' && hexValue(peek(1)) >= 0 && hexValue(peek(2)) >= 0) {
                name.push_back(static_cast<char>(hexValue(peek(1)) * 16 + hexValue(peek(2))));
                pos += 3;
            } else {
                name.push_back(static_cast<char>(c));
                ++pos;
            }
        }
        return name;
    }

    PdfObject parseNumberOrReference() {
        const std::size_t start = pos;
        bool negative = false;
        bool hasSign = false;
        if (peek() == '+' || peek() == '-') {
            negative = peek() == '-';
            hasSign = true;
            ++pos;
        }
        std::uint64_t integerPart = 0;
        bool integerOverflow = false;
        double realValue = 0;
        std::size_t digits = 0;
        while (!atEnd() && isDigit(peek())) {
            const unsigned d = peek() - '0';
            if (integerPart > (static_cast<std::uint64_t>(INT64_MAX) - d) / 10)
                integerOverflow = true;
            else
                integerPart = integerPart * 10 + d;
            realValue = realValue * 10 + d;
            ++digits;
            ++pos;
        }
        bool isReal = false;
        if (!atEnd() && peek() == '.') {
            isReal = true;
            ++pos;
            double scale = 0.1;
            while (!atEnd() && isDigit(peek())) {
                realValue += (peek() - '0') * scale;
                scale /= 10;
                ++digits;
                ++pos;
            }
        }
        if (digits == 0) malformed("bad number at " + std::to_string(start));
        if (!atEnd() && isRegular(peek())) malformed("bad number at " + std::to_string(start));
        if (isReal) return PdfObject::real(negative ? -realValue : realValue);
        if (integerOverflow) malformed("integer out of range at " + std::to_string(start));
        const auto value = static_cast<std::int64_t>(integerPart);
        if (!hasSign && value <= UINT32_MAX) {
            // "n g R" is a reference; anything else leaves the integer alone.
            const std::size_t afterNumber = pos;
            skipWhitespaceAndComments();
            const auto generation = tryUnsigned();
            if (generation) {
                skipWhitespaceAndComments();
                if (peek() == 'R' && (pos + 1 >= data_.size() || !isRegular(peek(1)))) {
                    if (*generation > 65535) malformed("generation out of range at " + std::to_string(start));
                    ++pos;
                    return PdfObject::reference(
                        {static_cast<std::uint32_t>(value), static_cast<std::uint32_t>(*generation)});
                }
            }
            pos = afterNumber;
        }
        return PdfObject::integer(negative ? -value : value);
    }

    std::string_view data_;
    bool fileOffsets_;
    const PdfLimits& limits_;
    ParseBudget& budget_;
};

/// Inflates with a hard cap on the output, so a small bomb cannot take memory.
std::string inflateBounded(std::string_view input, std::size_t cap) {
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) malformed("zlib initialisation failed");
    std::string out;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    zs.avail_in = static_cast<uInt>(std::min<std::size_t>(input.size(), UINT_MAX));
    std::size_t consumedBefore = 0;
    int result = Z_OK;
    char buffer[16384];
    for (;;) {
        zs.next_out = reinterpret_cast<Bytef*>(buffer);
        zs.avail_out = sizeof buffer;
        result = inflate(&zs, Z_NO_FLUSH);
        const std::size_t produced = sizeof buffer - zs.avail_out;
        if (out.size() + produced > cap) {
            inflateEnd(&zs);
            limitExceeded("decompressed data exceed maxDecompressedBytes");
        }
        out.append(buffer, produced);
        if (result == Z_STREAM_END) break;
        if (result == Z_NEED_DICT || result == Z_DATA_ERROR || result == Z_MEM_ERROR) {
            inflateEnd(&zs);
            malformed("corrupt Flate data");
        }
        if (result == Z_BUF_ERROR && produced == 0) {
            // Input exhausted without an end marker: common in sloppy files; keep what we have.
            if (zs.avail_in == 0) break;
            const std::size_t consumed = input.size() - zs.avail_in;
            if (consumed == consumedBefore) break;
        }
        consumedBefore = input.size() - zs.avail_in;
    }
    inflateEnd(&zs);
    return out;
}

std::string applyPredictor(const std::string& data, const PdfDictionary* params) {
    if (params == nullptr) return data;
    const auto predictor = params->get("Predictor").asInteger().value_or(1);
    if (predictor == 1) return data;
    const auto colors = params->get("Colors").asInteger().value_or(1);
    const auto bits = params->get("BitsPerComponent").asInteger().value_or(8);
    const auto columns = params->get("Columns").asInteger().value_or(1);
    if (colors < 1 || colors > 32 || columns < 1 || columns > (1 << 24) ||
        (bits != 1 && bits != 2 && bits != 4 && bits != 8 && bits != 16))
        malformed("bad predictor parameters");
    const auto bitsPerPixel = static_cast<std::size_t>(colors * bits);
    const std::size_t bytesPerPixel = std::max<std::size_t>(1, (bitsPerPixel + 7) / 8);
    const std::size_t rowLength = (static_cast<std::size_t>(columns) * bitsPerPixel + 7) / 8;
    std::string out;
    // No full row: nothing to decode (and no row buffer sized by a hostile /Columns).
    if (rowLength >= data.size()) return out;
    if (predictor == 2) {
        if (bits != 8) unsupported("TIFF predictor with BitsPerComponent other than 8");
        out = data;
        for (std::size_t row = 0; row + rowLength <= out.size(); row += rowLength)
            for (std::size_t i = bytesPerPixel; i < rowLength; ++i)
                out[row + i] = static_cast<char>(static_cast<unsigned char>(out[row + i]) +
                                                 static_cast<unsigned char>(out[row + i - bytesPerPixel]));
        return out;
    }
    if (predictor < 10 || predictor > 15) malformed("unknown predictor");
    std::vector<unsigned char> previous(rowLength, 0);
    std::vector<unsigned char> current(rowLength, 0);
    out.reserve(data.size());
    for (std::size_t pos = 0; pos + 1 + rowLength <= data.size(); pos += 1 + rowLength) {
        const auto filter = static_cast<unsigned char>(data[pos]);
        for (std::size_t i = 0; i < rowLength; ++i) {
            const auto raw = static_cast<unsigned char>(data[pos + 1 + i]);
            const unsigned left = i >= bytesPerPixel ? current[i - bytesPerPixel] : 0;
            const unsigned up = previous[i];
            const unsigned upLeft = i >= bytesPerPixel ? previous[i - bytesPerPixel] : 0;
            unsigned value = raw;
            switch (filter) {
            case 0:
                break;
            case 1:
                value = raw + left;
                break;
            case 2:
                value = raw + up;
                break;
            case 3:
                value = raw + (left + up) / 2;
                break;
            case 4: {
                const int p = static_cast<int>(left) + static_cast<int>(up) - static_cast<int>(upLeft);
                const int pa = std::abs(p - static_cast<int>(left));
                const int pb = std::abs(p - static_cast<int>(up));
                const int pc = std::abs(p - static_cast<int>(upLeft));
                const unsigned predicted = (pa <= pb && pa <= pc) ? left : (pb <= pc ? up : upLeft);
                value = raw + predicted;
                break;
            }
            default:
                malformed("bad PNG predictor row type");
            }
            current[i] = static_cast<unsigned char>(value & 0xFF);
        }
        out.append(reinterpret_cast<const char*>(current.data()), rowLength);
        previous.swap(current);
    }
    return out;
}

const std::set<std::string, std::less<>>& nonTrailerKeys() {
    static const std::set<std::string, std::less<>> keys{"Length", "Filter", "DecodeParms", "W",
                                                         "Type",   "Index",  "XRefStm",     "Prev"};
    return keys;
}

struct ParsedSection {
    XrefSectionInfo info;
    PdfDictionary trailer;
    std::vector<XrefEntry> entries; // in file order; later duplicates win
    std::optional<std::size_t> prev;
    std::int64_t declaredSize = 0;
};

struct Marker {
    std::size_t keywordPos = 0;
    std::size_t value = 0;
    std::size_t eofEnd = 0; // after "%%EOF"
};

} // namespace

// ---------------------------------------------------------------- PdfObject / PdfDictionary

PdfObject PdfObject::boolean(bool value) {
    PdfObject o;
    o.value_ = value;
    return o;
}
PdfObject PdfObject::integer(std::int64_t value) {
    PdfObject o;
    o.value_ = value;
    return o;
}
PdfObject PdfObject::real(double value) {
    PdfObject o;
    o.value_ = value;
    return o;
}
PdfObject PdfObject::string(PdfString value) {
    PdfObject o;
    o.value_ = std::move(value);
    return o;
}
PdfObject PdfObject::name(std::string value) {
    PdfObject o;
    o.value_ = PdfName{std::move(value)};
    return o;
}
PdfObject PdfObject::array(PdfArray values) {
    PdfObject o;
    o.value_ = std::shared_ptr<const PdfArray>(std::make_shared<PdfArray>(std::move(values)));
    return o;
}
PdfObject PdfObject::dictionary(PdfDictionary values) {
    PdfObject o;
    o.value_ = std::shared_ptr<const PdfDictionary>(std::make_shared<PdfDictionary>(std::move(values)));
    return o;
}
PdfObject PdfObject::stream(PdfStream value) {
    PdfObject o;
    o.value_ = std::shared_ptr<const PdfStream>(std::make_shared<PdfStream>(std::move(value)));
    return o;
}
PdfObject PdfObject::reference(ObjectRef ref) {
    PdfObject o;
    o.value_ = ref;
    return o;
}

PdfObject::Type PdfObject::type() const {
    return static_cast<Type>(value_.index());
}

std::optional<bool> PdfObject::asBool() const {
    if (const auto* v = std::get_if<bool>(&value_)) return *v;
    return std::nullopt;
}
std::optional<std::int64_t> PdfObject::asInteger() const {
    if (const auto* v = std::get_if<std::int64_t>(&value_)) return *v;
    return std::nullopt;
}
std::optional<double> PdfObject::asNumber() const {
    if (const auto* v = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*v);
    if (const auto* v = std::get_if<double>(&value_)) return *v;
    return std::nullopt;
}
const PdfString* PdfObject::asString() const {
    return std::get_if<PdfString>(&value_);
}
const std::string* PdfObject::asName() const {
    const auto* n = std::get_if<PdfName>(&value_);
    return n != nullptr ? &n->value : nullptr;
}
bool PdfObject::isName(std::string_view value) const {
    const auto* n = asName();
    return n != nullptr && *n == value;
}
const PdfArray* PdfObject::asArray() const {
    const auto* a = std::get_if<std::shared_ptr<const PdfArray>>(&value_);
    return a != nullptr ? a->get() : nullptr;
}
const PdfDictionary* PdfObject::asDictionary() const {
    if (const auto* d = std::get_if<std::shared_ptr<const PdfDictionary>>(&value_)) return d->get();
    if (const auto* s = std::get_if<std::shared_ptr<const PdfStream>>(&value_)) return &(*s)->dictionary;
    return nullptr;
}
const PdfStream* PdfObject::asStream() const {
    const auto* s = std::get_if<std::shared_ptr<const PdfStream>>(&value_);
    return s != nullptr ? s->get() : nullptr;
}
std::optional<ObjectRef> PdfObject::asReference() const {
    if (const auto* r = std::get_if<ObjectRef>(&value_)) return *r;
    return std::nullopt;
}

bool PdfDictionary::assign(std::vector<Entry> entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
    for (std::size_t i = 1; i < entries.size(); ++i)
        if (entries[i].first == entries[i - 1].first) {
            entries_.clear();
            return false;
        }
    entries_ = std::move(entries);
    return true;
}

const PdfObject* PdfDictionary::find(std::string_view key) const {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                     [](const Entry& e, std::string_view k) { return e.first < k; });
    return it != entries_.end() && it->first == key ? &it->second : nullptr;
}

const PdfObject& PdfDictionary::get(std::string_view key) const {
    static const PdfObject null;
    const auto* v = find(key);
    return v != nullptr ? *v : null;
}

// ---------------------------------------------------------------- PdfReader::Impl

class PdfReader::Impl {
public:
    explicit Impl(PdfReader& reader) : budget(reader.limits_), r_(reader) {}

    void load();

    PdfObject resolve(ObjectRef ref, std::size_t revision);
    std::string decode(const PdfStream& stream);
    ParseBudget budget;

private:
    struct ObjectStreamContent {
        std::string data;
        std::vector<std::pair<std::uint32_t, std::size_t>> header; // number, offset from /First
        std::size_t first = 0;
        std::size_t fileOffset = 0;
        std::map<std::size_t, PdfObject> parsed; // index -> value
    };

    std::vector<Marker> findMarkers();
    ParsedSection readSection(std::size_t declaredOffset);
    std::optional<std::size_t> locateSection(std::size_t declaredOffset);
    void readTable(Parser& p, ParsedSection& section);
    void readXrefStream(std::size_t offset, ParsedSection& section, bool hybrid);
    PdfObject parseIndirectAt(std::size_t offset, ObjectRef expected, const LengthResolver& length, bool searchNearby,
                              std::size_t* end = nullptr);
    std::optional<std::size_t> findObjectHeader(std::size_t offset, ObjectRef expected);
    PdfObject parseObjectBody(Parser& p, const LengthResolver& length);
    std::shared_ptr<ObjectStreamContent> objectStream(std::uint32_t number, std::size_t revision);
    std::shared_ptr<ObjectStreamContent> loadObjectStream(std::uint32_t number, const XrefEntry& entry,
                                                          std::size_t revision);
    void countEntries(std::size_t count);
    std::size_t maxMarkers() const { return std::max<std::size_t>(1024, 4 * r_.limits_.maxXrefSections); }

    PdfReader& r_;
    std::size_t entriesSeen_ = 0;
    std::size_t decompressed_ = 0;
    struct FileObject {
        PdfObject value;
        std::size_t end = 0; // first byte after the object
    };
    std::map<std::pair<std::size_t, std::uint32_t>, FileObject> fileObjects_;   // (offset, number)
    std::map<std::size_t, std::shared_ptr<ObjectStreamContent>> objectStreams_; // by file offset
    // Failures are remembered too: a broken object referenced a thousand times is parsed once.
    using Failure = std::pair<std::string, std::string>; // reason, message
    std::map<std::pair<std::size_t, std::uint32_t>, Failure> failedFileObjects_;
    std::map<std::size_t, Failure> failedObjectStreams_;
    std::map<std::pair<std::size_t, std::size_t>, Failure> failedCompressedObjects_;
    std::vector<std::uint32_t> resolving_;
};

void PdfReader::Impl::countEntries(std::size_t count) {
    entriesSeen_ += count;
    if (entriesSeen_ > r_.limits_.maxObjects) limitExceeded("more xref entries than maxObjects");
}

std::vector<Marker> PdfReader::Impl::findMarkers() {
    const std::string_view data = r_.bytes_;
    std::vector<Marker> markers;
    for (std::size_t at = data.find("startxref"); at != std::string_view::npos; at = data.find("startxref", at + 1)) {
        budget.deadline.checkSometimes();
        Parser p(data, true, r_.limits_, budget);
        p.pos = at + 9;
        while (!p.atEnd() && isWhite(p.peek()))
            ++p.pos;
        const auto value = p.tryUnsigned();
        if (!value) continue;
        while (!p.atEnd() && isWhite(p.peek()))
            ++p.pos;
        if (data.substr(p.pos, 5) != "%%EOF") continue;
        if (*value >= data.size()) continue;
        // Real files have about one marker per revision; a file full of them is an attack on
        // the revision matching below.
        if (markers.size() >= maxMarkers()) limitExceeded("too many startxref markers");
        markers.push_back({at, static_cast<std::size_t>(*value), p.pos + 5});
    }
    return markers;
}

std::optional<std::size_t> PdfReader::Impl::locateSection(std::size_t declaredOffset) {
    const std::string_view data = r_.bytes_;
    auto looksLikeSection = [&](std::size_t at) {
        if (at > 0 && isRegular(static_cast<unsigned char>(data[at - 1]))) return false;
        if (data.substr(at, 4) == "xref" &&
            (at + 4 >= data.size() || !isRegular(static_cast<unsigned char>(data[at + 4]))))
            return true;
        if (!isDigit(static_cast<unsigned char>(data[at]))) return false;
        Parser p(data, true, r_.limits_, budget);
        p.pos = at;
        ObjectRef ref;
        if (!p.tryObjectHeader(ref)) return false;
        p.skipWhitespaceAndComments();
        // An xref stream: its dictionary names /Type /XRef early; a cheap textual check suffices
        // to pick the candidate, the real parse validates it.
        const auto window = data.substr(p.pos, 4096);
        return window.substr(0, 2) == "<<" && window.find("/XRef") != std::string_view::npos;
    };
    std::size_t at = declaredOffset;
    while (at < data.size() && isWhite(static_cast<unsigned char>(data[at])))
        ++at;
    if (at < data.size() && looksLikeSection(at)) return at;
    // Off-by-a-few offsets are common in real files: look for the nearest plausible section.
    for (std::size_t distance = 1; distance <= kOffsetTolerance; ++distance) {
        if (declaredOffset + distance < data.size() && looksLikeSection(declaredOffset + distance))
            return declaredOffset + distance;
        if (distance <= declaredOffset && declaredOffset - distance < data.size() &&
            looksLikeSection(declaredOffset - distance))
            return declaredOffset - distance;
    }
    return std::nullopt;
}

ParsedSection PdfReader::Impl::readSection(std::size_t declaredOffset) {
    ParsedSection section;
    section.info.declaredOffset = declaredOffset;
    const auto found = locateSection(declaredOffset);
    if (!found) malformed("no xref section at offset " + std::to_string(declaredOffset));
    section.info.actualOffset = *found;
    Parser p(r_.bytes_, true, r_.limits_, budget);
    p.pos = *found;
    if (p.tryKeyword("xref")) {
        section.info.kind = XrefSectionInfo::Kind::kTable;
        readTable(p, section);
    } else {
        section.info.kind = XrefSectionInfo::Kind::kStream;
        readXrefStream(*found, section, false);
    }
    if (const auto prev = section.trailer.get("Prev").asInteger()) {
        if (*prev < 0 || static_cast<std::uint64_t>(*prev) >= r_.bytes_.size()) malformed("/Prev out of range");
        section.prev = static_cast<std::size_t>(*prev);
    } else if (section.trailer.contains("Prev")) {
        malformed("/Prev is not an integer");
    }
    return section;
}

void PdfReader::Impl::readTable(Parser& p, ParsedSection& section) {
    for (;;) {
        p.skipWhitespaceAndComments();
        if (p.tryKeyword("trailer")) break;
        const auto start = p.tryUnsigned();
        p.skipWhitespaceAndComments();
        const auto count = p.tryUnsigned();
        if (!start || !count) malformed("bad xref subsection header at " + std::to_string(p.pos));
        if (*start > r_.limits_.maxObjects || *count > r_.limits_.maxObjects || *start + *count > r_.limits_.maxObjects)
            limitExceeded("xref subsection beyond maxObjects");
        countEntries(*count);
        for (std::uint64_t i = 0; i < *count; ++i) {
            p.skipWhitespaceAndComments();
            const auto offset = p.tryUnsigned();
            p.skipWhitespaceAndComments();
            const auto generation = p.tryUnsigned();
            p.skipWhitespaceAndComments();
            const unsigned char kind = p.peek();
            if (!offset || !generation || (kind != 'n' && kind != 'f'))
                malformed("bad xref entry at " + std::to_string(p.pos));
            ++p.pos;
            const auto number = static_cast<std::uint32_t>(*start + i);
            if (number == 0 || *generation > 65535) continue;
            XrefEntry entry;
            entry.number = number;
            entry.generation = static_cast<std::uint32_t>(*generation);
            entry.kind = kind == 'n' ? XrefEntry::Kind::kInFile : XrefEntry::Kind::kFree;
            entry.offset = kind == 'n' ? *offset : 0;
            section.entries.push_back(entry);
        }
    }
    p.skipWhitespaceAndComments();
    if (!(p.peek() == '<' && p.peek(1) == '<')) malformed("trailer is not a dictionary");
    section.trailer = p.parseDictionaryBody(0);
    section.info.end = p.pos;
    section.declaredSize = section.trailer.get("Size").asInteger().value_or(0);
    if (const auto* hybrid = section.trailer.find("XRefStm")) {
        const auto at = hybrid->asInteger();
        if (!at || *at < 0 || static_cast<std::uint64_t>(*at) >= r_.bytes_.size()) malformed("bad /XRefStm");
        ParsedSection stream;
        const auto located = locateSection(static_cast<std::size_t>(*at));
        if (!located) malformed("no xref stream at /XRefStm offset");
        readXrefStream(*located, stream, true);
        // Hybrid files: the table wins; the stream supplies what the table leaves free/absent.
        std::map<std::uint32_t, XrefEntry> table;
        for (const auto& e : section.entries)
            table[e.number] = e;
        for (const auto& e : stream.entries) {
            const auto it = table.find(e.number);
            if (it == table.end() || it->second.kind == XrefEntry::Kind::kFree) table[e.number] = e;
        }
        section.entries.clear();
        for (const auto& [number, e] : table)
            section.entries.push_back(e);
        section.info.kind = XrefSectionInfo::Kind::kHybrid;
        section.info.hybridStreamRef = stream.info.streamRef;
        section.info.end = std::max(section.info.end, stream.info.end);
    }
}

void PdfReader::Impl::readXrefStream(std::size_t offset, ParsedSection& section, bool hybrid) {
    const LengthResolver noIndirectLength = [](ObjectRef) -> std::optional<std::int64_t> {
        malformed("xref stream with an indirect /Length");
    };
    Parser p(r_.bytes_, true, r_.limits_, budget);
    p.pos = offset;
    ObjectRef ref;
    if (!p.tryObjectHeader(ref)) malformed("no xref stream object at " + std::to_string(offset));
    const PdfObject object = parseObjectBody(p, noIndirectLength);
    const PdfStream* stream = object.asStream();
    if (stream == nullptr || !stream->dictionary.get("Type").isName("XRef"))
        malformed("object at " + std::to_string(offset) + " is not an xref stream");
    const PdfDictionary& dict = stream->dictionary;
    section.info.streamRef = ref;
    section.info.end = p.pos;
    if (!hybrid) section.trailer = dict;
    section.declaredSize = dict.get("Size").asInteger().value_or(-1);
    if (section.declaredSize < 0) malformed("xref stream without /Size");
    if (static_cast<std::uint64_t>(section.declaredSize) > r_.limits_.maxObjects)
        limitExceeded("xref stream /Size beyond maxObjects");
    const PdfArray* widths = dict.get("W").asArray();
    if (widths == nullptr || widths->size() != 3) malformed("xref stream /W must have 3 entries");
    std::size_t w[3];
    for (int i = 0; i < 3; ++i) {
        const auto v = (*widths)[static_cast<std::size_t>(i)].asInteger();
        if (!v || *v < 0 || *v > 8) malformed("xref stream /W out of range");
        w[i] = static_cast<std::size_t>(*v);
    }
    const std::size_t rowWidth = w[0] + w[1] + w[2];
    if (rowWidth == 0) malformed("xref stream /W all zero");
    std::vector<std::pair<std::uint64_t, std::uint64_t>> subsections;
    if (const PdfArray* index = dict.get("Index").asArray()) {
        if (index->size() % 2 != 0) malformed("xref stream /Index has odd length");
        for (std::size_t i = 0; i < index->size(); i += 2) {
            const auto start = (*index)[i].asInteger();
            const auto count = (*index)[i + 1].asInteger();
            if (!start || !count || *start < 0 || *count < 0) malformed("bad xref stream /Index");
            subsections.emplace_back(static_cast<std::uint64_t>(*start), static_cast<std::uint64_t>(*count));
        }
    } else {
        subsections.emplace_back(0, static_cast<std::uint64_t>(section.declaredSize));
    }
    const std::string data = decode(*stream);
    std::size_t at = 0;
    auto field = [&](std::size_t width, std::uint64_t fallback) {
        if (width == 0) return fallback;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < width; ++i)
            v = (v << 8) | static_cast<unsigned char>(data[at++]);
        return v;
    };
    for (const auto& [start, count] : subsections) {
        if (start > r_.limits_.maxObjects || count > r_.limits_.maxObjects || start + count > r_.limits_.maxObjects)
            limitExceeded("xref stream subsection beyond maxObjects");
        countEntries(static_cast<std::size_t>(count));
        for (std::uint64_t i = 0; i < count; ++i) {
            if (data.size() - at < rowWidth) malformed("xref stream data shorter than /Index says");
            const std::uint64_t type = field(w[0], 1);
            const std::uint64_t second = field(w[1], 0);
            const std::uint64_t third = field(w[2], 0);
            const auto number = static_cast<std::uint32_t>(start + i);
            if (number == 0) continue;
            XrefEntry entry;
            entry.number = number;
            if (type == 0) {
                if (third > 65535) continue;
                entry.kind = XrefEntry::Kind::kFree;
                entry.generation = static_cast<std::uint32_t>(third);
            } else if (type == 1) {
                if (third > 65535) continue;
                entry.kind = XrefEntry::Kind::kInFile;
                entry.offset = second;
                entry.generation = static_cast<std::uint32_t>(third);
            } else if (type == 2) {
                if (second == 0 || second >= r_.limits_.maxObjects || third > UINT32_MAX) continue;
                entry.kind = XrefEntry::Kind::kInObjectStream;
                entry.offset = second;
                entry.indexInStream = static_cast<std::uint32_t>(third);
            } else {
                continue; // unknown types are references to null (ISO 32000-1, 7.5.8.3)
            }
            section.entries.push_back(entry);
        }
    }
}

PdfObject PdfReader::Impl::parseObjectBody(Parser& p, const LengthResolver& length) {
    PdfObject value = p.parseValue(0);
    const std::size_t afterValue = p.pos;
    p.skipWhitespaceAndComments();
    if (!p.tryKeyword("stream")) {
        p.pos = afterValue;
        p.skipWhitespaceAndComments();
        p.tryKeyword("endobj"); // tolerated when missing
        return value;
    }
    const PdfDictionary* dict = value.asDictionary();
    if (dict == nullptr) malformed("stream keyword after a non-dictionary");
    // The data begin after CRLF or LF; a lone CR (and stray spaces before it) are tolerated.
    while (p.peek() == ' ')
        ++p.pos;
    if (p.peek() == '\r') ++p.pos;
    if (p.peek() == '\n') ++p.pos;
    const std::size_t dataBegin = p.pos;
    const PdfObject lengthValue = dict->get("Length");
    std::optional<std::int64_t> declared = lengthValue.asInteger();
    if (const auto ref = lengthValue.asReference()) declared = length(*ref);
    if (!declared || *declared < 0) malformed("stream without a usable /Length");
    const std::string_view data = r_.bytes_;
    if (static_cast<std::uint64_t>(*declared) > data.size() - dataBegin)
        malformed("stream /Length runs past the end of the file");
    p.pos = dataBegin + static_cast<std::size_t>(*declared);
    // The length must be right: a reader that guessed another end would see other content.
    while (!p.atEnd() && isWhite(p.peek()))
        ++p.pos;
    if (!p.tryKeyword("endstream")) malformed("stream /Length does not end at endstream");
    p.skipWhitespaceAndComments();
    p.tryKeyword("endobj");
    PdfStream stream;
    stream.dictionary = *dict;
    stream.dataBegin = dataBegin;
    stream.dataLength = static_cast<std::size_t>(*declared);
    return PdfObject::stream(std::move(stream));
}

std::optional<std::size_t> PdfReader::Impl::findObjectHeader(std::size_t offset, ObjectRef expected) {
    const std::string_view data = r_.bytes_;
    auto matches = [&](std::size_t at) {
        if (at >= data.size() || !isDigit(static_cast<unsigned char>(data[at]))) return false;
        if (at > 0 && isRegular(static_cast<unsigned char>(data[at - 1]))) return false;
        Parser p(data, true, r_.limits_, budget);
        p.pos = at;
        ObjectRef ref;
        return p.tryObjectHeader(ref) && ref == expected;
    };
    std::size_t at = offset;
    while (at < data.size() && isWhite(static_cast<unsigned char>(data[at])))
        ++at;
    if (matches(at)) return at;
    for (std::size_t distance = 1; distance <= kOffsetTolerance; ++distance) {
        if (offset + distance < data.size() && matches(offset + distance)) return offset + distance;
        if (distance <= offset && matches(offset - distance)) return offset - distance;
    }
    return std::nullopt;
}

PdfObject PdfReader::Impl::parseIndirectAt(std::size_t offset, ObjectRef expected, const LengthResolver& length,
                                           bool searchNearby, std::size_t* end) {
    if (offset >= r_.bytes_.size() && !searchNearby) malformed("object offset beyond end of file");
    const auto found = findObjectHeader(std::min(offset, r_.bytes_.size()), expected);
    if (!found) {
        malformed("object " + std::to_string(expected.number) + " " + std::to_string(expected.generation) +
                  " not found at offset " + std::to_string(offset));
    }
    Parser p(r_.bytes_, true, r_.limits_, budget);
    p.pos = *found;
    ObjectRef ref;
    p.tryObjectHeader(ref);
    PdfObject value = parseObjectBody(p, length);
    if (end != nullptr) *end = p.pos;
    return value;
}

std::shared_ptr<PdfReader::Impl::ObjectStreamContent> PdfReader::Impl::objectStream(std::uint32_t number,
                                                                                    std::size_t revision) {
    const auto entry = r_.lookup(number, revision);
    if (!entry || entry->kind != XrefEntry::Kind::kInFile)
        malformed("object stream " + std::to_string(number) + " is not in the file");
    const auto at = static_cast<std::size_t>(entry->offset);
    if (const auto it = objectStreams_.find(at); it != objectStreams_.end()) return it->second;
    if (const auto it = failedObjectStreams_.find(at); it != failedObjectStreams_.end()) rethrow(it->second);
    try {
        auto content = loadObjectStream(number, *entry, revision);
        objectStreams_[at] = content;
        return content;
    } catch (const Error& e) {
        failedObjectStreams_.emplace(at, Failure{e.reason(), e.what()});
        throw;
    }
}

std::shared_ptr<PdfReader::Impl::ObjectStreamContent>
PdfReader::Impl::loadObjectStream(std::uint32_t number, const XrefEntry& entry, std::size_t revision) {
    const PdfObject object = resolve({number, entry.generation}, revision);
    const PdfStream* stream = object.asStream();
    if (stream == nullptr || !stream->dictionary.get("Type").isName("ObjStm"))
        malformed("object " + std::to_string(number) + " is not an object stream");
    auto content = std::make_shared<ObjectStreamContent>();
    content->fileOffset = static_cast<std::size_t>(entry.offset);
    content->data = decode(*stream);
    const auto count = stream->dictionary.get("N").asInteger();
    const auto first = stream->dictionary.get("First").asInteger();
    if (!count || !first || *count < 0 || *first < 0 || static_cast<std::uint64_t>(*first) > content->data.size())
        malformed("object stream with bad /N or /First");
    // Each header pair takes at least four bytes ("1 0 "), so /N cannot exceed that bound.
    if (static_cast<std::uint64_t>(*count) > content->data.size() / 2 + 1 ||
        static_cast<std::uint64_t>(*count) > r_.limits_.maxObjects)
        malformed("object stream /N larger than its data");
    content->first = static_cast<std::size_t>(*first);
    Parser p(std::string_view(content->data).substr(0, content->first), false, r_.limits_, budget);
    for (std::int64_t i = 0; i < *count; ++i) {
        p.skipWhitespaceAndComments();
        const auto objectNumber = p.tryUnsigned();
        p.skipWhitespaceAndComments();
        const auto objectOffset = p.tryUnsigned();
        if (!objectNumber || !objectOffset || *objectNumber > UINT32_MAX ||
            *objectOffset > content->data.size() - content->first)
            malformed("bad object stream header");
        content->header.emplace_back(static_cast<std::uint32_t>(*objectNumber),
                                     static_cast<std::size_t>(*objectOffset));
    }
    return content;
}

PdfObject PdfReader::Impl::resolve(ObjectRef ref, std::size_t revision) {
    // Analyses walk cached objects again and again without parsing anything: the deadline is
    // checked here, not only in the parser.
    budget.deadline.checkSometimes();
    if (revision >= r_.revisions_.size()) revision = r_.revisions_.size() - 1;
    const auto entry = r_.lookup(ref.number, revision);
    if (!entry || entry->kind == XrefEntry::Kind::kFree) return {};
    if (entry->kind == XrefEntry::Kind::kInFile && entry->generation != ref.generation) return {};
    if (entry->kind == XrefEntry::Kind::kInObjectStream && ref.generation != 0) return {};
    if (std::find(resolving_.begin(), resolving_.end(), ref.number) != resolving_.end())
        malformed("object " + std::to_string(ref.number) + " depends on itself");
    if (resolving_.size() >= kMaxResolutionDepth) limitExceeded("indirect objects nested too deeply");
    resolving_.push_back(ref.number);
    struct Pop {
        std::vector<std::uint32_t>& stack;
        ~Pop() { stack.pop_back(); }
    } pop{resolving_};

    if (entry->kind == XrefEntry::Kind::kInFile) {
        const auto key = std::make_pair(static_cast<std::size_t>(entry->offset), ref.number);
        // An object belongs to the revision whose xref wrote it and must lie in that revision's
        // bytes: otherwise bytes appended later (unsigned) would change what a signed revision
        // shows, without any later xref entry to flag the change.
        const std::size_t writer = *r_.lastChange(ref.number, revision);
        const std::size_t limit = r_.revisions_[writer].endOffset;
        auto checked = [&](const FileObject& object) {
            if (object.end > limit)
                malformed("object " + std::to_string(ref.number) + " lies beyond the end of revision " +
                          std::to_string(writer));
            return object.value;
        };
        if (const auto it = fileObjects_.find(key); it != fileObjects_.end()) return checked(it->second);
        if (const auto it = failedFileObjects_.find(key); it != failedFileObjects_.end()) rethrow(it->second);
        FileObject object;
        try {
            if (entry->offset >= r_.bytes_.size() + kOffsetTolerance) malformed("object offset beyond end of file");
            const LengthResolver length = [this, revision](ObjectRef lengthRef) {
                return resolve(lengthRef, revision).asInteger();
            };
            object.value = parseIndirectAt(static_cast<std::size_t>(entry->offset), ref, length, true, &object.end);
            fileObjects_.emplace(key, object);
        } catch (const Error& e) {
            failedFileObjects_.emplace(key, Failure{e.reason(), e.what()});
            throw;
        }
        return checked(object);
    }
    const auto content = objectStream(static_cast<std::uint32_t>(entry->offset), revision);
    const std::size_t index = entry->indexInStream;
    if (index >= content->header.size() || content->header[index].first != ref.number)
        malformed("object " + std::to_string(ref.number) + " is not where the xref puts it in its object stream");
    if (const auto it = content->parsed.find(index); it != content->parsed.end()) return it->second;
    const auto key = std::make_pair(content->fileOffset, index);
    if (const auto it = failedCompressedObjects_.find(key); it != failedCompressedObjects_.end()) rethrow(it->second);
    try {
        Parser p(content->data, false, r_.limits_, budget);
        p.pos = content->first + content->header[index].second;
        PdfObject value = p.parseValue(0);
        p.skipWhitespaceAndComments();
        if (p.tryKeyword("stream")) malformed("stream inside an object stream");
        content->parsed.emplace(index, value);
        return value;
    } catch (const Error& e) {
        failedCompressedObjects_.emplace(key, Failure{e.reason(), e.what()});
        throw;
    }
}

std::string PdfReader::Impl::decode(const PdfStream& stream) {
    std::string data(r_.rawStreamData(stream));
    const PdfObject filterValue = stream.dictionary.get("Filter");
    const PdfObject paramsValue = stream.dictionary.get("DecodeParms");
    std::vector<std::string> filters;
    std::vector<const PdfDictionary*> params;
    if (const auto* name = filterValue.asName()) {
        filters.push_back(*name);
        params.push_back(paramsValue.asDictionary());
        if (params.back() == nullptr && paramsValue.asArray() != nullptr && !paramsValue.asArray()->empty())
            params.back() = (*paramsValue.asArray())[0].asDictionary();
    } else if (const auto* list = filterValue.asArray()) {
        if (list->size() > 8) unsupported("more than 8 filters");
        const PdfArray* paramList = paramsValue.asArray();
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto* filterName = (*list)[i].asName();
            if (filterName == nullptr) malformed("filter is not a name");
            filters.push_back(*filterName);
            params.push_back(paramList != nullptr && i < paramList->size() ? (*paramList)[i].asDictionary() : nullptr);
        }
    } else if (!filterValue.isNull()) {
        malformed("bad /Filter");
    }
    for (std::size_t i = 0; i < filters.size(); ++i) {
        if (filters[i] != "FlateDecode") unsupported("filter /" + filters[i]);
        const std::size_t remaining =
            r_.limits_.maxDecompressedBytes - std::min(r_.limits_.maxDecompressedBytes, decompressed_);
        std::string inflated = inflateBounded(data, remaining);
        decompressed_ += inflated.size();
        data = applyPredictor(inflated, params[i]);
        budget.deadline.check();
    }
    return data;
}

// ---------------------------------------------------------------- loading the structure

void PdfReader::Impl::load() {
    const std::string_view data = r_.bytes_;
    if (data.size() > r_.limits_.maxFileSize) limitExceeded("file larger than maxFileSize");
    budget.deadline.check();
    if (data.substr(0, 1024).find("%PDF-") == std::string_view::npos) malformed("no %PDF- header");
    const std::vector<Marker> markers = findMarkers();
    if (markers.empty()) malformed("no startxref/%%EOF");

    // Walk the chain from the last startxref, newest section first.
    std::vector<ParsedSection> chain;
    std::set<std::size_t> visited;
    std::optional<std::size_t> next = markers.back().value;
    while (next) {
        if (!visited.insert(*next).second) malformed("xref /Prev chain loops");
        if (chain.size() >= r_.limits_.maxXrefSections) limitExceeded("more xref sections than maxXrefSections");
        budget.deadline.check();
        chain.push_back(readSection(*next));
        next = chain.back().prev;
    }
    std::reverse(chain.begin(), chain.end());

    // Group sections into revisions: a revision closes at the startxref that names its last
    // section; a section nobody's startxref names (the main section of a linearized file) joins
    // the next one.
    std::vector<ParsedSection> pending;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        ParsedSection& section = chain[i];
        std::size_t sectionsEnd = section.info.end;
        for (const auto& s : pending)
            sectionsEnd = std::max(sectionsEnd, s.info.end);
        const Marker* marker = nullptr;
        for (const auto& m : markers)
            if (m.value == section.info.declaredOffset && m.keywordPos >= sectionsEnd) {
                marker = &m;
                break;
            }
        pending.push_back(std::move(section));
        if (marker == nullptr) {
            if (i + 1 < chain.size()) continue;
            malformed("the last xref section lies after its startxref");
        }
        Revision revision;
        revision.index = r_.revisions_.size();
        revision.startxref = marker->value;
        revision.eofMarkerEnd = marker->eofEnd;
        std::size_t end = marker->eofEnd;
        if (end < data.size() && data[end] == '\r') ++end;
        if (end < data.size() && data[end] == '\n') ++end;
        revision.endOffset = end;
        const std::size_t previousEnd = r_.revisions_.empty() ? 0 : r_.revisions_.back().endOffset;
        if (!r_.revisions_.empty() && revision.endOffset <= previousEnd) malformed("revisions out of order");
        std::map<std::uint32_t, XrefEntry> merged;
        for (auto& s : pending) {
            if (!r_.revisions_.empty() && s.info.actualOffset < previousEnd)
                malformed("xref section of revision " + std::to_string(revision.index) +
                          " lies inside an earlier revision");
            for (const auto& e : s.entries)
                merged[e.number] = e;
            revision.declaredSize = std::max(revision.declaredSize, s.declaredSize);
            revision.sections.push_back(s.info);
        }
        revision.trailer = pending.back().trailer;
        for (const auto& [number, e] : merged)
            revision.entries.push_back(e);
        r_.revisions_.push_back(std::move(revision));
        pending.clear();
    }
    if (r_.revisions_.empty()) malformed("no revision");
    for (const auto& revision : r_.revisions_)
        if (revision.trailer.contains("Encrypt")) unsupported("encrypted document");

    for (std::size_t at = data.find("%%EOF"); at != std::string_view::npos; at = data.find("%%EOF", at + 1)) {
        if (r_.strayEofMarkers_.size() >= maxMarkers()) limitExceeded("too many %%EOF markers");
        budget.deadline.checkSometimes();
        const bool endsRevision = std::any_of(r_.revisions_.begin(), r_.revisions_.end(),
                                              [&](const Revision& rev) { return rev.eofMarkerEnd == at + 5; });
        if (!endsRevision) r_.strayEofMarkers_.push_back(at + 5);
    }
}

// ---------------------------------------------------------------- PdfReader

PdfReader::PdfReader(std::string bytes, PdfLimits limits)
    : bytes_(std::move(bytes)), limits_(limits), impl_(std::make_unique<Impl>(*this)) {
    if (bytes_.size() > limits_.maxFileSize) limitExceeded("file larger than maxFileSize");
    impl_->load();
}

PdfReader::~PdfReader() = default;

bool PdfReader::trailingBytesAreWhitespace() const {
    for (std::size_t i = revisions_.back().endOffset; i < bytes_.size(); ++i)
        if (!isWhite(static_cast<unsigned char>(bytes_[i]))) return false;
    return true;
}

const XrefEntry* PdfReader::entryInRevision(std::uint32_t number, std::size_t revision) const {
    if (revision >= revisions_.size()) return nullptr;
    const auto& entries = revisions_[revision].entries;
    const auto it = std::lower_bound(entries.begin(), entries.end(), number,
                                     [](const XrefEntry& e, std::uint32_t n) { return e.number < n; });
    return it != entries.end() && it->number == number ? &*it : nullptr;
}

std::optional<XrefEntry> PdfReader::lookup(std::uint32_t number, std::size_t revision) const {
    if (revisions_.empty()) return std::nullopt;
    for (std::size_t r = std::min(revision, revisions_.size() - 1) + 1; r-- > 0;)
        if (const auto* e = entryInRevision(number, r)) return *e;
    return std::nullopt;
}

bool PdfReader::inUse(std::uint32_t number, std::size_t revision) const {
    const auto e = lookup(number, revision);
    return e && e->kind != XrefEntry::Kind::kFree;
}

std::optional<std::size_t> PdfReader::introducingRevision(std::uint32_t number) const {
    for (std::size_t r = 0; r < revisions_.size(); ++r) {
        const auto* e = entryInRevision(number, r);
        if (e != nullptr && e->kind != XrefEntry::Kind::kFree) return r;
    }
    return std::nullopt;
}

std::optional<std::size_t> PdfReader::lastChange(std::uint32_t number, std::size_t upTo) const {
    if (revisions_.empty()) return std::nullopt;
    for (std::size_t r = std::min(upTo, revisions_.size() - 1) + 1; r-- > 0;)
        if (entryInRevision(number, r) != nullptr) return r;
    return std::nullopt;
}

PdfObject PdfReader::resolve(ObjectRef ref, std::size_t revision) const {
    return impl_->resolve(ref, revision);
}

PdfObject PdfReader::deref(const PdfObject& value, std::size_t revision) const {
    if (const auto ref = value.asReference()) return resolve(*ref, revision);
    return value;
}

PdfDictionary PdfReader::trailer(std::size_t revision) const {
    revision = std::min(revision, revisions_.size() - 1);
    std::vector<PdfDictionary::Entry> entries;
    std::set<std::string, std::less<>> seen;
    for (std::size_t r = revision + 1; r-- > 0;)
        for (const auto& [key, value] : revisions_[r].trailer.entries())
            if (nonTrailerKeys().count(key) == 0 && seen.insert(key).second) entries.emplace_back(key, value);
    PdfDictionary result;
    result.assign(std::move(entries));
    return result;
}

std::string_view PdfReader::rawStreamData(const PdfStream& stream) const {
    if (stream.dataBegin > bytes_.size() || stream.dataLength > bytes_.size() - stream.dataBegin) return {};
    return std::string_view(bytes_).substr(stream.dataBegin, stream.dataLength);
}

std::string PdfReader::decodeStream(const PdfStream& stream) const {
    return impl_->decode(stream);
}

void PdfReader::checkDeadline() const {
    impl_->budget.deadline.check();
}

bool PdfReader::sameValue(const PdfObject& a, const PdfObject& b) const {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
    case PdfObject::Type::kNull:
        return true;
    case PdfObject::Type::kBool:
        return a.asBool() == b.asBool();
    case PdfObject::Type::kInteger:
        return a.asInteger() == b.asInteger();
    case PdfObject::Type::kReal:
        return a.asNumber() == b.asNumber();
    case PdfObject::Type::kString:
        return a.asString()->bytes == b.asString()->bytes;
    case PdfObject::Type::kName:
        return *a.asName() == *b.asName();
    case PdfObject::Type::kReference:
        return a.asReference() == b.asReference();
    case PdfObject::Type::kArray: {
        const auto& x = *a.asArray();
        const auto& y = *b.asArray();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!sameValue(x[i], y[i])) return false;
        return true;
    }
    case PdfObject::Type::kStream:
        if (rawStreamData(*a.asStream()) != rawStreamData(*b.asStream())) return false;
        [[fallthrough]];
    case PdfObject::Type::kDictionary: {
        const auto& x = a.asDictionary()->entries();
        const auto& y = b.asDictionary()->entries();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (x[i].first != y[i].first || !sameValue(x[i].second, y[i].second)) return false;
        return true;
    }
    }
    return false;
}

PdfObject PdfReader::parseValue(std::string_view text, const PdfLimits& limits) {
    ParseBudget budget(limits);
    Parser p(text, false, limits, budget);
    PdfObject value = p.parseValue(0);
    p.skipWhitespaceAndComments();
    if (!p.atEnd()) malformed("trailing data after the value");
    return value;
}

// ---------------------------------------------------------------- text strings

namespace {

// PDFDocEncoding where it differs from Latin-1 (ISO 32000-1, Annex D).
std::uint32_t pdfDocEncoding(unsigned char c) {
    static const std::uint16_t low[8] = {0x02D8, 0x02C7, 0x02C6, 0x02D9, 0x02DD, 0x02DB, 0x02DA, 0x02DC};
    static const std::uint16_t high[32] = {0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044,
                                           0x2039, 0x203A, 0x2212, 0x2030, 0x201E, 0x201C, 0x201D, 0x2018,
                                           0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141, 0x0152, 0x0160,
                                           0x0178, 0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E, 0xFFFD};
    if (c >= 0x18 && c <= 0x1F) return low[c - 0x18];
    if (c >= 0x80 && c <= 0x9F) return high[c - 0x80];
    if (c == 0x7F || c == 0xAD) return 0xFFFD;
    if (c == 0xA0) return 0x20AC;
    return c;
}

} // namespace

std::string textStringToUtf8(std::string_view bytes) {
    std::string out;
    if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFE &&
        static_cast<unsigned char>(bytes[1]) == 0xFF) {
        for (std::size_t i = 2; i + 1 < bytes.size(); i += 2) {
            std::uint32_t unit = (static_cast<unsigned char>(bytes[i]) << 8) | static_cast<unsigned char>(bytes[i + 1]);
            if (unit >= 0xD800 && unit <= 0xDBFF && i + 3 < bytes.size()) {
                const std::uint32_t low =
                    (static_cast<unsigned char>(bytes[i + 2]) << 8) | static_cast<unsigned char>(bytes[i + 3]);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    utf8::append(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
                    i += 2;
                    continue;
                }
            }
            utf8::append(out, (unit >= 0xD800 && unit <= 0xDFFF) ? 0xFFFD : unit);
        }
        return out;
    }
    if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") return std::string(bytes.substr(3));
    for (const char c : bytes)
        utf8::append(out, pdfDocEncoding(static_cast<unsigned char>(c)));
    return out;
}

} // namespace kooperdoc::pdf
