// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/pdf/Provenance.h"

namespace kooperdoc::pdf {

StoredProvenance readProvenance(const PdfReader& reader) {
    StoredProvenance p;
    const PdfObject info = reader.deref(reader.trailer(0).get("Info"), 0);
    const PdfDictionary* dict = info.asDictionary();
    if (dict == nullptr) return p;
    const auto text = [&](const char* key) {
        const PdfObject value = reader.deref(dict->get(key), 0);
        const PdfString* string = value.asString();
        return string == nullptr ? std::string{} : textStringToUtf8(string->bytes);
    };
    p.documentId = text("KooperdocDocumentId");
    p.documentNumber = text("KooperdocDocumentNumber");
    p.templateId = text("KooperdocTemplateId");
    p.templateVersion = text("KooperdocTemplateVersion");
    p.templateSha256 = text("KooperdocTemplateSha256");
    p.inputSha256 = text("KooperdocInputSha256");
    p.renderer = text("KooperdocRendererVersion");
    return p;
}

}  // namespace kooperdoc::pdf
