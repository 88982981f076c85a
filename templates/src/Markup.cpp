// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/Markup.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Utf8.h"

namespace kooperdoc::templates {
namespace {

struct Node {
    std::string name;  // empty for a text node
    std::map<std::string, std::string> attributes;
    std::vector<Node> children;
    std::string text;
    std::size_t offset = 0;  ///< where the element starts, for error messages
};

/// A strict reader for the XML subset our markup uses: elements, attributes, text, the five
/// predefined entities, numeric character references and comments. No DTDs, no processing
/// instructions, no CDATA: nothing our templates need and nothing an attacker could use.
class XmlReader {
public:
    explicit XmlReader(std::string_view input) : in_(input) {}

    Node readDocument() {
        skipMisc();
        if (!startsWith("<")) fail("the markup must start with an element");
        Node root = readElement(0);
        skipMisc();
        if (pos_ != in_.size()) fail("text after the root element");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        int line = 1, column = 1;
        for (std::size_t i = 0; i < pos_ && i < in_.size(); ++i) {
            if (in_[i] == '\n') { ++line; column = 1; } else { ++column; }
        }
        throw Error(ErrorCode::kInternal, "template.markup",
                    "markup error at line " + std::to_string(line) + ", column " +
                        std::to_string(column) + ": " + what);
    }

    bool startsWith(std::string_view s) const { return in_.substr(pos_, s.size()) == s; }


    void skipComment() {
        const auto end = in_.find("-->", pos_ + 4);
        if (end == std::string_view::npos) fail("unterminated comment");
        pos_ = end + 3;
    }

    void skipMisc() {
        for (;;) {
            while (pos_ < in_.size() && isSpace(in_[pos_])) ++pos_;
            if (startsWith("<!--")) { skipComment(); continue; }
            return;
        }
    }

    static bool isSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
    static bool isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    }

    std::string readName() {
        const auto start = pos_;
        while (pos_ < in_.size() && isNameChar(in_[pos_])) ++pos_;
        if (pos_ == start) fail("a name was expected");
        return std::string(in_.substr(start, pos_ - start));
    }

    void appendEntity(std::string& out) {
        const auto end = in_.find(';', pos_);
        if (end == std::string_view::npos || end - pos_ > 12) fail("unterminated entity");
        const auto entity = in_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        if (entity == "amp") out += '&';
        else if (entity == "lt") out += '<';
        else if (entity == "gt") out += '>';
        else if (entity == "quot") out += '"';
        else if (entity == "apos") out += '\'';
        else if (entity.size() > 1 && entity[0] == '#') {
            const bool hex = entity[1] == 'x';
            const std::string digits(entity.substr(hex ? 2 : 1));
            char* endPtr = nullptr;
            const unsigned long cp = std::strtoul(digits.c_str(), &endPtr, hex ? 16 : 10);
            if (digits.empty() || *endPtr != '\0' || cp == 0 || cp > 0x10FFFF ||
                (cp >= 0xD800 && cp <= 0xDFFF)) {
                fail("bad character reference");
            }
            utf8::append(out, static_cast<char32_t>(cp));
        } else {
            fail("unknown entity &" + std::string(entity) + ";");
        }
    }

    std::string readAttributeValue() {
        const char quote = in_[pos_];
        if (quote != '"' && quote != '\'') fail("attribute values must be quoted");
        ++pos_;
        std::string value;
        while (pos_ < in_.size() && in_[pos_] != quote) {
            if (in_[pos_] == '<') fail("'<' inside an attribute value");
            if (in_[pos_] == '&') { appendEntity(value); continue; }
            value += in_[pos_++];
        }
        if (pos_ >= in_.size()) fail("unterminated attribute value");
        ++pos_;
        return value;
    }

    Node readElement(int depth) {
        if (depth > 64) fail("elements nested too deeply");
        Node node;
        node.offset = pos_;
        ++pos_;  // '<'
        node.name = readName();
        for (;;) {
            while (pos_ < in_.size() && isSpace(in_[pos_])) ++pos_;
            if (pos_ >= in_.size()) fail("unterminated start tag <" + node.name + ">");
            if (startsWith("/>")) { pos_ += 2; return node; }
            if (in_[pos_] == '>') { ++pos_; break; }
            std::string attribute = readName();
            while (pos_ < in_.size() && isSpace(in_[pos_])) ++pos_;
            if (pos_ >= in_.size() || in_[pos_] != '=') fail("'=' expected after " + attribute);
            ++pos_;
            while (pos_ < in_.size() && isSpace(in_[pos_])) ++pos_;
            if (pos_ >= in_.size()) fail("attribute value expected");
            if (!node.attributes.emplace(attribute, readAttributeValue()).second) {
                fail("attribute " + attribute + " repeated");
            }
        }
        std::string text;
        auto flushText = [&] {
            if (!text.empty()) {
                Node textNode;
                textNode.text = std::move(text);
                node.children.push_back(std::move(textNode));
                text.clear();
            }
        };
        for (;;) {
            if (pos_ >= in_.size()) fail("<" + node.name + "> is not closed");
            const char c = in_[pos_];
            if (c == '<') {
                if (startsWith("<!--")) { skipComment(); continue; }
                flushText();
                if (startsWith("</")) {
                    pos_ += 2;
                    const std::string closing = readName();
                    if (closing != node.name) fail("</" + closing + "> closes <" + node.name + ">");
                    while (pos_ < in_.size() && isSpace(in_[pos_])) ++pos_;
                    if (pos_ >= in_.size() || in_[pos_] != '>') fail("'>' expected");
                    ++pos_;
                    return node;
                }
                if (startsWith("<!") || startsWith("<?")) fail("declarations are not allowed");
                node.children.push_back(readElement(depth + 1));
            } else if (c == '&') {
                appendEntity(text);
            } else {
                text += c;
                ++pos_;
            }
        }
    }

    std::string_view in_;
    std::size_t pos_ = 0;
};

/// The markup being converted, so that errors can name a line without every element paying
/// for counting lines.
thread_local std::string_view currentMarkup;

[[noreturn]] void invalid(const Node& node, const std::string& what) {
    int line = 1;
    for (std::size_t i = 0; i < node.offset && i < currentMarkup.size(); ++i) line += currentMarkup[i] == '\n';
    throw Error(ErrorCode::kInternal, "template.markup",
                "markup error at line " + std::to_string(line) + " in <" + node.name + ">: " + what);
}

void checkAttributes(const Node& node, std::initializer_list<const char*> allowed) {
    for (const auto& [name, value] : node.attributes) {
        bool known = false;
        for (const char* a : allowed) known = known || name == a;
        if (!known) invalid(node, "unknown attribute " + name);
    }
}

std::string attribute(const Node& node, const std::string& name, const std::string& fallback = {}) {
    const auto it = node.attributes.find(name);
    return it == node.attributes.end() ? fallback : it->second;
}

double number(const Node& node, const std::string& name, double fallback) {
    const auto text = attribute(node, name);
    if (text.empty()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (*end != '\0') invalid(node, name + " must be a number, not \"" + text + "\"");
    return value;
}

bool flag(const Node& node, const std::string& name) {
    const auto text = attribute(node, name, "false");
    if (text == "true") return true;
    if (text == "false" || text.empty()) return false;
    invalid(node, name + " must be true or false, not \"" + text + "\"");
}

doc::Align alignment(const Node& node, doc::Align fallback) {
    const auto text = attribute(node, "align");
    if (text.empty()) return fallback;
    if (text == "left") return doc::Align::kLeft;
    if (text == "center") return doc::Align::kCenter;
    if (text == "right") return doc::Align::kRight;
    if (text == "justify") return doc::Align::kJustify;
    invalid(node, "unknown align \"" + text + "\"");
}

/// Appends text with XML whitespace collapsed, or kept line by line.
void appendText(std::vector<doc::Span>& spans, const std::string& text, bool bold, bool keepLines) {
    std::string current;
    auto pushSpace = [&current] {
        if (current.empty() || current.back() != ' ') current += ' ';
    };
    auto flush = [&](bool lineBreak) {
        if (current.empty() && !lineBreak) return;
        if (!lineBreak && !spans.empty() && spans.back().bold == bold && !spans.back().lineBreak) {
            spans.back().text += current;
        } else {
            spans.push_back({current, bold, lineBreak});
        }
        current.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') continue;
        if (c == '\n' && keepLines) {
            while (!current.empty() && current.back() == ' ') current.pop_back();
            flush(true);
        } else if (c == ' ' || c == '\t' || c == '\n') {
            pushSpace();
        } else {
            current += c;
        }
    }
    flush(false);
}

/// Trims the spaces XML collapsing left at the edges of lines.
void trimSpans(std::vector<doc::Span>& spans) {
    bool atLineStart = true;
    for (auto& span : spans) {
        if (atLineStart) {
            const auto first = span.text.find_first_not_of(' ');
            span.text.erase(0, first == std::string::npos ? span.text.size() : first);
        }
        atLineStart = span.lineBreak || (atLineStart && span.text.empty());
    }
    bool atLineEnd = true;
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->lineBreak) atLineEnd = true;
        if (atLineEnd) {
            const auto last = it->text.find_last_not_of(' ');
            it->text.erase(last == std::string::npos ? 0 : last + 1);
        }
        atLineEnd = it->lineBreak || (atLineEnd && it->text.empty());
    }
    std::vector<doc::Span> kept;
    for (auto& span : spans) {
        if (!span.text.empty() || span.lineBreak) kept.push_back(std::move(span));
    }
    spans = std::move(kept);
}

void collectInline(const Node& node, std::vector<doc::Span>& spans, bool bold, bool keepLines) {
    for (const auto& child : node.children) {
        if (child.name.empty()) {
            appendText(spans, child.text, bold, keepLines);
        } else if (child.name == "b") {
            checkAttributes(child, {});
            collectInline(child, spans, true, keepLines);
        } else if (child.name == "br") {
            checkAttributes(child, {});
            if (!child.children.empty()) invalid(child, "<br/> must be empty");
            spans.push_back({"", bold, true});
        } else {
            invalid(child, "<" + child.name + "> is not allowed inside <" + node.name + ">");
        }
    }
}

std::vector<doc::Span> inlineContent(const Node& node, bool keepLines = false) {
    std::vector<doc::Span> spans;
    collectInline(node, spans, false, keepLines);
    trimSpans(spans);
    return spans;
}

bool isBlank(const Node& node) {
    return node.name.empty() && node.text.find_first_not_of(" \t\r\n") == std::string::npos;
}

bool hasElementChildren(const Node& node) {
    for (const auto& child : node.children) {
        if (!child.name.empty() && child.name != "b" && child.name != "br") return true;
    }
    return false;
}

doc::Blocks convertBlocks(const Node& parent);

doc::Block convertBlock(const Node& node) {
    doc::Block block;
    const auto& name = node.name;
    if (name == "title" || name == "subtitle") {
        checkAttributes(node, {});
        block.kind = name == "title" ? doc::Block::Kind::kTitle : doc::Block::Kind::kSubtitle;
        block.align = doc::Align::kCenter;
        block.spans = inlineContent(node);
    } else if (name == "h") {
        checkAttributes(node, {"align"});
        block.kind = doc::Block::Kind::kHeading;
        block.align = alignment(node, doc::Align::kCenter);
        block.spans = inlineContent(node);
    } else if (name == "p") {
        checkAttributes(node, {"align", "lines", "size"});
        block.kind = doc::Block::Kind::kParagraph;
        block.align = alignment(node, doc::Align::kLeft);
        const auto lines = attribute(node, "lines");
        if (!lines.empty() && lines != "keep") invalid(node, "lines must be \"keep\"");
        const auto size = attribute(node, "size");
        if (!size.empty() && size != "small") invalid(node, "size must be \"small\"");
        block.small = size == "small";
        block.spans = inlineContent(node, lines == "keep");
    } else if (name == "ol" || name == "ul") {
        checkAttributes(node, name == "ol" ? std::initializer_list<const char*>{"style", "start"}
                                           : std::initializer_list<const char*>{});
        block.kind = doc::Block::Kind::kList;
        block.listStyle = doc::Block::ListStyle::kBullet;
        if (name == "ol") {
            const auto style = attribute(node, "style", "1.");
            if (style == "1.") block.listStyle = doc::Block::ListStyle::kDecimalDot;
            else if (style == "1)") block.listStyle = doc::Block::ListStyle::kDecimalParen;
            else if (style == "a)") block.listStyle = doc::Block::ListStyle::kAlphaParen;
            else invalid(node, "unknown list style \"" + style + "\"");
            block.listStart = static_cast<int>(number(node, "start", 1));
        }
        for (const auto& child : node.children) {
            if (isBlank(child)) continue;
            if (child.name != "li") invalid(node, "only <li> may be inside a list");
            checkAttributes(child, {});
            if (hasElementChildren(child)) {
                block.items.push_back(convertBlocks(child));
            } else {
                doc::Block paragraph;
                paragraph.kind = doc::Block::Kind::kParagraph;
                paragraph.align = doc::Align::kJustify;
                paragraph.spans = inlineContent(child);
                block.items.push_back({std::move(paragraph)});
            }
        }
    } else if (name == "field") {
        checkAttributes(node, {"label", "width"});
        block.kind = doc::Block::Kind::kField;
        block.label = attribute(node, "label");
        block.millimetres = number(node, "width", 0);
        block.spans = inlineContent(node);
    } else if (name == "table") {
        checkAttributes(node, {"widths"});
        block.kind = doc::Block::Kind::kTable;
        std::string widths = attribute(node, "widths");
        std::size_t start = 0;
        while (start <= widths.size() && !widths.empty()) {
            auto comma = widths.find(',', start);
            if (comma == std::string::npos) comma = widths.size();
            const std::string part = widths.substr(start, comma - start);
            char* end = nullptr;
            const double w = std::strtod(part.c_str(), &end);
            if (part.empty() || *end != '\0' || w <= 0) invalid(node, "bad widths \"" + widths + "\"");
            block.columnPercents.push_back(w);
            start = comma + 1;
        }
        for (const auto& rowNode : node.children) {
            if (isBlank(rowNode)) continue;
            if (rowNode.name != "tr") invalid(node, "only <tr> may be inside <table>");
            checkAttributes(rowNode, {"header"});
            doc::TableRow row;
            row.header = flag(rowNode, "header");
            int columns = 0;
            for (const auto& cellNode : rowNode.children) {
                if (isBlank(cellNode)) continue;
                if (cellNode.name != "td") invalid(rowNode, "only <td> may be inside <tr>");
                checkAttributes(cellNode, {"colspan", "align"});
                doc::TableCell cell;
                cell.colspan = static_cast<int>(number(cellNode, "colspan", 1));
                cell.align = alignment(cellNode, doc::Align::kLeft);
                if (cell.colspan < 1) invalid(cellNode, "colspan must be positive");
                if (hasElementChildren(cellNode)) {
                    cell.content = convertBlocks(cellNode);
                } else {
                    doc::Block paragraph;
                    paragraph.kind = doc::Block::Kind::kParagraph;
                    paragraph.align = cell.align;
                    paragraph.spans = inlineContent(cellNode);
                    cell.content.push_back(std::move(paragraph));
                }
                columns += cell.colspan;
                row.cells.push_back(std::move(cell));
            }
            if (block.columnPercents.empty()) {
                block.columnPercents.assign(static_cast<std::size_t>(columns), 100.0 / columns);
            }
            if (columns != static_cast<int>(block.columnPercents.size())) {
                invalid(rowNode, "row has " + std::to_string(columns) + " columns, table has " +
                                     std::to_string(block.columnPercents.size()));
            }
            block.rows.push_back(std::move(row));
        }
    } else if (name == "checkbox") {
        checkAttributes(node, {"checked"});
        block.kind = doc::Block::Kind::kCheckbox;
        block.checked = flag(node, "checked");
        block.spans = inlineContent(node);
    } else if (name == "choice") {
        checkAttributes(node, {"options", "selected"});
        block.kind = doc::Block::Kind::kChoice;
        const auto options = attribute(node, "options");
        std::size_t start = 0;
        for (;;) {
            const auto bar = options.find('|', start);
            block.options.push_back(options.substr(start, bar - start));
            if (bar == std::string::npos) break;
            start = bar + 1;
        }
        block.selected = attribute(node, "selected");
    } else if (name == "scale") {
        checkAttributes(node, {"min", "max", "value"});
        block.kind = doc::Block::Kind::kScale;
        block.scaleMin = static_cast<int>(number(node, "min", 1));
        block.scaleMax = static_cast<int>(number(node, "max", 10));
        if (block.scaleMax < block.scaleMin || block.scaleMax - block.scaleMin > 20) {
            invalid(node, "scale must have 1 to 21 steps");
        }
        if (!attribute(node, "value").empty()) {
            block.scaleValue = static_cast<int>(number(node, "value", 0));
        }
    } else if (name == "signatures") {
        checkAttributes(node, {});
        block.kind = doc::Block::Kind::kSignatures;
        for (const auto& child : node.children) {
            if (isBlank(child)) continue;
            if (child.name != "signature") invalid(node, "only <signature> may be inside <signatures>");
            checkAttributes(child, {"field", "role", "caption", "name"});
            doc::SignatureSlot slot{attribute(child, "field"), attribute(child, "role"),
                                    attribute(child, "caption"), attribute(child, "name")};
            if (slot.field.empty()) invalid(child, "field is required");
            block.signatures.push_back(std::move(slot));
        }
    } else if (name == "space") {
        checkAttributes(node, {"mm"});
        block.kind = doc::Block::Kind::kSpace;
        block.millimetres = number(node, "mm", 5);
    } else if (name == "pagebreak") {
        checkAttributes(node, {});
        block.kind = doc::Block::Kind::kPageBreak;
    } else if (name == "section") {
        checkAttributes(node, {"id", "audience"});
        block.kind = doc::Block::Kind::kSection;
        block.sectionId = attribute(node, "id");
        const auto audience = attribute(node, "audience");
        std::size_t start = 0;
        while (start < audience.size()) {
            auto space = audience.find(' ', start);
            if (space == std::string::npos) space = audience.size();
            if (space > start) block.audience.push_back(audience.substr(start, space - start));
            start = space + 1;
        }
        block.children = convertBlocks(node);
    } else {
        invalid(node, "unknown element");
    }
    return block;
}

doc::Blocks convertBlocks(const Node& parent) {
    doc::Blocks blocks;
    for (const auto& child : parent.children) {
        if (isBlank(child)) continue;
        if (child.name.empty()) {
            invalid(parent, "text must be inside a block element, found \"" + child.text.substr(0, 40) + "\"");
        }
        blocks.push_back(convertBlock(child));
    }
    return blocks;
}

void checkUniqueFields(const doc::Blocks& blocks, std::set<std::string>& seen) {
    for (const auto& block : blocks) {
        for (const auto& slot : block.signatures) {
            if (!seen.insert(slot.field).second) {
                throw Error(ErrorCode::kInternal, "template.markup",
                            "signature field \"" + slot.field + "\" appears twice");
            }
        }
        checkUniqueFields(block.children, seen);
        for (const auto& item : block.items) checkUniqueFields(item, seen);
    }
}

}  // namespace

doc::Blocks parseMarkup(std::string_view markup) {
    currentMarkup = markup;
    XmlReader reader(markup);
    const Node root = reader.readDocument();
    if (root.name != "doc") invalid(root, "the root element must be <doc>");
    checkAttributes(root, {});
    auto blocks = convertBlocks(root);
    std::set<std::string> fields;
    checkUniqueFields(blocks, fields);
    return blocks;
}

}  // namespace kooperdoc::templates
