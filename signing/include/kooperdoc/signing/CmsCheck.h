// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kooperdoc::signing {

/// Who signed a CMS, as the certificate says. The fields an upload check compares against the
/// signer a template or request expects.
struct CmsSigner {
    std::string certificateDer;
    std::vector<std::string> certificatesDer;  ///< every certificate the CMS carries
    std::string subject;                       ///< RFC 2253, UTF-8
    std::string commonName;
    std::string issuer;
    std::string serialHex;                     ///< upper-case hex, as `openssl x509 -serial`
    /// The subject's serialNumber attribute (2.5.4.5), e.g. "PNOPL-44051401359" in a Polish
    /// qualified certificate (ETSI EN 319 412-1 semantics identifier + PESEL).
    std::string subjectSerialNumber;
    std::int64_t notBefore = 0, notAfter = 0;
};

/// What a detached CMS SignedData says about some content. A verdict, not an exception: a
/// broken signature is an answer, not a failure.
struct CmsCheck {
    bool parsed = false;          ///< a SignedData with exactly one SignerInfo and its certificate
    bool digestMatches = false;   ///< message-digest attribute == digest of the content
    bool signatureValid = false;  ///< the SignerInfo's signature verifies with the certificate's key
    std::string digestAlgorithm;  ///< e.g. "SHA256"
    std::optional<std::int64_t> claimedSigningTime;  ///< a signing-time attribute, if any
    bool hasSigningCertificateV2 = false;
    std::string failure;          ///< why not, in English; empty when all three hold
    CmsSigner signer;

    bool valid() const noexcept { return parsed && digestMatches && signatureValid; }
};

/// Checks a detached CMS over \p content: structure, digest, signature. It does not build a
/// certificate chain or judge trust (that is the verifier's job, with a trust store and time).
/// Never throws for bad input; allocation failures propagate.
CmsCheck checkDetachedCms(std::string_view cmsDer, std::string_view content);

/// The signer a template or request expects in a field. Every non-empty member must match.
struct ExpectedSigner {
    std::string subjectContains;    ///< a substring of the RFC 2253 subject, e.g. "CN=Jan Kowalski"
    std::string serialHex;          ///< certificate serial number (hex, case-insensitive)
    std::string pesel;              ///< matches a subject serialNumber "PNOPL-<pesel>" or "<pesel>"
    std::string certificateSha256;  ///< hex SHA-256 of the certificate's DER

    bool empty() const noexcept {
        return subjectContains.empty() && serialHex.empty() && pesel.empty() && certificateSha256.empty();
    }
};

/// Empty when \p signer is the expected one; otherwise the first mismatch, in English.
std::string signerMismatch(const CmsSigner& signer, const ExpectedSigner& expected);

}  // namespace kooperdoc::signing
