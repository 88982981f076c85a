// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// The laid-out-free model of a document: what templates/ produces from markup and pdf/ draws.
/// It knows nothing of Mustache or PDF, so either side can change without the other.
namespace kooperdoc::doc {

enum class Align : std::uint8_t { kLeft = 0, kCenter = 1, kRight = 2, kJustify = 3 };

/// A run of inline text. Text is UTF-8 with whitespace already collapsed; a span with
/// lineBreak set ends the line after its text.
struct Span {
    std::string text;
    bool bold = false;
    bool lineBreak = false;
};

struct Block;
using Blocks = std::vector<Block>;

struct TableCell {
    Blocks content;
    int colspan = 1;
    Align align = Align::kLeft;
};

struct TableRow {
    std::vector<TableCell> cells;
    bool header = false;
};

struct SignatureSlot {
    std::string field;    ///< signature-field name, unique in the document
    std::string role;
    std::string caption;  ///< printed under the line, e.g. "Podpis Przedstawiciela POWIATU"
    std::string name;     ///< the signer's name, may be empty
};

struct Block {
    enum class Kind : std::uint8_t {
        kUnknown = 0,
        kTitle,
        kSubtitle,
        kHeading,
        kParagraph,
        kList,
        kField,
        kTable,
        kCheckbox,
        kChoice,
        kScale,
        kSignatures,
        kSpace,
        kPageBreak,
        kSection,
    };

    Kind kind = Kind::kUnknown;
    Align align = Align::kLeft;
    bool small = false;
    std::vector<Span> spans;  ///< title, subtitle, heading, paragraph, field value, checkbox label

    std::string label;        ///< field label
    double millimetres = 0;   ///< space height; field label width (0 = automatic)

    enum class ListStyle : std::uint8_t { kDecimalDot = 0, kDecimalParen, kAlphaParen, kBullet };
    ListStyle listStyle = ListStyle::kDecimalDot;
    int listStart = 1;
    std::vector<Blocks> items;  ///< list items

    std::vector<double> columnPercents;  ///< table
    std::vector<TableRow> rows;

    bool checked = false;                ///< checkbox
    std::vector<std::string> options;    ///< choice
    std::string selected;                ///< choice
    int scaleMin = 1, scaleMax = 10;     ///< scale
    std::optional<int> scaleValue;

    std::vector<SignatureSlot> signatures;

    std::string sectionId;               ///< section
    std::vector<std::string> audience;
    Blocks children;
};

/// Facts about the document that the renderer prints in the frame and embeds as provenance.
struct Provenance {
    std::string documentId;       ///< printed in the footer and encoded in the QR code
    std::string documentNumber;   ///< the case number if the form has one, else documentId
    std::string title;            ///< Polish title (PDF /Title, dc:title)
    std::string templateId;
    std::string templateVersion;
    std::string templateSha256;
    std::string inputSha256;      ///< SHA-256 of the canonical JSON input
    std::int64_t createdEpochSeconds = 0;
};

struct Document {
    Provenance provenance;
    Blocks blocks;
};

}  // namespace kooperdoc::doc
