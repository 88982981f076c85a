// SPDX-License-Identifier: AGPL-3.0-or-later
#include "TrueTypeSubset.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Repertoire.h"

namespace kooperdoc::pdf {
namespace {

[[noreturn]] void invalid(const std::string& why) {
    throw Error(ErrorCode::kInternal, "font.invalid", "cannot subset the TrueType font: " + why);
}

using Tag = std::uint32_t;

constexpr Tag makeTag(const char (&name)[5]) {
    return (static_cast<Tag>(static_cast<unsigned char>(name[0])) << 24) |
           (static_cast<Tag>(static_cast<unsigned char>(name[1])) << 16) |
           (static_cast<Tag>(static_cast<unsigned char>(name[2])) << 8) |
           static_cast<Tag>(static_cast<unsigned char>(name[3]));
}

constexpr Tag kCmap = makeTag("cmap"), kCvt = makeTag("cvt "), kFpgm = makeTag("fpgm"), kGlyf = makeTag("glyf"),
              kHead = makeTag("head"), kHhea = makeTag("hhea"), kHmtx = makeTag("hmtx"), kLoca = makeTag("loca"),
              kMaxp = makeTag("maxp"), kName = makeTag("name"), kOs2 = makeTag("OS/2"), kPost = makeTag("post"),
              kPrep = makeTag("prep");

std::string tagName(Tag tag) {
    std::string name;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const auto c = static_cast<char>((tag >> shift) & 0xFF);
        name += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return name;
}

/// A bounds-checked big-endian view of part of the font. The font file is input like any
/// other: a damaged one must end in a clean Error, never in a read past the buffer.
class Span {
public:
    Span() = default;
    Span(std::string_view bytes, const char* what) : bytes_(bytes), what_(what) {}

    std::size_t size() const { return bytes_.size(); }
    bool empty() const { return bytes_.empty(); }
    std::string_view bytes() const { return bytes_; }

    std::uint16_t u16(std::size_t at) const {
        require(at, 2);
        return static_cast<std::uint16_t>((byte(at) << 8) | byte(at + 1));
    }
    std::int16_t i16(std::size_t at) const { return static_cast<std::int16_t>(u16(at)); }
    std::uint32_t u32(std::size_t at) const {
        require(at, 4);
        return (static_cast<std::uint32_t>(byte(at)) << 24) | (static_cast<std::uint32_t>(byte(at + 1)) << 16) |
               (static_cast<std::uint32_t>(byte(at + 2)) << 8) | static_cast<std::uint32_t>(byte(at + 3));
    }
    std::int32_t i32(std::size_t at) const { return static_cast<std::int32_t>(u32(at)); }

    Span sub(std::size_t at, std::size_t length, const char* what) const {
        require(at, length);
        return Span(bytes_.substr(at, length), what);
    }
    void require(std::size_t at, std::size_t length) const {
        if (at > bytes_.size() || length > bytes_.size() - at) invalid(std::string("the ") + what_ + " is truncated");
    }

private:
    unsigned byte(std::size_t at) const { return static_cast<unsigned char>(bytes_[at]); }

    std::string_view bytes_;
    const char* what_ = "font";
};

void put16(std::string& out, std::uint16_t value) {
    out += static_cast<char>(value >> 8);
    out += static_cast<char>(value & 0xFF);
}
void put32(std::string& out, std::uint32_t value) {
    put16(out, static_cast<std::uint16_t>(value >> 16));
    put16(out, static_cast<std::uint16_t>(value & 0xFFFF));
}
void poke16(std::string& out, std::size_t at, std::uint16_t value) {
    out[at] = static_cast<char>(value >> 8);
    out[at + 1] = static_cast<char>(value & 0xFF);
}
void poke32(std::string& out, std::size_t at, std::uint32_t value) {
    poke16(out, at, static_cast<std::uint16_t>(value >> 16));
    poke16(out, at + 2, static_cast<std::uint16_t>(value & 0xFFFF));
}
std::size_t padded4(std::size_t size) { return (size + 3) & ~std::size_t{3}; }

/// The OpenType table checksum: the sum of big-endian 32-bit words, the tail zero-padded.
std::uint32_t checksum(std::string_view data) {
    const auto byte = [&data](std::size_t at) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(data[at]));
    };
    std::uint32_t sum = 0;
    const std::size_t whole = data.size() & ~std::size_t{3};
    for (std::size_t i = 0; i < whole; i += 4) {
        sum += (byte(i) << 24) | (byte(i + 1) << 16) | (byte(i + 2) << 8) | byte(i + 3);
    }
    std::uint32_t tail = 0;
    for (std::size_t i = whole; i < data.size(); ++i) tail |= byte(i) << (24 - 8 * (i - whole));
    return sum + tail;
}

/// The sfnt table directory, sorted by tag.
class Directory {
public:
    explicit Directory(const Span& file) {
        if (file.size() < 12) invalid("the file is too short to be a font");
        const Tag version = file.u32(0);
        if (version == makeTag("ttcf")) invalid("it is a TrueType collection (.ttc); only single fonts are supported");
        if (version == makeTag("OTTO")) {
            invalid("it has CFF (PostScript) outlines; only TrueType outlines are supported");
        }
        if (version != 0x00010000 && version != makeTag("true")) {
            invalid("it is not a TrueType font (unknown sfnt version)");
        }
        const std::size_t count = file.u16(4);
        tables_.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t entry = 12 + 16 * i;
            const Tag tag = file.u32(entry);
            const std::size_t offset = file.u32(entry + 8), length = file.u32(entry + 12);
            if (offset > file.size() || length > file.size() - offset) {
                invalid("the '" + tagName(tag) + "' table lies outside the file");
            }
            tables_.emplace_back(tag, file.bytes().substr(offset, length));
        }
        std::sort(tables_.begin(), tables_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        const auto twice = std::adjacent_find(tables_.begin(), tables_.end(),
                                              [](const auto& a, const auto& b) { return a.first == b.first; });
        if (twice != tables_.end()) invalid("the '" + tagName(twice->first) + "' table appears twice");
    }

    std::optional<std::string_view> find(Tag tag) const {
        const auto it = std::lower_bound(tables_.begin(), tables_.end(), tag,
                                         [](const auto& entry, Tag wanted) { return entry.first < wanted; });
        if (it == tables_.end() || it->first != tag) return std::nullopt;
        return it->second;
    }
    Span need(Tag tag, const char* what) const {
        const auto table = find(tag);
        if (!table) invalid("it has no '" + tagName(tag) + "' table");
        return Span(*table, what);
    }
    Span optional(Tag tag, const char* what) const { return Span(find(tag).value_or(std::string_view()), what); }

private:
    std::vector<std::pair<Tag, std::string_view>> tables_;
};

/// Looks code points up in the font's best Unicode cmap subtable, in place: the repertoire is
/// a few hundred code points, the font maps thousands, so building a full map would be waste.
class CharMap {
public:
    explicit CharMap(const Span& cmap) {
        const std::size_t records = cmap.u16(2);
        int bestRank = 0;
        std::size_t best = 0;
        for (std::size_t i = 0; i < records; ++i) {
            const std::size_t record = 4 + 8 * i;
            const int rank = rankOf(cmap.u16(record), cmap.u16(record + 2));
            if (rank <= bestRank) continue;
            const std::size_t offset = cmap.u32(record + 4);
            const auto format = cmap.u16(offset);
            if (format != 4 && format != 12) continue;
            bestRank = rank;
            best = offset;
            format_ = format;
        }
        if (bestRank == 0) invalid("it has no Unicode cmap subtable of format 4 or 12");
        // Through to the end of 'cmap' rather than the subtable's own length: format 4 lengths
        // are 16-bit and overflow in big fonts; every read is bounds-checked anyway.
        table_ = cmap.sub(best, cmap.size() - best, "cmap subtable");
        if (format_ == 4) {
            const std::size_t doubled = table_.u16(6);
            if (doubled == 0 || doubled % 2 != 0) invalid("its format 4 cmap has a bad segment count");
            count_ = doubled / 2;
            table_.require(0, 16 + 8 * count_);
            for (std::size_t s = 0; s < count_; ++s) {
                if (segmentStart(s) > segmentEnd(s) || (s > 0 && segmentEnd(s - 1) >= segmentStart(s))) {
                    invalid("its format 4 cmap's segments are out of order");
                }
            }
        } else {
            table_.require(0, 16);
            count_ = table_.u32(12);
            if (count_ > (table_.size() - 16) / 12) invalid("its format 12 cmap is truncated");
            for (std::size_t g = 0; g < count_; ++g) {
                if (groupStart(g) > groupEnd(g) || (g > 0 && groupEnd(g - 1) >= groupStart(g))) {
                    invalid("its format 12 cmap's groups are out of order");
                }
            }
        }
    }

    /// The glyph id of a code point, 0 when the font does not map it. 32-bit because a
    /// damaged format 12 group can point past 0xFFFF; the caller checks the range.
    std::uint32_t glyph(char32_t cp) const {
        if (format_ == 4) {
            if (cp > 0xFFFF) return 0;
            const std::size_t s = firstEndingAtOrAfter(cp, [this](std::size_t i) { return segmentEnd(i); });
            if (s == count_ || cp < segmentStart(s)) return 0;
            const std::uint16_t delta = table_.u16(16 + 4 * count_ + 2 * s);
            const std::size_t rangeOffsetAt = 16 + 6 * count_ + 2 * s;
            const std::uint16_t rangeOffset = table_.u16(rangeOffsetAt);
            if (rangeOffset == 0) return (cp + delta) & 0xFFFF;
            const std::uint16_t mapped = table_.u16(rangeOffsetAt + rangeOffset + 2 * (cp - segmentStart(s)));
            return mapped == 0 ? 0 : (mapped + delta) & 0xFFFF;
        }
        const std::size_t g = firstEndingAtOrAfter(cp, [this](std::size_t i) { return groupEnd(i); });
        if (g == count_ || cp < groupStart(g)) return 0;
        return table_.u32(16 + 12 * g + 8) + (cp - groupStart(g));
    }

private:
    // 3/10 first: it is the full-Unicode subtable; 3/1 is what Windows and PDF tools read.
    static int rankOf(std::uint16_t platform, std::uint16_t encoding) {
        if (platform == 3 && encoding == 10) return 4;
        if (platform == 3 && encoding == 1) return 3;
        if (platform == 0 && (encoding == 4 || encoding == 6)) return 2;
        if (platform == 0 && encoding <= 3) return 1;
        return 0;
    }

    std::uint32_t segmentEnd(std::size_t s) const { return table_.u16(14 + 2 * s); }
    std::uint32_t segmentStart(std::size_t s) const { return table_.u16(16 + 2 * count_ + 2 * s); }
    std::uint32_t groupStart(std::size_t g) const { return table_.u32(16 + 12 * g); }
    std::uint32_t groupEnd(std::size_t g) const { return table_.u32(16 + 12 * g + 4); }

    template <typename End>
    std::size_t firstEndingAtOrAfter(char32_t cp, End end) const {
        std::size_t low = 0, high = count_;
        while (low < high) {
            const std::size_t middle = low + (high - low) / 2;
            if (end(middle) < cp) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    Span table_;
    std::uint16_t format_ = 0;
    std::size_t count_ = 0;  // segments (format 4) or groups (format 12)
};

constexpr std::uint16_t kArg1And2AreWords = 0x0001, kWeHaveAScale = 0x0008, kMoreComponents = 0x0020,
                        kWeHaveAnXAndYScale = 0x0040, kWeHaveATwoByTwo = 0x0080;
// WE_HAVE_INSTRUCTIONS (0x0100) needs nothing: the instructions follow the last component
// and are copied with the rest of the glyph.

/// Calls visit(componentGlyphId, offsetOfTheId) for each component of a composite glyph;
/// nothing for a simple or empty glyph.
template <typename Visit>
void forEachComponent(const Span& glyph, Visit&& visit) {
    if (glyph.empty() || glyph.i16(0) >= 0) return;
    std::size_t at = 10;
    for (;;) {
        const auto flags = glyph.u16(at);
        std::size_t size = 4 + ((flags & kArg1And2AreWords) ? 4 : 2);
        if (flags & kWeHaveAScale) size += 2;
        else if (flags & kWeHaveAnXAndYScale) size += 4;
        else if (flags & kWeHaveATwoByTwo) size += 8;
        glyph.require(at, size);
        visit(glyph.u16(at + 2), at + 2);
        at += size;
        if (!(flags & kMoreComponents)) break;
    }
}

/// The tables of the font being subset, checked as far as the subsetter relies on them.
struct SourceFont {
    explicit SourceFont(std::string_view ttf)
        : file(ttf, "font"),
          directory(file),
          head(directory.need(kHead, "'head' table")),
          hhea(directory.need(kHhea, "'hhea' table")),
          maxp(directory.need(kMaxp, "'maxp' table")),
          hmtx(directory.need(kHmtx, "'hmtx' table")),
          loca(directory.need(kLoca, "'loca' table")),
          glyf(directory.need(kGlyf, "'glyf' table")),
          os2(directory.optional(kOs2, "'OS/2' table")),
          post(directory.optional(kPost, "'post' table")),
          name(directory.optional(kName, "'name' table")),
          cmap(directory.need(kCmap, "'cmap' table")) {
        head.require(0, 54);
        if (head.u32(12) != 0x5F0F3CF5) invalid("its 'head' table has a wrong magic number");
        const auto unitsPerEm = head.u16(18);
        if (unitsPerEm < 16 || unitsPerEm > 16384) invalid("its unitsPerEm is out of range");
        const auto locaFormat = head.i16(50);
        if (locaFormat != 0 && locaFormat != 1) invalid("its indexToLocFormat is neither 0 nor 1");
        longLoca = locaFormat == 1;
        glyphCount = maxp.u16(4);
        if (glyphCount == 0) invalid("it has no glyphs");
        hhea.require(0, 36);
        metricsCount = std::min<std::size_t>(hhea.u16(34), glyphCount);
        if (metricsCount == 0) invalid("its numberOfHMetrics is 0");
        hmtx.require(0, 4 * metricsCount + 2 * (glyphCount - metricsCount));
        loca.require(0, (glyphCount + 1) * (longLoca ? 4 : 2));
    }

    /// A glyph's outline data; empty for a glyph without outline (a space).
    Span glyph(std::size_t gid) const {
        const std::size_t begin = longLoca ? loca.u32(4 * gid) : 2u * loca.u16(2 * gid);
        const std::size_t end = longLoca ? loca.u32(4 * gid + 4) : 2u * loca.u16(2 * gid + 2);
        if (begin > end || end > glyf.size()) {
            invalid("glyph " + std::to_string(gid) + " lies outside the 'glyf' table");
        }
        const Span data = glyf.sub(begin, end - begin, "glyph");
        if (!data.empty() && data.size() < 10) invalid("glyph " + std::to_string(gid) + " is shorter than its header");
        return data;
    }
    std::uint16_t advance(std::size_t gid) const { return hmtx.u16(4 * std::min(gid, metricsCount - 1)); }
    std::int16_t leftSideBearing(std::size_t gid) const {
        return gid < metricsCount ? hmtx.i16(4 * gid + 2) : hmtx.i16(4 * metricsCount + 2 * (gid - metricsCount));
    }

    Span file;
    Directory directory;
    Span head, hhea, maxp, hmtx, loca, glyf, os2, post, name;
    CharMap cmap;
    bool longLoca = false;
    std::size_t glyphCount = 0, metricsCount = 0;
};

/// Characters a PostScript name may have that are also safe in a PDF name without escapes
/// ('#' would start one).
bool isNameCharacter(unsigned c) {
    if (c < 33 || c > 126) return false;
    for (char special : std::string_view("[](){}<>/%#")) {
        if (c == static_cast<unsigned char>(special)) return false;
    }
    return true;
}

/// Name ID 6, the PostScript name; Windows records first, they are Unicode and always there
/// in fonts made this century.
std::string postScriptName(const Span& name) {
    if (name.empty()) return {};
    const std::size_t records = name.u16(2), strings = name.u16(4);
    int bestRank = 0;
    std::string best;
    for (std::size_t i = 0; i < records; ++i) {
        const std::size_t record = 6 + 12 * i;
        if (name.u16(record + 6) != 6) continue;
        const auto platform = name.u16(record);
        const int rank = platform == 3 ? 3 : platform == 1 ? 2 : platform == 0 ? 1 : 0;
        if (rank <= bestRank) continue;
        const Span raw = name.sub(strings + name.u16(record + 10), name.u16(record + 8), "'name' string");
        std::string decoded;
        if (platform == 1) {
            for (char c : raw.bytes()) {
                if (isNameCharacter(static_cast<unsigned char>(c))) decoded += c;
            }
        } else {
            for (std::size_t j = 0; j + 1 < raw.size(); j += 2) {
                const unsigned c = raw.u16(j);
                if (isNameCharacter(c)) decoded += static_cast<char>(c);
            }
        }
        if (decoded.empty()) continue;
        bestRank = rank;
        best = decoded.substr(0, 63);  // the PostScript limit
    }
    return best;
}

/// A format 4 cmap (platform 3, encoding 1) for BMP code points, sorted by code point.
std::string buildCmap(const std::vector<std::pair<char32_t, std::uint16_t>>& mapping) {
    struct Segment {
        std::uint16_t start, end, delta;
    };
    std::vector<Segment> segments;
    segments.reserve(mapping.size() / 4 + 2);
    for (const auto& [cp, gid] : mapping) {
        const auto code = static_cast<std::uint16_t>(cp);
        const auto delta = static_cast<std::uint16_t>(gid - code);  // modulo 2^16, as format 4 adds it
        if (!segments.empty() && segments.back().end + 1 == code && segments.back().delta == delta) {
            segments.back().end = code;
        } else {
            segments.push_back({code, code, delta});
        }
    }
    segments.push_back({0xFFFF, 0xFFFF, 1});  // the final segment format 4 requires; maps to glyph 0
    const std::size_t segCount = segments.size();
    const std::size_t length = 16 + 8 * segCount;
    if (length > 0xFFFF) {
        throw Error(ErrorCode::kInternal, "font.subset_too_large",
                    "cannot subset the TrueType font: too many code points for a format 4 cmap");
    }
    std::size_t power = 1;
    std::uint16_t selector = 0;
    while (power * 2 <= segCount) {
        power *= 2;
        ++selector;
    }
    std::string out;
    out.reserve(12 + length);
    put16(out, 0);   // version
    put16(out, 1);   // one encoding record
    put16(out, 3);   // Windows
    put16(out, 1);   // Unicode BMP
    put32(out, 12);  // the subtable follows the record
    put16(out, 4);
    put16(out, static_cast<std::uint16_t>(length));
    put16(out, 0);  // language
    put16(out, static_cast<std::uint16_t>(2 * segCount));
    put16(out, static_cast<std::uint16_t>(2 * power));
    put16(out, selector);
    put16(out, static_cast<std::uint16_t>(2 * segCount - 2 * power));
    for (const auto& s : segments) put16(out, s.end);
    put16(out, 0);  // reservedPad
    for (const auto& s : segments) put16(out, s.start);
    for (const auto& s : segments) put16(out, s.delta);
    for (std::size_t i = 0; i < segCount; ++i) put16(out, 0);  // idRangeOffset: deltas only
    return out;
}

/// Extents of the kept glyphs, for head's bounding box and hhea's side-bearing fields.
struct Extents {
    void add(const Span& glyph, std::uint16_t advance, std::int16_t lsb) {
        advanceMax = std::max<int>(advanceMax, advance);
        if (glyph.empty()) return;  // no contours: not part of any extent
        const int x0 = glyph.i16(2), y0 = glyph.i16(4), x1 = glyph.i16(6), y1 = glyph.i16(8);
        if (!any) {
            xMin = x0;
            yMin = y0;
            xMax = x1;
            yMax = y1;
            minLsb = minRsb = 0x7FFF;
            extentMax = -0x8000;
            any = true;
        }
        xMin = std::min(xMin, x0);
        yMin = std::min(yMin, y0);
        xMax = std::max(xMax, x1);
        yMax = std::max(yMax, y1);
        minLsb = std::min<int>(minLsb, lsb);
        minRsb = std::min(minRsb, advance - (lsb + x1 - x0));
        extentMax = std::max(extentMax, lsb + x1 - x0);
    }
    static std::uint16_t clamp16(int value) {
        return static_cast<std::uint16_t>(std::clamp(value, -0x8000, 0x7FFF) & 0xFFFF);
    }

    bool any = false;
    int xMin = 0, yMin = 0, xMax = 0, yMax = 0;
    int advanceMax = 0, minLsb = 0, minRsb = 0, extentMax = 0;
};

}  // namespace

SubsetFont subsetTrueType(std::string_view ttf, const std::vector<char32_t>& codePoints) {
    const SourceFont font(ttf);
    const std::size_t glyphCount = font.glyphCount;

    // Sorted and unique, so the result does not depend on the order the caller lists them in.
    std::vector<std::pair<char32_t, std::uint16_t>> picked;  // code point, OLD glyph id
    picked.reserve(codePoints.size());
    for (char32_t cp : codePoints) {
        const auto gid = font.cmap.glyph(cp);
        // A mapping past the last glyph is a broken font; the code point is simply not there.
        if (gid != 0 && gid < glyphCount) picked.emplace_back(cp, static_cast<std::uint16_t>(gid));
    }
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());

    // The glyphs to keep: .notdef, the picked ones and, transitively, their components.
    std::vector<std::uint8_t> keep(glyphCount, 0);
    std::vector<std::uint16_t> pending{0};
    keep[0] = 1;
    for (const auto& entry : picked) {
        if (!keep[entry.second]) {
            keep[entry.second] = 1;
            pending.push_back(entry.second);
        }
    }
    while (!pending.empty()) {
        const auto gid = pending.back();
        pending.pop_back();
        forEachComponent(font.glyph(gid), [&](std::uint16_t component, std::size_t) {
            if (component >= glyphCount) invalid("glyph " + std::to_string(gid) + " has a component out of range");
            if (!keep[component]) {
                keep[component] = 1;
                pending.push_back(component);
            }
        });
    }
    std::vector<std::uint16_t> newId(glyphCount, 0);
    std::vector<std::uint16_t> oldId;
    for (std::size_t gid = 0; gid < glyphCount; ++gid) {
        if (!keep[gid]) continue;
        newId[gid] = static_cast<std::uint16_t>(oldId.size());
        oldId.push_back(static_cast<std::uint16_t>(gid));
    }
    const std::size_t count = oldId.size();

    SubsetFont out;
    out.advanceWidths.resize(count);
    out.unicodeOf.assign(count, 0);
    out.glyphOf.reserve(picked.size());
    std::vector<std::pair<char32_t, std::uint16_t>> bmp;  // code point, NEW glyph id, for the cmap
    bmp.reserve(picked.size());
    for (const auto& [cp, gid] : picked) {
        const auto id = newId[gid];
        out.glyphOf.emplace(cp, id);
        if (out.unicodeOf[id] == 0) out.unicodeOf[id] = cp;  // glyphs shared by code points: the lowest
        if (cp < 0xFFFF) bmp.emplace_back(cp, id);
    }

    // glyf, loca (always long: no 2-byte alignment games) and hmtx with one full metric a glyph.
    std::size_t glyfSize = 0;
    for (auto gid : oldId) glyfSize += padded4(font.glyph(gid).size());
    if (glyfSize > 0xFFFFFFFFu) invalid("the subset's 'glyf' table would exceed 4 GB");
    std::string glyf, loca, hmtx;
    glyf.reserve(glyfSize);
    loca.reserve(4 * (count + 1));
    hmtx.reserve(4 * count);
    Extents extents;
    for (std::size_t id = 0; id < count; ++id) {
        const auto gid = oldId[id];
        const Span data = font.glyph(gid);
        const std::size_t start = glyf.size();
        put32(loca, static_cast<std::uint32_t>(start));
        glyf.append(data.bytes());
        forEachComponent(data, [&](std::uint16_t component, std::size_t at) {
            poke16(glyf, start + at, newId[component]);
        });
        glyf.append(padded4(data.size()) - data.size(), '\0');
        const auto advance = font.advance(gid);
        const auto lsb = font.leftSideBearing(gid);
        put16(hmtx, advance);
        put16(hmtx, static_cast<std::uint16_t>(lsb));
        out.advanceWidths[id] = advance;
        extents.add(data, advance, lsb);
    }
    put32(loca, static_cast<std::uint32_t>(glyf.size()));

    std::string head(font.head.bytes());
    poke32(head, 8, 0);  // checkSumAdjustment, set once the whole file is known
    poke16(head, 36, Extents::clamp16(extents.xMin));
    poke16(head, 38, Extents::clamp16(extents.yMin));
    poke16(head, 40, Extents::clamp16(extents.xMax));
    poke16(head, 42, Extents::clamp16(extents.yMax));
    poke16(head, 50, 1);  // indexToLocFormat: long
    std::string hhea(font.hhea.bytes());
    poke16(hhea, 10, Extents::clamp16(extents.advanceMax));
    poke16(hhea, 12, Extents::clamp16(extents.minLsb));
    poke16(hhea, 14, Extents::clamp16(extents.minRsb));
    poke16(hhea, 16, Extents::clamp16(extents.extentMax));
    poke16(hhea, 34, static_cast<std::uint16_t>(count));
    std::string maxp(font.maxp.bytes());
    poke16(maxp, 4, static_cast<std::uint16_t>(count));

    // post format 3: no glyph names, which nothing reading a PDF needs; the memory hints of
    // the original describe another font, so they are left 0 ("unknown").
    std::string post;
    put32(post, 0x00030000);
    if (font.post.empty()) {
        post.append(12, '\0');
    } else {
        font.post.require(0, 16);
        post.append(font.post.bytes().substr(4, 12));  // italicAngle, underline position and thickness, isFixedPitch
    }
    post.append(16, '\0');

    const std::string cmap = buildCmap(bmp);

    struct OutTable {
        Tag tag;
        std::string_view data;
    };
    std::vector<OutTable> tables = {{kCmap, cmap}, {kGlyf, glyf}, {kHead, head}, {kHhea, hhea},
                                    {kHmtx, hmtx}, {kLoca, loca}, {kMaxp, maxp}, {kPost, post}};
    // Hinting programs, which the kept glyphs' instructions call, and the tables PDF
    // validators (PDFBox, veraPDF) parse.
    for (Tag copied : {kCvt, kFpgm, kPrep, kOs2, kName}) {
        if (const auto table = font.directory.find(copied)) tables.push_back({copied, *table});
    }
    std::sort(tables.begin(), tables.end(), [](const OutTable& a, const OutTable& b) { return a.tag < b.tag; });

    const std::size_t numTables = tables.size();
    std::size_t power = 1;
    std::uint16_t selector = 0;
    while (power * 2 <= numTables) {
        power *= 2;
        ++selector;
    }
    std::size_t total = 12 + 16 * numTables;
    for (const auto& table : tables) total += padded4(table.data.size());
    std::string program;
    program.reserve(total);
    put32(program, 0x00010000);
    put16(program, static_cast<std::uint16_t>(numTables));
    put16(program, static_cast<std::uint16_t>(16 * power));
    put16(program, selector);
    put16(program, static_cast<std::uint16_t>(16 * numTables - 16 * power));
    std::size_t offset = 12 + 16 * numTables, headOffset = 0;
    for (const auto& table : tables) {
        put32(program, table.tag);
        put32(program, checksum(table.data));  // head's with checkSumAdjustment 0, as the spec says
        put32(program, static_cast<std::uint32_t>(offset));
        put32(program, static_cast<std::uint32_t>(table.data.size()));
        if (table.tag == kHead) headOffset = offset;
        offset += padded4(table.data.size());
    }
    for (const auto& table : tables) {
        program.append(table.data);
        program.append(padded4(table.data.size()) - table.data.size(), '\0');
    }
    poke32(program, headOffset + 8, 0xB1B0AFBAu - checksum(program));
    out.program = std::move(program);

    auto& m = out.metrics;
    m.unitsPerEm = font.head.u16(18);
    // hhea, not OS/2's typo metrics: DejaVu does not set USE_TYPO_METRICS (fsSelection bit 7),
    // so FreeType, macOS and browsers space its lines by hhea, and its hhea box is the one
    // that clears the accents of capitals such as Ż and Ś (typo ascender 1556 < 'Ż' top).
    m.ascender = font.hhea.i16(4);
    m.descender = font.hhea.i16(6);
    m.lineGap = font.hhea.i16(8);
    m.capHeight = 0;
    if (!font.os2.empty() && font.os2.u16(0) >= 2 && font.os2.size() >= 90) m.capHeight = font.os2.i16(88);
    if (m.capHeight <= 0) {
        // OS/2 before version 2 (DejaVu has version 1) has no sCapHeight: measure 'H'.
        const auto h = font.cmap.glyph(U'H');
        if (h != 0 && h < glyphCount) {
            const Span glyph = font.glyph(h);
            if (!glyph.empty()) m.capHeight = glyph.i16(8);
        }
    }
    if (m.capHeight <= 0) m.capHeight = m.ascender;
    m.xMin = static_cast<std::int16_t>(Extents::clamp16(extents.xMin));
    m.yMin = static_cast<std::int16_t>(Extents::clamp16(extents.yMin));
    m.xMax = static_cast<std::int16_t>(Extents::clamp16(extents.xMax));
    m.yMax = static_cast<std::int16_t>(Extents::clamp16(extents.yMax));
    m.italicAngle = font.post.empty() ? 0.0 : font.post.i32(4) / 65536.0;  // 16.16 fixed, signed
    m.fixedPitch = !font.post.empty() && font.post.u32(12) != 0;
    m.weightClass = font.os2.empty() ? 400 : font.os2.u16(4);
    m.postScriptName = postScriptName(font.name);
    if (m.postScriptName.empty()) m.postScriptName = "Unnamed";
    return out;
}

std::vector<char32_t> supportedRepertoire() { return printableRepertoire(); }

}  // namespace kooperdoc::pdf
