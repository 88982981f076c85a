// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/Seal.h"

#include <vector>

namespace kooperdoc::signing {

SignatureOptions sealOptions(std::int64_t signingTime) {
    SignatureOptions options;
    options.createInvisibleField = true;
    options.fieldName = "pieczec-kooperdoc";
    options.certify = true;
    options.reason = "Pieczęć elektroniczna Kooperdoc: dokument wygenerowany z danych źródłowych";
    options.signingTimeEpoch = signingTime;
    return options;
}

std::string sealRendered(const pdf::RenderedPdf& rendered, const SigningIdentity& identity, PadesLevel level,
                         const PadesContext& context, std::int64_t signingTime) {
    std::vector<FieldPlacement> fields;
    for (const auto& s : rendered.signatures) {
        const std::string text = s.name.empty() ? s.caption : s.name + "\n" + s.caption;
        fields.push_back({s.field, s.page, s.x, s.y, s.width, s.height, text + "\npodpis elektroniczny"});
    }
    const auto withFields = fields.empty() ? rendered.bytes : addSignatureFields(rendered.bytes, fields);
    return signAtLevel(withFields, identity, sealOptions(signingTime), level, context);
}

}  // namespace kooperdoc::signing
