// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "TrueTypeSubset.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Repertoire.h"

using namespace kooperdoc;
using namespace kooperdoc::pdf;

namespace {

constexpr std::u32string_view kPolishAndForms = U"ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–—…€☐☒";

std::string readFont(const std::string& name) {
    std::ifstream in(std::string(KOOPERDOC_FONT_DIR) + "/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::uint16_t u16At(const std::string& bytes, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes.at(at)) << 8) |
                                      static_cast<std::uint8_t>(bytes.at(at + 1)));
}

void put16(std::string& out, unsigned value) {
    out += static_cast<char>((value >> 8) & 0xFF);
    out += static_cast<char>(value & 0xFF);
}
void put32(std::string& out, std::uint32_t value) {
    put16(out, value >> 16);
    put16(out, value & 0xFFFF);
}
void poke16(std::string& out, std::size_t at, unsigned value) {
    out.at(at) = static_cast<char>((value >> 8) & 0xFF);
    out.at(at + 1) = static_cast<char>(value & 0xFF);
}

std::uint32_t checksum(std::string_view data) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < data.size(); i += 4) {
        std::uint32_t word = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            word = (word << 8) | (i + j < data.size() ? static_cast<std::uint8_t>(data[i + j]) : 0u);
        }
        sum += word;
    }
    return sum;
}

/// An independent and deliberately naive reading of a TrueType font, to check the subsetter
/// against. It trusts its input (reads go through std::string::at, so a bug fails the test
/// rather than the process).
class FontView {
public:
    explicit FontView(std::string bytes) : bytes_(std::move(bytes)) {
        for (std::size_t i = 0; i < u16(4); ++i) {
            const std::size_t entry = 12 + 16 * i;
            order_.push_back(bytes_.substr(entry, 4));
            tables_[order_.back()] = {u32(entry + 8), u32(entry + 12)};
        }
    }

    const std::string& bytes() const { return bytes_; }
    const std::vector<std::string>& directoryOrder() const { return order_; }
    bool has(const std::string& tag) const { return tables_.count(tag) != 0; }
    std::size_t offset(const std::string& tag) const { return tables_.at(tag).first; }
    std::size_t length(const std::string& tag) const { return tables_.at(tag).second; }
    std::string table(const std::string& tag) const { return bytes_.substr(offset(tag), length(tag)); }

    std::uint16_t u16(std::size_t at) const {
        return static_cast<std::uint16_t>((byte(at) << 8) | byte(at + 1));
    }
    std::int16_t i16(std::size_t at) const { return static_cast<std::int16_t>(u16(at)); }
    std::uint32_t u32(std::size_t at) const { return (static_cast<std::uint32_t>(u16(at)) << 16) | u16(at + 2); }

    std::size_t numGlyphs() const { return u16(offset("maxp") + 4); }
    bool longLoca() const { return u16(offset("head") + 50) == 1; }
    std::uint16_t advance(std::size_t gid) const {
        const std::size_t metrics = u16(offset("hhea") + 34);
        return u16(offset("hmtx") + 4 * std::min(gid, metrics - 1));
    }
    std::string glyph(std::size_t gid) const {
        const auto loca = offset("loca");
        const std::size_t begin = longLoca() ? u32(loca + 4 * gid) : 2u * u16(loca + 2 * gid);
        const std::size_t end = longLoca() ? u32(loca + 4 * gid + 4) : 2u * u16(loca + 2 * gid + 2);
        REQUIRE(begin <= end);
        REQUIRE(end <= length("glyf"));
        return bytes_.substr(offset("glyf") + begin, end - begin);
    }
    /// Through the (3, 1) format 4 subtable, segment by segment.
    std::uint16_t glyphFor(char32_t cp) const {
        const auto cmap = offset("cmap");
        std::size_t sub = 0;
        for (std::size_t i = 0; i < u16(cmap + 2); ++i) {
            if (u16(cmap + 4 + 8 * i) == 3 && u16(cmap + 6 + 8 * i) == 1) sub = cmap + u32(cmap + 8 + 8 * i);
        }
        REQUIRE(sub != 0);
        REQUIRE(u16(sub) == 4);
        const std::size_t segments = u16(sub + 6) / 2;
        for (std::size_t s = 0; s < segments; ++s) {
            const std::size_t end = u16(sub + 14 + 2 * s), start = u16(sub + 16 + 2 * segments + 2 * s);
            if (cp < start || cp > end) continue;
            const unsigned delta = u16(sub + 16 + 4 * segments + 2 * s);
            const std::size_t rangeOffsetAt = sub + 16 + 6 * segments + 2 * s;
            if (u16(rangeOffsetAt) == 0) return static_cast<std::uint16_t>(cp + delta);
            const unsigned glyph = u16(rangeOffsetAt + u16(rangeOffsetAt) + 2 * (cp - start));
            return glyph == 0 ? 0 : static_cast<std::uint16_t>(glyph + delta);
        }
        return 0;
    }

private:
    unsigned byte(std::size_t at) const { return static_cast<std::uint8_t>(bytes_.at(at)); }

    std::string bytes_;
    std::vector<std::string> order_;
    std::map<std::string, std::pair<std::size_t, std::size_t>> tables_;
};

/// Offsets (inside a glyph's data) of the component glyph ids of a composite glyph.
std::vector<std::size_t> componentOffsets(const std::string& glyph) {
    std::vector<std::size_t> offsets;
    if (glyph.size() < 10 || static_cast<std::int8_t>(glyph[0]) >= 0) return offsets;
    std::size_t at = 10;
    for (;;) {
        const unsigned flags = u16At(glyph, at);
        offsets.push_back(at + 2);
        at += 4 + ((flags & 0x1) ? 4 : 2) + ((flags & 0x8) ? 2 : (flags & 0x40) ? 4 : (flags & 0x80) ? 8 : 0);
        REQUIRE(at <= glyph.size());
        if (!(flags & 0x20)) break;
    }
    return offsets;
}

/// Builds a font from tables (tag -> data), as a test fixture: sorted directory, checksums.
std::string buildFont(const std::map<std::string, std::string>& tables, std::uint32_t version = 0x00010000) {
    std::string out;
    put32(out, version);
    put16(out, static_cast<unsigned>(tables.size()));
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    std::size_t offset = 12 + 16 * tables.size();
    std::string body;
    for (const auto& [tag, data] : tables) {
        out += tag;
        put32(out, checksum(data));
        put32(out, static_cast<std::uint32_t>(offset + body.size()));
        put32(out, static_cast<std::uint32_t>(data.size()));
        body += data;
        body.append((4 - body.size() % 4) % 4, '\0');
    }
    return out + body;
}

/// The font with some tables replaced (or added).
std::string withTables(const FontView& font, const std::map<std::string, std::string>& replaced) {
    std::map<std::string, std::string> tables;
    for (const auto& tag : font.directoryOrder()) tables[tag] = font.table(tag);
    for (const auto& [tag, data] : replaced) tables[tag] = data;
    return buildFont(tables);
}

/// The same font with a short (format 0) loca.
std::string withShortLoca(const FontView& font) {
    std::string loca;
    for (std::size_t gid = 0; gid <= font.numGlyphs(); ++gid) {
        const auto offset = font.u32(font.offset("loca") + 4 * gid);
        REQUIRE(offset % 2 == 0);
        REQUIRE(offset / 2 <= 0xFFFF);
        put16(loca, offset / 2);
    }
    auto head = font.table("head");
    poke16(head, 50, 0);
    return withTables(font, {{"loca", loca}, {"head", head}});
}

/// Checks that a glyph of the subset draws what a glyph of the original draws: the same
/// bytes, except the component ids of composites, whose components must match in turn.
void checkSameOutline(const FontView& original, std::size_t oldGid, const FontView& subset, std::size_t newGid,
                      int depth = 0) {
    INFO("old glyph " << oldGid << ", new glyph " << newGid);
    REQUIRE(depth < 8);
    const auto before = original.glyph(oldGid);
    auto after = subset.glyph(newGid);
    REQUIRE(after.size() == (before.size() + 3) / 4 * 4);
    CHECK(after.substr(before.size()) == std::string(after.size() - before.size(), '\0'));
    after.resize(before.size());
    const auto offsets = componentOffsets(before);
    REQUIRE(offsets == componentOffsets(after));
    for (const auto at : offsets) {
        const std::size_t oldComponent = u16At(before, at), newComponent = u16At(after, at);
        REQUIRE(newComponent < subset.numGlyphs());
        checkSameOutline(original, oldComponent, subset, newComponent, depth + 1);
        after[at] = before[at];
        after[at + 1] = before[at + 1];
    }
    CHECK(after == before);
}

std::string reasonOf(const std::string& bytes, const std::vector<char32_t>& codePoints = {U'A', U'ą', U'Ż', U'€'}) {
    try {
        subsetTrueType(bytes, codePoints);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kInternal) return "wrong code: " + e.reason();
        return e.reason();
    } catch (const std::exception& e) {
        return std::string("foreign exception: ") + e.what();
    }
    return "accepted";
}

std::string messageOf(const std::string& bytes) {
    try {
        subsetTrueType(bytes, {U'A'});
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("the repertoire is core's printable set and covers Polish and the form symbols", "[font]") {
    const auto repertoire = supportedRepertoire();
    CHECK(repertoire == printableRepertoire());
    CHECK(std::is_sorted(repertoire.begin(), repertoire.end()));
    CHECK(std::adjacent_find(repertoire.begin(), repertoire.end()) == repertoire.end());
    for (char32_t c : kPolishAndForms) CHECK(std::binary_search(repertoire.begin(), repertoire.end(), c));
    for (char32_t c : {U' ', U'~', U'\u00A0', U'\u00B7', U'\u0218', U'\u0491', U'\u2022', U'\u2030', U'\u2116',
                       U'\u2122', U'\u2193', U'\u2611', U'\u2713', U'\u2717', U'\u0384', U'\u03CE'}) {
        CHECK(std::binary_search(repertoire.begin(), repertoire.end(), c));
    }
}

TEST_CASE("every Polish letter and form symbol is mapped, with the original advance widths", "[font]") {
    for (const char* name : {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"}) {
        INFO(name);
        const FontView original(readFont(name));
        const auto subset = subsetTrueType(original.bytes(), supportedRepertoire());
        const FontView output(subset.program);
        for (char32_t c : kPolishAndForms) {
            INFO("U+" << std::hex << static_cast<unsigned>(c));
            REQUIRE(subset.glyphOf.count(c) == 1);
            const auto gid = subset.glyphOf.at(c);
            CHECK(gid != 0);
            CHECK(subset.unicodeOf.at(gid) == c);
            CHECK(output.glyphFor(c) == gid);  // the program's own cmap agrees
            CHECK(subset.advanceWidths.at(gid) == original.advance(original.glyphFor(c)));
            CHECK(output.advance(gid) == subset.advanceWidths.at(gid));
        }
        // The whole repertoire: present exactly when the original has it, same width.
        std::size_t present = 0;
        for (char32_t c : supportedRepertoire()) {
            INFO("U+" << std::hex << static_cast<unsigned>(c));
            const auto oldGid = original.glyphFor(c);
            REQUIRE(subset.glyphOf.count(c) == (oldGid != 0 ? 1u : 0u));
            if (oldGid == 0) continue;
            ++present;
            const auto gid = subset.glyphOf.at(c);
            CHECK(output.glyphFor(c) == gid);
            CHECK(subset.advanceWidths.at(gid) == original.advance(oldGid));
        }
        CHECK(present == subset.glyphOf.size());
        CHECK(present == supportedRepertoire().size());  // DejaVu Sans covers all of it
        CHECK(output.glyphFor(U'\u4E00') == 0);           // and nothing else is mapped
    }
}

TEST_CASE("the subset draws the original outlines, composites with renumbered components", "[font]") {
    const FontView original(readFont("DejaVuSans.ttf"));
    const auto subset = subsetTrueType(original.bytes(), supportedRepertoire());
    const FontView output(subset.program);
    for (const auto& [cp, gid] : subset.glyphOf) checkSameOutline(original, original.glyphFor(cp), output, gid);
    checkSameOutline(original, 0, output, 0);  // .notdef
    // Glyphs kept without a code point of their own are there only as components.
    std::set<std::size_t> components;
    for (std::size_t gid = 0; gid < output.numGlyphs(); ++gid) {
        const auto glyph = output.glyph(gid);
        for (const auto at : componentOffsets(glyph)) {
            components.insert(u16At(glyph, at));
        }
    }
    std::size_t componentOnly = 0;
    for (std::size_t gid = 1; gid < subset.unicodeOf.size(); ++gid) {
        if (subset.unicodeOf[gid] != 0) continue;
        ++componentOnly;
        CHECK(components.count(gid) == 1);
    }
    CHECK(componentOnly > 0);  // e.g. the ogonek DejaVu builds ą and Ą from
    CHECK(subset.unicodeOf.at(0) == 0);
}

TEST_CASE("the subset program is a well-formed TrueType font", "[font]") {
    for (const char* name : {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"}) {
        INFO(name);
        const FontView original(readFont(name));
        const auto subset = subsetTrueType(original.bytes(), supportedRepertoire());
        const FontView font(subset.program);
        const auto& p = font.bytes();

        // Table directory: sorted tags, binary-search fields, aligned tables, valid checksums.
        CHECK(font.u32(0) == 0x00010000);
        const std::size_t numTables = font.u16(4);
        std::size_t power = 1, log2 = 0;
        while (power * 2 <= numTables) power *= 2, ++log2;
        CHECK(font.u16(6) == 16 * power);
        CHECK(font.u16(8) == log2);
        CHECK(font.u16(10) == 16 * numTables - 16 * power);
        const auto& tags = font.directoryOrder();
        CHECK(std::is_sorted(tags.begin(), tags.end()));
        CHECK(std::set<std::string>(tags.begin(), tags.end()) ==
              std::set<std::string>{"OS/2", "cmap", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp",
                                    "name", "post", "prep"});
        std::size_t expectedOffset = 12 + 16 * numTables;
        std::vector<std::pair<std::size_t, std::string>> byOffset;
        for (const auto& tag : tags) byOffset.emplace_back(font.offset(tag), tag);
        std::sort(byOffset.begin(), byOffset.end());
        for (std::size_t i = 0; i < tags.size(); ++i) {
            const auto& tag = tags[i];
            INFO(tag);
            CHECK(font.offset(tag) % 4 == 0);
            auto data = font.table(tag);
            if (tag == "head") data.replace(8, 4, 4, '\0');  // its checksum is taken with the adjustment 0
            CHECK(checksum(data) == font.u32(12 + 16 * i + 4));
        }
        for (const auto& [offset, tag] : byOffset) {  // contiguous, zero padding, nothing after
            INFO(tag);
            CHECK(offset == expectedOffset);
            const auto end = offset + font.length(tag);
            expectedOffset = (end + 3) / 4 * 4;
            CHECK(p.substr(end, expectedOffset - end) == std::string(expectedOffset - end, '\0'));
        }
        CHECK(expectedOffset == p.size());
        CHECK(checksum(p) == 0xB1B0AFBA);  // head.checkSumAdjustment is right

        // head, hhea, maxp, hmtx, loca agree on the glyph count.
        const auto glyphs = font.numGlyphs();
        CHECK(glyphs == subset.advanceWidths.size());
        CHECK(glyphs == subset.unicodeOf.size());
        CHECK(glyphs > subset.glyphOf.size());  // .notdef and components come on top
        CHECK(font.u32(font.offset("head") + 12) == 0x5F0F3CF5);
        CHECK(font.longLoca());
        CHECK(font.u16(font.offset("hhea") + 34) == glyphs);
        CHECK(font.length("hmtx") == 4 * glyphs);
        CHECK(font.length("loca") == 4 * (glyphs + 1));
        for (std::size_t gid = 0; gid < glyphs; ++gid) {
            CHECK(font.advance(gid) == subset.advanceWidths[gid]);
            const auto begin = font.u32(font.offset("loca") + 4 * gid);
            const auto end = font.u32(font.offset("loca") + 4 * gid + 4);
            CHECK(begin % 4 == 0);
            CHECK(begin <= end);
        }
        CHECK(font.u32(font.offset("loca") + 4 * glyphs) == font.length("glyf"));

        // Every composite points inside the subset.
        int composites = 0;
        for (std::size_t gid = 0; gid < glyphs; ++gid) {
            const auto glyph = font.glyph(gid);
            const auto offsets = componentOffsets(glyph);
            if (!offsets.empty()) ++composites;
            for (const auto at : offsets) {
                CHECK(u16At(glyph, at) < glyphs);
            }
        }
        CHECK(composites > 50);  // DejaVu builds its accented letters from components

        // The bounding box is the subset's, inside the original's.
        const auto head = font.offset("head"), oldHead = original.offset("head");
        CHECK(font.i16(head + 36) >= original.i16(oldHead + 36));
        CHECK(font.i16(head + 38) >= original.i16(oldHead + 38));
        CHECK(font.i16(head + 40) <= original.i16(oldHead + 40));
        CHECK(font.i16(head + 42) <= original.i16(oldHead + 42));
        CHECK(font.i16(head + 36) < 0);
        CHECK(font.i16(head + 42) > 1901);  // Ż's dot rises above the ascender
        CHECK(subset.metrics.xMin == font.i16(head + 36));
        CHECK(subset.metrics.yMax == font.i16(head + 42));

        // Copied tables are byte for byte the original's; post is a format 3 with its fields.
        for (const char* copied : {"cvt ", "fpgm", "prep", "OS/2", "name"}) {
            CHECK(font.table(copied) == original.table(copied));
        }
        const auto post = font.table("post");
        CHECK(post.size() == 32);
        CHECK(font.u32(font.offset("post")) == 0x00030000);
        CHECK(post.substr(4, 12) == original.table("post").substr(4, 12));

        // The cmap: one (3, 1) format 4 subtable with ordered segments ending in 0xFFFF.
        const auto cmap = font.offset("cmap");
        CHECK(font.u16(cmap + 2) == 1);
        const auto sub = cmap + font.u32(cmap + 8);
        CHECK(font.u16(sub) == 4);
        CHECK(sub + font.u16(sub + 2) == cmap + font.length("cmap"));
        const std::size_t segments = font.u16(sub + 6) / 2;
        std::size_t segPower = 1, segLog = 0;
        while (segPower * 2 <= segments) segPower *= 2, ++segLog;
        CHECK(font.u16(sub + 8) == 2 * segPower);
        CHECK(font.u16(sub + 10) == segLog);
        CHECK(font.u16(sub + 12) == 2 * segments - 2 * segPower);
        for (std::size_t s = 1; s < segments; ++s) {
            CHECK(font.u16(sub + 14 + 2 * (s - 1)) < font.u16(sub + 16 + 2 * segments + 2 * s));  // end < next start
        }
        CHECK(font.u16(sub + 14 + 2 * (segments - 1)) == 0xFFFF);
    }
}

TEST_CASE("the subset re-parses with the subsetter itself, with short loca too", "[font]") {
    const auto repertoire = supportedRepertoire();
    const auto subset = subsetTrueType(readFont("DejaVuSans.ttf"), repertoire);
    // Subsetting the subset to the same repertoire keeps every glyph in place: same bytes.
    const auto again = subsetTrueType(subset.program, repertoire);
    CHECK(again.program == subset.program);
    CHECK(again.glyphOf == subset.glyphOf);
    CHECK(again.unicodeOf == subset.unicodeOf);
    CHECK(again.advanceWidths == subset.advanceWidths);
    CHECK(again.metrics.capHeight == subset.metrics.capHeight);
    CHECK(again.metrics.postScriptName == subset.metrics.postScriptName);

    // A smaller subset fits a short loca; reading it back through one gives the same program.
    std::vector<char32_t> small(kPolishAndForms.begin(), kPolishAndForms.end());
    for (char32_t c = U' '; c <= U'~'; ++c) small.push_back(c);
    const auto smallSubset = subsetTrueType(readFont("DejaVuSans.ttf"), small);
    const auto shortLoca = withShortLoca(FontView(smallSubset.program));
    REQUIRE(FontView(shortLoca).length("loca") == 2 * (smallSubset.advanceWidths.size() + 1));
    const auto fromShort = subsetTrueType(shortLoca, small);
    CHECK(fromShort.program == smallSubset.program);
    CHECK(fromShort.glyphOf == smallSubset.glyphOf);
}

TEST_CASE("subsetting is deterministic and independent of the order of the code points", "[font]") {
    const auto font = readFont("DejaVuSans.ttf");
    const auto repertoire = supportedRepertoire();
    const auto first = subsetTrueType(font, repertoire);
    const auto second = subsetTrueType(font, repertoire);
    CHECK(first.program == second.program);
    auto shuffled = repertoire;
    shuffled.insert(shuffled.end(), repertoire.begin(), repertoire.begin() + 40);  // duplicates too
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
    const auto third = subsetTrueType(font, shuffled);
    CHECK(third.program == first.program);
    CHECK(third.glyphOf == first.glyphOf);
    CHECK(third.unicodeOf == first.unicodeOf);
}

TEST_CASE("code points the font lacks are left out, and an empty request keeps only .notdef", "[font]") {
    const auto font = readFont("DejaVuSans.ttf");
    const auto subset =
        subsetTrueType(font, {U'A', U'\u038B', U'\uE000', U'\U0010FFFD', U'\uFFFF', char32_t{0x110000}, U'\U0001F600'});
    CHECK(subset.glyphOf.size() == 2);
    CHECK(subset.glyphOf.at(U'A') == 1);
    REQUIRE(subset.glyphOf.count(U'\U0001F600') == 1);  // DejaVu has the emoticon, outside the BMP
    const auto smiley = subset.glyphOf.at(U'\U0001F600');
    CHECK(subset.advanceWidths.size() == 3);
    CHECK(subset.unicodeOf == std::vector<char32_t>{0, U'A', U'\U0001F600'});
    const FontView view(subset.program);
    CHECK(view.glyphFor(U'A') == 1);
    CHECK(view.glyphFor(U'\uF600') == 0);  // the format 4 cmap holds the BMP only
    CHECK(view.advance(smiley) == subset.advanceWidths.at(smiley));

    const auto empty = subsetTrueType(font, {});
    CHECK(empty.glyphOf.empty());
    CHECK(empty.advanceWidths.size() == 1);
    const FontView emptyView(empty.program);
    CHECK(emptyView.numGlyphs() == 1);
    CHECK(emptyView.glyphFor(U'A') == 0);
    CHECK(checksum(emptyView.bytes()) == 0xB1B0AFBA);
    CHECK(subsetTrueType(empty.program, {U'A'}).glyphOf.empty());
}

TEST_CASE("the metrics are read from the right tables", "[font]") {
    using Case = std::tuple<const char*, int, const char*>;
    for (const auto& [name, weight, postScript] :
         {Case{"DejaVuSans.ttf", 400, "DejaVuSans"}, Case{"DejaVuSans-Bold.ttf", 700, "DejaVuSans-Bold"}}) {
        INFO(name);
        const FontView original(readFont(name));
        const auto m = subsetTrueType(original.bytes(), supportedRepertoire()).metrics;
        const auto hhea = original.offset("hhea");
        CHECK(m.unitsPerEm == 2048);
        CHECK(m.ascender == original.i16(hhea + 4));
        CHECK(m.ascender == 1901);
        CHECK(m.descender == original.i16(hhea + 6));
        CHECK(m.descender < 0);
        CHECK(m.lineGap == original.i16(hhea + 8));
        // DejaVu's OS/2 is version 1, without sCapHeight: the height of 'H' stands in.
        REQUIRE(original.u16(original.offset("OS/2")) < 2);
        CHECK(m.capHeight == static_cast<std::int16_t>(u16At(original.glyph(original.glyphFor(U'H')), 8)));  // its yMax
        CHECK(m.capHeight == 1493);
        CHECK(m.weightClass == weight);
        CHECK(m.postScriptName == postScript);
        CHECK(m.italicAngle == 0.0);
        CHECK_FALSE(m.fixedPitch);
        CHECK(m.xMin < m.xMax);
        CHECK(m.yMin < 0);
        CHECK(m.yMax > m.ascender);
    }
    CHECK(subsetTrueType(readFont("DejaVuSansMono.ttf"), {U'A'}).metrics.fixedPitch);

    const FontView regular(readFont("DejaVuSans.ttf"));
    SECTION("a negative italic angle keeps its sign") {
        auto post = regular.table("post");
        post.replace(4, 4, std::string("\xFF\xF4\x80\x00", 4));  // -11.5 in 16.16
        const auto m = subsetTrueType(withTables(regular, {{"post", post}}), {U'A'}).metrics;
        CHECK(m.italicAngle == -11.5);
    }
    SECTION("OS/2 version 2 and later give the cap height") {
        auto os2 = regular.table("OS/2");
        poke16(os2, 0, 2);
        os2.resize(96, '\0');
        poke16(os2, 88, 1400);
        const auto m = subsetTrueType(withTables(regular, {{"OS/2", os2}}), {U'A'}).metrics;
        CHECK(m.capHeight == 1400);
    }
    SECTION("without a post table the font is upright and proportional") {
        std::map<std::string, std::string> tables;
        for (const auto& tag : regular.directoryOrder()) {
            if (tag != "post") tables[tag] = regular.table(tag);
        }
        const auto subset = subsetTrueType(buildFont(tables), {U'A'});
        CHECK(subset.metrics.italicAngle == 0.0);
        CHECK_FALSE(subset.metrics.fixedPitch);
        CHECK(FontView(subset.program).length("post") == 32);
    }
}

TEST_CASE("a damaged or foreign font is refused with font.invalid, never read out of bounds", "[font]") {
    const FontView regular(readFont("DejaVuSans.ttf"));
    const auto& font = regular.bytes();
    REQUIRE(reasonOf(font) == "accepted");

    CHECK(reasonOf("") == "font.invalid");
    CHECK(reasonOf("not a font at all") == "font.invalid");
    CHECK(reasonOf(std::string(5000, '\0')) == "font.invalid");
    CHECK(reasonOf(std::string("\0\1\0\0\0\xFF", 6)) == "font.invalid");
    CHECK(messageOf("ttcf" + font.substr(4)).find("collection") != std::string::npos);
    CHECK(messageOf("OTTO" + font.substr(4)).find("CFF") != std::string::npos);
    {
        std::map<std::string, std::string> tables;
        for (const auto& tag : regular.directoryOrder()) {
            if (tag != "glyf") tables[tag] = regular.table(tag);
        }
        CHECK(messageOf(buildFont(tables)).find("'glyf'") != std::string::npos);
    }

    SECTION("truncated anywhere") {
        std::size_t tablesEnd = 0;
        for (const auto& tag : regular.directoryOrder()) {
            tablesEnd = std::max(tablesEnd, regular.offset(tag) + regular.length(tag));
        }
        std::mt19937 random(7);
        std::vector<std::size_t> cuts = {0, 4, 11, 12, 13, 12 + 16 * 3, tablesEnd - 1};
        std::uniform_int_distribution<std::size_t> anywhere(0, tablesEnd - 1);
        for (int i = 0; i < 150; ++i) cuts.push_back(anywhere(random));
        for (const auto cut : cuts) {
            INFO("cut at " << cut);
            CHECK(reasonOf(font.substr(0, cut)) == "font.invalid");
        }
    }
    SECTION("bytes flipped in the tables the subsetter reads") {
        // Only the clean outcomes are allowed: a subset, or Error font.invalid.
        std::vector<std::pair<std::size_t, std::size_t>> regions = {{0, 12 + 16 * regular.u16(4)}};
        for (const char* tag : {"head", "hhea", "maxp", "cmap", "loca", "name", "post", "OS/2"}) {
            regions.emplace_back(regular.offset(tag), std::min<std::size_t>(regular.length(tag), 4096));
        }
        const auto ogonekA = regular.glyphFor(U'ą');  // a composite the request needs
        const auto loca = regular.offset("loca");
        regions.emplace_back(regular.offset("glyf") + regular.u32(loca + 4 * ogonekA), regular.glyph(ogonekA).size());
        std::mt19937 random(11);
        int accepted = 0;
        for (int i = 0; i < 600; ++i) {
            const auto& [begin, size] = regions[static_cast<std::size_t>(i) % regions.size()];
            auto damaged = font;
            for (int flips = 0; flips < 1 + i % 3; ++flips) {
                const auto at = begin + std::uniform_int_distribution<std::size_t>(0, size - 1)(random);
                damaged[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
            }
            const auto reason = reasonOf(damaged);
            INFO("damage " << i << ": " << reason);
            CHECK((reason == "font.invalid" || reason == "accepted"));
            if (reason == "accepted") ++accepted;
        }
        CHECK(accepted > 0);  // some flips hit bytes that do not matter
    }
    SECTION("a composite pointing past the last glyph") {
        const auto gid = regular.glyphFor(U'ą');
        const auto glyph = regular.glyph(gid);
        const auto offsets = componentOffsets(glyph);
        REQUIRE(!offsets.empty());
        auto damaged = font;
        const auto at = regular.offset("glyf") + regular.u32(regular.offset("loca") + 4 * gid) + offsets.front();
        poke16(damaged, at, 0xFFFE);
        CHECK(reasonOf(damaged) == "font.invalid");
        CHECK(messageOf(damaged) == "accepted");  // 'A' alone does not need that glyph
        // A composite that contains itself must not send the subsetter round in circles.
        poke16(damaged, at, static_cast<unsigned>(gid));
        CHECK(reasonOf(damaged) == "accepted");
    }
}

TEST_CASE("the subset of the whole repertoire is a fraction of the font", "[font]") {
    // Speed is measured in bench/, not asserted here.
    for (const char* name : {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"}) {
        const auto font = readFont(name);
        const auto size = subsetTrueType(font, supportedRepertoire()).program.size();
        INFO(name << ": " << size << " bytes from " << font.size());
        CHECK(size < font.size() / 3);
    }
}
