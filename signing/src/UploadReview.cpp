// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/UploadReview.h"

#include <algorithm>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/RevisionAnalysis.h"
#include "kooperdoc/signing/Timestamp.h"

namespace kooperdoc::signing {
namespace {

/// The bytes a byte range covers; empty when it does not lie inside the file.
std::string coveredBytes(std::string_view file, const std::vector<std::int64_t>& range) {
    std::string out;
    if (range.size() % 2 != 0) return out;
    for (std::size_t i = 0; i < range.size(); i += 2) {
        const auto start = range[i], length = range[i + 1];
        if (start < 0 || length < 0 || static_cast<std::uint64_t>(start) + static_cast<std::uint64_t>(length) > file.size()) {
            return {};
        }
        out.append(file.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(length)));
    }
    return out;
}

UploadReview refuse(UploadReview review, std::string reason, std::string detail) {
    review.accepted = false;
    review.reason = std::move(reason);
    review.detail = std::move(detail);
    return review;
}

}  // namespace

UploadReview reviewSignedUpload(std::string_view issued, std::string_view uploaded,
                                const std::vector<ExpectedFieldSigner>& expected) {
    UploadReview review;
    const auto structure = pdf::checkIncrementalUpload(issued, uploaded);
    if (!structure.allowed) return refuse(std::move(review), structure.reason, structure.detail);

    for (const auto& added : structure.newSignatures) {
        UploadedSignatureReport report;
        report.field = added.fieldName;
        report.revision = added.revision;
        report.documentTimestamp = added.type == "DocTimeStamp";
        report.subFilter = added.subFilter;
        const auto content = coveredBytes(uploaded, added.byteRange);
        if (report.documentTimestamp) {
            std::string whyNot;
            try {
                const auto token = inspectTimestampToken(added.cmsDer);
                if (token.imprint != sha256(content)) whyNot = "the timestamp is not over its byte range";
                report.signer = checkDetachedCms(added.cmsDer, "").signer;  // the TSA, for the report
            } catch (const Error& e) {
                whyNot = e.what();
            }
            if (!whyNot.empty()) return refuse(std::move(review), "upload.timestamp_invalid", added.fieldName + ": " + whyNot);
        } else {
            const auto check = checkDetachedCms(added.cmsDer, content);
            if (!check.valid()) {
                return refuse(std::move(review), "upload.signature_invalid", added.fieldName + ": " + check.failure);
            }
            report.signer = check.signer;
        }
        review.signatures.push_back(std::move(report));
    }

    for (const auto& want : expected) {
        const auto signature = std::find_if(review.signatures.begin(), review.signatures.end(), [&](const auto& s) {
            return s.field == want.field && !s.documentTimestamp;
        });
        if (signature == review.signatures.end()) {
            return refuse(std::move(review), "upload.expected_field_unsigned", "the field " + want.field + " is not signed");
        }
        if (const auto mismatch = signerMismatch(signature->signer, want.signer); !mismatch.empty()) {
            return refuse(std::move(review), "upload.unexpected_signer", want.field + ": " + mismatch);
        }
    }
    review.accepted = true;
    return review;
}

}  // namespace kooperdoc::signing
