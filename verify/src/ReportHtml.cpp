// SPDX-License-Identifier: AGPL-3.0-or-later
// The verification report as one self-contained HTML5 page: the doc::Document of
// buildReportDocument written as HTML, so the page and the PDF say the same. No scripts, no
// external resources; everything that comes from the verified file is escaped.
#include "kooperdoc/verify/ReportRendering.h"

namespace kooperdoc::verify {
namespace {

constexpr const char* kStyle =
    R"(body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em auto;max-width:60em;color:#111;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}
.subtitle{color:#444;margin-top:0}
h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td:first-child{width:30%}
.verdict{padding:.6em 1em;border-left:.4em solid}
.passed{background:#e6f4e6;border-color:#2e7d32}
.failed{background:#fbe9e7;border-color:#c62828}
.indeterminate{background:#fff8e1;border-color:#f9a825}
.small{font-size:.85em;color:#444}
footer{margin-top:2em;font-size:.8em;color:#555}
)";

/// Escapes text for element content and double-quoted attributes.
std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string spans(const std::vector<doc::Span>& items) {
    std::string out;
    for (const auto& span : items) {
        out += span.bold ? "<strong>" + escape(span.text) + "</strong>" : escape(span.text);
        if (span.lineBreak) out += "<br>";
    }
    return out;
}

void writeBlocks(std::string& out, const doc::Blocks& blocks, bool inCell, const std::string& verdictClass);

void writeBlock(std::string& out, const doc::Block& block, bool inCell, const std::string& verdictClass) {
    using Kind = doc::Block::Kind;
    switch (block.kind) {
    case Kind::kTitle:
        out += "<h1>" + spans(block.spans) + "</h1>\n";
        break;
    case Kind::kSubtitle:
        out += "<p class=\"subtitle\">" + spans(block.spans) + "</p>\n";
        break;
    case Kind::kHeading:
        out += "<h2>" + spans(block.spans) + "</h2>\n";
        break;
    case Kind::kParagraph: {
        std::string cls = block.small ? "small" : "";
        // The summary's first bold paragraph is the verdict.
        if (!inCell && !block.spans.empty() && block.spans.front().bold) cls = "verdict " + verdictClass;
        if (inCell)
            out += spans(block.spans);
        else
            out += (cls.empty() ? "<p>" : "<p class=\"" + cls + "\">") + spans(block.spans) + "</p>\n";
        break;
    }
    case Kind::kTable:
        out += "<table>\n";
        for (const auto& row : block.rows) {
            out += "<tr>";
            bool first = true;
            for (const auto& cell : row.cells) {
                // Label cells are <th scope="row"> so screen readers announce them.
                const bool th = row.header || first;
                out += th ? "<th scope=\"row\">" : "<td>";
                writeBlocks(out, cell.content, true, verdictClass);
                out += th ? "</th>" : "</td>";
                first = false;
            }
            out += "</tr>\n";
        }
        out += "</table>\n";
        break;
    case Kind::kList:
        out += "<ul>\n";
        for (const auto& item : block.items) {
            out += "<li>";
            writeBlocks(out, item, true, verdictClass);
            out += "</li>\n";
        }
        out += "</ul>\n";
        break;
    default:
        writeBlocks(out, block.children, inCell, verdictClass);
        break;
    }
}

void writeBlocks(std::string& out, const doc::Blocks& blocks, bool inCell, const std::string& verdictClass) {
    for (const auto& block : blocks)
        writeBlock(out, block, inCell, verdictClass);
}

std::string verdictClass(const VerificationReport& report) {
    if (report.allPassed()) return "passed";
    if (!report.readable()) return "failed";
    for (const auto& s : report.signatures) {
        if (s.indication == Indication::kTotalFailed) return "failed";
    }
    return report.signatures.empty() ? "failed" : "indeterminate";
}

} // namespace

std::string renderReportHtml(const VerificationReport& report, std::string_view fileName) {
    const auto document = buildReportDocument(report, fileName, 0);
    const auto& p = document.provenance;
    std::string out = "<!DOCTYPE html>\n<html lang=\"pl\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<meta name=\"generator\" content=\"Kooperdoc\">\n<title>";
    out += escape(p.title) + " – " + escape(fileName) + "</title>\n<style>\n";
    out += kStyle;
    out += "</style>\n</head>\n<body>\n<main>\n";
    writeBlocks(out, document.blocks, false, verdictClass(report));
    out += "</main>\n<footer>Identyfikator: " + escape(p.documentId) + " · wzór " + escape(p.templateId) + " v" +
           escape(p.templateVersion) + "<br>SHA-256 pliku: " + escape(p.inputSha256) + "</footer>\n</body>\n</html>\n";
    return out;
}

std::string renderReportHtmlFragment(const VerificationReport& report, std::string_view fileName) {
    const auto document = buildReportDocument(report, fileName, 0);
    std::string out = "<section class=\"report\">\n";
    writeBlocks(out, document.blocks, false, verdictClass(report));
    out += "</section>\n";
    return out;
}

} // namespace kooperdoc::verify
