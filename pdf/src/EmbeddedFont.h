// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "TrueTypeSubset.h"

namespace kooperdoc::pdf {

enum class FontStyle : std::uint8_t { kRegular = 0, kBold = 1 };

/// A DejaVu Sans face subset once per process to Kooperdoc's printable repertoire and embedded
/// unchanged in every document. Building it costs milliseconds, so it happens once; after that
/// measuring and encoding text is table look-ups, and the font's PDF objects are ready bytes.
/// Immutable after construction: shared by all threads.
class EmbeddedFont {
public:
    static const EmbeddedFont& get(FontStyle style);

    /// The glyph (= CID) for a code point; 0 (.notdef) when the font lacks it.
    std::uint16_t glyph(char32_t codePoint) const;
    /// Advance width of a glyph in thousandths of the font size.
    double advance(std::uint16_t glyph) const { return advances_[glyph]; }
    /// Width of UTF-32 text at a size, in points.
    double width(std::u32string_view text, double size) const;
    /// Appends the text's two-byte CIDs as the inside of a literal string operand (...),
    /// escaping what PDF requires: half the bytes of hex, so half the work for zlib.
    void appendCodes(std::string& out, std::u32string_view text) const;

    double ascent() const { return ascent_; }    ///< thousandths of the size
    double descent() const { return descent_; }  ///< thousandths, negative
    double capHeight() const { return capHeight_; }

    /// The font's five PDF objects (Type0, CIDFontType2, FontDescriptor, FontFile2, ToUnicode,
    /// CIDSet: six) numbered from `first`, serialised. The Type0 font is `first`.
    std::string pdfObjects(int first) const;
    static constexpr int kObjectCount = 6;

private:
    EmbeddedFont(FontStyle style, const std::string& path);

    SubsetFont subset_;
    std::vector<double> advances_;
    std::vector<std::uint16_t> glyphByBmp_;  // index = code point < 0x10000
    double ascent_ = 0, descent_ = 0, capHeight_ = 0;
    std::string baseFont_;
    std::string compressedProgram_;
    std::string compressedToUnicode_;
    std::string compressedCidSet_;
    std::string widths_;
    bool bold_ = false;
};

}  // namespace kooperdoc::pdf
