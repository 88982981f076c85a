// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SigningCommands.h"

#include "Commands.h"

#include <filesystem>
#include <memory>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/server/SigningSetup.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/signing/RemoteSigning.h"
#include "kooperdoc/signing/Seal.h"
#include "kooperdoc/signing/SigningIdentity.h"
#include "kooperdoc/signing/Timestamp.h"
#include "kooperdoc/signing/UploadReview.h"

namespace kooperdoc::cli {
namespace {

std::string trimmedPassword(std::string password) {
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    return password;
}

server::SigningSetup signingSetup(const Context& ctx, const Arguments& a) {
    return server::loadSigningSetup(*loadConfiguration(ctx), {a.value("--identity"), a.value("--level")}, ctx.err,
                                    signingTime());
}

std::string outputOf(const Arguments& a, const char* command) {
    const auto output = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!output) throw UsageError(std::string(command) + " needs -o OUT.pdf");
    return *output;
}

int sealCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--identity", "--level"}, {});
    a.expectPositionals(1, "kooperdoc seal IN.pdf -o OUT.pdf [--level L] [--identity DIR]");
    const auto output = outputOf(a, "seal");
    const auto setup = signingSetup(ctx, a);
    writeFileAtomically(output, signing::signAtLevel(readInput(a.positionals()[0]), setup.sealIdentity(), signing::sealOptions(signingTime()),
                                                     setup.level, setup.context));
    return kExitOk;
}

int signCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--field", "--p12", "--password-file", "--reason", "--location", "--level", "--identity"}, {});
    a.expectPositionals(1, "kooperdoc sign IN.pdf --field NAME --p12 FILE --password-file F -o OUT.pdf");
    const auto output = outputOf(a, "sign");
    if (!a.value("--field") || !a.value("--p12") || !a.value("--password-file")) {
        throw UsageError("sign needs --field, --p12, --password-file and -o");
    }
    const auto identity = signing::SigningIdentity::fromPkcs12(readInput(*a.value("--p12")),
                                                               trimmedPassword(readInput(*a.value("--password-file"))));
    const auto setup = signingSetup(ctx, a);
    signing::SignatureOptions options;
    options.fieldName = *a.value("--field");
    options.reason = a.value("--reason").value_or("");
    options.location = a.value("--location").value_or("");
    options.signingTimeEpoch = signingTime();
    writeFileAtomically(output, signing::signAtLevel(readInput(a.positionals()[0]), identity, options, setup.level, setup.context));
    return kExitOk;
}

int prepareCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--field", "--certificate", "--state", "--to-be-signed", "--content", "--level", "--identity"}, {});
    a.expectPositionals(1, "kooperdoc prepare IN.pdf --field NAME --certificate CERT.pem --state STATE.json [--to-be-signed TBS.der]");
    if (!a.value("--field") || !a.value("--certificate") || !a.value("--state")) {
        throw UsageError("prepare needs --field, --certificate and --state");
    }
    const auto setup = signingSetup(ctx, a);
    const auto state = signing::prepareRemoteSignature(readInput(a.positionals()[0]), *a.value("--field"),
                                                       readInput(*a.value("--certificate")), signingTime(), setup.level);
    writeFileAtomically(*a.value("--state"), signing::serializeRemoteSigningState(state));
    if (const auto tbs = a.value("--to-be-signed")) writeFileAtomically(*tbs, state.signedAttributesDer);
    if (const auto content = a.value("--content")) writeFileAtomically(*content, signing::preparedContent(state));
    ctx.out << "{\"state\": \"" << *a.value("--state") << "\", \"level\": \"" << signing::toString(state.level)
            << "\", \"signed_attributes_sha256\": \"" << toHex(sha256(state.signedAttributesDer))
            << "\", \"byte_range_sha256\": \"" << toHex(signing::byteRangeDigest(state)) << "\"}\n";
    return kExitOk;
}

int completeCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--signature", "--cms", "--certificate"}, {});
    a.expectPositionals(1, "kooperdoc complete STATE.json (--signature SIG.bin | --cms CMS.der) [--certificate CERT.pem]");
    if (a.value("--signature").has_value() == a.value("--cms").has_value()) {
        throw UsageError("complete needs exactly one of --signature and --cms");
    }
    const auto statePath = a.positionals()[0];
    auto state = signing::parseRemoteSigningState(readInput(statePath));
    const auto signature = readInput(a.value("--signature") ? *a.value("--signature") : *a.value("--cms"));
    signing::completeRemoteSignature(state, signature, a.value("--certificate") ? readInput(*a.value("--certificate")) : "");
    writeFileAtomically(statePath, signing::serializeRemoteSigningState(state));
    ctx.out << "{\"state\": \"" << statePath << "\", \"completed\": true}\n";
    return kExitOk;
}

int finalizeCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--identity"}, {});
    a.expectPositionals(1, "kooperdoc finalize STATE.json -o OUT.pdf");
    const auto output = outputOf(a, "finalize");
    const auto state = signing::parseRemoteSigningState(readInput(a.positionals()[0]));
    const auto setup = signingSetup(ctx, a);
    writeFileAtomically(output, signing::finalizeRemoteSignature(state, setup.context));
    return kExitOk;
}

int timestampCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--identity"}, {});
    a.expectPositionals(1, "kooperdoc timestamp IN.pdf -o OUT.pdf");
    const auto output = outputOf(a, "timestamp");
    const auto setup = signingSetup(ctx, a);
    writeFileAtomically(output, signing::renewArchiveTimestamp(readInput(a.positionals()[0]), setup.context));
    return kExitOk;
}

/// --expect FIELD=pesel:NUMBER | subject:TEXT | serial:HEX | sha256:HEX
signing::ExpectedFieldSigner parseExpectation(const std::string& text) {
    const auto equals = text.find('=');
    const auto colon = text.find(':', equals == std::string::npos ? 0 : equals);
    if (equals == std::string::npos || equals == 0 || colon == std::string::npos || colon + 1 == text.size()) {
        throw UsageError("--expect takes FIELD=pesel:NUMBER, FIELD=subject:TEXT, FIELD=serial:HEX or FIELD=sha256:HEX");
    }
    signing::ExpectedFieldSigner expected;
    expected.field = text.substr(0, equals);
    const auto kind = text.substr(equals + 1, colon - equals - 1);
    const auto value = text.substr(colon + 1);
    if (kind == "pesel") expected.signer.pesel = value;
    else if (kind == "subject") expected.signer.subjectContains = value;
    else if (kind == "serial") expected.signer.serialHex = value;
    else if (kind == "sha256") expected.signer.certificateSha256 = value;
    else throw UsageError("--expect: unknown kind \"" + kind + "\" (pesel, subject, serial, sha256)");
    return expected;
}

std::string jsonString(const std::string& text) {
    std::string out = "\"";
    for (const unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            static const char* const kHex = "0123456789abcdef";
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

int checkUploadCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--expect"}, {"--json"});
    a.expectPositionals(2, "kooperdoc check-upload ISSUED.pdf UPLOADED.pdf [--expect FIELD=pesel:NUMBER]... [--json]");
    std::vector<signing::ExpectedFieldSigner> expected;
    for (const auto& text : a.values("--expect")) expected.push_back(parseExpectation(text));
    const auto review = signing::reviewSignedUpload(readInput(a.positionals()[0]), readInput(a.positionals()[1]), expected);
    if (a.flag("--json")) {
        ctx.out << "{\"accepted\": " << (review.accepted ? "true" : "false") << ", \"reason\": " << jsonString(review.reason)
                << ", \"detail\": " << jsonString(review.detail) << ", \"signatures\": [";
        for (std::size_t i = 0; i < review.signatures.size(); ++i) {
            const auto& s = review.signatures[i];
            ctx.out << (i ? ", " : "") << "{\"field\": " << jsonString(s.field) << ", \"revision\": " << s.revision
                    << ", \"document_timestamp\": " << (s.documentTimestamp ? "true" : "false")
                    << ", \"sub_filter\": " << jsonString(s.subFilter) << ", \"signer\": " << jsonString(s.signer.subject)
                    << ", \"serial\": " << jsonString(s.signer.serialHex) << "}";
        }
        ctx.out << "]}\n";
    } else if (review.accepted) {
        ctx.out << "accepted:";
        for (const auto& s : review.signatures) ctx.out << "\n  " << s.field << " (" << s.subFilter << "): " << s.signer.subject;
        ctx.out << "\n";
    } else {
        ctx.err << "kooperdoc: upload refused: " << review.detail << " [" << review.reason << "]\n";
    }
    return review.accepted ? kExitOk : kExitFailed;
}

int devIdentityCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--out"}, {});
    a.expectPositionals(0, "kooperdoc dev-identity --out DIR");
    const auto dir = a.value("--out");
    if (!dir) throw UsageError("dev-identity needs --out DIR");
    signing::writeDevelopmentIdentity(*dir, signingTime() - 300);
    ctx.out << "development identity written to " << *dir
            << " (ca.pem, ca.crl.pem, seal.pem, seal.key.pem, seal.p12, person.pem, person.key.pem, tsa.pem, tsa.key.pem)\n";
    return kExitOk;
}

}  // namespace

std::string sealRendered(const Context& ctx, const pdf::RenderedPdf& rendered, const Arguments& args) {
    const auto setup = signingSetup(ctx, args);
    return signing::sealRendered(rendered, setup.sealIdentity(), setup.level, setup.context, signingTime());
}

void addSigningCommands(CommandTable& table) {
    static const char* const kLevels =
        "  --level L        B-B, B-T (signature timestamp), B-LT (+ certificates and CRLs in the DSS)\n"
        "                   or B-LTA (+ document timestamp); default kooperdoc.signing.level (B-LT)\n"
        "  --identity DIR   use the development identity in DIR (created when missing)\n";
    table["seal"] = {"seal a PDF with the service's electronic seal (PAdES, DocMDP certification)",
                     std::string("usage: kooperdoc seal IN.pdf -o OUT.pdf [--level L] [--identity DIR]\n\n"
                                 "Adds a certification signature (DocMDP P=2: filling signature fields stays\n"
                                 "allowed) made with the configured seal, in an incremental update.\n") + kLevels,
                     sealCommand};
    table["sign"] = {"sign a field of a PDF with a person's PKCS#12",
                     std::string("usage: kooperdoc sign IN.pdf --field NAME --p12 FILE --password-file F -o OUT.pdf\n"
                                 "                      [--reason TEXT] [--location TEXT] [--level L]\n\n"
                                 "Fills the empty signature field NAME in a new incremental update.\n") + kLevels,
                     signCommand};
    table["prepare"] = {"remote signing, step 1: reserve a field and say what to sign",
                        std::string("usage: kooperdoc prepare IN.pdf --field NAME --certificate CERT.pem --state STATE.json\n"
                                    "                         [--to-be-signed TBS.der] [--content BYTES] [--level L]\n\n"
                                    "Writes the state (the prepared PDF, the signed attributes) to STATE.json and the\n"
                                    "DER of the signed attributes to TBS.der: sign it with SHA-256 on the card\n"
                                    "(e.g. `openssl dgst -sha256 -sign key.pem -out sig.bin TBS.der`). Prints the\n"
                                    "SHA-256 of the signed attributes and of the byte range. A client that builds its\n"
                                    "own detached CMS signs BYTES (the byte range's content) and passes --cms to complete.\n") + kLevels,
                        prepareCommand};
    table["complete"] = {"remote signing, step 2: take the signature or CMS and check it",
                         "usage: kooperdoc complete STATE.json (--signature SIG.bin | --cms CMS.der) [--certificate CERT.pem]\n\n"
                         "A raw signature over TBS.der (RSA PKCS#1 v1.5, ECDSA DER or r||s) or a detached CMS over\n"
                         "the byte range; checked against the prepared certificate before STATE.json is updated.\n",
                         completeCommand};
    table["finalize"] = {"remote signing, step 3: embed the signature at the prepared level",
                         "usage: kooperdoc finalize STATE.json -o OUT.pdf\n\n"
                         "Embeds the completed signature, adds timestamp and validation data as the level\n"
                         "asks, and checks the result.\n",
                         finalizeCommand};
    table["timestamp"] = {"renew a PAdES B-LTA archive with a new document timestamp",
                          "usage: kooperdoc timestamp IN.pdf -o OUT.pdf [--identity DIR]\n\n"
                          "Adds the validation data of the latest timestamp to the DSS and a new document\n"
                          "timestamp over everything. Run it before the last timestamp's certificate expires.\n",
                          timestampCommand};
    table["check-upload"] = {"check a PDF we issued that came back signed elsewhere",
                             "usage: kooperdoc check-upload ISSUED.pdf UPLOADED.pdf [--expect FIELD=KIND:VALUE]... [--json]\n\n"
                             "Accepts the upload when ISSUED.pdf is its unchanged beginning, the later revisions only\n"
                             "sign signature fields and add validation data or document timestamps, every new\n"
                             "signature signs its byte range, and each --expect holds: KIND is pesel (the\n"
                             "certificate's serialNumber PNOPL-…), subject (a part of the subject DN), serial (the\n"
                             "certificate's serial, hex) or sha256 (of the certificate). Exit 0 accepted, 1 refused\n"
                             "(reason on stderr, or in the JSON with --json).\n",
                             checkUploadCommand};
    table["dev-identity"] = {"create a development CA, seal, person and TSA certificates",
                             "usage: kooperdoc dev-identity --out DIR\n\n"
                             "Writes a development PKI (ca.pem, ca.crl.pem, seal.pem, seal.key.pem, seal.p12,\n"
                             "person.pem, person.key.pem, tsa.pem, tsa.key.pem). For development and tests only.\n",
                             devIdentityCommand};
}

}  // namespace kooperdoc::cli
