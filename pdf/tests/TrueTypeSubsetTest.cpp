// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "TrueTypeSubset.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Repertoire.h"
#include "kooperdoc/core/Utf8.h"

using namespace kooperdoc;
using namespace kooperdoc::pdf;

namespace {

std::string readFont(const std::string& name) {
    std::ifstream in(std::string(KOOPERDOC_FONT_DIR) + "/" + name, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::uint32_t u32(const std::string& s, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s.at(at))) << 24) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s.at(at + 1))) << 16) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s.at(at + 2))) << 8) |
           static_cast<std::uint8_t>(s.at(at + 3));
}
std::uint16_t u16(const std::string& s, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(s.at(at)) << 8) | static_cast<std::uint8_t>(s.at(at + 1)));
}

/// An independent reading of a font's tables, for checking the subsetter's output.
std::map<std::string, std::pair<std::size_t, std::size_t>> tables(const std::string& font) {
    std::map<std::string, std::pair<std::size_t, std::size_t>> out;
    for (std::size_t i = 0; i < u16(font, 4); ++i) {
        const std::size_t entry = 12 + 16 * i;
        out[font.substr(entry, 4)] = {u32(font, entry + 8), u32(font, entry + 12)};
    }
    return out;
}

std::uint32_t checksum(const std::string& data, std::size_t offset, std::size_t length) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < length; i += 4) {
        std::uint32_t word = 0;
        for (std::size_t j = 0; j < 4; ++j) word = (word << 8) | (i + j < length ? static_cast<std::uint8_t>(data[offset + i + j]) : 0);
        sum += word;
    }
    return sum;
}

/// Advance width of a code point in the ORIGINAL font, via its format-4 cmap.
std::uint16_t originalAdvance(const std::string& font, char32_t cp) {
    const auto t = tables(font);
    const auto cmap = t.at("cmap").first;
    std::size_t sub = 0;
    for (std::size_t i = 0; i < u16(font, cmap + 2); ++i) {
        if (u16(font, cmap + 4 + 8 * i) == 3 && u16(font, cmap + 6 + 8 * i) == 1) sub = cmap + u32(font, cmap + 8 + 8 * i);
    }
    REQUIRE(sub != 0);
    const std::size_t segs = u16(font, sub + 6) / 2;
    std::uint16_t glyph = 0;
    for (std::size_t s = 0; s < segs; ++s) {
        const auto end = u16(font, sub + 14 + 2 * s), start = u16(font, sub + 16 + 2 * segs + 2 * s);
        if (cp < start || cp > end) continue;
        const auto delta = u16(font, sub + 16 + 4 * segs + 2 * s);
        const auto ro = u16(font, sub + 16 + 6 * segs + 2 * s);
        glyph = ro == 0 ? static_cast<std::uint16_t>(cp + delta)
                        : static_cast<std::uint16_t>(u16(font, sub + 16 + 6 * segs + 2 * s + ro + 2 * (cp - start)) + delta);
        break;
    }
    const auto metrics = u16(font, t.at("hhea").first + 34);
    return u16(font, t.at("hmtx").first + 4 * std::min<std::size_t>(glyph, metrics - 1));
}

}  // namespace

TEST_CASE("the subset keeps every Polish letter with the original advance widths", "[font]") {
    for (const char* name : {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"}) {
        INFO(name);
        const auto original = readFont(name);
        REQUIRE(original.size() > 100000);
        const auto subset = subsetTrueType(original, printableRepertoire());
        const auto letters = utf8::tryDecode("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–—…€☐☒§ЇҐ");
        REQUIRE(letters);
        for (char32_t c : *letters) {
            INFO("U+" << std::hex << static_cast<unsigned>(c));
            REQUIRE(subset.glyphOf.count(c));
            const auto gid = subset.glyphOf.at(c);
            CHECK(subset.unicodeOf.at(gid) == c);
            CHECK(subset.advanceWidths.at(gid) == originalAdvance(original, c));
        }
        CHECK(subset.glyphOf.size() == printableRepertoire().size());  // DejaVu covers the whole repertoire
        CHECK(subset.advanceWidths.size() >= subset.glyphOf.size());
        CHECK(subset.metrics.unitsPerEm == 2048);
        CHECK(subset.metrics.capHeight > 1000);
        CHECK(subset.metrics.postScriptName.rfind("DejaVuSans", 0) == 0);
    }
}

TEST_CASE("the subset program is a well-formed TrueType font", "[font]") {
    const auto subset = subsetTrueType(readFont("DejaVuSans.ttf"), printableRepertoire());
    const auto& p = subset.program;
    CHECK(u32(p, 0) == 0x00010000);
    const auto t = tables(p);
    for (const char* tag : {"cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "post", "OS/2", "name"}) {
        CHECK(t.count(tag));
    }
    for (const auto& [tag, range] : t) {
        INFO(tag);
        CHECK(range.first % 4 == 0);
        CHECK(range.first + range.second <= p.size());
        if (tag != "head") CHECK(checksum(p, range.first, range.second) == u32(p, 12 + 16 * static_cast<std::size_t>(std::distance(t.begin(), t.find(tag))) + 4));
    }
    CHECK(checksum(p, 0, p.size()) == 0xB1B0AFBA);  // head.checkSumAdjustment is right
    const auto glyphs = u16(p, t.at("maxp").first + 4);
    CHECK(glyphs == subset.advanceWidths.size());
    CHECK(t.at("loca").second == 4u * (glyphs + 1u));
    CHECK(u16(p, t.at("head").first + 50) == 1);  // long loca
    CHECK(u16(p, t.at("hhea").first + 34) == glyphs);
    // Composite glyphs point only at glyphs inside the subset.
    const auto loca = t.at("loca").first, glyf = t.at("glyf").first;
    int composites = 0;
    for (std::size_t g = 0; g < glyphs; ++g) {
        const auto a = u32(p, loca + 4 * g), b = u32(p, loca + 4 * g + 4);
        REQUIRE(a <= b);
        if (b - a < 10 || static_cast<std::int16_t>(u16(p, glyf + a)) >= 0) continue;
        ++composites;
        std::size_t at = glyf + a + 10;
        for (;;) {
            const auto flags = u16(p, at);
            CHECK(u16(p, at + 2) < glyphs);
            at += 4 + ((flags & 1) ? 4 : 2) + ((flags & 8) ? 2 : (flags & 0x40) ? 4 : (flags & 0x80) ? 8 : 0);
            if (!(flags & 0x20)) break;
        }
    }
    CHECK(composites > 50);  // DejaVu builds its accented letters from components
}

TEST_CASE("subsetting is deterministic", "[font]") {
    const auto font = readFont("DejaVuSans.ttf");
    CHECK(subsetTrueType(font, printableRepertoire()).program == subsetTrueType(font, printableRepertoire()).program);
}

TEST_CASE("a damaged font is refused with font.invalid, never read out of bounds", "[font]") {
    const auto font = readFont("DejaVuSans.ttf");
    auto reasonOf = [](const std::string& bytes) {
        try {
            subsetTrueType(bytes, {U'A', U'ą'});
        } catch (const Error& e) {
            return e.reason();
        }
        return std::string("accepted");
    };
    CHECK(reasonOf("") == "font.invalid");
    CHECK(reasonOf("not a font at all") == "font.invalid");
    CHECK(reasonOf("ttcf" + font.substr(4)) == "font.invalid");
    CHECK(reasonOf("OTTO" + font.substr(4)) == "font.invalid");
    for (std::size_t cut : {12u, 100u, 1000u, 20000u, 300000u}) CHECK(reasonOf(font.substr(0, cut)) == "font.invalid");
    // Corrupt the table directory's offsets: every outcome must be a clean error or success.
    for (std::size_t i = 12; i < 12 + 16 * 8; i += 7) {
        auto damaged = font;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x5A);
        const auto reason = reasonOf(damaged);
        CHECK((reason == "font.invalid" || reason == "accepted"));
    }
}
