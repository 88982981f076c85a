// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SigningCommands.h"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/signing/SigningIdentity.h"

namespace kooperdoc::cli {
namespace {

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read " + path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

signing::SigningIdentity sealIdentity(const std::string& identityDir, std::int64_t now, std::ostream& notices) {
    const std::filesystem::path dir(identityDir);
    if (!std::filesystem::exists(dir / "seal.pem")) {
        signing::writeDevelopmentIdentity(identityDir, now);
        notices << "kooperdoc: created a development signing identity in " << identityDir
                << " (not for production: configure a qualified seal)\n";
    }
    return signing::SigningIdentity::fromPem(readFile(dir / "seal.pem"), readFile(dir / "seal.key.pem"));
}

std::string seal(const std::string& pdf, const signing::SigningIdentity& identity, std::int64_t now) {
    signing::SignatureOptions options;
    options.createInvisibleField = true;
    options.fieldName = "pieczec-kooperdoc";
    options.certify = true;
    options.reason = "Pieczęć elektroniczna Kooperdoc: dokument wygenerowany z danych źródłowych";
    options.signingTimeEpoch = now;
    return signing::signPdf(pdf, options, [&](std::string_view bytes) {
        return identity.signCadesDetached(bytes, now);
    });
}

}  // namespace

std::string sealRendered(const pdf::RenderedPdf& rendered, const std::string& identityDir, std::int64_t now,
                         std::ostream& notices) {
    const auto identity = sealIdentity(identityDir, now, notices);
    std::vector<signing::FieldPlacement> fields;
    for (const auto& s : rendered.signatures) {
        std::string text = s.name.empty() ? s.caption : s.name + "\n" + s.caption;
        fields.push_back({s.field, s.page, s.x, s.y, s.width, s.height, text + "\npodpis elektroniczny"});
    }
    const auto withFields = fields.empty() ? rendered.bytes : signing::addSignatureFields(rendered.bytes, fields);
    return seal(withFields, identity, now);
}

std::string sealPdf(const std::string& pdf, const std::string& identityDir, std::int64_t now, std::ostream& notices) {
    return seal(pdf, sealIdentity(identityDir, now, notices), now);
}

}  // namespace kooperdoc::cli
