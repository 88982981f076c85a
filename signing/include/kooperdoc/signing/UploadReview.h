// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kooperdoc/signing/CmsCheck.h"

namespace kooperdoc::signing {

/// Who must have signed a field of an uploaded document.
struct ExpectedFieldSigner {
    std::string field;
    ExpectedSigner signer;
};

/// One signature (or document timestamp) the upload added.
struct UploadedSignatureReport {
    std::string field;
    std::size_t revision = 0;
    bool documentTimestamp = false;
    std::string subFilter;
    CmsSigner signer;  ///< for a document timestamp: the TSA
};

/// The verdict on a PDF we issued that came back signed elsewhere. A value, not an exception.
struct UploadReview {
    bool accepted = false;
    /// "" when accepted; else a stable code: the structural ones of pdf::checkIncrementalUpload
    /// ("upload.not_ours", "upload.forbidden_change", "upload.no_new_signature", …) or
    /// "upload.signature_invalid" (a new CMS does not sign its byte range),
    /// "upload.timestamp_invalid" (a document timestamp is not over its byte range),
    /// "upload.unexpected_signer" (a field's signer is not the one expected),
    /// "upload.expected_field_unsigned" (an expected field is still empty).
    std::string reason;
    std::string detail;
    std::vector<UploadedSignatureReport> signatures;
};

/// Checks \p uploaded against \p issued, the exact bytes we handed out: the issued file must be
/// an unchanged prefix, later revisions may only fill signature fields, add DSS data and
/// document timestamps, every new signature must be cryptographically sound over its byte
/// range, and each field in \p expected must be signed by the expected signer. Trust in the
/// signers' certificates is the verifier's question (issue 4), not the upload's. Throws only
/// when a file cannot be read at all (Error "pdf.malformed" / "pdf.limit_exceeded").
UploadReview reviewSignedUpload(std::string_view issued, std::string_view uploaded,
                                const std::vector<ExpectedFieldSigner>& expected = {});

}  // namespace kooperdoc::signing
