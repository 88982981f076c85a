// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/pdf/Renderer.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

#include <qrencode.h>

#include "EmbeddedFont.h"
#include "Layout.h"
#include "PdfSyntax.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Utf8.h"

#ifndef KOOPERDOC_ICC_PROFILE
#error "KOOPERDOC_ICC_PROFILE must name the sRGB ICC profile"
#endif

namespace kooperdoc::pdf {

const char* const kRendererVersion = "Kooperdoc 0.1.0";

namespace {

using G = PageGeometry;
constexpr double kMm = G::kMillimetre;

// Fixed object numbers: the shared objects are serialised once per process.
constexpr int kCatalog = 1;
constexpr int kPages = 2;
constexpr int kInfo = 3;
constexpr int kMetadata = 4;
constexpr int kIccProfile = 5;
constexpr int kRegularFont = 6;
constexpr int kBoldFont = kRegularFont + EmbeddedFont::kObjectCount;
constexpr int kFirstPage = kBoldFont + EmbeddedFont::kObjectCount;

/// Objects every document shares, serialised once: the ICC profile and both fonts.
const std::string& sharedObjects();

/// SHA-256 of sharedObjects(), so a document's /ID covers them without rehashing 100 kB.
const Sha256& sharedObjectsDigest() {
    static const Sha256 digest = sha256(sharedObjects());
    return digest;
}

const std::string& sharedObjects() {
    static const std::string objects = [] {
        std::ifstream in(KOOPERDOC_ICC_PROFILE, std::ios::binary);
        if (!in) throw Error(ErrorCode::kInternal, "pdf.icc_missing", "cannot read " KOOPERDOC_ICC_PROFILE);
        std::ostringstream icc;
        icc << in.rdbuf();
        const auto compressed = deflate(icc.str(), 9);
        std::string out = std::to_string(kIccProfile) + " 0 obj\n<< /N 3 /Length " +
                          std::to_string(compressed.size()) + " /Filter /FlateDecode >>\nstream\n" + compressed +
                          "\nendstream\nendobj\n";
        out += EmbeddedFont::get(FontStyle::kRegular).pdfObjects(kRegularFont);
        out += EmbeddedFont::get(FontStyle::kBold).pdfObjects(kBoldFont);
        return out;
    }();
    return objects;
}

std::string xmlEscape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

struct ProvenanceEntry {
    const char* name;
    std::string value;
    const char* description;
};

std::vector<ProvenanceEntry> provenanceEntries(const doc::Provenance& p) {
    return {
        {"DocumentId", p.documentId, "Kooperdoc document identifier"},
        {"DocumentNumber", p.documentNumber, "Case or document number printed in the footer"},
        {"TemplateId", p.templateId, "Identifier of the template the document was rendered from"},
        {"TemplateVersion", p.templateVersion, "Version of that template"},
        {"TemplateSha256", p.templateSha256, "SHA-256 of the template definition files"},
        {"InputSha256", p.inputSha256, "SHA-256 of the canonical JSON input (RFC 8785)"},
        {"RendererVersion", kRendererVersion, "Version of the Kooperdoc renderer"},
    };
}

std::string xmpPacket(const doc::Document& document, PdfaConformance conformance) {
    const auto& p = document.provenance;
    const auto date = xmpDate(p.createdEpochSeconds);
    std::string x =
        "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
        "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
        "<dc:format>application/pdf</dc:format>\n"
        "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">" + xmlEscape(p.title) + "</rdf:li></rdf:Alt></dc:title>\n"
        "</rdf:Description>\n"
        "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n"
        "<xmp:CreateDate>" + date + "</xmp:CreateDate>\n"
        "<xmp:ModifyDate>" + date + "</xmp:ModifyDate>\n"
        "<xmp:MetadataDate>" + date + "</xmp:MetadataDate>\n"
        "<xmp:CreatorTool>" + kRendererVersion + "</xmp:CreatorTool>\n"
        "</rdf:Description>\n"
        "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n"
        "<pdf:Producer>" + kRendererVersion + "</pdf:Producer>\n"
        "</rdf:Description>\n"
        "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
        "<pdfaid:part>" + (conformance == PdfaConformance::kPdfA1b ? "1" : "3") + "</pdfaid:part>\n"
        "<pdfaid:conformance>B</pdfaid:conformance>\n"
        "</rdf:Description>\n"
        "<rdf:Description rdf:about=\"\" xmlns:kd=\"https://kooperdoc.pl/ns/provenance/1.0/\">\n";
    for (const auto& entry : provenanceEntries(p)) {
        x += std::string("<kd:") + entry.name + ">" + xmlEscape(entry.value) + "</kd:" + entry.name + ">\n";
    }
    x += "</rdf:Description>\n"
         // PDF/A admits custom XMP properties only with a schema description.
         "<rdf:Description rdf:about=\"\" xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\""
         " xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\""
         " xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n"
         "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n"
         "<pdfaSchema:schema>Kooperdoc provenance</pdfaSchema:schema>\n"
         "<pdfaSchema:namespaceURI>https://kooperdoc.pl/ns/provenance/1.0/</pdfaSchema:namespaceURI>\n"
         "<pdfaSchema:prefix>kd</pdfaSchema:prefix>\n"
         "<pdfaSchema:property><rdf:Seq>\n";
    for (const auto& entry : provenanceEntries(p)) {
        x += std::string("<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>") + entry.name +
             "</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType>"
             "<pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>" +
             entry.description + "</pdfaProperty:description></rdf:li>\n";
    }
    x += "</rdf:Seq></pdfaSchema:property>\n</rdf:li></rdf:Bag></pdfaExtension:schemas>\n"
         "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>";
    return x;
}

/// The QR code as a form XObject in module units (one unit per module), dark modules merged
/// into horizontal runs. Drawn once per document and placed on every page with `Do`: written
/// into each page's content it was most of the bytes zlib had to deflate.
struct QrForm {
    std::string content;
    int modules = 0;
};

QrForm qrForm(const std::string& text) {
    QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (code == nullptr) throw Error(ErrorCode::kInternal, "pdf.qr", "QR encoding failed");
    const int n = code->width;
    QrForm form{"0 g\n", n};
    for (int row = 0; row < n; ++row) {
        for (int col = 0; col < n;) {
            if (!(code->data[row * n + col] & 1)) { ++col; continue; }
            int end = col;
            while (end < n && (code->data[row * n + end] & 1)) ++end;
            form.content += std::to_string(col) + ' ' + std::to_string(n - 1 - row) + ' ' + std::to_string(end - col) +
                            " 1 re\n";
            col = end;
        }
    }
    form.content += "f\n";
    QRcode_free(code);
    return form;
}

const char* fontName(FontStyle style) { return style == FontStyle::kBold ? "/F2" : "/F1"; }

void appendRun(std::string& ops, const GlyphRun& run) {
    const auto& font = EmbeddedFont::get(run.font);
    ops += "BT ";
    ops += fontName(run.font);
    ops += ' ';
    appendNumber(ops, run.size);
    ops += " Tf ";
    appendNumber(ops, run.x);
    ops += ' ';
    appendNumber(ops, G::kHeight - run.baseline);
    ops += " Td ";
    if (run.extraPerSpace <= 0) {
        ops += '(';
        font.appendCodes(ops, run.text);
        ops += ") Tj ET\n";
        return;
    }
    // Word spacing (Tw) does not apply to two-byte codes, so justification moves each word
    // with a TJ adjustment after every space.
    const double adjust = -run.extraPerSpace * 1000.0 / run.size;
    ops += "[(";
    std::size_t start = 0;
    for (std::size_t i = 0; i < run.text.size(); ++i) {
        if (run.text[i] == U' ') {
            font.appendCodes(ops, std::u32string_view(run.text).substr(start, i + 1 - start));
            ops += ") ";
            appendNumber(ops, adjust);
            ops += " (";
            start = i + 1;
        }
    }
    font.appendCodes(ops, std::u32string_view(run.text).substr(start));
    ops += ")] TJ ET\n";
}

std::string pageContent(const LaidOutPage& page, const std::string& footer) {
    std::string ops;
    ops.reserve(8192);
    for (const auto& box : page.boxes) {
        const double y = G::kHeight - box.y - box.height;
        if (box.fillGray >= 0) {
            appendNumber(ops, box.fillGray);
            ops += " g ";
            appendNumbers(ops, {box.x, y, box.width, box.height});
            ops += "re f 0 g\n";
        }
        if (box.strokeWidth > 0) {
            appendNumber(ops, box.strokeWidth);
            ops += " w ";
            appendNumbers(ops, {box.x, y, box.width, box.height});
            ops += "re S\n";
        }
    }
    for (const auto& s : page.strokes) {
        appendNumber(ops, s.width);
        ops += s.dotted ? " w [1 2] 0 d " : " w ";
        appendNumbers(ops, {s.x1, G::kHeight - s.y1});
        ops += "m ";
        appendNumbers(ops, {s.x2, G::kHeight - s.y2});
        ops += s.dotted ? "l S [] 0 d\n" : "l S\n";
    }
    for (const auto& run : page.runs) appendRun(ops, run);
    ops += footer;
    return ops;
}

std::string footerOperators(const doc::Provenance& p, int pageNumber, int pageCount, const std::string& qrPlacement) {
    const double qrSize = 15 * kMm;
    const double top = G::kContentBottom + 4 * kMm;
    std::string ops = "0.5 w ";
    appendNumbers(ops, {G::kMarginX, G::kHeight - top});
    ops += "m ";
    appendNumbers(ops, {G::kWidth - G::kMarginX, G::kHeight - top});
    ops += "l S\n";
    const double textWidth = G::kContentWidth - qrSize - 4 * kMm;
    auto line = [&](const std::string& text, FontStyle style, double size, double baseline, doc::Align align) {
        const auto decoded = utf8::tryDecode(text).value_or(std::u32string());
        const double w = EmbeddedFont::get(style).width(decoded, size);
        double x = G::kMarginX;
        if (align == doc::Align::kRight) x += textWidth - w;
        appendRun(ops, GlyphRun{x, baseline, style, size, decoded, 0});
    };
    const double first = top + 5 * kMm;
    line("Nr dokumentu: " + p.documentNumber, FontStyle::kBold, 8, first, doc::Align::kLeft);
    line("Strona " + std::to_string(pageNumber) + " z " + std::to_string(pageCount), FontStyle::kRegular, 8, first,
         doc::Align::kRight);
    line("Identyfikator: " + p.documentId + " \xC2\xB7 wz\xC3\xB3r " + p.templateId + " v" + p.templateVersion,
         FontStyle::kRegular, 6.5, first + 4 * kMm, doc::Align::kLeft);
    line("SHA-256 danych: " + p.inputSha256, FontStyle::kRegular, 6.5, first + 7.5 * kMm, doc::Align::kLeft);
    ops += qrPlacement;
    return ops;
}

class ObjectWriter {
public:
    explicit ObjectWriter(std::size_t objectCount) : offsets_(objectCount + 1, 0) {
        out_.reserve(sharedObjects().size() + 16 * 1024 * objectCount);
    }

    std::string& out() { return out_; }

    void begin(int number) {
        offsets_.at(static_cast<std::size_t>(number)) = out_.size();
        out_ += std::to_string(number);
        out_ += " 0 obj\n";
    }
    void end() { out_ += "\nendobj\n"; }

    void object(int number, const std::string& body) {
        begin(number);
        out_ += body;
        end();
    }

    void stream(int number, const std::string& dictionary, const std::string& data) {
        begin(number);
        out_ += "<< " + dictionary + " /Length " + std::to_string(data.size()) + " >>\nstream\n";
        out_ += data;
        out_ += "\nendstream";
        end();
    }

    /// Appends the shared objects, recording their offsets.
    void shared() {
        sharedBegin_ = out_.size();
        raw(sharedObjects());
        sharedEnd_ = out_.size();
    }

    /// Records the offsets of objects appended as ready-made bytes.
    void raw(const std::string& bytes) {
        std::size_t pos = 0;
        while (pos < bytes.size()) {
            const auto space = bytes.find(' ', pos);
            const int number = std::stoi(bytes.substr(pos, space - pos));
            offsets_.at(static_cast<std::size_t>(number)) = out_.size() + pos;
            const auto next = bytes.find("endobj\n", pos);
            pos = next + 7;
        }
        out_ += bytes;
    }

    void finish() {
        // The file identifier is a digest of the content, as qpdf's deterministic /ID: the
        // same document always gets the same identifier, different documents never share one.
        const std::string_view all(out_);
        const auto& shared = sharedObjectsDigest();
        const auto id = toHex(sha256(std::string(all.substr(0, sharedBegin_)) +
                                     std::string(reinterpret_cast<const char*>(shared.data()), shared.size()) +
                                     std::string(all.substr(sharedEnd_)))
                                  .data(),
                              16);
        const auto xref = out_.size();
        out_ += "xref\n0 " + std::to_string(offsets_.size()) + "\n0000000000 65535 f \n";
        char entry[24];
        for (std::size_t i = 1; i < offsets_.size(); ++i) {
            std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offsets_[i]);
            out_ += entry;
        }
        out_ += "trailer\n<< /Size " + std::to_string(offsets_.size()) + " /Root " + std::to_string(kCatalog) +
                " 0 R /Info " + std::to_string(kInfo) + " 0 R /ID [<" + id + "> <" + id + ">] >>\nstartxref\n" +
                std::to_string(xref) + "\n%%EOF\n";
    }

private:
    std::string out_;
    std::vector<std::size_t> offsets_;
    std::size_t sharedBegin_ = 0, sharedEnd_ = 0;
};

}  // namespace

RenderedPdf renderPdf(const doc::Document& document, const RenderSettings& settings) {
    const Layout layout = layoutDocument(document);
    const auto& p = document.provenance;
    const int pageCount = static_cast<int>(layout.pages.size());
    const int qrObject = kFirstPage + 2 * pageCount;
    // Each attachment: its file specification, then its embedded-file stream.
    const int firstAttachment = qrObject + 1;
    const int objectCount = qrObject + 2 * static_cast<int>(settings.attachments.size());
    if (!settings.attachments.empty() && settings.conformance != PdfaConformance::kPdfA3b) {
        throw Error(ErrorCode::kInvalidArgument, "pdf.attachment_not_allowed", "PDF/A-1 allows no embedded files");
    }
    auto attachments = settings.attachments;
    // The name tree's keys must be in order (ISO 32000-1, 7.9.6).
    std::sort(attachments.begin(), attachments.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string attachmentNames, associatedFiles;
    for (std::size_t i = 0; i < attachments.size(); ++i) {
        const auto reference = std::to_string(firstAttachment + 2 * static_cast<int>(i)) + " 0 R";
        attachmentNames += literalString(attachments[i].name) + " " + reference + " ";
        associatedFiles += reference + " ";
    }
    const std::string attachmentCatalogEntries =
        attachments.empty() ? std::string()
                            : " /Names << /EmbeddedFiles << /Names [" + attachmentNames + "] >> >> /AF [" + associatedFiles + "]";

    ObjectWriter w(static_cast<std::size_t>(objectCount));
    w.out() += settings.conformance == PdfaConformance::kPdfA1b ? "%PDF-1.4\n" : "%PDF-1.7\n";
    w.out() += "%\xE2\xE3\xCF\xD3\n";

    std::string kids;
    for (int i = 0; i < pageCount; ++i) kids += std::to_string(kFirstPage + 2 * i) + " 0 R ";
    w.object(kCatalog, "<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R /Lang (pl-PL)"
                       " /ViewerPreferences << /DisplayDocTitle true >>"
                       " /OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1"
                       " /OutputConditionIdentifier (sRGB IEC61966-2.1) /Info (sRGB IEC61966-2.1)"
                       " /RegistryName (http://www.color.org) /DestOutputProfile 5 0 R >>]" +
                           attachmentCatalogEntries + " >>");
    w.object(kPages, "<< /Type /Pages /Count " + std::to_string(pageCount) + " /Kids [" + kids + "] >>");

    const auto date = literalString(pdfDate(p.createdEpochSeconds));
    std::string info = "<< /Title " + textString(p.title) + " /Creator " + literalString(kRendererVersion) +
                       " /Producer " + literalString(kRendererVersion) + " /CreationDate " + date +
                       " /ModDate " + date;
    for (const auto& entry : provenanceEntries(p)) {
        info += std::string(" /Kooperdoc") + entry.name + " " + textString(entry.value);
    }
    w.object(kInfo, info + " >>");
    w.stream(kMetadata, "/Type /Metadata /Subtype /XML", xmpPacket(document, settings.conformance));
    w.shared();

    std::string qrText = "KOOPERDOC:" + p.documentId + ":";
    for (char c : p.inputSha256) qrText += static_cast<char>(c >= 'a' && c <= 'f' ? c - 32 : c);
    const double qrSize = 15 * kMm;
    const QrForm qr = qrForm(qrText);
    const double qrModule = qrSize / qr.modules;
    std::string qrPlacement = "q ";
    appendNumbers(qrPlacement, {qrModule, 0, 0, qrModule, G::kWidth - G::kMarginX - qrSize, 5 * kMm});
    qrPlacement += "cm /QR Do Q\n";

    for (int i = 0; i < pageCount; ++i) {
        const int pageObject = kFirstPage + 2 * i;
        w.object(pageObject, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + number(G::kWidth) + " " +
                                 number(G::kHeight) + "] /Resources << /Font << /F1 " +
                                 std::to_string(kRegularFont) + " 0 R /F2 " + std::to_string(kBoldFont) +
                                 " 0 R >> /XObject << /QR " + std::to_string(qrObject) +
                                 " 0 R >> /ProcSet [/PDF /Text] >> /Contents " + std::to_string(pageObject + 1) +
                                 " 0 R >>");
        const auto content = pageContent(layout.pages[static_cast<std::size_t>(i)],
                                         footerOperators(p, i + 1, pageCount, qrPlacement));
        // Level 1: page content is small beside the fonts, and the faster level halves render time.
        w.stream(pageObject + 1, "/Filter /FlateDecode", deflate(content, 1));
    }
    w.stream(qrObject,
             "/Type /XObject /Subtype /Form /BBox [0 0 " + std::to_string(qr.modules) + " " +
                 std::to_string(qr.modules) + "] /Resources << >> /Filter /FlateDecode",
             deflate(qr.content, 1));
    for (std::size_t i = 0; i < attachments.size(); ++i) {
        const auto& file = attachments[i];
        const int spec = firstAttachment + 2 * static_cast<int>(i);
        std::string mime;
        for (const char c : file.mimeType) {
            if (c == '/') mime += "#2F";
            else mime += c;
        }
        w.object(spec, "<< /Type /Filespec /F " + literalString(file.name) + " /UF " + textString(file.name) + " /Desc " +
                           textString(file.description) + " /AFRelationship /" + file.relationship + " /EF << /F " +
                           std::to_string(spec + 1) + " 0 R /UF " + std::to_string(spec + 1) + " 0 R >> >>");
        w.stream(spec + 1,
                 "/Type /EmbeddedFile /Subtype /" + mime + " /Params << /Size " + std::to_string(file.bytes.size()) +
                     " /ModDate " + date + " >>",
                 file.bytes);
    }
    w.finish();

    RenderedPdf result;
    result.bytes = std::move(w.out());
    result.pageCount = pageCount;
    for (const auto& placed : layout.signatures) {
        result.signatures.push_back({placed.slot.field, placed.slot.role, placed.slot.caption, placed.slot.name,
                                     placed.page, placed.area.x, G::kHeight - placed.area.y - placed.area.height,
                                     placed.area.width, placed.area.height});
    }
    return result;
}

}  // namespace kooperdoc::pdf
