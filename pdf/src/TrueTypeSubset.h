// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kooperdoc::pdf {

struct FontMetrics {
    std::uint16_t unitsPerEm = 1000;
    std::int16_t ascender = 0, descender = 0, lineGap = 0, capHeight = 0;  ///< hhea; capHeight from OS/2
    std::int16_t xMin = 0, yMin = 0, xMax = 0, yMax = 0;                    ///< head's bounding box
    double italicAngle = 0;
    std::uint16_t weightClass = 400;
    bool fixedPitch = false;
    std::string postScriptName;
};

/// A TrueType font cut down to some code points, glyphs renumbered from 0 (.notdef) in the
/// order of their old ids, so a PDF can use it as a CIDFontType2 with CID = glyph id.
struct SubsetFont {
    std::string program;                          ///< the complete font program (FontFile2)
    FontMetrics metrics;
    std::vector<std::uint16_t> advanceWidths;     ///< per new glyph id, in font units
    std::vector<char32_t> unicodeOf;              ///< per new glyph id; 0 for .notdef and components
    std::unordered_map<char32_t, std::uint16_t> glyphOf;  ///< code point -> new glyph id
};

/// Subsets a TrueType font (glyf outlines) to the given code points, pulling in the components
/// of composite glyphs. Keeps hinting (cvt, fpgm, prep), OS/2 and name; writes a fresh cmap,
/// a format-3 post, long loca and a correct checksum adjustment. Deterministic.
/// Throws Error{kInternal, "font.invalid"} for anything it cannot parse, never reads out of bounds.
SubsetFont subsetTrueType(std::string_view ttf, const std::vector<char32_t>& codePoints);

}  // namespace kooperdoc::pdf
