// SPDX-License-Identifier: AGPL-3.0-or-later
#include "TrueTypeSubset.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::pdf {
namespace {

[[noreturn]] void invalid(const std::string& what) {
    throw Error(ErrorCode::kInternal, "font.invalid", "cannot subset the font: " + what);
}

class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}
    std::uint8_t u8(std::size_t at) const {
        if (at >= data_.size()) invalid("read past the end");
        return static_cast<std::uint8_t>(data_[at]);
    }
    std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>((u8(at) << 8) | u8(at + 1)); }
    std::int16_t s16(std::size_t at) const { return static_cast<std::int16_t>(u16(at)); }
    std::uint32_t u32(std::size_t at) const {
        return (static_cast<std::uint32_t>(u16(at)) << 16) | u16(at + 2);
    }
    std::string_view slice(std::size_t at, std::size_t size) const {
        if (at > data_.size() || size > data_.size() - at) invalid("table outside the file");
        return data_.substr(at, size);
    }
    std::size_t size() const { return data_.size(); }

private:
    std::string_view data_;
};

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xFF);
}
void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}
void set16(std::string& s, std::size_t at, std::uint16_t v) {
    s[at] = static_cast<char>(v >> 8);
    s[at + 1] = static_cast<char>(v & 0xFF);
}

std::uint32_t checksum(std::string_view table) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < table.size(); i += 4) {
        std::uint32_t word = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            word = (word << 8) | (i + j < table.size() ? static_cast<std::uint8_t>(table[i + j]) : 0);
        }
        sum += word;
    }
    return sum;
}

struct Tables {
    std::map<std::string, std::string_view> byTag;
    std::string_view need(const std::string& tag) const {
        const auto it = byTag.find(tag);
        if (it == byTag.end()) invalid("no '" + tag + "' table");
        return it->second;
    }
    bool has(const std::string& tag) const { return byTag.count(tag) != 0; }
};

Tables readDirectory(const Reader& font) {
    const auto version = font.u32(0);
    if (version == 0x74746366) invalid("TrueType collections are not supported");
    if (version == 0x4F54544F) invalid("CFF-based OpenType is not supported");
    if (version != 0x00010000 && version != 0x74727565) invalid("not a TrueType font");
    const auto count = font.u16(4);
    Tables tables;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t entry = 12 + 16 * i;
        std::string tag(font.slice(entry, 4));
        tables.byTag[tag] = font.slice(font.u32(entry + 8), font.u32(entry + 12));
    }
    return tables;
}

std::map<char32_t, std::uint16_t> readCmap(std::string_view cmapTable) {
    Reader cmap(cmapTable);
    std::size_t best = 0;
    int bestRank = 0;
    for (std::size_t i = 0; i < cmap.u16(2); ++i) {
        const auto platform = cmap.u16(4 + 8 * i), encoding = cmap.u16(6 + 8 * i);
        const auto offset = cmap.u32(8 + 8 * i);
        const int rank = (platform == 3 && encoding == 10) ? 3 : (platform == 3 && encoding == 1) ? 2
                         : (platform == 0) ? 1 : 0;
        if (rank > bestRank) { bestRank = rank; best = offset; }
    }
    if (bestRank == 0) invalid("no Unicode cmap");
    std::map<char32_t, std::uint16_t> map;
    const auto format = cmap.u16(best);
    if (format == 4) {
        const std::size_t segments = cmap.u16(best + 6) / 2;
        const std::size_t ends = best + 14, starts = ends + 2 * segments + 2, deltas = starts + 2 * segments,
                          offsets = deltas + 2 * segments;
        for (std::size_t s = 0; s < segments; ++s) {
            const std::uint16_t end = cmap.u16(ends + 2 * s), start = cmap.u16(starts + 2 * s);
            const std::uint16_t delta = cmap.u16(deltas + 2 * s), rangeOffset = cmap.u16(offsets + 2 * s);
            for (std::uint32_t c = start; c <= end && c != 0xFFFF; ++c) {
                std::uint16_t glyph;
                if (rangeOffset == 0) {
                    glyph = static_cast<std::uint16_t>(c + delta);
                } else {
                    const std::size_t at = offsets + 2 * s + rangeOffset + 2 * (c - start);
                    glyph = cmap.u16(at);
                    if (glyph != 0) glyph = static_cast<std::uint16_t>(glyph + delta);
                }
                if (glyph != 0) map[c] = glyph;
            }
        }
    } else if (format == 12) {
        const auto groups = cmap.u32(best + 12);
        for (std::size_t g = 0; g < groups; ++g) {
            const std::size_t at = best + 16 + 12 * g;
            const auto start = cmap.u32(at), end = cmap.u32(at + 4), glyph = cmap.u32(at + 8);
            if (end < start || end - start > 0x10FFFF) invalid("bad cmap group");
            for (std::uint32_t c = start; c <= end; ++c) map[c] = static_cast<std::uint16_t>(glyph + (c - start));
        }
    } else {
        invalid("unsupported cmap format " + std::to_string(format));
    }
    return map;
}

constexpr std::uint16_t kArgsAreWords = 0x0001, kHaveScale = 0x0008, kMoreComponents = 0x0020,
                        kXYScale = 0x0040, kTwoByTwo = 0x0080;

}  // namespace

SubsetFont subsetTrueType(std::string_view ttf, const std::vector<char32_t>& codePoints) {
    const Reader font(ttf);
    if (ttf.size() < 12) invalid("file too short");
    const auto tables = readDirectory(font);
    const Reader head(tables.need("head")), hhea(tables.need("hhea")), maxp(tables.need("maxp"));
    const Reader hmtx(tables.need("hmtx")), loca(tables.need("loca"));
    const auto glyf = tables.need("glyf");
    const std::size_t glyphCount = maxp.u16(4);
    const bool longLoca = head.s16(50) == 1;
    const std::size_t metricsCount = hhea.u16(34);
    if (metricsCount == 0 || metricsCount > glyphCount) invalid("bad numberOfHMetrics");

    auto glyphRange = [&](std::size_t gid) {
        if (gid >= glyphCount) invalid("glyph id out of range");
        const std::size_t a = longLoca ? loca.u32(4 * gid) : 2u * loca.u16(2 * gid);
        const std::size_t b = longLoca ? loca.u32(4 * gid + 4) : 2u * loca.u16(2 * gid + 2);
        if (b < a || b > glyf.size()) invalid("bad loca entry");
        return std::make_pair(a, b);
    };
    auto advance = [&](std::size_t gid) {
        return hmtx.u16(4 * std::min(gid, metricsCount - 1));
    };

    const auto cmap = readCmap(tables.need("cmap"));
    SubsetFont out;
    std::set<std::uint16_t> needed{0};
    std::map<std::uint16_t, char32_t> firstCodePoint;
    for (char32_t cp : codePoints) {
        const auto it = cmap.find(cp);
        if (it == cmap.end() || it->second >= glyphCount) continue;
        needed.insert(it->second);
        firstCodePoint.emplace(it->second, cp);
    }
    // Composite glyphs draw other glyphs: pull their components in, transitively.
    std::vector<std::uint16_t> pending(needed.begin(), needed.end());
    while (!pending.empty()) {
        const auto gid = pending.back();
        pending.pop_back();
        const auto [a, b] = glyphRange(gid);
        if (b - a < 10) continue;
        const Reader glyph(glyf.substr(a, b - a));
        if (glyph.s16(0) >= 0) continue;
        std::size_t at = 10;
        for (;;) {
            const auto flags = glyph.u16(at);
            const auto component = glyph.u16(at + 2);
            if (needed.insert(component).second) pending.push_back(component);
            at += 4 + ((flags & kArgsAreWords) ? 4 : 2);
            if (flags & kHaveScale) at += 2;
            else if (flags & kXYScale) at += 4;
            else if (flags & kTwoByTwo) at += 8;
            if (!(flags & kMoreComponents)) break;
        }
    }
    std::map<std::uint16_t, std::uint16_t> newId;
    for (auto gid : needed) newId.emplace(gid, static_cast<std::uint16_t>(newId.size()));
    const auto count = static_cast<std::uint16_t>(newId.size());

    std::string newGlyf, newLoca, newHmtx;
    for (const auto& [oldGid, id] : newId) {
        put32(newLoca, static_cast<std::uint32_t>(newGlyf.size()));
        const auto [a, b] = glyphRange(oldGid);
        std::string data(glyf.substr(a, b - a));
        if (data.size() >= 10 && Reader(data).s16(0) < 0) {
            std::size_t at = 10;
            for (;;) {
                const auto flags = Reader(data).u16(at);
                set16(data, at + 2, newId.at(Reader(data).u16(at + 2)));
                at += 4 + ((flags & kArgsAreWords) ? 4 : 2);
                if (flags & kHaveScale) at += 2;
                else if (flags & kXYScale) at += 4;
                else if (flags & kTwoByTwo) at += 8;
                if (!(flags & kMoreComponents)) break;
            }
        }
        newGlyf += data;
        while (newGlyf.size() % 4 != 0) newGlyf += '\0';
        const auto width = advance(oldGid);
        const auto lsb = oldGid < metricsCount ? hmtx.u16(4 * oldGid + 2)
                                               : hmtx.u16(4 * metricsCount + 2 * (oldGid - metricsCount));
        put16(newHmtx, width);
        put16(newHmtx, lsb);
        out.advanceWidths.push_back(width);
        const auto cp = firstCodePoint.find(oldGid);
        out.unicodeOf.push_back(cp == firstCodePoint.end() ? 0 : cp->second);
    }
    put32(newLoca, static_cast<std::uint32_t>(newGlyf.size()));
    for (char32_t cp : codePoints) {
        const auto it = cmap.find(cp);
        if (it != cmap.end() && newId.count(it->second)) out.glyphOf[cp] = newId.at(it->second);
    }

    std::string newHead(tables.need("head"));
    set16(newHead, 50, 1);
    newHead.replace(8, 4, std::string(4, '\0'));
    std::string newHhea(tables.need("hhea"));
    set16(newHhea, 34, count);
    std::string newMaxp(tables.need("maxp"));
    set16(newMaxp, 4, count);
    // post format 3: no glyph names, which a subset does not need.
    const std::string_view oldPost = tables.has("post") ? tables.need("post") : std::string_view();
    std::string newPost;
    put32(newPost, 0x00030000);
    newPost += oldPost.size() >= 32 ? std::string(oldPost.substr(4, 28)) : std::string(28, '\0');
    // A format 4 cmap over the kept BMP code points, one segment per code point run.
    std::vector<std::pair<std::uint16_t, std::uint16_t>> pairs;
    for (const auto& [cp, gid] : out.glyphOf) {
        if (cp < 0xFFFF) pairs.emplace_back(static_cast<std::uint16_t>(cp), gid);
    }
    std::sort(pairs.begin(), pairs.end());
    struct Segment { std::uint16_t start, end; std::int32_t delta; };
    std::vector<Segment> segments;
    for (const auto& [cp, gid] : pairs) {
        const std::int32_t delta = gid - cp;
        if (!segments.empty() && segments.back().end + 1 == cp && segments.back().delta == delta) segments.back().end = cp;
        else segments.push_back({cp, cp, delta});
    }
    segments.push_back({0xFFFF, 0xFFFF, 1});
    const auto segCount = static_cast<std::uint16_t>(segments.size());
    std::uint16_t searchRange = 2, entrySelector = 0;
    while (searchRange * 2 <= segCount * 2) { searchRange = static_cast<std::uint16_t>(searchRange * 2); ++entrySelector; }
    std::string sub;
    put16(sub, 4);
    put16(sub, static_cast<std::uint16_t>(16 + 8 * segCount));
    put16(sub, 0);
    put16(sub, static_cast<std::uint16_t>(segCount * 2));
    put16(sub, searchRange);
    put16(sub, entrySelector);
    put16(sub, static_cast<std::uint16_t>(segCount * 2 - searchRange));
    for (const auto& s : segments) put16(sub, s.end);
    put16(sub, 0);
    for (const auto& s : segments) put16(sub, s.start);
    for (const auto& s : segments) put16(sub, static_cast<std::uint16_t>(s.delta & 0xFFFF));
    for (std::size_t i = 0; i < segments.size(); ++i) put16(sub, 0);
    std::string newCmap;
    put16(newCmap, 0);
    put16(newCmap, 1);
    put16(newCmap, 3);
    put16(newCmap, 1);
    put32(newCmap, 12);
    newCmap += sub;

    std::map<std::string, std::string> outTables = {
        {"cmap", newCmap}, {"glyf", newGlyf}, {"head", newHead}, {"hhea", newHhea}, {"hmtx", newHmtx},
        {"loca", newLoca}, {"maxp", newMaxp}, {"post", newPost}};
    for (const char* copied : {"cvt ", "fpgm", "prep", "OS/2", "name"}) {
        if (tables.has(copied)) outTables[copied] = std::string(tables.need(copied));
    }
    const auto numTables = static_cast<std::uint16_t>(outTables.size());
    std::uint16_t range = 1, selector = 0;
    while (range * 2 <= numTables) { range = static_cast<std::uint16_t>(range * 2); ++selector; }
    std::string program;
    put32(program, 0x00010000);
    put16(program, numTables);
    put16(program, static_cast<std::uint16_t>(range * 16));
    put16(program, selector);
    put16(program, static_cast<std::uint16_t>(numTables * 16 - range * 16));
    std::size_t offset = 12 + 16 * outTables.size();
    std::size_t headOffset = 0;
    std::string body;
    for (const auto& [tag, data] : outTables) {  // std::map: sorted by tag, as required
        program += tag;
        put32(program, checksum(data));
        put32(program, static_cast<std::uint32_t>(offset + body.size()));
        put32(program, static_cast<std::uint32_t>(data.size()));
        if (tag == "head") headOffset = offset + body.size();
        body += data;
        while (body.size() % 4 != 0) body += '\0';
    }
    program += body;
    const std::uint32_t adjustment = 0xB1B0AFBAu - checksum(program);
    program[headOffset + 8] = static_cast<char>(adjustment >> 24);
    program[headOffset + 9] = static_cast<char>((adjustment >> 16) & 0xFF);
    program[headOffset + 10] = static_cast<char>((adjustment >> 8) & 0xFF);
    program[headOffset + 11] = static_cast<char>(adjustment & 0xFF);
    out.program = std::move(program);

    auto& m = out.metrics;
    m.unitsPerEm = head.u16(18);
    m.xMin = head.s16(36); m.yMin = head.s16(38); m.xMax = head.s16(40); m.yMax = head.s16(42);
    m.ascender = hhea.s16(4); m.descender = hhea.s16(6); m.lineGap = hhea.s16(8);
    m.italicAngle = 0; m.weightClass = 400; m.fixedPitch = false;
    m.capHeight = m.ascender;
    if (tables.has("OS/2")) {
        const Reader os2(tables.need("OS/2"));
        m.weightClass = os2.u16(4);
        if (os2.u16(0) >= 2 && os2.size() >= 90) m.capHeight = os2.s16(88);
    }
    if (tables.has("post")) {
        const Reader post(tables.need("post"));
        m.italicAngle = post.u32(4) / 65536.0;
        m.fixedPitch = post.u32(12) != 0;
    }
    m.postScriptName = "DejaVuSans";
    if (tables.has("name")) {
        const Reader name(tables.need("name"));
        const std::size_t strings = name.u16(4);
        for (std::size_t i = 0; i < name.u16(2); ++i) {
            const std::size_t rec = 6 + 12 * i;
            if (name.u16(rec + 6) != 6) continue;
            const auto platform = name.u16(rec);
            const auto raw = name.slice(strings + name.u16(rec + 10), name.u16(rec + 8));
            std::string ps;
            if (platform == 1) ps = std::string(raw);
            else for (std::size_t j = 1; j < raw.size(); j += 2) ps += raw[j];
            if (!ps.empty()) { m.postScriptName = ps; break; }
        }
    }
    return out;
}

}  // namespace kooperdoc::pdf
