// SPDX-License-Identifier: AGPL-3.0-or-later
#include "EmbeddedFont.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "PdfSyntax.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Repertoire.h"

#ifndef KOOPERDOC_FONT_DIR
#error "KOOPERDOC_FONT_DIR must name the directory of DejaVuSans.ttf"
#endif

namespace kooperdoc::pdf {
namespace {

std::string readFont(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kInternal, "font.missing", "cannot read the font " + path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string hex4(unsigned value) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%04X", value & 0xFFFF);
    return buffer;
}

std::string toUnicodeCMap(const std::vector<char32_t>& unicodeOf) {
    std::string cmap =
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
    std::vector<std::pair<unsigned, char32_t>> mapped;
    for (std::size_t gid = 0; gid < unicodeOf.size(); ++gid) {
        if (unicodeOf[gid] != 0 && unicodeOf[gid] < 0x10000) mapped.emplace_back(static_cast<unsigned>(gid), unicodeOf[gid]);
    }
    for (std::size_t start = 0; start < mapped.size(); start += 100) {
        const std::size_t count = std::min<std::size_t>(100, mapped.size() - start);
        cmap += std::to_string(count) + " beginbfchar\n";
        for (std::size_t i = start; i < start + count; ++i) {
            cmap += "<" + hex4(mapped[i].first) + "> <" + hex4(static_cast<unsigned>(mapped[i].second)) + ">\n";
        }
        cmap += "endbfchar\n";
    }
    cmap += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    return cmap;
}

}  // namespace

const EmbeddedFont& EmbeddedFont::get(FontStyle style) {
    static const EmbeddedFont regular(FontStyle::kRegular, KOOPERDOC_FONT_DIR "/DejaVuSans.ttf");
    static const EmbeddedFont bold(FontStyle::kBold, KOOPERDOC_FONT_DIR "/DejaVuSans-Bold.ttf");
    return style == FontStyle::kBold ? bold : regular;
}

EmbeddedFont::EmbeddedFont(FontStyle style, const std::string& path)
    : subset_(subsetTrueType(readFont(path), printableRepertoire())), bold_(style == FontStyle::kBold) {
    const double unitsPerEm = subset_.metrics.unitsPerEm;
    advances_.reserve(subset_.advanceWidths.size());
    for (auto w : subset_.advanceWidths) advances_.push_back(w * 1000.0 / unitsPerEm);
    glyphByBmp_.assign(0x10000, 0);
    for (const auto& [cp, gid] : subset_.glyphOf) {
        if (cp < 0x10000) glyphByBmp_[cp] = gid;
    }
    ascent_ = subset_.metrics.ascender * 1000.0 / unitsPerEm;
    descent_ = subset_.metrics.descender * 1000.0 / unitsPerEm;
    capHeight_ = subset_.metrics.capHeight * 1000.0 / unitsPerEm;

    // A subset's name carries a six-letter tag; deriving it from the program keeps output
    // reproducible and changes it whenever the glyphs change.
    const auto digest = sha256(subset_.program);
    std::string tag;
    for (int i = 0; i < 6; ++i) tag += static_cast<char>('A' + digest[static_cast<std::size_t>(i)] % 26);
    baseFont_ = tag + "+" + subset_.metrics.postScriptName;

    compressedProgram_ = deflate(subset_.program, 9);
    compressedToUnicode_ = deflate(toUnicodeCMap(subset_.unicodeOf), 9);
    std::string cidSet((subset_.advanceWidths.size() + 7) / 8, '\0');
    for (std::size_t gid = 0; gid < subset_.advanceWidths.size(); ++gid) {
        cidSet[gid / 8] = static_cast<char>(cidSet[gid / 8] | (0x80 >> (gid % 8)));
    }
    compressedCidSet_ = deflate(cidSet, 9);
    widths_ = "[0 [";
    for (std::size_t gid = 0; gid < advances_.size(); ++gid) {
        if (gid > 0) widths_ += gid % 16 == 0 ? '\n' : ' ';
        appendNumber(widths_, advances_[gid], 8);
    }
    widths_ += "]]";
}

std::uint16_t EmbeddedFont::glyph(char32_t cp) const { return cp < 0x10000 ? glyphByBmp_[cp] : 0; }

double EmbeddedFont::width(std::u32string_view text, double size) const {
    double total = 0;
    for (char32_t cp : text) total += advances_[glyph(cp)];
    return total * size / 1000.0;
}

void EmbeddedFont::appendCodes(std::string& out, std::u32string_view text) const {
    for (char32_t cp : text) {
        const unsigned gid = glyph(cp);
        for (const unsigned byte : {gid >> 8, gid & 0xFFu}) {
            const char c = static_cast<char>(byte);
            if (c == '(' || c == ')' || c == '\\') {
                out += '\\';
                out += c;
            } else if (c == '\r') {
                out += "\\r";  // a bare CR would be read as an end of line
            } else {
                out += c;
            }
        }
    }
}

std::string EmbeddedFont::pdfObjects(int first) const {
    const auto ref = [](int n) { return std::to_string(n) + " 0 R"; };
    const auto& m = subset_.metrics;
    const double scale = 1000.0 / m.unitsPerEm;
    std::string out;
    auto begin = [&out](int n) { out += std::to_string(n) + " 0 obj\n"; };
    auto stream = [&](int n, const std::string& extra, const std::string& data) {
        begin(n);
        out += "<< /Length " + std::to_string(data.size()) + " /Filter /FlateDecode" + extra + " >>\nstream\n";
        out += data;
        out += "\nendstream\nendobj\n";
    };
    begin(first);
    out += "<< /Type /Font /Subtype /Type0 /BaseFont /" + baseFont_ +
           " /Encoding /Identity-H /DescendantFonts [" + ref(first + 1) + "] /ToUnicode " + ref(first + 4) +
           " >>\nendobj\n";
    begin(first + 1);
    out += "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /" + baseFont_ +
           " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor " +
           ref(first + 2) + " /CIDToGIDMap /Identity /W " + widths_ + " >>\nendobj\n";
    begin(first + 2);
    out += "<< /Type /FontDescriptor /FontName /" + baseFont_ + " /Flags 32 /FontBBox [" + number(m.xMin * scale) +
           " " + number(m.yMin * scale) + " " + number(m.xMax * scale) + " " + number(m.yMax * scale) +
           "] /ItalicAngle " + number(m.italicAngle) + " /Ascent " + number(ascent_) + " /Descent " +
           number(descent_) + " /CapHeight " + number(capHeight_) + " /StemV " + (bold_ ? "140" : "80") +
           " /FontWeight " + std::to_string(m.weightClass) + " /FontFile2 " + ref(first + 3) + " /CIDSet " +
           ref(first + 5) + " >>\nendobj\n";
    stream(first + 3, " /Length1 " + std::to_string(subset_.program.size()), compressedProgram_);
    stream(first + 4, "", compressedToUnicode_);
    stream(first + 5, "", compressedCidSet_);
    return out;
}

}  // namespace kooperdoc::pdf
