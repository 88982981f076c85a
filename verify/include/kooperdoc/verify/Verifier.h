// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Verification of every signature and document timestamp in a PDF we did not necessarily write,
// with ETSI EN 319 102-1 vocabulary (indication + sub-indication), for auditors.
//
// The file is read only with pdf::PdfReader (bounded, fuzzed), never with PoDoFo. Verdicts are
// values: verifyPdf() never throws for bad or hostile input; an unreadable file is a report whose
// `format` says FORMAT_FAILURE and which holds no signatures.
//
// Policy (stricter than EU DSS's default policy and than pdfsig, see docs/verification-report.md):
// a signature whose byte range is not a clean revision (coverage UNCLEAR or
// CONTIGUOUS_BLOCK_FROM_START), whose later revisions hold a change no rule allows (modification
// level OTHER, DocMDP/FieldMDP violation), or which is followed by trailing non-whitespace data is
// TOTAL-FAILED / FORMAT_FAILURE even when its CMS is intact and valid.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kooperdoc/pdf/RevisionAnalysis.h"
#include "kooperdoc/trust/TrustedList.h"

namespace kooperdoc::verify {

enum class Indication : std::uint8_t { kTotalPassed, kTotalFailed, kIndeterminate };

/// ETSI EN 319 102-1 sub-indications (clause 5.1.3) that this verifier can give.
enum class SubIndication : std::uint8_t {
    kNone,
    kFormatFailure,            ///< structure: byte range, /Contents, CMS, forbidden later changes
    kHashFailure,              ///< the digest over the byte range is not the signed one
    kSigCryptoFailure,         ///< the signature value does not verify with the signer's key
    kRevoked,                  ///< the signer's certificate (or one of its chain) is revoked
    kNoCertificateChainFound,  ///< no chain to a configured trust anchor
    kOutOfBoundsNoPoe,         ///< a certificate expired and nothing proves the signature older
    kNotYetValid,              ///< validation time before a certificate's notBefore
    kChainConstraintsFailure,  ///< the chain exists but breaks a constraint (CA flag, path length…)
    kCertificateChainGeneralFailure, ///< the chain failed for another reason
    kTryLater,                 ///< revocation data required but missing or not fresh
    kSignedDataNotFound,       ///< the byte range points outside the file
    kCryptoConstraintsFailureNoPoe, ///< an algorithm the policy does not allow (RFC 8419 pairs)
};

const char* toString(Indication indication);       ///< "TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"
const char* toString(SubIndication subIndication); ///< "HASH_FAILURE", …; "" for kNone

struct CertificateSummary {
    std::string subject; ///< RFC 2253, UTF-8
    std::string issuer;
    std::string serialHex;
    std::int64_t notBefore = 0, notAfter = 0;
    std::string sha256Hex; ///< of the DER, so a look-alike certificate is obvious
};

enum class RevocationStatus : std::uint8_t {
    kNotChecked, ///< no CRL or OCSP response for the chain (a warning, or TRY_LATER with requireRevocation)
    kGood,       ///< the signer's certificate (at least) checked against a CRL or a fresh OCSP "good"
    kRevoked,
    kUnknown,    ///< CRLs or OCSP responses exist but are stale, not yet valid, or say "unknown"
};
const char* toString(RevocationStatus status); ///< "not_checked", "good", "revoked", "unknown"

/// What a TOTAL-PASSED signature is worth under eIDAS, from the configured EU trusted lists.
enum class Qualification : std::uint8_t {
    kNone,                 ///< not TOTAL-PASSED
    kAdvanced,             ///< zaawansowany podpis/pieczęć: the issuing CA is not a qualified CA for it
    kQualifiedESignature,  ///< kwalifikowany podpis elektroniczny: CA/QC with ForeSignatures
    kQualifiedESeal,       ///< kwalifikowana pieczęć elektroniczna: CA/QC with ForeSeals
    kTimestamp,            ///< a document timestamp from a TSA that is not a qualified one
    kQualifiedTimestamp,   ///< kwalifikowany elektroniczny znacznik czasu: TSA/QTST
};
/// "none", "advanced", "qualified_esignature", "qualified_eseal", "timestamp", "qualified_timestamp"
const char* toString(Qualification qualification);

struct SignatureReport {
    std::string fieldName;
    bool documentTimestamp = false; ///< /Type /DocTimeStamp (or SubFilter ETSI.RFC3161)
    std::string subFilter;
    std::size_t revision = 0;       ///< the revision that holds the signature (0-based)
    std::optional<CertificateSummary> signer; ///< the CMS signer, or the TSA of a document timestamp
    std::string claimedSigningTimeRaw;        ///< /M as written
    std::optional<std::int64_t> claimedSigningTime; ///< /M, else the CMS signing-time attribute
    /// genTime of a signature timestamp (B-T) or of the document timestamp itself, when its token
    /// verifies against the trust anchors.
    std::optional<std::int64_t> timestampTime;
    bool signatureTimestampPresent = false;
    bool signatureTimestampValid = false;
    /// The verified timestamp (signature timestamp, or the document timestamp itself) chains to
    /// a TSA/QTST service of a trusted list that was qualifying at its genTime.
    bool timestampQualified = false;
    std::string digestAlgorithm;

    bool intact = false;  ///< digest over the byte range matches (message-digest / TST imprint)
    bool cryptoValid = false; ///< the signature value verifies with the signer's key
    bool trusted = false; ///< chain to a trust anchor at chainValidationTime
    std::optional<std::int64_t> chainValidationTime; ///< the moment the chain was judged at
    std::vector<std::string> chain; ///< subjects, signer first, anchor last (when built)
    RevocationStatus revocation = RevocationStatus::kNotChecked;

    pdf::Coverage coverage = pdf::Coverage::kUnclear;
    std::string coverageProblem;
    pdf::ModificationLevel modificationLevel = pdf::ModificationLevel::kOther;
    bool docMdpOk = false;
    bool certification = false;
    std::optional<int> docMdpPermission;
    std::vector<std::string> modificationFindings; ///< stable codes: "diff.…: detail"

    std::string padesLevel; ///< "B-B", "B-T", "B-LT", "B-LTA"; "" when not PAdES (adbe.*)
    /// From the issuing CA's CA/QC service at the signing time (the verified timestamp's time,
    /// else the validation time); kNone unless TOTAL-PASSED.
    Qualification qualification = Qualification::kNone;

    Indication indication = Indication::kIndeterminate;
    SubIndication subIndication = SubIndication::kNone;
    std::string reason;    ///< stable code, e.g. "verify.hash_failure"
    std::string messageEn; ///< one human sentence
    std::string messagePl;
    std::vector<std::string> warnings; ///< stable codes with detail, "verify.no_revocation_data: …"

    bool passed() const { return indication == Indication::kTotalPassed; }
};

/// Document level (issue 4 point 5): the provenance the renderer wrote into the Info dictionary
/// of the FIRST revision (later revisions could forge it), compared with the built-in catalogue.
struct DocumentReport {
    bool kooperdoc = false; ///< /KooperdocDocumentId, /KooperdocTemplateId and …Version present
    std::string documentId, documentNumber, templateId, templateVersion, templateSha256, inputSha256, renderer;
    bool templateKnown = false; ///< the id and version exist in templates::Catalog::builtIn()
    bool templateSha256Matches = false; ///< and the catalogue's SHA-256 equals templateSha256
    std::string messageEn;
    std::string messagePl;
};

struct VerificationReport {
    /// FORMAT_FAILURE when the file could not be read at all (then `signatures` is empty).
    Indication formatIndication = Indication::kTotalPassed;
    std::string formatReason; ///< "pdf.malformed", "pdf.limit_exceeded", "pdf.unsupported", …
    std::string formatDetail;
    std::size_t fileSize = 0;
    std::string fileSha256Hex;
    std::size_t revisionCount = 0;
    std::size_t trailingBytes = 0;
    std::int64_t validationTime = 0; ///< the moment every chain was judged at, unless a PoE moved it
    std::vector<SignatureReport> signatures; ///< signing order (earliest revision first)
    std::vector<std::string> emptySignatureFields;
    DocumentReport document;
    std::vector<std::string> warnings;

    bool readable() const { return formatReason.empty(); }
    /// At least one signature, and every one TOTAL-PASSED: the CLI's exit 0.
    bool allPassed() const;
};

struct VerifyOptions {
    /// Certificates (DER) trusted as anchors. Nothing embedded in the PDF is ever trusted.
    std::vector<std::string> trustAnchorsDer;
    /// Epoch seconds; by default the current time.
    std::optional<std::int64_t> validationTime;
    /// No revocation data for a trusted chain → INDETERMINATE / TRY_LATER instead of a warning.
    bool requireRevocation = false;
    /// CRLs (DER) known to the verifier, in addition to those in the DSS.
    std::vector<std::string> extraCrlsDer;
    /// OCSP responses (DER OCSPResponse) known to the verifier, in addition to the DSS /OCSPs.
    std::vector<std::string> extraOcspResponsesDer;
    /// Imported (signature already checked) EU trusted lists: the CA/QC services qualifying at a
    /// signature's signing time are trust anchors for it, TSA/QTST ones for timestamps, and they
    /// decide SignatureReport::qualification.
    std::vector<trust::TrustedList> trustedLists;
    pdf::PdfLimits limits;
};

/// Never throws for bad input (allocation failure aside).
VerificationReport verifyPdf(std::string_view pdf, const VerifyOptions& options);

/// The report as JSON (schema: docs/verification-report.md), indented.
std::string toJson(const VerificationReport& report);

/// Certificates from PEM (any number of CERTIFICATE blocks) or one DER certificate, as DER.
/// Throws Error{kInvalidArgument, "verify.certificate_unreadable"} when nothing can be read.
std::vector<std::string> certificatesFromPemOrDer(std::string_view bytes);
/// Same for CRLs ("verify.crl_unreadable").
std::vector<std::string> crlsFromPemOrDer(std::string_view bytes);
/// \p bytes when they are one DER OCSPResponse (its status and signature are judged later, per
/// signature); Error{kInvalidArgument, "verify.ocsp_unreadable"} otherwise.
std::string ocspResponseFromDer(std::string_view bytes);

/// ISO 8601 UTC ("2020-11-01T00:00:00Z", "2020-11-01") or epoch seconds; nullopt when neither.
std::optional<std::int64_t> parseTime(std::string_view text);
/// "2020-11-01T00:00:00Z".
std::string formatTime(std::int64_t epochSeconds);

} // namespace kooperdoc::verify
