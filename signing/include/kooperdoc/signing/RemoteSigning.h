// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kooperdoc/signing/Pades.h"

namespace kooperdoc::signing {

/// Remote hash-then-sign in three steps whose state is one self-contained value, so that each
/// step may run in another process, on another day, after a restart:
///   prepare  — reserve the field, fix the signed attributes, tell the client what to sign;
///   complete — take the client's raw signature (or a whole CMS) and check it;
///   finalize — embed it at the requested level and check the result.
struct RemoteSigningState {
    static constexpr int kFormatVersion = 1;

    std::string field;
    std::string certificateChainPem;  ///< the signer's certificate first
    std::int64_t signingTime = 0;     ///< /M, epoch seconds
    PadesLevel level = PadesLevel::kBB;
    std::string preparedPdf;          ///< the new revision, with an all-zero /Contents hole
    std::string signedAttributesDer;  ///< what a hash-then-sign client signs (SHA-256 over it)
    std::string cmsDer;               ///< set by complete

    bool completed() const noexcept { return !cmsDer.empty(); }
};

/// Step 1. The certificate must cover \p signingTime; the field must be empty.
RemoteSigningState prepareRemoteSignature(std::string_view pdf, const std::string& field,
                                          std::string_view certificateChainPem, std::int64_t signingTime,
                                          PadesLevel level);

/// The bytes the ByteRange of the prepared PDF covers: what a client that builds its own
/// detached CMS signs.
std::string preparedContent(const RemoteSigningState& state);

/// SHA-256 of preparedContent().
Sha256 byteRangeDigest(const RemoteSigningState& state);

/// Step 2. \p signatureOrCms is either the raw signature over state.signedAttributesDer (RSA
/// PKCS#1 v1.5, ECDSA DER or r||s), or a complete detached CMS over the byte range. A CMS must
/// be valid over the byte range and signed by the prepared certificate
/// (Error{kInvalidArgument, "signature.invalid" | "signature.certificate_mismatch"}).
/// \p certificatePem, when not empty, must be the prepared certificate.
/// Error{kFailedPrecondition, "remote.already_completed"} on a second call.
void completeRemoteSignature(RemoteSigningState& state, std::string_view signatureOrCms,
                             std::string_view certificatePem = {});

/// Step 3. The signed PDF; Error{kFailedPrecondition, "remote.not_completed"} before step 2.
std::string finalizeRemoteSignature(const RemoteSigningState& state, const PadesContext& context);

/// The state as JSON (binary members base64), and back. parse throws
/// Error{kInvalidArgument, "remote.state_invalid"} for anything it did not write.
std::string serializeRemoteSigningState(const RemoteSigningState& state);
RemoteSigningState parseRemoteSigningState(std::string_view json);

}  // namespace kooperdoc::signing
