// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kooperdoc::pdf {

/// What a PDF font descriptor needs to know about a font, in font units.
struct FontMetrics {
    std::uint16_t unitsPerEm = 1000;
    std::int16_t ascender = 0, descender = 0, lineGap = 0;  ///< hhea (see TrueTypeSubset.cpp for why)
    std::int16_t capHeight = 0;  ///< OS/2 sCapHeight, else the height of 'H', else the ascender
    std::int16_t xMin = 0, yMin = 0, xMax = 0, yMax = 0;  ///< bounding box of the subset's glyphs
    double italicAngle = 0;       ///< degrees, counter-clockwise from vertical (negative leans right)
    std::uint16_t weightClass = 400;
    bool fixedPitch = false;
    std::string postScriptName;  ///< name ID 6, reduced to characters legal in a PDF name
};

/// A TrueType font cut down to some code points. Glyphs are renumbered from 0 (.notdef) in
/// the order of their old ids, so a PDF can embed the program as a CIDFontType2 with
/// Identity-H encoding and CID = glyph id (/CIDToGIDMap /Identity).
struct SubsetFont {
    std::string program;                       ///< complete font program (FontFile2), uncompressed
    FontMetrics metrics;
    std::vector<std::uint16_t> advanceWidths;  ///< per new glyph id, in font units
    /// Per new glyph id: the code point it was picked for; 0 for .notdef and for glyphs only
    /// pulled in as components of composite glyphs.
    std::vector<char32_t> unicodeOf;
    /// Code point -> new glyph id, only for the requested code points the font has.
    std::unordered_map<char32_t, std::uint16_t> glyphOf;
};

/// Subsets a TrueType (glyf-outline) font to the given code points, pulling in the components
/// of composite glyphs. Keeps the hinting tables (cvt, fpgm, prep), OS/2 and name; writes a
/// fresh format-4 cmap, a format-3 post, long loca and a correct checksum adjustment.
/// Deterministic: the same font and the same set of code points give the same bytes,
/// whatever the order of `codePoints`.
/// Throws Error{kInternal, "font.invalid"} for a font it cannot parse, saying why; never reads
/// outside `ttf`.
SubsetFont subsetTrueType(std::string_view ttf, const std::vector<char32_t>& codePoints);

/// The code points Kooperdoc renders, ascending. It is core's printableRepertoire(), so what
/// validation accepts and what the embedded fonts contain cannot drift apart.
std::vector<char32_t> supportedRepertoire();

}  // namespace kooperdoc::pdf
