// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/PdfSignatureWriter.h"

#include <podofo/podofo.h>

#include <algorithm>
#include <ctime>
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
// The placeholder PdfSignOutputDevice::AdjustByteRange() finds and overwrites in place (P2).
constexpr const char* kByteRangePlaceholder = "[ 0 1234567890 1234567890 1234567890]";

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

std::vector<FieldInfo> listFields(UpdateDocument& update) {
    std::vector<FieldInfo> fields;
    PdfObject* form = resolvedKey(update.objects(), update.catalog(), "AcroForm");
    std::set<PdfReference> seen;
    collectFields(update.objects(), resolvedKey(update.objects(), form, "Fields"), "", "", 0, seen, fields);
    return fields;
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

std::string writeFieldsUpdate(UpdateDocument& update, std::string_view original) {
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

std::string uniqueFieldName(const std::vector<FieldInfo>& fields) {
    for (int n = 1;; ++n) {
        std::string candidate = "Signature" + std::to_string(n);
        if (findField(fields, candidate) == nullptr) return candidate;
    }
}

void validateOptions(const SignatureOptions& options, const CmsProducer& produceCms) {
    if (options.reservedBytes == 0 || options.reservedBytes > kMaxReservedBytes) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid",
                    "reservedBytes must be between 1 and " + std::to_string(kMaxReservedBytes));
    }
    if (options.subFilter.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid", "subFilter must not be empty");
    }
    if (options.fieldName.empty() && !options.createInvisibleField) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid", "fieldName must name the field to sign");
    }
    if (options.signingTimeEpoch < 0 || options.signingTimeEpoch > kLastEpochOfYear9999) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid", "signingTimeEpoch is out of range");
    }
    if (!produceCms) {
        throw Error(ErrorCode::kInvalidArgument, "signature.options_invalid", "no CMS producer given");
    }
}

/// The field to put the signature into: an existing empty one, or a new invisible one.
PdfObject* targetField(UpdateDocument& update, const SignatureOptions& options, const std::vector<FieldInfo>& fields) {
    if (options.createInvisibleField) {
        const std::string name = options.fieldName.empty() ? uniqueFieldName(fields) : options.fieldName;
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

PdfObject* createSignatureDictionary(UpdateDocument& update, const SignatureOptions& options) {
    PdfObject* signature = update.objects().CreateObject("Sig");
    PdfDictionary& dictionary = signature->GetDictionary();
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

} // namespace

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
        // Only flag 1 (SignaturesExist) would be exact for empty fields; 3 tells viewers to save
        // incrementally from now on, which every later step needs.
        markSignaturesExist(update);
        return writeFieldsUpdate(update, pdf);
    } catch (const PdfError& error) {
        throw Error(ErrorCode::kInternal, "signature.pdf_write_failed",
                    "cannot add signature fields: " + describe(error));
    }
}

std::string signPdf(std::string_view pdf, const SignatureOptions& options, const CmsProducer& produceCms) {
    validateOptions(options, produceCms);
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

        update.document().SetWriteMode(PoDoFo::ePdfWriteMode_Clean); // P7
        PoDoFo::PdfRefCountedBuffer buffer;
        PoDoFo::PdfOutputDevice device(&buffer);
        PoDoFo::PdfSignOutputDevice signer(&device);
        signer.SetSignatureSize(options.reservedBytes);
        // /ByteRange must come right before /Contents (the dictionary is written in key order),
        // which AdjustByteRange() relies on to find the placeholder.
        const std::string hole = "<" + signer.GetSignatureBeacon()->data() + ">";
        signature->GetDictionary().AddKey(PdfName("ByteRange"), PdfVariant(PdfData(kByteRangePlaceholder)));
        signature->GetDictionary().AddKey(PdfName("Contents"), PdfVariant(PdfData(hole.data(), hole.size())));
        update.document().WriteUpdate(&signer, true);
        if (!signer.HasSignaturePosition()) {
            throw Error(ErrorCode::kInternal, "signature.pdf_write_failed",
                        "the /Contents placeholder was not written");
        }
        signer.AdjustByteRange();
        signer.Seek(0);
        std::string signedBytes;
        char chunk[65536];
        for (std::size_t n; (n = signer.ReadForSignature(chunk, sizeof chunk)) > 0;)
            signedBytes.append(chunk, n);

        const std::string cms = produceCms(signedBytes);
        if (cms.empty()) throw Error(ErrorCode::kInternal, "signature.cms_empty", "the CMS producer returned nothing");
        if (cms.size() > options.reservedBytes) {
            throw Error(ErrorCode::kInternal, "signature.too_large",
                        "the CMS has " + std::to_string(cms.size()) + " bytes, " +
                            std::to_string(options.reservedBytes) + " were reserved");
        }
        signer.SetSignature(PdfData(cms.data(), cms.size()));
        signer.Flush();
        std::string output(buffer.GetBuffer(), device.GetLength());
        update.checkPrefix(output, pdf);
        return output;
    } catch (const PdfError& error) {
        throw Error(ErrorCode::kInternal, "signature.pdf_write_failed", "cannot sign the PDF: " + describe(error));
    }
}

} // namespace kooperdoc::signing
