// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string>
#include <vector>

#include "EmbeddedFont.h"
#include "kooperdoc/core/DocumentModel.h"

namespace kooperdoc::pdf {

/// Page geometry in points; y grows downwards from the top edge of the page.
struct PageGeometry {
    static constexpr double kMillimetre = 72.0 / 25.4;
    static constexpr double kWidth = 210 * kMillimetre;
    static constexpr double kHeight = 297 * kMillimetre;
    static constexpr double kMarginX = 20 * kMillimetre;
    static constexpr double kMarginTop = 20 * kMillimetre;
    static constexpr double kContentBottom = kHeight - 27 * kMillimetre;  // the footer lives below
    static constexpr double kContentWidth = kWidth - 2 * kMarginX;
};

struct GlyphRun {
    double x = 0, baseline = 0;
    FontStyle font = FontStyle::kRegular;
    double size = 10;
    std::u32string text;
    double extraPerSpace = 0;  ///< justification: points added after each space
};

struct Stroke {
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    double width = 0.5;
    bool dotted = false;
};

struct Box {
    double x = 0, y = 0, width = 0, height = 0;  ///< y is the top edge
    double fillGray = -1;                        ///< < 0: not filled
    double strokeWidth = 0;                      ///< 0: not stroked
};

struct PlacedSignature {
    doc::SignatureSlot slot;
    int page = 0;  ///< 0-based
    Box area;      ///< where the signature goes, above its line
};

struct LaidOutPage {
    std::vector<GlyphRun> runs;
    std::vector<Stroke> strokes;
    std::vector<Box> boxes;
};

struct Layout {
    std::vector<LaidOutPage> pages;
    std::vector<PlacedSignature> signatures;
};

/// Breaks the document into lines and pages: wraps and justifies paragraphs, numbers lists,
/// splits tables between rows (repeating header rows) and, for rows taller than a page,
/// between lines. Deterministic and allocation-light: the fonts' widths are table look-ups.
Layout layoutDocument(const doc::Document& document);

}  // namespace kooperdoc::pdf
