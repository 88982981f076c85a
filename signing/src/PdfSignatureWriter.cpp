// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/PdfSignatureWriter.h"

#include <openssl/evp.h>
#include <podofo/podofo.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "kooperdoc/core/Error.h"

// signing/CMakeLists.txt does not pass the pdf module's KOOPERDOC_FONT_DIR yet; the default is
// Debian's fonts-dejavu-core location, the same as the cache variable's default.
#ifndef KOOPERDOC_FONT_DIR
#define KOOPERDOC_FONT_DIR "/usr/share/fonts/truetype/dejavu"
#endif

namespace kooperdoc::signing {
namespace {

using PoDoFo::pdf_int64;
using PoDoFo::PdfArray;
using PoDoFo::PdfData;
using PoDoFo::PdfDictionary;
using PoDoFo::PdfError;
using PoDoFo::PdfMemDocument;
using PoDoFo::PdfName;
using PoDoFo::PdfObject;
using PoDoFo::PdfReference;
using PoDoFo::PdfString;
using PoDoFo::PdfVariant;
using PoDoFo::PdfVecObjects;

constexpr std::size_t kMaxReservedBytes = std::size_t{1} << 20;
constexpr std::int64_t kLastEpochOfYear9999 = 253402300799; // PDF dates have four-digit years
constexpr int kMaxFieldDepth = 32;                          // a guard against malicious /Kids cycles and deep trees
constexpr pdf_int64 kSigFlagsSignaturesExistAppendOnly = 3;
constexpr pdf_int64 kAnnotationFlagPrint = 4; // PDF/A requires printable annotations
constexpr pdf_int64 kAnnotationFlagLocked = 128;
constexpr pdf_int64 kDocMdpFillFormsAndSign = 2;
constexpr double kMaxFontSize = 9.0;
constexpr double kMinFontSize = 4.0;
constexpr double kBoxLineWidth = 0.5;
// Written as /ByteRange and overwritten in place once the offsets are known: ten digits per
// number leave room for any file below 10 GB, and the rest is padded with spaces.
constexpr std::string_view kByteRangePlaceholder = "[ 0 1234567890 1234567890 1234567890]";

std::string describe(const PdfError& error) {
    const char* name = PdfError::ErrorName(error.GetError());
    const char* message = PdfError::ErrorMessage(error.GetError());
    std::string text = name != nullptr ? name : "PdfError";
    if (message != nullptr && *message != '\0') text += std::string(": ") + message;
    return text;
}

bool isAscii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// PoDoFo writes a UTF-8 PdfString as UTF-16BE with a BOM; plain ASCII stays a literal string,
// which keeps field names readable for tools that print /T raw.
PdfString pdfText(const std::string& utf8) {
    if (isAscii(utf8)) return PdfString(utf8);
    return PdfString(reinterpret_cast<const PoDoFo::pdf_utf8*>(utf8.c_str()));
}

// /M in UTC ("D:YYYYMMDDHHmmSS+00'00'"). PdfDate would use the process's local time zone.
PdfString pdfDate(std::int64_t epochSeconds) {
    const std::time_t time = static_cast<std::time_t>(epochSeconds);
    std::tm utc{};
    gmtime_r(&time, &utc);
    char text[40];
    std::strftime(text, sizeof text, "D:%Y%m%d%H%M%S+00'00'", &utc);
    return PdfString(text);
}

// PoDoFo's debug mode (on by default) prints every loaded trailer to stdout, which would mix
// into the CLI's output. The switch is process-wide; it is only ever turned off, once.
void silencePodofoDebugOutput() {
    static std::once_flag once;
    std::call_once(once, [] { PdfError::EnableDebug(false); });
}

PdfObject* resolve(PdfVecObjects& objects, PdfObject* object) {
    if (object != nullptr && object->IsReference()) return objects.GetObject(object->GetReference());
    return object;
}

PdfObject* resolvedKey(PdfVecObjects& objects, PdfObject* dictionary, const char* key) {
    if (dictionary == nullptr || !dictionary->IsDictionary()) return nullptr;
    return resolve(objects, dictionary->GetDictionary().GetKey(PdfName(key)));
}

/// A document loaded for an incremental update, with Info's /ModDate as it was in the input.
class UpdateDocument {
public:
    explicit UpdateDocument(std::string_view pdf) {
        silencePodofoDebugOutput();
        // An update appended to "%%EOF" without an end-of-line would glue "%%EOF1 0 obj"
        // together; one added newline keeps the input a prefix of the output.
        source_.assign(pdf.data(), pdf.size());
        if (!source_.empty() && source_.back() != '\n' && source_.back() != '\r') source_ += '\n';
        std::optional<PdfString> modDate;
        try {
            modDate = originalModDate();
            document_.LoadFromBuffer(source_.data(), static_cast<long>(source_.size()), true);
            if (document_.GetPageCount() < 1) {
                throw Error(ErrorCode::kInvalidArgument, "pdf.unreadable", "the PDF has no pages");
            }
        } catch (const PdfError& error) {
            throw Error(ErrorCode::kInvalidArgument, "pdf.unreadable", "cannot load the PDF: " + describe(error));
        }
        // Loading for update stamps Info /ModDate with the clock (P6). Put the original back (or
        // drop the stamp), so Info still agrees with the XMP (PDF/A) and no clock reaches the PDF.
        PdfDictionary& info = document_.GetInfo()->GetObject()->GetDictionary();
        if (modDate) {
            info.AddKey(PdfName("ModDate"), *modDate);
        } else {
            info.RemoveKey(PdfName("ModDate"));
        }
    }

    PdfMemDocument& document() { return document_; }
    PdfVecObjects& objects() { return document_.GetObjects(); }
    PdfObject* catalog() { return document_.GetCatalog(); }

    /// Incremental updates only: a result that does not start with the caller's bytes is a bug.
    void checkPrefix(const std::string& output, std::string_view original) const {
        if (output.size() <= original.size() || output.compare(0, original.size(), original) != 0) {
            throw Error(ErrorCode::kInternal, "signature.not_incremental",
                        "the update did not keep the original bytes as a prefix");
        }
    }

    const std::string& source() const { return source_; }

private:
    // A second, lazy parse of the input: cheap (the xref and one object) and the only way to
    // see the Info dictionary before PdfMemDocument overwrites /ModDate.
    std::optional<PdfString> originalModDate() const {
        PdfVecObjects objects;
        PoDoFo::PdfParser parser(&objects, source_.data(), static_cast<long>(source_.size()), true);
        const PdfObject* trailer = parser.GetTrailer();
        if (trailer == nullptr || !trailer->IsDictionary()) return std::nullopt;
        const PdfObject* infoKey = trailer->GetDictionary().GetKey(PdfName("Info"));
        if (infoKey == nullptr || !infoKey->IsReference()) return std::nullopt;
        const PdfObject* info = objects.GetObject(infoKey->GetReference());
        if (info == nullptr || !info->IsDictionary()) return std::nullopt;
        const PdfObject* modDate = info->GetDictionary().GetKey(PdfName("ModDate"));
        if (modDate == nullptr || !(modDate->IsString() || modDate->IsHexString())) return std::nullopt;
        return modDate->GetString();
    }

    std::string source_;
    PdfMemDocument document_;
};

/// A document loaded only to be read (the latest revision).
class ReadDocument {
public:
    explicit ReadDocument(std::string_view pdf) : source_(pdf) {
        silencePodofoDebugOutput();
        try {
            document_.LoadFromBuffer(source_.data(), static_cast<long>(source_.size()), false);
        } catch (const PdfError& error) {
            throw Error(ErrorCode::kInvalidArgument, "pdf.unreadable", "cannot load the PDF: " + describe(error));
        }
    }

    PdfVecObjects& objects() { return document_.GetObjects(); }
    PdfObject* catalog() { return document_.GetCatalog(); }

private:
    std::string source_;
    PdfMemDocument document_;
};

struct FieldInfo {
    std::string name; // fully qualified, parent names joined with '.'
    PdfObject* object = nullptr;
    bool isSignature = false;
    bool isSigned = false;
};

void collectFields(PdfVecObjects& objects, PdfObject* kids, const std::string& prefix, const std::string& inheritedType,
                   int depth, std::set<PdfReference>& seen, std::vector<FieldInfo>& out) {
    if (kids == nullptr || !kids->IsArray() || depth > kMaxFieldDepth) return;
    for (PdfObject& entry : kids->GetArray()) {
        if (entry.IsReference()) {
            if (!seen.insert(entry.GetReference()).second) continue;
        }
        PdfObject* field = resolve(objects, &entry);
        if (field == nullptr || !field->IsDictionary()) continue;
        PdfDictionary& dictionary = field->GetDictionary();
        std::string type = inheritedType;
        if (const PdfObject* ft = dictionary.GetKey(PdfName("FT")); ft != nullptr && ft->IsName()) {
            type = ft->GetName().GetName();
        }
        const PdfObject* title = dictionary.GetKey(PdfName("T"));
        // A kid without /T is a widget of its parent, not a field of its own.
        if (title == nullptr || !(title->IsString() || title->IsHexString())) continue;
        const std::string part = title->GetString().GetStringUtf8();
        const std::string name = prefix.empty() ? part : prefix + "." + part;
        const PdfObject* value = resolve(objects, dictionary.GetKey(PdfName("V")));
        out.push_back(FieldInfo{name, field, type == "Sig", type == "Sig" && value != nullptr && !value->IsNull()});
        collectFields(objects, resolve(objects, dictionary.GetKey(PdfName("Kids"))), name, type, depth + 1, seen, out);
    }
}

std::vector<FieldInfo> listFields(PdfVecObjects& objects, PdfObject* catalog) {
    std::vector<FieldInfo> fields;
    PdfObject* form = resolvedKey(objects, catalog, "AcroForm");
    std::set<PdfReference> seen;
    collectFields(objects, resolvedKey(objects, form, "Fields"), "", "", 0, seen, fields);
    return fields;
}

std::vector<FieldInfo> listFields(UpdateDocument& update) {
    return listFields(update.objects(), update.catalog());
}

const FieldInfo* findField(const std::vector<FieldInfo>& fields, const std::string& name) {
    for (const FieldInfo& field : fields) {
        if (field.name == name) return &field;
    }
    return nullptr;
}

/// The DocMDP /P of a certified document, or 0 when it is not certified.
pdf_int64 docMdpPermission(UpdateDocument& update) {
    PdfObject* perms = resolvedKey(update.objects(), update.catalog(), "Perms");
    PdfObject* signature = resolvedKey(update.objects(), perms, "DocMDP");
    if (signature == nullptr) return 0;
    pdf_int64 permission = kDocMdpFillFormsAndSign; // the default of /P when a reference omits it
    PdfObject* references = resolvedKey(update.objects(), signature, "Reference");
    if (references != nullptr && references->IsArray()) {
        for (PdfObject& entry : references->GetArray()) {
            PdfObject* reference = resolve(update.objects(), &entry);
            PdfObject* method = resolvedKey(update.objects(), reference, "TransformMethod");
            if (method == nullptr || !method->IsName() || method->GetName() != PdfName("DocMDP")) continue;
            PdfObject* params = resolvedKey(update.objects(), reference, "TransformParams");
            PdfObject* p = resolvedKey(update.objects(), params, "P");
            if (p != nullptr && p->IsNumber()) permission = p->GetNumber();
        }
    }
    return permission;
}

/// The AcroForm dictionary, created as an indirect object when missing (so later revisions
/// rewrite only the form, not the catalog).
PdfObject* acroForm(UpdateDocument& update) {
    PdfObject* form = resolvedKey(update.objects(), update.catalog(), "AcroForm");
    if (form != nullptr && form->IsDictionary()) return form;
    form = update.objects().CreateObject();
    form->GetDictionary().AddKey(PdfName("Fields"), PdfArray());
    update.catalog()->GetDictionary().AddKey(PdfName("AcroForm"), form->Reference());
    return form;
}

// Appends to an array kept under key, whether it is direct, indirect or missing.
void appendToArray(UpdateDocument& update, PdfObject* dictionary, const char* key, const PdfObject& value) {
    PdfObject* array = resolvedKey(update.objects(), dictionary, key);
    if (array != nullptr && array->IsArray()) {
        array->GetArray().push_back(value);
        return;
    }
    PdfArray fresh;
    fresh.push_back(value);
    dictionary->GetDictionary().AddKey(PdfName(key), fresh);
}

void markSignaturesExist(UpdateDocument& update) {
    acroForm(update)->GetDictionary().AddKey(PdfName("SigFlags"), PdfVariant(kSigFlagsSignaturesExistAppendOnly));
}

PdfArray rectangle(double x, double y, double width, double height) {
    PdfArray array;
    array.push_back(PdfVariant(x));
    array.push_back(PdfVariant(y));
    array.push_back(PdfVariant(x + width));
    array.push_back(PdfVariant(y + height));
    return array;
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find('\n', start);
        lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return lines;
}

/// Draws the box and the lines into a form XObject of the field's size, shrinking the font until
/// every line fits. The font is a DejaVu Sans subset embedded by PoDoFo (PDF/A needs embedding).
PdfObject* drawAppearance(UpdateDocument& update, PoDoFo::PdfFont*& font, const FieldPlacement& placement) {
    PoDoFo::PdfXObject appearance(PoDoFo::PdfRect(0, 0, placement.width, placement.height), &update.document());
    if (placement.appearanceText.empty()) {
        appearance.GetObject()->GetStream()->Set("");
        return appearance.GetObject();
    }
    if (font == nullptr) {
        font = update.document().CreateFontSubset("DejaVu Sans", false, false, false,
                                                  PoDoFo::PdfEncodingFactory::GlobalIdentityEncodingInstance(),
                                                  KOOPERDOC_FONT_DIR "/DejaVuSans.ttf");
        if (font == nullptr) {
            throw Error(ErrorCode::kInternal, "signature.font_missing",
                        "cannot load " KOOPERDOC_FONT_DIR "/DejaVuSans.ttf for the signature appearance");
        }
    }
    std::vector<PdfString> lines;
    for (const std::string& line : splitLines(placement.appearanceText))
        lines.push_back(pdfText(line));

    const double padding = std::min(3.0, std::min(placement.width, placement.height) / 8);
    const double innerWidth = placement.width - 2 * padding;
    const double innerHeight = placement.height - 2 * padding;
    double size = kMaxFontSize;
    for (; size > kMinFontSize; size -= 0.5) {
        font->SetFontSize(static_cast<float>(size));
        const PoDoFo::PdfFontMetrics* metrics = font->GetFontMetrics();
        double widest = 0;
        for (const PdfString& line : lines)
            widest = std::max(widest, metrics->StringWidth(line));
        if (widest <= innerWidth && metrics->GetLineSpacing() * static_cast<double>(lines.size()) <= innerHeight) {
            break;
        }
    }
    font->SetFontSize(static_cast<float>(size));

    PoDoFo::PdfPainter painter;
    painter.SetPage(&appearance);
    painter.SetStrokingColor(0.3, 0.3, 0.3);
    painter.SetStrokeWidth(kBoxLineWidth);
    painter.Rectangle(kBoxLineWidth / 2, kBoxLineWidth / 2, placement.width - kBoxLineWidth,
                      placement.height - kBoxLineWidth);
    painter.Stroke();
    painter.SetColor(0, 0, 0);
    painter.SetFont(font);
    const PoDoFo::PdfFontMetrics* metrics = font->GetFontMetrics();
    double baseline = placement.height - padding - metrics->GetAscent();
    for (const PdfString& line : lines) {
        painter.DrawText(padding, baseline, line);
        baseline -= metrics->GetLineSpacing();
    }
    painter.FinishPage();
    return appearance.GetObject();
}

/// The glyph ids a CIDFont's /W lists, in both of its forms: "c [w1 w2 …]" and "c_first c_last w".
std::set<pdf_int64> glyphsListedIn(const PdfArray& widths) {
    std::set<pdf_int64> glyphs;
    for (std::size_t i = 0; i < widths.size();) {
        if (!widths[i].IsNumber()) break;
        const pdf_int64 first = widths[i].GetNumber();
        if (i + 1 < widths.size() && widths[i + 1].IsArray()) {
            for (std::size_t k = 0; k < widths[i + 1].GetArray().size(); ++k)
                glyphs.insert(first + static_cast<pdf_int64>(k));
            i += 2;
        } else if (i + 2 < widths.size() && widths[i + 1].IsNumber()) {
            for (pdf_int64 glyph = first; glyph <= widths[i + 1].GetNumber() && glyph - first < 65536; ++glyph)
                glyphs.insert(glyph);
            i += 3;
        } else {
            break;
        }
    }
    return glyphs;
}

/// Six capital letters naming a subset after its glyphs (ISO 32000-1, 9.6.4): PoDoFo calls every
/// subset "AAAAAA", so two updates with different glyphs would put two different fonts of one
/// name into a document, which viewers may mix up.
std::string subsetTag(const std::set<pdf_int64>& glyphs) {
    std::string list;
    for (pdf_int64 glyph : glyphs)
        list += std::to_string(glyph) + ",";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(list.data(), list.size(), digest, &length, EVP_sha256(), nullptr);
    std::string tag;
    for (int i = 0; i < 6; ++i)
        tag += static_cast<char>('A' + digest[i] % 26);
    return tag;
}

/// Builds the appearance font's subset now, while its dictionaries can still be corrected (P8):
/// PoDoFo's /W rounds widths to integers and merges neighbours that differ by less than one unit,
/// which PDF/A validators reject as a mismatch with the embedded program. The exact advances
/// (FreeType, unscaled) replace them, and the subset gets a tag of its own.
void finishAppearanceFont(UpdateDocument& update, PoDoFo::PdfFont& font) {
    update.document().EmbedSubsetFonts();
    PdfVecObjects& objects = update.objects();
    PdfObject* type0 = font.GetObject();
    PdfObject* descendants = resolvedKey(objects, type0, "DescendantFonts");
    if (descendants == nullptr || !descendants->IsArray() || descendants->GetArray().empty()) {
        throw Error(ErrorCode::kInternal, "signature.font_invalid", "the appearance font has no descendant font");
    }
    PdfObject* cidFont = resolve(objects, &descendants->GetArray()[0]);
    PdfObject* widths = resolvedKey(objects, cidFont, "W");
    if (cidFont == nullptr || widths == nullptr || !widths->IsArray()) {
        throw Error(ErrorCode::kInternal, "signature.font_invalid", "the appearance font has no /W widths");
    }
    const std::set<pdf_int64> glyphs = glyphsListedIn(widths->GetArray());
    const PoDoFo::PdfFontMetrics* metrics = font.GetFontMetrics();
    PdfArray exact;
    for (auto it = glyphs.begin(); it != glyphs.end();) {
        const pdf_int64 first = *it;
        PdfArray run;
        pdf_int64 next = first;
        for (; it != glyphs.end() && *it == next; ++it, ++next)
            run.push_back(PdfVariant(metrics->GetGlyphWidth(static_cast<int>(*it))));
        exact.push_back(PdfVariant(first));
        exact.push_back(run);
    }
    cidFont->GetDictionary().AddKey(PdfName("W"), exact);

    const std::string tag = subsetTag(glyphs) + "+";
    auto retag = [&](PdfObject* dictionary, const char* key) {
        PdfObject* name = dictionary != nullptr ? dictionary->GetDictionary().GetKey(PdfName(key)) : nullptr;
        if (name == nullptr || !name->IsName()) return;
        std::string text = name->GetName().GetName();
        const std::size_t plus = text.find('+');
        if (plus == 6) text = text.substr(plus + 1); // drop PoDoFo's "AAAAAA+"
        dictionary->GetDictionary().AddKey(PdfName(key), PdfName(tag + text));
    };
    retag(type0, "BaseFont");
    retag(cidFont, "BaseFont");
    retag(resolvedKey(objects, cidFont, "FontDescriptor"), "FontName");
}

/// A widget annotation merged with its signature field, listed in the page's /Annots and in the
/// form's /Fields. Built by hand: PdfAnnotation would stamp /M with the clock.
PdfObject* createField(UpdateDocument& update, const std::string& name, int page, const PdfArray& rect, pdf_int64 flags,
                       PdfObject* appearance) {
    PoDoFo::PdfPage* pdfPage = update.document().GetPage(page);
    PdfObject* widget = update.objects().CreateObject("Annot");
    PdfDictionary& dictionary = widget->GetDictionary();
    dictionary.AddKey(PdfName("Subtype"), PdfName("Widget"));
    dictionary.AddKey(PdfName("FT"), PdfName("Sig"));
    dictionary.AddKey(PdfName("T"), pdfText(name));
    dictionary.AddKey(PdfName("Rect"), rect);
    dictionary.AddKey(PdfName("F"), PdfVariant(flags));
    dictionary.AddKey(PdfName("P"), pdfPage->GetObject()->Reference());
    PdfDictionary appearances;
    appearances.AddKey(PdfName("N"), appearance->Reference());
    dictionary.AddKey(PdfName("AP"), appearances);
    appendToArray(update, pdfPage->GetObject(), "Annots", widget->Reference());
    appendToArray(update, acroForm(update), "Fields", widget->Reference());
    return widget;
}

std::string writeUpdate(UpdateDocument& update, std::string_view original) {
    update.document().SetWriteMode(PoDoFo::ePdfWriteMode_Clean); // P7: PDF/A wants "1 0 obj" spacing
    PoDoFo::PdfRefCountedBuffer buffer;
    PoDoFo::PdfOutputDevice device(&buffer);
    update.document().WriteUpdate(&device, true);
    std::string output(buffer.GetBuffer(), device.GetLength());
    update.checkPrefix(output, original);
    return output;
}

void validatePlacements(UpdateDocument& update, const std::vector<FieldPlacement>& placements,
                        const std::vector<FieldInfo>& existing) {
    std::set<std::string> names;
    const int pages = update.document().GetPageCount();
    for (const FieldPlacement& placement : placements) {
        if (placement.name.empty() || placement.name.find('.') != std::string::npos ||
            !names.insert(placement.name).second) {
            throw Error(ErrorCode::kInvalidArgument, "signature.placement_invalid",
                        "signature field names must be non-empty, unique and without '.': \"" + placement.name + "\"");
        }
        if (placement.page < 0 || placement.page >= pages) {
            throw Error(ErrorCode::kInvalidArgument, "signature.placement_invalid",
                        "field \"" + placement.name + "\" is on page " + std::to_string(placement.page) +
                            ", the document has " + std::to_string(pages));
        }
        if (!(placement.width > 0) || !(placement.height > 0)) {
            throw Error(ErrorCode::kInvalidArgument, "signature.placement_invalid",
                        "field \"" + placement.name + "\" needs a rectangle with area");
        }
        if (findField(existing, placement.name) != nullptr) {
            throw Error(ErrorCode::kAlreadyExists, "signature.field_exists",
                        "the document already has a field \"" + placement.name + "\"");
        }
    }
}

std::string uniqueFieldName(const std::vector<FieldInfo>& fields, const std::string& stem) {
    for (int n = 1;; ++n) {
        std::string candidate = stem + std::to_string(n);
        if (findField(fields, candidate) == nullptr) return candidate;
    }
}

void validateOptions(const SignatureOptions& options) {
    auto refuse = [](const std::string& message) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid", message);
    };
    if (options.reservedBytes == 0 || options.reservedBytes > kMaxReservedBytes) {
        refuse("reservedBytes must be between 1 and " + std::to_string(kMaxReservedBytes));
    }
    if (options.signingTimeEpoch < 0 || options.signingTimeEpoch > kLastEpochOfYear9999) {
        refuse("signingTimeEpoch is out of range");
    }
    if (options.documentTimestamp) {
        // A document timestamp speaks only through its token; anything else asked for would be
        // silently missing from the PDF.
        if (options.certify) refuse("a document timestamp cannot certify");
        if (!options.reason.empty() || !options.location.empty() || options.signingTimeEpoch != 0) {
            refuse("a document timestamp has no reason, location or signing time");
        }
        return;
    }
    if (options.subFilter.empty()) refuse("subFilter must not be empty");
    if (options.fieldName.empty() && !options.createInvisibleField) refuse("fieldName must name the field to sign");
}

/// The field to put the signature into: an existing empty one, or a new invisible one.
PdfObject* targetField(UpdateDocument& update, const SignatureOptions& options, const std::vector<FieldInfo>& fields) {
    if (options.createInvisibleField || options.documentTimestamp) {
        const std::string name = !options.fieldName.empty()  ? options.fieldName
                                 : options.documentTimestamp ? uniqueFieldName(fields, "DocTimeStamp")
                                                             : uniqueFieldName(fields, "Signature");
        if (findField(fields, name) != nullptr) {
            throw Error(ErrorCode::kAlreadyExists, "signature.field_exists",
                        "the document already has a field \"" + name + "\"");
        }
        // PDF/A wants an appearance even for a zero-size widget (Preflight 5.3.1).
        PoDoFo::PdfXObject empty(PoDoFo::PdfRect(0, 0, 0, 0), &update.document());
        empty.GetObject()->GetStream()->Set("");
        return createField(update, name, 0, rectangle(0, 0, 0, 0), kAnnotationFlagPrint | kAnnotationFlagLocked,
                           empty.GetObject());
    }
    const FieldInfo* field = findField(fields, options.fieldName);
    if (field == nullptr) {
        throw Error(ErrorCode::kNotFound, "signature.field_unknown",
                    "the document has no field \"" + options.fieldName + "\"");
    }
    if (!field->isSignature) {
        throw Error(ErrorCode::kFailedPrecondition, "signature.field_not_signature",
                    "field \"" + options.fieldName + "\" is not a signature field");
    }
    if (field->isSigned) {
        throw Error(ErrorCode::kFailedPrecondition, "signature.field_signed",
                    "field \"" + options.fieldName + "\" is already signed");
    }
    return field->object;
}

/// The signature (or document timestamp) dictionary. /ByteRange and /Contents are placeholders
/// written verbatim; PoDoFo writes /Type first and then the keys in order, so they come right
/// after it, before any text of the caller's.
PdfObject* createSignatureDictionary(UpdateDocument& update, const SignatureOptions& options) {
    const std::string hole = "<" + std::string(2 * options.reservedBytes, '0') + ">";
    if (options.documentTimestamp) {
        PdfObject* timestamp = update.objects().CreateObject("DocTimeStamp");
        PdfDictionary& dictionary = timestamp->GetDictionary();
        dictionary.AddKey(PdfName("ByteRange"),
                          PdfVariant(PdfData(kByteRangePlaceholder.data(), kByteRangePlaceholder.size())));
        dictionary.AddKey(PdfName("Contents"), PdfVariant(PdfData(hole.data(), hole.size())));
        dictionary.AddKey(PdfName("Filter"), PdfName("Adobe.PPKLite"));
        dictionary.AddKey(PdfName("SubFilter"), PdfName("ETSI.RFC3161"));
        return timestamp;
    }
    PdfObject* signature = update.objects().CreateObject("Sig");
    PdfDictionary& dictionary = signature->GetDictionary();
    dictionary.AddKey(PdfName("ByteRange"),
                      PdfVariant(PdfData(kByteRangePlaceholder.data(), kByteRangePlaceholder.size())));
    dictionary.AddKey(PdfName("Contents"), PdfVariant(PdfData(hole.data(), hole.size())));
    dictionary.AddKey(PdfName("Filter"), PdfName("Adobe.PPKLite"));
    dictionary.AddKey(PdfName("SubFilter"), PdfName(options.subFilter));
    if (options.signingTimeEpoch != 0) dictionary.AddKey(PdfName("M"), pdfDate(options.signingTimeEpoch));
    if (!options.reason.empty()) dictionary.AddKey(PdfName("Reason"), pdfText(options.reason));
    if (!options.location.empty()) dictionary.AddKey(PdfName("Location"), pdfText(options.location));
    if (options.certify) {
        PdfDictionary params;
        params.AddKey(PdfName("Type"), PdfName("TransformParams"));
        params.AddKey(PdfName("P"), PdfVariant(kDocMdpFillFormsAndSign));
        params.AddKey(PdfName("V"), PdfName("1.2"));
        PdfDictionary reference;
        reference.AddKey(PdfName("Type"), PdfName("SigRef"));
        reference.AddKey(PdfName("TransformMethod"), PdfName("DocMDP"));
        reference.AddKey(PdfName("TransformParams"), params);
        PdfArray references;
        references.push_back(reference);
        dictionary.AddKey(PdfName("Reference"), references);
        PdfDictionary perms;
        perms.AddKey(PdfName("DocMDP"), signature->Reference());
        update.catalog()->GetDictionary().AddKey(PdfName("Perms"), perms);
    }
    return signature;
}

// ---- Finding and checking the /Contents hole in bytes ----

bool isPdfWhitespace(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

std::size_t skipWhitespace(std::string_view text, std::size_t at) {
    while (at < text.size() && isPdfWhitespace(text[at]))
        ++at;
    return at;
}

bool startsWithAt(std::string_view text, std::size_t at, std::string_view prefix) {
    return at <= text.size() && text.substr(at, prefix.size()) == prefix;
}

/// Reads "/ByteRange [ a b c d ] /Contents " from \p at. Returns the offset of the '<' after it,
/// or npos when the text is anything else.
std::size_t parseByteRangeBeforeContents(std::string_view pdf, std::size_t at, std::array<std::int64_t, 4>& range) {
    constexpr std::string_view kKey = "/ByteRange";
    if (!startsWithAt(pdf, at, kKey)) return std::string_view::npos;
    at = skipWhitespace(pdf, at + kKey.size());
    if (at >= pdf.size() || pdf[at] != '[') return std::string_view::npos;
    ++at;
    for (std::int64_t& value : range) {
        at = skipWhitespace(pdf, at);
        const std::size_t digits = at;
        value = 0;
        while (at < pdf.size() && std::isdigit(static_cast<unsigned char>(pdf[at])) && at - digits < 12)
            value = value * 10 + (pdf[at++] - '0');
        if (at == digits) return std::string_view::npos;
    }
    at = skipWhitespace(pdf, at);
    if (at >= pdf.size() || pdf[at] != ']') return std::string_view::npos;
    at = skipWhitespace(pdf, at + 1);
    constexpr std::string_view kContents = "/Contents";
    if (!startsWithAt(pdf, at, kContents)) return std::string_view::npos;
    at = skipWhitespace(pdf, at + kContents.size());
    return at < pdf.size() && pdf[at] == '<' ? at : std::string_view::npos;
}

std::array<std::int64_t, 4> byteRangeAround(std::size_t contentsOffset, std::size_t contentsLength,
                                            std::size_t fileSize) {
    const auto end = static_cast<std::int64_t>(contentsOffset + contentsLength);
    return {0, static_cast<std::int64_t>(contentsOffset), end, static_cast<std::int64_t>(fileSize) - end};
}

bool isZeroHole(std::string_view pdf, std::size_t offset, std::size_t length) {
    if (length < 4 || offset > pdf.size() || length > pdf.size() - offset) return false;
    if (pdf[offset] != '<' || pdf[offset + length - 1] != '>') return false;
    const std::string_view digits = pdf.substr(offset + 1, length - 2);
    return std::all_of(digits.begin(), digits.end(), [](char c) { return c == '0'; });
}

[[noreturn]] void preparedInvalid(const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, "signature.prepared_invalid", message);
}

/// The prepared state holds together: the numbers agree with each other, with the file size and
/// with the /ByteRange the PDF itself carries right before the hole, and the hole is unsigned.
void requireConsistent(const PreparedPdfSignature& prepared) {
    const std::string& pdf = prepared.pdf;
    if (prepared.contentsLength < 4 || prepared.contentsLength % 2 != 0 || prepared.contentsOffset == 0 ||
        prepared.contentsOffset > pdf.size() || prepared.contentsLength > pdf.size() - prepared.contentsOffset) {
        preparedInvalid("the /Contents hole lies outside the PDF");
    }
    if (prepared.byteRange != byteRangeAround(prepared.contentsOffset, prepared.contentsLength, pdf.size())) {
        preparedInvalid("the byte range does not match the /Contents hole and the file size");
    }
    if (!isZeroHole(pdf, prepared.contentsOffset, prepared.contentsLength)) {
        preparedInvalid("the /Contents hole is not all zeros: signed already, or damaged");
    }
    // The PDF's own /ByteRange is within a short distance before the hole (the placeholder's width
    // plus whitespace); the last "/ByteRange" there must be the one of this dictionary.
    const std::size_t window = std::min<std::size_t>(prepared.contentsOffset, 256);
    const std::size_t key = std::string_view(pdf).substr(prepared.contentsOffset - window, window).rfind("/ByteRange");
    std::array<std::int64_t, 4> written{};
    if (key == std::string_view::npos ||
        parseByteRangeBeforeContents(pdf, prepared.contentsOffset - window + key, written) != prepared.contentsOffset ||
        written != prepared.byteRange) {
        preparedInvalid("the PDF's /ByteRange before the hole does not match the prepared byte range");
    }
}

/// The offset of "<num> <gen> obj" at the start of a line, at or after \p from.
std::size_t findObjectHeader(std::string_view pdf, std::size_t from, const PdfReference& reference) {
    const std::string header =
        std::to_string(reference.ObjectNumber()) + " " + std::to_string(reference.GenerationNumber()) + " obj";
    for (std::size_t at = pdf.find(header, from); at != std::string_view::npos; at = pdf.find(header, at + 1)) {
        if (at > 0 && (pdf[at - 1] == '\n' || pdf[at - 1] == '\r')) return at;
    }
    return std::string_view::npos;
}

/// Finds the placeholders of the signature dictionary written in the new revision and fills in
/// the real /ByteRange.
PreparedPdfSignature locateHole(std::string output, std::size_t revisionStart, const PdfReference& signature,
                                std::size_t reservedBytes) {
    const std::size_t contentsLength = 2 * reservedBytes + 2;
    for (std::size_t header = findObjectHeader(output, revisionStart, signature); header != std::string::npos;
         header = findObjectHeader(output, header + 1, signature)) {
        // "N 0 obj << /Type /Sig /ByteRange [ …" — the placeholder within the first few tokens.
        const std::size_t key = output.find("/ByteRange", header);
        if (key == std::string::npos || key - header > 64) continue;
        std::array<std::int64_t, 4> placeholder{};
        const std::size_t contents = parseByteRangeBeforeContents(output, key, placeholder);
        if (contents == std::string::npos) continue;
        if (!isZeroHole(output, contents, contentsLength)) continue;
        const std::size_t arrayStart = output.find('[', key);
        if (output.compare(arrayStart, kByteRangePlaceholder.size(), kByteRangePlaceholder) != 0) continue;

        PreparedPdfSignature prepared;
        prepared.byteRange = byteRangeAround(contents, contentsLength, output.size());
        prepared.contentsOffset = contents;
        prepared.contentsLength = contentsLength;
        std::string range = "[ 0 " + std::to_string(prepared.byteRange[1]) + " " +
                            std::to_string(prepared.byteRange[2]) + " " + std::to_string(prepared.byteRange[3]);
        if (range.size() + 1 > kByteRangePlaceholder.size()) {
            throw Error(ErrorCode::kResourceExhausted, "signature.pdf_too_large",
                        "the signed PDF would not fit a 10-digit /ByteRange");
        }
        range.append(kByteRangePlaceholder.size() - 1 - range.size(), ' ');
        range += ']';
        output.replace(arrayStart, range.size(), range);
        prepared.pdf = std::move(output);
        return prepared;
    }
    throw Error(ErrorCode::kInternal, "signature.pdf_write_failed",
                "the /ByteRange and /Contents placeholders were not written as expected");
}

// ---- Document Security Store ----

std::string digestOf(const EVP_MD* algorithm, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, algorithm, nullptr) != 1) {
        throw Error(ErrorCode::kInternal, "crypto.digest_failed", "cannot compute a digest");
    }
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string upperHex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string hex;
    hex.reserve(2 * bytes.size());
    for (unsigned char c : bytes) {
        hex += kDigits[c >> 4];
        hex += kDigits[c & 15];
    }
    return hex;
}

std::string vriKey(std::string_view signatureContentsDer) {
    return upperHex(digestOf(EVP_sha1(), signatureContentsDer));
}

std::string streamBytes(const PdfObject& stream) {
    char* buffer = nullptr;
    PoDoFo::pdf_long length = 0;
    stream.GetStream()->GetFilteredCopy(&buffer, &length);
    const std::unique_ptr<char, void (*)(void*)> owned(buffer, PoDoFo::podofo_free);
    return std::string(buffer != nullptr ? buffer : "", static_cast<std::size_t>(length));
}

struct DssKind {
    const char* dssKey; ///< the array in the DSS
    const char* vriKey; ///< the array in a VRI entry
};
constexpr DssKind kCerts{"Certs", "Cert"};
constexpr DssKind kCrls{"CRLs", "CRL"};
constexpr DssKind kOcsps{"OCSPs", "OCSP"};

/// One DSS array being extended: the references it holds and the bytes behind each, so that new
/// material byte-equal to stored material reuses the stream.
class DssArray {
public:
    DssArray(PdfVecObjects& objects, PdfObject* existing) : objects_(objects) {
        if (existing == nullptr || !existing->IsArray()) return;
        for (const PdfObject& entry : existing->GetArray()) {
            if (!entry.IsReference()) continue; // streams are always indirect; anything else is not ours to keep
            const PdfObject* stream = objects.GetObject(entry.GetReference());
            if (stream == nullptr || !stream->HasStream()) continue;
            add(entry.GetReference(), streamBytes(*stream));
        }
    }

    PdfReference store(const std::string& der) {
        for (const auto& [reference, bytes] : entries_) {
            if (bytes == der) return reference;
        }
        PdfObject* stream = objects_.CreateObject();
        stream->GetStream()->Set(der.data(), static_cast<PoDoFo::pdf_long>(der.size())); // FlateDecode
        add(stream->Reference(), der);
        return stream->Reference();
    }

    void writeInto(PdfDictionary& dss, const char* key) const {
        if (entries_.empty()) return;
        PdfArray array;
        for (const auto& entry : entries_)
            array.push_back(entry.first);
        dss.AddKey(PdfName(key), array);
    }

private:
    void add(const PdfReference& reference, std::string bytes) { entries_.emplace_back(reference, std::move(bytes)); }

    PdfVecObjects& objects_;
    std::vector<std::pair<PdfReference, std::string>> entries_;
};

void validateMaterial(const DssMaterial& material) {
    auto refuse = [](const std::string& message) {
        throw Error(ErrorCode::kInvalidArgument, "dss.material_invalid", message);
    };
    if (material.certificatesDer.empty() && material.crlsDer.empty() && material.ocspResponsesDer.empty() &&
        material.vri.empty()) {
        refuse("no validation material given");
    }
    for (const auto* items : {&material.certificatesDer, &material.crlsDer, &material.ocspResponsesDer}) {
        if (std::any_of(items->begin(), items->end(), [](const std::string& der) { return der.empty(); })) {
            refuse("an item of validation material is empty");
        }
    }
    for (const VriEntry& entry : material.vri) {
        if (entry.signatureContentsDer.empty()) refuse("a VRI entry needs the signature's DER");
        auto inRange = [](const std::vector<std::size_t>& indexes, std::size_t size) {
            return std::all_of(indexes.begin(), indexes.end(), [size](std::size_t i) { return i < size; });
        };
        if (!inRange(entry.certIndexes, material.certificatesDer.size()) ||
            !inRange(entry.crlIndexes, material.crlsDer.size()) ||
            !inRange(entry.ocspIndexes, material.ocspResponsesDer.size())) {
            refuse("a VRI entry refers to material that was not given");
        }
    }
}

/// A VRI entry's array, extended with references it does not hold yet.
void mergeReferences(PdfDictionary& entry, const char* key, const std::vector<PdfReference>& references) {
    if (references.empty()) return;
    PdfArray merged;
    if (const PdfObject* existing = entry.GetKey(PdfName(key)); existing != nullptr && existing->IsArray()) {
        merged = existing->GetArray();
    }
    for (const PdfReference& reference : references) {
        const bool present = std::any_of(merged.begin(), merged.end(), [&](const PdfObject& item) {
            return item.IsReference() && item.GetReference() == reference;
        });
        if (!present) merged.push_back(reference);
    }
    entry.AddKey(PdfName(key), merged);
}

std::vector<std::string> readDssArray(PdfVecObjects& objects, PdfObject* array, const char* key) {
    std::vector<std::string> items;
    if (array == nullptr) return items;
    if (!array->IsArray())
        throw Error(ErrorCode::kInvalidArgument, "dss.invalid", std::string("/") + key + " is not an array");
    for (PdfObject& entry : array->GetArray()) {
        const PdfObject* stream = resolve(objects, &entry);
        if (stream == nullptr || !stream->HasStream()) {
            throw Error(ErrorCode::kInvalidArgument, "dss.invalid", std::string("/") + key + " holds a non-stream");
        }
        items.push_back(streamBytes(*stream));
    }
    return items;
}

} // namespace

std::string PreparedPdfSignature::signedBytes() const {
    const auto size = static_cast<std::int64_t>(pdf.size());
    const auto& r = byteRange;
    if (r[0] != 0 || r[1] < 0 || r[2] < r[1] || r[3] < 0 || r[1] > size || r[2] > size || r[3] > size - r[2]) {
        preparedInvalid("the byte range lies outside the PDF");
    }
    std::string bytes;
    bytes.reserve(static_cast<std::size_t>(r[1] + r[3]));
    bytes.append(pdf, 0, static_cast<std::size_t>(r[1]));
    bytes.append(pdf, static_cast<std::size_t>(r[2]), static_cast<std::size_t>(r[3]));
    return bytes;
}

std::string addSignatureFields(std::string_view pdf, const std::vector<FieldPlacement>& fields) {
    UpdateDocument update(pdf);
    try {
        const std::vector<FieldInfo> existing = listFields(update);
        validatePlacements(update, fields, existing);
        const pdf_int64 permission = docMdpPermission(update);
        if (permission == 1 || permission == 2) {
            throw Error(ErrorCode::kFailedPrecondition, "signature.document_certified",
                        "the document is certified with DocMDP /P " + std::to_string(permission) +
                            ", which forbids adding fields");
        }
        PoDoFo::PdfFont* font = nullptr;
        for (const FieldPlacement& placement : fields) {
            PdfObject* appearance = drawAppearance(update, font, placement);
            createField(update, placement.name, placement.page,
                        rectangle(placement.x, placement.y, placement.width, placement.height), kAnnotationFlagPrint,
                        appearance);
        }
        if (font != nullptr) finishAppearanceFont(update, *font);
        // Only flag 1 (SignaturesExist) would be exact for empty fields; 3 tells viewers to save
        // incrementally from now on, which every later step needs.
        markSignaturesExist(update);
        return writeUpdate(update, pdf);
    } catch (const PdfError& error) {
        throw Error(ErrorCode::kInternal, "signature.pdf_write_failed",
                    "cannot add signature fields: " + describe(error));
    }
}

PreparedPdfSignature prepareSignature(std::string_view pdf, const SignatureOptions& options) {
    validateOptions(options);
    UpdateDocument update(pdf);
    try {
        const std::vector<FieldInfo> fields = listFields(update);
        if (options.certify) {
            const bool signed_ =
                std::any_of(fields.begin(), fields.end(), [](const FieldInfo& f) { return f.isSigned; });
            if (signed_ || docMdpPermission(update) != 0) {
                throw Error(ErrorCode::kFailedPrecondition, "signature.certify_not_first",
                            "only the first signature of a document may certify it");
            }
        }
        PdfObject* field = targetField(update, options, fields);
        PdfObject* signature = createSignatureDictionary(update, options);
        field->GetDictionary().AddKey(PdfName("V"), signature->Reference());
        markSignaturesExist(update);
        std::string output = writeUpdate(update, pdf);
        return locateHole(std::move(output), pdf.size(), signature->Reference(), options.reservedBytes);
    } catch (const PdfError& error) {
        throw Error(ErrorCode::kInternal, "signature.pdf_write_failed", "cannot sign the PDF: " + describe(error));
    }
}

std::string embedSignature(const PreparedPdfSignature& prepared, std::string_view cmsDer) {
    requireConsistent(prepared);
    if (cmsDer.empty()) throw Error(ErrorCode::kInternal, "signature.cms_empty", "the CMS producer returned nothing");
    const std::size_t room = (prepared.contentsLength - 2) / 2;
    if (cmsDer.size() > room) {
        throw Error(ErrorCode::kInternal, "signature.too_large",
                    "the CMS has " + std::to_string(cmsDer.size()) + " bytes, " + std::to_string(room) +
                        " were reserved");
    }
    std::string pdf = prepared.pdf;
    const std::string hex = upperHex(cmsDer);
    pdf.replace(prepared.contentsOffset + 1, hex.size(), hex); // the rest of the hole stays zero padding
    return pdf;
}

std::string signPdf(std::string_view pdf, const SignatureOptions& options, const CmsProducer& produceCms) {
    if (!produceCms) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid", "no CMS producer given");
    }
    const PreparedPdfSignature prepared = prepareSignature(pdf, options);
    return embedSignature(prepared, produceCms(prepared.signedBytes()));
}

PreparedPdfSignature restorePreparedSignature(std::string pdfWithHole) {
    std::optional<PreparedPdfSignature> found;
    {
        ReadDocument document(pdfWithHole);
        try {
            for (const FieldInfo& field : listFields(document.objects(), document.catalog())) {
                if (!field.isSignature || !field.isSigned) continue;
                PdfObject* signature = resolvedKey(document.objects(), field.object, "V");
                PdfObject* range = resolvedKey(document.objects(), signature, "ByteRange");
                if (range == nullptr || !range->IsArray() || range->GetArray().size() != 4) continue;
                std::array<std::int64_t, 4> byteRange{};
                bool numbers = true;
                for (std::size_t i = 0; i < 4; ++i) {
                    const PdfObject& value = range->GetArray()[i];
                    numbers = numbers && value.IsNumber();
                    if (numbers) byteRange[i] = value.GetNumber();
                }
                // The signature just prepared covers the file up to its end and is not signed yet;
                // earlier signatures end where their revision ended, and are filled.
                const auto size = static_cast<std::int64_t>(pdfWithHole.size());
                if (!numbers || byteRange[0] != 0 || byteRange[1] <= 0 || byteRange[2] <= byteRange[1] ||
                    byteRange[2] > size || byteRange[2] + byteRange[3] != size) {
                    continue;
                }
                const auto offset = static_cast<std::size_t>(byteRange[1]);
                const auto length = static_cast<std::size_t>(byteRange[2] - byteRange[1]);
                if (!isZeroHole(pdfWithHole, offset, length)) continue;
                if (found) preparedInvalid("more than one signature waits for its CMS");
                found = PreparedPdfSignature{std::string(), byteRange, offset, length};
            }
        } catch (const PdfError& error) {
            throw Error(ErrorCode::kInvalidArgument, "pdf.unreadable", "cannot read the PDF: " + describe(error));
        }
    }
    if (!found) preparedInvalid("no signature in the PDF waits for its CMS");
    found->pdf = std::move(pdfWithHole);
    requireConsistent(*found);
    return std::move(*found);
}

std::string addDocumentSecurityStore(std::string_view pdf, const DssMaterial& material) {
    validateMaterial(material);
    UpdateDocument update(pdf);
    try {
        PdfVecObjects& objects = update.objects();
        PdfObject* catalog = update.catalog();
        PdfObject* earlier = resolvedKey(objects, catalog, "DSS");

        DssArray certs(objects, resolvedKey(objects, earlier, kCerts.dssKey));
        DssArray crls(objects, resolvedKey(objects, earlier, kCrls.dssKey));
        DssArray ocsps(objects, resolvedKey(objects, earlier, kOcsps.dssKey));
        auto storeAll = [](DssArray& array, const std::vector<std::string>& items) {
            std::vector<PdfReference> references;
            for (const std::string& der : items)
                references.push_back(array.store(der));
            return references;
        };
        const std::vector<PdfReference> certRefs = storeAll(certs, material.certificatesDer);
        const std::vector<PdfReference> crlRefs = storeAll(crls, material.crlsDer);
        const std::vector<PdfReference> ocspRefs = storeAll(ocsps, material.ocspResponsesDer);

        // A new DSS object, so that the earlier one stays exactly as it was signed.
        PdfObject* dss = objects.CreateObject("DSS");
        certs.writeInto(dss->GetDictionary(), kCerts.dssKey);
        crls.writeInto(dss->GetDictionary(), kCrls.dssKey);
        ocsps.writeInto(dss->GetDictionary(), kOcsps.dssKey);

        PdfDictionary vri;
        if (PdfObject* earlierVri = resolvedKey(objects, earlier, "VRI");
            earlierVri != nullptr && earlierVri->IsDictionary()) {
            vri = earlierVri->GetDictionary();
        }
        for (const VriEntry& entry : material.vri) {
            const PdfName key(vriKey(entry.signatureContentsDer));
            PdfDictionary merged;
            if (PdfObject* existing = resolve(objects, vri.GetKey(key));
                existing != nullptr && existing->IsDictionary()) {
                merged = existing->GetDictionary();
            }
            auto pick = [](const std::vector<PdfReference>& references, const std::vector<std::size_t>& indexes) {
                std::vector<PdfReference> picked;
                for (std::size_t index : indexes)
                    picked.push_back(references[index]);
                return picked;
            };
            mergeReferences(merged, kCerts.vriKey, pick(certRefs, entry.certIndexes));
            mergeReferences(merged, kCrls.vriKey, pick(crlRefs, entry.crlIndexes));
            mergeReferences(merged, kOcsps.vriKey, pick(ocspRefs, entry.ocspIndexes));
            vri.AddKey(key, merged);
        }
        if (!vri.GetKeys().empty()) dss->GetDictionary().AddKey(PdfName("VRI"), vri);

        catalog->GetDictionary().AddKey(PdfName("DSS"), dss->Reference());
        return writeUpdate(update, pdf);
    } catch (const PdfError& error) {
        throw Error(ErrorCode::kInternal, "dss.pdf_write_failed", "cannot add the DSS: " + describe(error));
    }
}

DssContents readDocumentSecurityStore(std::string_view pdf) {
    ReadDocument document(pdf);
    try {
        PdfVecObjects& objects = document.objects();
        DssContents contents;
        PdfObject* dss = resolvedKey(objects, document.catalog(), "DSS");
        if (dss == nullptr) return contents;
        if (!dss->IsDictionary()) throw Error(ErrorCode::kInvalidArgument, "dss.invalid", "/DSS is not a dictionary");
        contents.present = true;
        contents.certificatesDer = readDssArray(objects, resolvedKey(objects, dss, kCerts.dssKey), kCerts.dssKey);
        contents.crlsDer = readDssArray(objects, resolvedKey(objects, dss, kCrls.dssKey), kCrls.dssKey);
        contents.ocspResponsesDer = readDssArray(objects, resolvedKey(objects, dss, kOcsps.dssKey), kOcsps.dssKey);
        PdfObject* vri = resolvedKey(objects, dss, "VRI");
        if (vri != nullptr && vri->IsDictionary()) {
            for (const auto& [key, value] : vri->GetDictionary().GetKeys()) {
                PdfObject* entry = resolve(objects, value);
                if (entry == nullptr || !entry->IsDictionary()) continue;
                DssVriContents& out = contents.vri[key.GetName()];
                out.certificatesDer = readDssArray(objects, resolvedKey(objects, entry, kCerts.vriKey), kCerts.vriKey);
                out.crlsDer = readDssArray(objects, resolvedKey(objects, entry, kCrls.vriKey), kCrls.vriKey);
                out.ocspResponsesDer = readDssArray(objects, resolvedKey(objects, entry, kOcsps.vriKey), kOcsps.vriKey);
            }
        }
        return contents;
    } catch (const PdfError& error) {
        throw Error(ErrorCode::kInvalidArgument, "pdf.unreadable", "cannot read the DSS: " + describe(error));
    }
}

} // namespace kooperdoc::signing
