// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/verify/TimestampTokenCheck.h"

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <climits>
#include <memory>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/signing/CmsCheck.h"
#include "kooperdoc/signing/Timestamp.h"

namespace kooperdoc::verify {
namespace {

constexpr const char* kSha256Oid = "2.16.840.1.101.3.4.2.1";

struct CmsFree {
    void operator()(CMS_ContentInfo* cms) const noexcept { CMS_ContentInfo_free(cms); }
};

/// The DER TSTInfo the token's SignedData encapsulates: the content its signature covers.
/// nullopt when the bytes are not exactly one CMS SignedData over a TSTInfo.
std::optional<std::string> encapsulatedTstInfo(std::string_view tokenDer) {
    if (tokenDer.empty() || tokenDer.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
    const auto* start = reinterpret_cast<const unsigned char*>(tokenDer.data());
    const auto* cursor = start;
    std::unique_ptr<CMS_ContentInfo, CmsFree> cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(tokenDer.size())));
    ERR_clear_error();
    // Trailing bytes would be data nobody signed riding along with the token.
    if (!cms || cursor != start + tokenDer.size()) return std::nullopt;
    if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return std::nullopt;
    if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_id_smime_ct_TSTInfo) return std::nullopt;
    ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
    if (content == nullptr || *content == nullptr) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(*content)),
                       static_cast<std::size_t>(ASN1_STRING_length(*content)));
}

}  // namespace

TimestampTokenCheck checkTimestampToken(std::string_view tokenDer, const Sha256& expectedImprint,
                                        const std::vector<std::string>& trustedCaDer) {
    TimestampTokenCheck check;
    signing::TimestampInfo info;
    try {
        info = signing::inspectTimestampToken(tokenDer);
    } catch (const Error& e) {
        check.failure = std::string("not a timestamp token: ") + e.what();
        return check;
    }
    const auto tstInfo = encapsulatedTstInfo(tokenDer);
    if (!tstInfo) {
        check.failure = "not a timestamp token: not exactly one CMS SignedData over a TSTInfo";
        return check;
    }
    check.parsed = true;
    check.genTime = info.genTime;
    check.serialHex = info.serialHex;

    // The TSTInfo is the content; the detached-CMS check compares its digest with the signed
    // message-digest attribute and verifies the signature over the attributes.
    const signing::CmsCheck cms = signing::checkDetachedCms(tokenDer, *tstInfo);
    check.tsaSubject = cms.signer.subject;
    check.signatureValid = cms.valid();
    check.imprintMatches = info.imprintAlgorithmOid == kSha256Oid && info.imprint == expectedImprint;
    if (!trustedCaDer.empty()) {
        std::string whyNot;
        check.trusted = signing::verifyTimestampToken(tokenDer, expectedImprint, trustedCaDer, &whyNot, info.genTime);
        if (!*check.trusted) check.failure = "the token does not verify against the trusted CA certificates: " + whyNot;
    }
    if (!check.signatureValid) {
        check.failure = "the TSA's signature does not verify: " + cms.failure;
    } else if (!check.imprintMatches) {
        check.failure = info.imprintAlgorithmOid == kSha256Oid
                            ? "the token is a timestamp of other bytes (its SHA-256 imprint differs)"
                            : "the token's imprint is not SHA-256 but " + info.imprintAlgorithmOid;
    }
    return check;
}

}  // namespace kooperdoc::verify
