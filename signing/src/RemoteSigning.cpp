// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/RemoteSigning.h"

#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/Base64.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/signing/CmsCheck.h"

namespace kooperdoc::signing {
namespace {

[[noreturn]] void invalidState(const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument, "remote.state_invalid", "not a remote signing state: " + why);
}

PreparedPdfSignature prepared(const RemoteSigningState& state) {
    return restorePreparedSignature(state.preparedPdf);
}

}  // namespace

RemoteSigningState prepareRemoteSignature(std::string_view pdf, const std::string& field,
                                          std::string_view certificateChainPem, std::int64_t signingTime,
                                          PadesLevel level) {
    const auto identity = SigningIdentity::fromCertificates(certificateChainPem);
    SignatureOptions options;
    options.fieldName = field;
    options.signingTimeEpoch = signingTime;
    const auto preparedPdf = prepareSignature(pdf, options);
    RemoteSigningState state;
    state.field = field;
    state.certificateChainPem = std::string(certificateChainPem);
    state.signingTime = signingTime;
    state.level = level;
    state.signedAttributesDer = identity.prepareSignature(preparedPdf.signedBytes(), signingTime).signedAttributesDer();
    state.preparedPdf = preparedPdf.pdf;
    return state;
}

std::string preparedContent(const RemoteSigningState& state) {
    return prepared(state).signedBytes();
}

Sha256 byteRangeDigest(const RemoteSigningState& state) {
    return sha256(prepared(state).signedBytes());
}

void completeRemoteSignature(RemoteSigningState& state, std::string_view signatureOrCms,
                             std::string_view certificatePem) {
    if (state.completed()) {
        throw Error(ErrorCode::kFailedPrecondition, "remote.already_completed", "this signature is already completed");
    }
    const auto identity = SigningIdentity::fromCertificates(state.certificateChainPem);
    if (!certificatePem.empty() &&
        SigningIdentity::fromCertificates(certificatePem).certificateDer() != identity.certificateDer()) {
        throw Error(ErrorCode::kInvalidArgument, "signature.certificate_mismatch",
                    "the certificate is not the one the signature was prepared for (" + identity.subject() + ")");
    }
    const auto signedBytes = prepared(state).signedBytes();
    const auto asCms = checkDetachedCms(signatureOrCms, signedBytes);
    if (asCms.parsed) {
        if (!asCms.valid()) {
            throw Error(ErrorCode::kInvalidArgument, "signature.invalid", "the CMS does not sign this document: " + asCms.failure);
        }
        if (asCms.signer.certificateDer != identity.certificateDer()) {
            throw Error(ErrorCode::kInvalidArgument, "signature.certificate_mismatch",
                        "the CMS is signed by " + asCms.signer.subject + ", not by " + identity.subject());
        }
        state.cmsDer = std::string(signatureOrCms);
        return;
    }
    state.cmsDer = identity.assembleCms(signedBytes, signatureOrCms, PreparedSignature(state.signedAttributesDer));
}

std::string finalizeRemoteSignature(const RemoteSigningState& state, const PadesContext& context) {
    if (!state.completed()) {
        throw Error(ErrorCode::kFailedPrecondition, "remote.not_completed", "the signature has not been completed yet");
    }
    const auto hole = prepared(state);
    auto signedPdf = completeSignature(hole, state.cmsDer, state.level, context);
    // Check what we embedded, as a verifier will: over the byte range of the final file.
    const auto check = checkDetachedCms(state.cmsDer, hole.signedBytes());
    if (!check.valid()) throw Error(ErrorCode::kInternal, "signature.invalid", "embedded signature does not verify: " + check.failure);
    return signedPdf;
}

std::string serializeRemoteSigningState(const RemoteSigningState& state) {
    Poco::JSON::Object json;
    json.set("format", "kooperdoc-remote-signing");
    json.set("version", RemoteSigningState::kFormatVersion);
    json.set("field", state.field);
    json.set("certificate_chain_pem", state.certificateChainPem);
    json.set("signing_time", state.signingTime);
    json.set("level", std::string(toString(state.level)));
    json.set("prepared_pdf", base64(state.preparedPdf));
    json.set("signed_attributes", base64(state.signedAttributesDer));
    json.set("signed_attributes_sha256", toHex(sha256(state.signedAttributesDer)));
    json.set("byte_range_sha256", toHex(byteRangeDigest(state)));
    if (state.completed()) json.set("cms", base64(state.cmsDer));
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(json, out, 1);
    return out.str();
}

RemoteSigningState parseRemoteSigningState(std::string_view text) {
    try {
        Poco::JSON::Parser parser;
        const auto json = parser.parse(std::string(text)).extract<Poco::JSON::Object::Ptr>();
        if (json->optValue<std::string>("format", "") != "kooperdoc-remote-signing") invalidState("wrong format");
        if (json->getValue<int>("version") != RemoteSigningState::kFormatVersion) invalidState("unknown version");
        RemoteSigningState state;
        state.field = json->getValue<std::string>("field");
        state.certificateChainPem = json->getValue<std::string>("certificate_chain_pem");
        state.signingTime = json->getValue<std::int64_t>("signing_time");
        state.level = parsePadesLevel(json->getValue<std::string>("level"));
        const auto bytes = [&](const std::string& name) {
            auto decoded = unbase64(json->getValue<std::string>(name));
            if (!decoded) invalidState(name + " is not base64");
            return std::move(*decoded);
        };
        state.preparedPdf = bytes("prepared_pdf");
        state.signedAttributesDer = bytes("signed_attributes");
        if (json->has("cms")) state.cmsDer = bytes("cms");
        if (toHex(sha256(state.signedAttributesDer)) != json->getValue<std::string>("signed_attributes_sha256")) {
            invalidState("the signed attributes are damaged");
        }
        if (toHex(byteRangeDigest(state)) != json->getValue<std::string>("byte_range_sha256")) {
            invalidState("the prepared PDF is damaged");
        }
        return state;
    } catch (const Error& e) {
        if (e.reason() == "remote.state_invalid") throw;
        invalidState(e.what());
    } catch (const Poco::Exception& e) {
        invalidState(e.displayText());
    }
}

}  // namespace kooperdoc::signing
