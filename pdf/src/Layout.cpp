// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Layout.h"

#include <algorithm>
#include <map>
#include <variant>

#include "kooperdoc/core/Utf8.h"

namespace kooperdoc::pdf {
namespace {

using G = PageGeometry;
constexpr double kMm = G::kMillimetre;

constexpr double kBodySize = 10.5;
constexpr double kSmallSize = 8.5;
constexpr double kTitleSize = 14;
constexpr double kSubtitleSize = 11.5;
constexpr double kHeadingSize = 11;
constexpr double kLineFactor = 1.32;
constexpr double kParagraphGap = 4;
constexpr double kListIndent = 7 * kMm;
constexpr double kCellPadX = 3;
constexpr double kCellPadY = 2.5;
constexpr double kSignatureSpace = 16 * kMm;

/// A vertical slice of content with everything positioned relative to its own top.
struct Fragment {
    double height = 0;
    std::vector<GlyphRun> runs;
    std::vector<Stroke> strokes;
    std::vector<Box> boxes;
    std::vector<std::pair<doc::SignatureSlot, Box>> signatures;
    bool keepWithNext = false;
    bool pageBreak = false;
    bool collapsible = false;  ///< spacing, dropped at the top of a page

    void append(const Fragment& other, double dy) {
        for (auto run : other.runs) { run.baseline += dy; runs.push_back(std::move(run)); }
        for (auto s : other.strokes) { s.y1 += dy; s.y2 += dy; strokes.push_back(s); }
        for (auto b : other.boxes) { b.y += dy; boxes.push_back(b); }
        for (auto sig : other.signatures) { sig.second.y += dy; signatures.push_back(std::move(sig)); }
    }
};

struct RowItem {
    int table = 0;
    bool header = false;
    std::vector<double> cellX, cellWidth;
    std::vector<std::vector<Fragment>> cells;  ///< each cell's content, line by line
};

using FlowItem = std::variant<Fragment, RowItem>;
using Flow = std::vector<FlowItem>;

Fragment spacer(double height) {
    Fragment f;
    f.height = height;
    f.collapsible = true;
    return f;
}

struct Word {
    std::u32string text;
    FontStyle style = FontStyle::kRegular;
    double width = 0;
    bool spaceBefore = false;
    bool gluedToPrevious = false;  ///< no line break allowed before it (a style change mid-word)
    bool breakAfter = false;
};

bool isBreakableDash(char32_t c) { return c == U'-' || c == U'\u2013' || c == U'\u2014' || c == U'/'; }

bool isLetter(char32_t c) {
    return (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z') || (c >= 0xC0 && c < 0x2000 && c != 0xD7 && c != 0xF7);
}

/// A line may break after an en or em dash, and after '-' or '/' between letters
/// ("Psychologiczno-|Pedagogiczna", "termin/|czas"), but not inside "00-001" or "1/2".
bool mayBreakAfter(const std::u32string& word, char32_t next) {
    const char32_t dash = word.back();
    if (dash == U'\u2013' || dash == U'\u2014') return true;
    return word.size() > 1 && isLetter(word[word.size() - 2]) && isLetter(next);
}

std::vector<Word> toWords(const std::vector<doc::Span>& spans, double size) {
    std::vector<Word> words;
    bool pendingSpace = false;
    for (const auto& span : spans) {
        const auto style = span.bold ? FontStyle::kBold : FontStyle::kRegular;
        const auto decoded = utf8::tryDecode(span.text).value_or(std::u32string());
        bool inWord = false;
        bool pendingGlue = false;
        for (char32_t c : decoded) {
            if (c == U' ' || c == U'\t') {
                pendingSpace = true;
                inWord = false;
                continue;
            }
            // A no-break space is drawn as a plain space (so text extraction reads naturally) but
            // glues the words on either side.
            if (c == U'\u00A0') {
                pendingSpace = true;
                pendingGlue = true;
                inWord = false;
                continue;
            }
            if (!inWord) {
                const bool continuesWord = !pendingSpace && !words.empty() && !words.back().breakAfter &&
                                           !words.back().text.empty() &&
                                           !(isBreakableDash(words.back().text.back()) && mayBreakAfter(words.back().text, c));
                words.push_back({});
                words.back().style = style;
                words.back().spaceBefore = pendingSpace && words.size() > 1 && !words[words.size() - 2].breakAfter;
                words.back().gluedToPrevious = continuesWord || (pendingGlue && words.size() > 1);
                pendingSpace = false;
                pendingGlue = false;
                inWord = true;
            }
            words.back().text += c;
            // A line may break after a hyphen or dash inside a word ("Psychologiczno-|Pedagogiczna").
            if (isBreakableDash(c) && words.back().text.size() > 1) inWord = false;
        }
        if (span.lineBreak) {
            if (words.empty() || words.back().breakAfter) {
                words.push_back({});  // an empty line
                words.back().style = style;
            }
            words.back().breakAfter = true;
            pendingSpace = false;
        }
    }
    for (auto& w : words) w.width = EmbeddedFont::get(w.style).width(w.text, size);
    return words;
}

/// Splits a word wider than the line into pieces that fit.
std::vector<Word> splitLongWord(const Word& word, double maxWidth, double size) {
    std::vector<Word> pieces;
    const auto& font = EmbeddedFont::get(word.style);
    Word current;
    current.style = word.style;
    current.spaceBefore = word.spaceBefore;
    for (char32_t c : word.text) {
        const double w = font.advance(font.glyph(c)) * size / 1000.0;
        if (!current.text.empty() && current.width + w > maxWidth) {
            pieces.push_back(current);
            current = Word{};
            current.style = word.style;
        }
        current.text += c;
        current.width += w;
    }
    current.breakAfter = word.breakAfter;
    pieces.push_back(current);
    return pieces;
}

struct TextResult {
    std::vector<Fragment> lines;
    double lastLineEnd = 0;  ///< x where the last line's text ends
};

/// Lays out inline text into line fragments of width `width` starting at x.
TextResult layoutText(const std::vector<doc::Span>& spans, double x, double width, double size,
                      doc::Align align) {
    TextResult result;
    const double lineHeight = size * kLineFactor;
    const auto& regular = EmbeddedFont::get(FontStyle::kRegular);
    const double ascent = regular.ascent() * size / 1000.0;
    const double descent = -regular.descent() * size / 1000.0;
    const double baseline = (lineHeight - ascent - descent) / 2 + ascent;

    std::vector<Word> words;
    for (auto& word : toWords(spans, size)) {
        if (word.width > width) {
            for (auto& piece : splitLongWord(word, width, size)) words.push_back(std::move(piece));
        } else {
            words.push_back(std::move(word));
        }
    }

    auto spaceWidth = [size](FontStyle style) {
        const auto& font = EmbeddedFont::get(style);
        return font.advance(font.glyph(U' ')) * size / 1000.0;
    };

    auto emitLine = [&](std::size_t begin, std::size_t end, bool lastOfParagraph) {
        Fragment line;
        line.height = lineHeight;
        double natural = 0;
        int spaces = 0;
        for (std::size_t i = begin; i < end; ++i) {
            if (i > begin && words[i].spaceBefore) {
                natural += spaceWidth(words[i].style);
                ++spaces;
            }
            natural += words[i].width;
        }
        double start = x;
        double extra = 0;
        if (align == doc::Align::kCenter) start = x + (width - natural) / 2;
        else if (align == doc::Align::kRight) start = x + width - natural;
        else if (align == doc::Align::kJustify && !lastOfParagraph && spaces > 0) {
            extra = (width - natural) / spaces;
            // A line of a few long words would open gaps that readers (and pdftotext) take for
            // columns; such a line stays ragged, as in good typesetting.
            if (extra > 2.5 * spaceWidth(FontStyle::kRegular)) extra = 0;
        }
        double cursor = start;
        GlyphRun* run = nullptr;
        for (std::size_t i = begin; i < end; ++i) {
            const auto& word = words[i];
            const bool space = i > begin && word.spaceBefore;
            if (run == nullptr || run->font != word.style) {
                if (space) cursor += spaceWidth(word.style) + extra;
                line.runs.push_back({cursor, baseline, word.style, size, {}, extra});
                run = &line.runs.back();
            } else if (space) {
                run->text += U' ';
                cursor += spaceWidth(word.style) + extra;
            }
            run->text += word.text;
            cursor += word.width;
        }
        line.runs.erase(std::remove_if(line.runs.begin(), line.runs.end(),
                                       [](const GlyphRun& r) { return r.text.empty(); }),
                        line.runs.end());
        result.lastLineEnd = cursor;
        result.lines.push_back(std::move(line));
    };

    // The width of the unbreakable run starting at word i (words glued by a style change).
    auto unitWidth = [&](std::size_t i) {
        double w = words[i].width;
        for (std::size_t j = i + 1; j < words.size() && words[j].gluedToPrevious && !words[j - 1].breakAfter; ++j) {
            w += words[j].width + (words[j].spaceBefore ? spaceWidth(words[j].style) : 0);
        }
        return w;
    };

    std::size_t lineStart = 0;
    std::size_t unitStart = 0;
    double lineWidth = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (!words[i].gluedToPrevious) unitStart = i;
        const double gap = (i > lineStart && words[i].spaceBefore) ? spaceWidth(words[i].style) : 0;
        // Glue holds unless the glued run cannot fit on any line ("sp2-janow.example.pl" in a
        // narrow cell): then it breaks wherever it must.
        const bool mayBreak = !words[i].gluedToPrevious || unitWidth(unitStart) > width;
        const double needed = words[i].gluedToPrevious ? words[i].width : unitWidth(i);
        if (i > lineStart && mayBreak && lineWidth + gap + needed > width + 1e-6) {
            emitLine(lineStart, i, false);
            lineStart = i;
            lineWidth = words[i].width;

        } else {
            lineWidth += gap + words[i].width;
        }
        if (words[i].breakAfter) {
            emitLine(lineStart, i + 1, true);
            lineStart = i + 1;
            lineWidth = 0;
        }
    }
    if (lineStart < words.size()) emitLine(lineStart, words.size(), true);
    if (result.lines.empty()) {
        result.lines.push_back(Fragment{});
        result.lines.back().height = lineHeight;
        result.lastLineEnd = x;
    }
    return result;
}

std::string listLabel(doc::Block::ListStyle style, int number) {
    switch (style) {
    case doc::Block::ListStyle::kDecimalDot: return std::to_string(number) + ".";
    case doc::Block::ListStyle::kDecimalParen: return std::to_string(number) + ")";
    case doc::Block::ListStyle::kAlphaParen: {
        std::string letters;
        for (int n = number; n > 0; n = (n - 1) / 26) letters.insert(letters.begin(), static_cast<char>('a' + (n - 1) % 26));
        return letters + ")";
    }
    case doc::Block::ListStyle::kBullet: return "\xE2\x80\x93";  // en dash, as in the forms
    }
    return {};
}

class FlowBuilder {
public:
    Flow build(const doc::Blocks& blocks) {
        Flow flow;
        addBlocks(flow, blocks, G::kMarginX, G::kContentWidth);
        return flow;
    }

    /// Lays out blocks as plain fragments (no tables inside), for table cells.
    std::vector<Fragment> fragments(const doc::Blocks& blocks, double x, double width) {
        Flow flow;
        addBlocks(flow, blocks, x, width);
        std::vector<Fragment> out;
        for (auto& item : flow) {
            if (auto* f = std::get_if<Fragment>(&item)) {
                if (f->pageBreak) continue;
                out.push_back(std::move(*f));
            }
        }
        while (!out.empty() && out.back().collapsible) out.pop_back();
        return out;
    }

private:
    void addText(Flow& flow, const std::vector<doc::Span>& spans, double x, double width, double size,
                 doc::Align align, bool keepWithNext = false) {
        auto text = layoutText(spans, x, width, size, align);
        for (std::size_t i = 0; i < text.lines.size(); ++i) {
            // Keep at least two lines together at a paragraph's start and end (no orphans or
            // widows), and a heading with what follows it.
            text.lines[i].keepWithNext = keepWithNext || (i == 0 && text.lines.size() > 2) ||
                                         (i + 2 == text.lines.size() && text.lines.size() > 2);
            flow.push_back(std::move(text.lines[i]));
        }
    }

    void addBlocks(Flow& flow, const doc::Blocks& blocks, double x, double width) {
        for (const auto& block : blocks) addBlock(flow, block, x, width);
    }

    void addBlock(Flow& flow, const doc::Block& block, double x, double width) {
        using Kind = doc::Block::Kind;
        switch (block.kind) {
        case Kind::kTitle:
            addText(flow, bolded(block.spans), x, width, kTitleSize, doc::Align::kCenter, true);
            flow.push_back(spacer(8));
            break;
        case Kind::kSubtitle:
            addText(flow, bolded(block.spans), x, width, kSubtitleSize, doc::Align::kCenter, true);
            flow.push_back(spacer(6));
            break;
        case Kind::kHeading:
            flow.push_back(spacer(6));
            addText(flow, bolded(block.spans), x, width, kHeadingSize, block.align, true);
            flow.push_back(spacer(3));
            break;
        case Kind::kParagraph: {
            // A paragraph set wholly in bold is a heading in all but name: keep it with what follows.
            bool allBold = !block.spans.empty();
            for (const auto& span : block.spans) allBold = allBold && (span.bold || span.text.empty());
            addText(flow, block.spans, x, width, block.small ? kSmallSize : kBodySize, block.align, allBold);
            flow.push_back(spacer(kParagraphGap));
            break;
        }
        case Kind::kField: addField(flow, block, x, width); break;
        case Kind::kList: addList(flow, block, x, width); break;
        case Kind::kTable: addTable(flow, block, x, width); break;
        case Kind::kCheckbox: {
            // A no-break space keeps the box with its label.
            std::vector<doc::Span> spans{{block.checked ? "\xE2\x98\x92\xC2\xA0" : "\xE2\x98\x90\xC2\xA0", false, false}};
            spans.insert(spans.end(), block.spans.begin(), block.spans.end());
            addText(flow, spans, x, width, block.small ? kSmallSize : kBodySize, doc::Align::kLeft);
            flow.push_back(spacer(2));
            break;
        }
        case Kind::kChoice: {
            std::vector<doc::Span> spans;
            for (std::size_t i = 0; i < block.options.size(); ++i) {
                const bool chosen = block.options[i] == block.selected;
                // No-break spaces keep each box with the first word of its option.
                spans.push_back({std::string(i > 0 ? "  " : "") + (chosen ? "\xE2\x98\x92\xC2\xA0" : "\xE2\x98\x90\xC2\xA0"),
                                 false, false});
                spans.push_back({block.options[i], chosen, false});
            }
            addText(flow, spans, x, width, block.small ? kSmallSize : kBodySize, doc::Align::kLeft);
            flow.push_back(spacer(2));
            break;
        }
        case Kind::kScale: addScale(flow, block, x, width); break;
        case Kind::kSignatures: addSignatures(flow, block, x, width); break;
        case Kind::kSpace: flow.push_back(spacer(block.millimetres * kMm)); break;
        case Kind::kPageBreak: {
            Fragment f;
            f.pageBreak = true;
            flow.push_back(f);
            break;
        }
        case Kind::kSection: addBlocks(flow, block.children, x, width); break;
        case Kind::kUnknown: break;
        }
    }

    static void makeSmall(doc::Blocks& blocks, bool bold) {
        for (auto& b : blocks) {
            b.small = true;
            if (bold) for (auto& span : b.spans) span.bold = true;
            makeSmall(b.children, bold);
            for (auto& item : b.items) makeSmall(item, bold);
        }
    }

    static std::vector<doc::Span> bolded(std::vector<doc::Span> spans) {
        for (auto& s : spans) s.bold = true;
        return spans;
    }

    void addField(Flow& flow, const doc::Block& block, double x, double width) {
        bool empty = true;
        for (const auto& s : block.spans) empty = empty && s.text.empty();
        std::vector<doc::Span> spans{{block.label + ":", false, false}};
        if (!empty) {
            spans.push_back({" ", false, false});
            for (auto s : block.spans) {
                s.bold = true;
                spans.push_back(std::move(s));
            }
        }
        auto text = layoutText(spans, x, width, block.small ? kSmallSize : kBodySize, doc::Align::kLeft);
        if (empty) {
            auto& last = text.lines.back();
            const double startX = text.lastLineEnd + 4;
            const double y = last.height * 0.78;
            if (x + width - startX > 20) last.strokes.push_back({startX, y, x + width, y, 0.6, true});
        }
        for (auto& line : text.lines) flow.push_back(std::move(line));
        flow.push_back(spacer(3));
    }

    void addList(Flow& flow, const doc::Block& block, double x, double width) {
        int number = block.listStart;
        for (const auto& item : block.items) {
            const auto label = listLabel(block.listStyle, number++);
            Flow itemFlow;
            addBlocks(itemFlow, item, x + kListIndent, width - kListIndent);
            bool labelled = false;
            for (auto& entry : itemFlow) {
                if (!labelled) {
                    if (auto* f = std::get_if<Fragment>(&entry); f != nullptr && !f->runs.empty()) {
                        const double baseline = f->runs.front().baseline;
                        const auto decoded = utf8::tryDecode(label).value_or(std::u32string());
                        f->runs.insert(f->runs.begin(), GlyphRun{x, baseline, FontStyle::kRegular,
                                                                 f->runs.front().size, decoded, 0});
                        labelled = true;
                    }
                }
                flow.push_back(std::move(entry));
            }
        }
        flow.push_back(spacer(2));
    }

    void addTable(Flow& flow, const doc::Block& block, double x, double width) {
        const int table = nextTable_++;
        double total = 0;
        for (double p : block.columnPercents) total += p;
        std::vector<double> columnX, columnWidth;
        double cursor = x;
        for (double p : block.columnPercents) {
            columnX.push_back(cursor);
            columnWidth.push_back(width * p / total);
            cursor += width * p / total;
        }
        for (const auto& row : block.rows) {
            RowItem item;
            item.table = table;
            item.header = row.header;
            std::size_t column = 0;
            for (const auto& cell : row.cells) {
                const double cellX = columnX[column];
                double cellWidth = 0;
                for (int span = 0; span < cell.colspan; ++span) cellWidth += columnWidth[column++];
                item.cellX.push_back(cellX);
                item.cellWidth.push_back(cellWidth);
                doc::Blocks content = cell.content;
                makeSmall(content, row.header);  // tables use the small size to fit the columns
                item.cells.push_back(fragments(content, cellX + kCellPadX, cellWidth - 2 * kCellPadX));
            }
            flow.push_back(std::move(item));
        }
        flow.push_back(spacer(6));
    }

    void addScale(Flow& flow, const doc::Block& block, double x, double width) {
        Fragment f;
        const int steps = block.scaleMax - block.scaleMin + 1;
        // Seven millimetres a box, narrower when the column is narrow.
        const double boxWidth = std::min(7 * kMm, width / steps);
        const double boxHeight = std::min(6.5 * kMm, boxWidth * 1.1 + 2);
        const double size = std::min(block.small ? kSmallSize : kBodySize, boxWidth * 0.55);
        f.height = boxHeight + 4;
        for (int value = block.scaleMin; value <= block.scaleMax; ++value) {
            const double bx = x + (value - block.scaleMin) * boxWidth;
            const bool chosen = block.scaleValue && *block.scaleValue == value;
            f.boxes.push_back({bx, 0, boxWidth, boxHeight, chosen ? 0.78 : -1, chosen ? 1.2 : 0.5});
            const auto text = utf8::tryDecode(std::to_string(value)).value_or(std::u32string());
            const auto style = chosen ? FontStyle::kBold : FontStyle::kRegular;
            const double textWidth = EmbeddedFont::get(style).width(text, size);
            f.runs.push_back({bx + (boxWidth - textWidth) / 2, boxHeight / 2 + size * 0.35, style, size, text, 0});
        }
        flow.push_back(std::move(f));
        flow.push_back(spacer(3));
    }

    void addSignatures(Flow& flow, const doc::Block& block, double x, double width) {
        const std::size_t perRow = 3;
        const double gap = 8 * kMm;
        for (std::size_t start = 0; start < block.signatures.size(); start += perRow) {
            const std::size_t count = std::min(perRow, block.signatures.size() - start);
            const double slotWidth = (width - gap * static_cast<double>(perRow - 1)) / static_cast<double>(perRow);
            Fragment row;
            row.height = kSignatureSpace;
            for (std::size_t i = 0; i < count; ++i) {
                const auto& slot = block.signatures[start + i];
                // One signer signs on the right, as on paper; more are spread from the left.
                const std::size_t column = (block.signatures.size() == 1) ? perRow - 1 : i;
                const double sx = x + static_cast<double>(column) * (slotWidth + gap);
                Fragment slotFragment;
                slotFragment.strokes.push_back({sx, kSignatureSpace, sx + slotWidth, kSignatureSpace, 0.6, true});
                double y = kSignatureSpace + 2;
                std::vector<doc::Span> caption{{slot.caption, false, false}};
                for (auto& line : layoutText(caption, sx, slotWidth, kSmallSize, doc::Align::kCenter).lines) {
                    slotFragment.append(line, y);
                    y += line.height;
                }
                if (!slot.name.empty()) {
                    std::vector<doc::Span> name{{slot.name, true, false}};
                    for (auto& line : layoutText(name, sx, slotWidth, kSmallSize, doc::Align::kCenter).lines) {
                        slotFragment.append(line, y);
                        y += line.height;
                    }
                }
                slotFragment.signatures.push_back({slot, Box{sx, 0, slotWidth, kSignatureSpace, -1, 0}});
                row.append(slotFragment, 0);
                row.height = std::max(row.height, y + 4);
            }
            if (start == 0) {
                // What introduces the signatures (a place and date, "Podpisy:") stays with them.
                for (auto it = flow.rbegin(); it != flow.rend(); ++it) {
                    auto* f = std::get_if<Fragment>(&*it);
                    if (f == nullptr || f->pageBreak) break;
                    if (f->collapsible) continue;
                    f->keepWithNext = true;
                    break;
                }
            }
            flow.push_back(spacer(4));
            flow.push_back(std::move(row));
        }
        flow.push_back(spacer(4));
    }

    int nextTable_ = 0;
};

double fragmentsHeight(const std::vector<Fragment>& fragments) {
    double h = 0;
    for (const auto& f : fragments) h += f.height;
    return h;
}

double rowHeight(const RowItem& row) {
    double h = 0;
    for (const auto& cell : row.cells) h = std::max(h, fragmentsHeight(cell));
    return h + 2 * kCellPadY;
}

class Paginator {
public:
    Layout run(Flow& flow) {
        newPage();
        for (std::size_t i = 0; i < flow.size(); ++i) {
            if (auto* f = std::get_if<Fragment>(&flow[i])) {
                placeFragment(*f, flow, i);
            } else {
                placeRow(std::get<RowItem>(flow[i]), flow, i);
            }
        }
        return std::move(layout_);
    }

private:
    double available() const { return G::kContentBottom - y_; }

    void newPage() {
        layout_.pages.emplace_back();
        y_ = G::kMarginTop;
        empty_ = true;
    }

    void put(const Fragment& f) {
        auto& page = layout_.pages.back();
        for (auto run : f.runs) { run.baseline += y_; page.runs.push_back(std::move(run)); }
        for (auto s : f.strokes) { s.y1 += y_; s.y2 += y_; page.strokes.push_back(s); }
        for (auto b : f.boxes) { b.y += y_; page.boxes.push_back(b); }
        for (const auto& [slot, box] : f.signatures) {
            Box placed = box;
            placed.y += y_;
            layout_.signatures.push_back({slot, static_cast<int>(layout_.pages.size() - 1), placed});
        }
        y_ += f.height;
        if (!f.collapsible) empty_ = false;
    }

    /// The height an item needs together with the items it must be kept with.
    double keptHeight(const Flow& flow, std::size_t i) const {
        double h = 0;
        for (std::size_t j = i; j < flow.size(); ++j) {
            if (const auto* f = std::get_if<Fragment>(&flow[j])) {
                if (f->pageBreak) break;
                h += f->height;
                if (!f->keepWithNext && !f->collapsible) break;
            } else {
                const auto& row = std::get<RowItem>(flow[j]);
                h += rowHeight(row);
                if (!row.header) break;
            }
        }
        return h;
    }

    void placeFragment(const Fragment& f, const Flow& flow, std::size_t i) {
        if (f.pageBreak) {
            if (!empty_) newPage();
            return;
        }
        if (f.collapsible) {
            // Spacing never starts a page of its own: at the bottom it just fills what is left,
            // and the next real content decides whether a new page is needed.
            if (!empty_) y_ = std::min(y_ + f.height, G::kContentBottom);
            return;
        }
        const double needed = keptHeight(flow, i);
        if (!empty_ && needed > available() && needed <= G::kContentBottom - G::kMarginTop) newPage();
        else if (!empty_ && f.height > available()) newPage();
        put(f);
    }

    void putHeaders(int table) {
        const auto it = headers_.find(table);
        if (it == headers_.end()) return;
        for (const auto& header : it->second) putRow(header, rowHeight(header));
        empty_ = true;  // a page holding only repeated headers still counts as empty
    }

    void putRow(const RowItem& row, double height) {
        Fragment f;
        f.height = height;
        for (std::size_t c = 0; c < row.cells.size(); ++c) {
            f.boxes.push_back({row.cellX[c], 0, row.cellWidth[c], height, row.header ? 0.9 : -1, 0.5});
            double y = kCellPadY;
            for (const auto& line : row.cells[c]) {
                f.append(line, y);
                y += line.height;
            }
        }
        put(f);
    }

    void placeRow(RowItem& row, const Flow& flow, std::size_t i) {
        if (row.header) headers_[row.table].push_back(row);
        const double height = rowHeight(row);
        const double pageRoom = G::kContentBottom - G::kMarginTop;
        const double needed = row.header ? keptHeight(flow, i) : height;
        if (needed <= available()) {
            putRow(row, height);
            return;
        }
        if (!empty_ && height <= pageRoom - headersHeight(row.table)) {
            newPage();
            if (!row.header) putHeaders(row.table);
            putRow(row, height);
            return;
        }
        // Taller than a page: split the row between lines, cell by cell.
        std::vector<std::size_t> next(row.cells.size(), 0);
        for (;;) {
            RowItem part = row;
            bool remaining = false;
            bool progress = false;
            const double room = available() - 2 * kCellPadY;
            for (std::size_t c = 0; c < row.cells.size(); ++c) {
                part.cells[c].clear();
                double used = 0;
                while (next[c] < row.cells[c].size() && used + row.cells[c][next[c]].height <= room) {
                    used += row.cells[c][next[c]].height;
                    part.cells[c].push_back(row.cells[c][next[c]++]);
                    progress = true;
                }
                remaining = remaining || next[c] < row.cells[c].size();
            }
            if (progress) putRow(part, rowHeight(part));
            if (!remaining) return;
            newPage();
            if (!row.header) putHeaders(row.table);
        }
    }

    double headersHeight(int table) const {
        const auto it = headers_.find(table);
        double h = 0;
        if (it != headers_.end()) for (const auto& r : it->second) h += rowHeight(r);
        return h;
    }

    Layout layout_;
    double y_ = 0;
    bool empty_ = true;
    std::map<int, std::vector<RowItem>> headers_;
};

}  // namespace

Layout layoutDocument(const doc::Document& document) {
    FlowBuilder builder;
    Flow flow = builder.build(document.blocks);
    Paginator paginator;
    return paginator.run(flow);
}

}  // namespace kooperdoc::pdf
