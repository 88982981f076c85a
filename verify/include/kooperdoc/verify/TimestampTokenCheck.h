// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// An RFC 3161 timestamp token judged offline against the bytes it should cover: for the audit
// log's checkpoints (`kooperdoc audit check`, `audit verify`), where the token travels beside the
// signed note instead of inside a PDF signature. Built on what the PAdES verifier uses for its
// timestamps (signing::inspectTimestampToken, checkDetachedCms, verifyTimestampToken), so a
// token is judged alike wherever it turns up.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kooperdoc/core/Digest.h"

namespace kooperdoc::verify {

/// What a timestamp token proves about some bytes. A verdict, not an exception.
struct TimestampTokenCheck {
    /// A DER TimeStampToken: SignedData over a TSTInfo, one signer, its certificate inside.
    bool parsed = false;
    /// The TSA's signature over the TSTInfo verifies with the certificate the token carries.
    bool signatureValid = false;
    /// The messageImprint is SHA-256 and equals the expected digest.
    bool imprintMatches = false;
    /// Only when trusted CA certificates were given: the token verifies against them (chain at
    /// genTime, critical timeStamping extended key usage, ESS signingCertificate binding).
    std::optional<bool> trusted;
    std::int64_t genTime = 0;  ///< epoch seconds, as the token says (meaningful when parsed)
    std::string tsaSubject;    ///< RFC 2253 subject of the signing certificate
    std::string serialHex;     ///< the token's serial number
    std::string failure;       ///< why not, in English; empty when valid()

    bool valid() const noexcept { return parsed && signatureValid && imprintMatches && trusted.value_or(true); }
};

/// Checks \p tokenDer (a DER TimeStampToken, not a whole TimeStampResp) against
/// \p expectedImprint, a SHA-256 digest. Without \p trustedCaDer it proves that the token is
/// intact and about these bytes, not who may issue tokens: the certificate inside the token is
/// taken as it is. With \p trustedCaDer (DER certificates) the TSA must also chain to one of them
/// at the token's own genTime: an archived token stays valid after its TSA certificate expires.
/// Revocation is not checked. Never throws for a bad token (allocation failures aside).
TimestampTokenCheck checkTimestampToken(std::string_view tokenDer, const Sha256& expectedImprint,
                                        const std::vector<std::string>& trustedCaDer = {});

}  // namespace kooperdoc::verify
