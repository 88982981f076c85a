// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kooperdoc/core/Digest.h"

namespace kooperdoc::signing {

/// The signed attributes of a CAdES signature that waits for a signature made elsewhere (a smart
/// card, an HSM, a remote signing service). It is plain bytes, so the "prepare" and "complete" steps
/// of remote signing may run in different processes: persist signedAttributesDer() and restore it
/// with the constructor. SigningIdentity::assembleCms() embeds exactly these bytes.
class PreparedSignature {
public:
    explicit PreparedSignature(std::string signedAttributesDer)
        : signedAttributesDer_(std::move(signedAttributesDer)) {}

    /// The DER of the SET OF signed attributes. A signer that hashes itself signs these bytes with
    /// SHA-256 (`openssl dgst -sha256 -sign`, PKCS#11 CKM_SHA256_RSA_PKCS / CKM_ECDSA_SHA256).
    const std::string& signedAttributesDer() const noexcept { return signedAttributesDer_; }

    /// SHA-256 of signedAttributesDer(), for a signer that takes a precomputed digest (PKCS#11
    /// CKM_RSA_PKCS over a DigestInfo, CKM_ECDSA).
    Sha256 digest() const { return sha256(signedAttributesDer_); }

private:
    std::string signedAttributesDer_;
};

/// A signer's certificate, its chain and, for in-service signing, its private key. It makes the CMS
/// SignedData of a PAdES baseline B-B signature: detached, SHA-256, signed attributes exactly
/// content-type, message-digest and signing-certificate-v2, and no signing-time, because PAdES puts
/// the claimed signing time in the signature dictionary's /M and a timestamp may follow.
///
/// Immutable after construction. Copies are cheap and share the key material; every const method
/// may run concurrently on the same object or on copies.
class SigningIdentity {
public:
    /// Loads a PKCS#12 file (DER). Throws Error{kInvalidArgument, "identity.bad_password"} when the
    /// password does not open it and "identity.invalid" when it is not a usable PKCS#12 with one
    /// private key and its certificate. Legacy encryption (RC2-40) is not supported.
    static SigningIdentity fromPkcs12(std::string_view der, const std::string& password);

    /// \param certificateChainPem the signer's certificate first, then its chain (any order).
    /// \param privateKeyPem an unencrypted private key (PKCS#8 or traditional PEM).
    /// Throws Error{kInvalidArgument, "identity.key_mismatch"} when the key does not belong to the
    /// first certificate, "identity.invalid" when the PEM cannot be read.
    static SigningIdentity fromPem(std::string_view certificateChainPem, std::string_view privateKeyPem);

    /// An identity without a private key, for remote signing: the key stays on the signer's card,
    /// we only prepare the attributes and assemble the CMS. signCadesDetached() throws
    /// Error{kFailedPrecondition, "identity.no_private_key"}.
    static SigningIdentity fromCertificates(std::string_view certificateChainPem);

    const std::string& certificateDer() const noexcept;
    /// The chain without the signer's certificate, in the order it was given.
    const std::vector<std::string>& chainDer() const noexcept;
    /// RFC 2253, UTF-8 (Polish letters are not escaped), e.g. "CN=Jan Kowalski,C=PL".
    const std::string& subject() const noexcept;
    const std::string& issuer() const noexcept;
    /// Upper-case hex of the serial number, as `openssl x509 -serial` prints it.
    const std::string& serialHex() const noexcept;
    std::int64_t notBefore() const noexcept; ///< epoch seconds
    std::int64_t notAfter() const noexcept;  ///< epoch seconds
    /// "RSA-2048", "RSA-3072" (any RSA key of at least 2048 bits) or "ECDSA-P256".
    const std::string& keyAlgorithm() const noexcept;
    bool hasPrivateKey() const noexcept;

    /// The DER of a detached CMS SignedData over \p content, with the certificate and its chain.
    /// \param atEpochSeconds the claimed signing time, which the certificate must cover
    ///        (Error{kFailedPrecondition, "identity.expired" | "identity.not_yet_valid"}); its key
    ///        usage, when present, must allow digitalSignature or nonRepudiation ("identity.key_usage").
    std::string signCadesDetached(std::string_view content, std::int64_t atEpochSeconds) const;

    /// First step of remote hash-then-sign: the signed attributes for \p content, with the same
    /// checks of the certificate as signCadesDetached(). Needs no private key. The attributes hold
    /// no time, so preparing the same content twice gives the same bytes.
    PreparedSignature prepareSignature(std::string_view content, std::int64_t atEpochSeconds) const;

    /// Second step: the CMS with \p rawSignature, a signature over prepared.signedAttributesDer()
    /// made elsewhere (RSA PKCS#1 v1.5; ECDSA as DER or as the raw r||s of PKCS#11). The signature
    /// is checked against the certificate before anything is returned
    /// (Error{kInvalidArgument, "signature.invalid"}); attributes that were not prepared for this
    /// content and certificate are Error{kInvalidArgument, "signature.attributes_mismatch"}.
    std::string assembleCms(std::string_view content, std::string_view rawSignature,
                            const PreparedSignature& prepared) const;

private:
    struct Impl;
    explicit SigningIdentity(std::shared_ptr<const Impl> impl);

    std::shared_ptr<const Impl> impl_;
};

} // namespace kooperdoc::signing
