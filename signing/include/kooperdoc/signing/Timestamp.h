// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kooperdoc/core/Digest.h"

/// RFC 3161 timestamps for PAdES: the signature timestamp of B-T (over a signature value, carried as
/// an unsigned attribute of the CMS) and the document timestamp of B-LTA (over the bytes of a
/// /DocTimeStamp's byte range: the PDF writer's CmsProducer returns tsa.timestamp(sha256(bytes))).
/// Built on OpenSSL's TS API.
namespace kooperdoc::signing {

/// The policy the development TSA (EmbeddedTsa) states in its tokens unless told otherwise. Kooperdoc
/// has no private enterprise number, so this OID is derived from a random UUID under 2.25 (ITU-T
/// X.667), which needs no registration: 2.25 + UUID 5cf55f47-dcac-4439-b730-9eaffd7cc5a1. It means
/// "timestamp of a Kooperdoc development installation, no assurance whatsoever".
inline constexpr const char* kDevelopmentTsaPolicyOid = "2.25.123563020864960138084853568938295739809";

/// Something that issues RFC 3161 timestamps: the embedded development TSA or a client of a remote one.
class TimestampAuthority {
public:
    virtual ~TimestampAuthority() = default;

    /// The DER of a TimeStampToken (the CMS ContentInfo with SignedData over a TSTInfo, not the whole
    /// TimeStampResp) over \p messageImprint, a SHA-256 digest.
    /// Throws Error{kUnavailable, "timestamp.unavailable"} when no token can be had (the TSA cannot
    /// be reached or refuses, with its status text in the message) and Error{kUnavailable,
    /// "timestamp.invalid_response"} when the TSA answers something unusable.
    virtual std::string timestamp(const Sha256& messageImprint) = 0;
};

struct EmbeddedTsaOptions {
    /// The TSA policy stated in every token (TSTInfo.policy), dotted. A request that asks for
    /// another policy is refused (unacceptedPolicy).
    std::string policyOid = kDevelopmentTsaPolicyOid;
    /// Seconds since the epoch; called once per token, under the TSA's lock. Empty: the wall clock.
    /// Tests fix it; it is also the token's genTime and its CMS signingTime.
    std::function<std::int64_t()> clock;
};

/// A TSA inside the process, for development and for installations without a contracted TSA.
/// Tokens: SHA-256 imprints (requests may also use SHA-384 or SHA-512), signed with SHA-256,
/// signingCertificateV2 (ESSCertIDv2, SHA-256) binding the TSA certificate, accuracy 1 s, genTime
/// in whole seconds from the clock, serial numbers counting up from a random 63-bit start, and, when
/// the request asks for certificates (timestamp() always does), the TSA certificate and the chain
/// given with it. A time outside the TSA certificate's validity is refused (timeNotAvailable).
///
/// All methods may run concurrently: each token gets its own OpenSSL context; the clock reading and
/// the serial number are taken together under a mutex, so serial order follows time order.
class EmbeddedTsa final : public TimestampAuthority {
public:
    /// \param certificateChainPem the TSA certificate first, then its chain (e.g. the development
    ///        CA), as in tsa.pem of writeDevelopmentIdentity.
    /// \param privateKeyPem the TSA's unencrypted private key (tsa.key.pem).
    /// Throws Error{kInvalidArgument, "timestamp.tsa_invalid"} when the PEM cannot be read, the key
    /// does not belong to the certificate, the certificate is not fit for timestamping (RFC 3161 2.3:
    /// extendedKeyUsage exactly timeStamping and critical; key usage, if present, only
    /// digitalSignature/nonRepudiation) or the policy is not an OID.
    EmbeddedTsa(std::string_view certificateChainPem, std::string_view privateKeyPem, EmbeddedTsaOptions options = {});
    ~EmbeddedTsa() override;
    EmbeddedTsa(const EmbeddedTsa&) = delete;
    EmbeddedTsa& operator=(const EmbeddedTsa&) = delete;

    /// A token over \p messageImprint (a request with certReq and without nonce). Throws
    /// Error{kUnavailable, "timestamp.unavailable"} when the TSA refuses (e.g. the clock is outside
    /// the certificate's validity).
    std::string timestamp(const Sha256& messageImprint) override;

    /// The DER TimeStampResp to a DER TimeStampReq, as an HTTP TSA serves it
    /// (application/timestamp-reply). A request the TSA does not accept (not DER, another version,
    /// an unsupported digest or policy, extensions) is answered with status rejection and the
    /// failure info, not with an exception. Throws Error{kPayloadTooLarge,
    /// "timestamp.request_too_large"} above 2 GiB and Error{kInternal, "timestamp.tsa_failed"} when
    /// OpenSSL cannot build any response.
    std::string respond(std::string_view timeStampReqDer);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Posts \p body to \p url with the given Content-Type and returns the HTTP response body. Throws on
/// any transport failure or a non-2xx status. Injected because Poco::Net lives only in server/.
using TsaTransport =
    std::function<std::string(const std::string& url, const std::string& body, const std::string& contentType)>;

/// A client of a remote RFC 3161 TSA. Each request carries a random 64-bit nonce and certReq, is
/// posted as application/timestamp-query, and the answer must be granted (or grantedWithMods), carry
/// the TSA certificate and match the request's version, imprint and nonce; then its token is returned.
/// Stateless apart from its configuration: timestamp() may run concurrently.
class Rfc3161Client final : public TimestampAuthority {
public:
    /// \param trustedCaDer when not empty, every token must also pass verifyTimestampToken() against
    ///        these CA certificates (DER), at the current time; otherwise trust is left to the caller.
    Rfc3161Client(std::string url, TsaTransport transport, std::vector<std::string> trustedCaDer = {});

    /// Throws Error{kUnavailable, "timestamp.unavailable"} when the transport throws or the TSA does
    /// not grant the request (its status, status text and failure info are in the message);
    /// Error{kUnavailable, "timestamp.invalid_response"} when the answer is not a DER TimeStampResp,
    /// has no TSA certificate, does not match the request (a replayed or misdirected answer) or does
    /// not verify against trustedCaDer.
    std::string timestamp(const Sha256& messageImprint) override;

private:
    std::string url_;
    TsaTransport transport_;
    std::vector<std::string> trustedCaDer_;
};

/// PAdES B-T: asks \p tsa for a token over the SHA-256 of the signature value (the content of the
/// SignerInfo's signature OCTET STRING) of the single SignerInfo of \p cmsDer, a DER CMS SignedData,
/// and returns the CMS with the token added as an unsigned attribute id-aa-signatureTimeStampToken
/// (1.2.840.113549.1.9.16.2.14). Earlier unsigned attributes (e.g. an earlier timestamp) stay.
///
/// Everything but the unsigned attributes and the enclosing lengths stays byte-identical, so the
/// signature still verifies: the CMS is refused unless OpenSSL re-encodes it to exactly the input
/// bytes (BER, e.g. indefinite lengths or unsorted SETs, would otherwise be silently changed).
/// Trailing zero bytes (the padding of a PDF /Contents) are ignored.
///
/// Throws Error{kInvalidArgument, "timestamp.cms_invalid"} when the input is not such a CMS with
/// exactly one SignerInfo; Error{kUnavailable, "timestamp.invalid_response"} when the token is not a
/// timestamp over that SHA-256 digest; whatever \p tsa throws passes through unchanged.
std::string addSignatureTimestamp(std::string_view cmsDer, TimestampAuthority& tsa);

/// The DER tokens in the id-aa-signatureTimeStampToken unsigned attributes of every SignerInfo of
/// \p cmsDer, in order; empty when there are none. Trailing zero bytes are ignored. Throws
/// Error{kInvalidArgument, "timestamp.cms_invalid"} when \p cmsDer is not a CMS SignedData.
std::vector<std::string> signatureTimestampTokens(std::string_view cmsDer);

/// What a timestamp token says, unverified.
struct TimestampInfo {
    std::int64_t genTime = 0; ///< epoch seconds (fractions of a second are dropped)
    std::string serialHex;    ///< upper-case hex, as `openssl ts -reply -text` prints it without 0x
    std::string policyOid;    ///< dotted
    /// The imprint's digest algorithm, dotted ("2.16.840.1.101.3.4.2.1" for SHA-256). Tokens from
    /// other TSAs may use other digests; they are reported, not refused.
    std::string imprintAlgorithmOid;
    Sha256 imprint{};                         ///< the imprint when the algorithm is SHA-256; all zeros otherwise
    std::string tsaCertificateDer;            ///< the certificate that signed the token, when the token carries it
    std::vector<std::string> certificatesDer; ///< every certificate in the token, in token order
};

/// Parses a DER TimeStampToken. Throws Error{kInvalidArgument, "timestamp.token_invalid"} when it is
/// not one (not DER, not SignedData over a TSTInfo, not exactly one SignerInfo, unreadable genTime).
TimestampInfo inspectTimestampToken(std::string_view tokenDer);

/// Whether \p tokenDer is a valid timestamp over \p expectedImprint (SHA-256): the signature,
/// the signingCertificate(V2) attribute binding the signer certificate, a chain to one of
/// \p trustedCaDer (DER) in which the TSA certificate has the critical timeStamping extended key
/// usage, TSTInfo version 1 and the imprint. Certificates the token carries serve as intermediates.
/// Revocation is not checked (that is B-LT's job).
///
/// \param validationTime the time at which the chain must be valid, epoch seconds; by default the
///        current time. An archive validator passes the time it has proven (e.g. a later timestamp).
/// \param whyNot when not null, receives the reason for a false result and is cleared on success.
/// Never throws for a bad token: the verdict is the return value.
bool verifyTimestampToken(std::string_view tokenDer, const Sha256& expectedImprint,
                          const std::vector<std::string>& trustedCaDer, std::string* whyNot = nullptr,
                          std::optional<std::int64_t> validationTime = std::nullopt);

} // namespace kooperdoc::signing
