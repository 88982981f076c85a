// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/signing/SigningIdentity.h"
#include "kooperdoc/signing/Timestamp.h"

namespace kooperdoc::signing {

/// PAdES baseline levels (ETSI EN 319 142-1): B-B a CAdES-detached signature; B-T adds a
/// signature timestamp; B-LT adds the validation data (certificates, CRLs) in the DSS; B-LTA
/// adds a document timestamp over all of it.
enum class PadesLevel { kBB, kBT, kBLT, kBLTA };

/// "B-B", "B-T", "B-LT", "B-LTA" (case-insensitive, "PAdES-" prefix allowed). Throws
/// Error{kInvalidArgument, "signing.level_unknown"}.
PadesLevel parsePadesLevel(std::string_view text);
const char* toString(PadesLevel level);

/// What signing needs beyond the signer: a timestamp authority and revocation data.
struct PadesContext {
    /// Required from B-T up ("signing.tsa_missing" otherwise). Shared, so that one TSA client
    /// serves every signature of a process.
    std::shared_ptr<TimestampAuthority> tsa;
    /// Certificates to put into the DSS besides those the signatures carry (e.g. the root CA).
    std::vector<std::string> extraCertificatesDer;
    /// CRLs (DER) to put into the DSS for B-LT.
    std::vector<std::string> crlsDer;
    /// When set, CRLs named in the certificates' CRL distribution points are fetched with it
    /// (HTTP GET); a failure to fetch is an error, not a silently weaker B-LT.
    std::function<std::string(const std::string& url)> fetchCrl;
};

/// Completes a prepared signature at \p level: timestamps the CMS (B-T), embeds it, adds the
/// DSS (B-LT) and a document timestamp (B-LTA). Each step is an incremental update; the result
/// starts with prepared.pdf up to its hole.
std::string completeSignature(const PreparedPdfSignature& prepared, std::string cmsDer, PadesLevel level,
                              const PadesContext& context);

/// Signs \p pdf with \p identity in one call (prepare → CMS → completeSignature).
/// \param signingTime the claimed signing time (/M), which the certificate must cover.
std::string signAtLevel(std::string_view pdf, const SigningIdentity& identity, SignatureOptions options,
                        PadesLevel level, const PadesContext& context);

/// B-LTA renewal: adds the validation data of the latest document timestamp (its TSA chain and
/// CRLs) to the DSS, then a new document timestamp over everything. Run it before the last
/// timestamp's certificate expires or its algorithms weaken. Throws
/// Error{kFailedPrecondition, "signing.not_signed"} for a PDF without signatures.
std::string renewArchiveTimestamp(std::string_view pdf, const PadesContext& context);

/// DER certificates from PEM text (any number of CERTIFICATE blocks) or from one DER
/// certificate. Error{kInvalidArgument, "identity.invalid"} when there is none.
std::vector<std::string> readCertificates(std::string_view pemOrDer);

/// DER CRLs from PEM text (X509 CRL blocks) or from one DER CRL.
/// Error{kInvalidArgument, "signing.crl_invalid"} when there is none.
std::vector<std::string> readCrls(std::string_view pemOrDer);

/// The certificates and CRLs a verifier needs for the CMS signatures and timestamp tokens in
/// \p cmsOrTokensDer, plus the context's own: de-duplicated, in a stable order.
DssMaterial collectValidationMaterial(const std::vector<std::string>& cmsOrTokensDer, const PadesContext& context);

}  // namespace kooperdoc::signing
