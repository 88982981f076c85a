// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/CmsCheck.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <ctime>
#include <memory>

#include "kooperdoc/core/Digest.h"
#include "OpenSsl.h"

namespace kooperdoc::signing {
namespace {

using namespace openssl;

std::string der(X509* certificate) {
    unsigned char* bytes = nullptr;
    const int length = i2d_X509(certificate, &bytes);
    if (length <= 0) return {};
    std::string out(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(length));
    OPENSSL_free(bytes);
    return out;
}

std::string rfc2253(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    const unsigned long flags = XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) return {};
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string nameEntry(const X509_NAME* name, int nid) {
    const int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0) return {};
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, value);
    if (length < 0) return {};
    std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    return out;
}

std::int64_t epoch(const ASN1_TIME* time) {
    std::tm parts{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
    return static_cast<std::int64_t>(timegm(&parts));
}

std::string upperHex(const ASN1_INTEGER* serial) {
    std::unique_ptr<BIGNUM, Free<BN_free>> number(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!number) return {};
    char* hex = BN_bn2hex(number.get());
    std::string out = hex == nullptr ? "" : hex;
    OPENSSL_free(hex);
    return out;
}

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

CmsSigner describe(X509* certificate) {
    CmsSigner signer;
    signer.certificateDer = der(certificate);
    signer.subject = rfc2253(X509_get_subject_name(certificate));
    signer.issuer = rfc2253(X509_get_issuer_name(certificate));
    signer.commonName = nameEntry(X509_get_subject_name(certificate), NID_commonName);
    signer.subjectSerialNumber = nameEntry(X509_get_subject_name(certificate), NID_serialNumber);
    signer.serialHex = upperHex(X509_get0_serialNumber(certificate));
    signer.notBefore = epoch(X509_get0_notBefore(certificate));
    signer.notAfter = epoch(X509_get0_notAfter(certificate));
    return signer;
}

std::string drainErrors() {
    std::string text;
    while (const unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!text.empty()) text += "; ";
        text += buffer;
    }
    return text;
}

}  // namespace

CmsCheck checkDetachedCms(std::string_view cmsDer, std::string_view content) {
    CmsCheck check;
    ERR_clear_error();
    if (cmsDer.empty() || cmsDer.size() > static_cast<std::size_t>(INT_MAX)) {
        check.failure = "no CMS";
        return check;
    }
    const auto* cursor = reinterpret_cast<const unsigned char*>(cmsDer.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(cmsDer.size())));
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        check.failure = "not a CMS SignedData";
        drainErrors();
        return check;
    }
    STACK_OF(CMS_SignerInfo)* signerInfos = CMS_get0_SignerInfos(cms.get());
    if (sk_CMS_SignerInfo_num(signerInfos) != 1) {
        check.failure = "expected exactly one SignerInfo, found " + std::to_string(sk_CMS_SignerInfo_num(signerInfos));
        return check;
    }
    CMS_SignerInfo* signerInfo = sk_CMS_SignerInfo_value(signerInfos, 0);
    X509StackPtr certificates(CMS_get1_certs(cms.get()));
    X509* signerCertificate = nullptr;
    for (int i = 0; certificates && i < sk_X509_num(certificates.get()); ++i) {
        X509* candidate = sk_X509_value(certificates.get(), i);
        check.signer.certificatesDer.push_back(der(candidate));
        if (signerCertificate == nullptr && CMS_SignerInfo_cert_cmp(signerInfo, candidate) == 0) signerCertificate = candidate;
    }
    if (signerCertificate == nullptr) {
        check.failure = "the signer's certificate is not in the CMS";
        return check;
    }
    {
        auto described = describe(signerCertificate);
        described.certificatesDer = std::move(check.signer.certificatesDer);
        check.signer = std::move(described);
    }
    X509_ALGOR* digestAlgorithm = nullptr;
    CMS_SignerInfo_get0_algs(signerInfo, nullptr, nullptr, &digestAlgorithm, nullptr);
    const ASN1_OBJECT* digestOid = nullptr;
    X509_ALGOR_get0(&digestOid, nullptr, nullptr, digestAlgorithm);
    const EVP_MD* md = EVP_get_digestbyobj(digestOid);
    check.digestAlgorithm = md == nullptr ? "unknown" : OBJ_nid2sn(EVP_MD_get_type(md));
    check.parsed = true;
    check.hasSigningCertificateV2 =
        CMS_signed_get_attr_by_NID(signerInfo, NID_id_smime_aa_signingCertificateV2, -1) >= 0;
    if (const int at = CMS_signed_get_attr_by_NID(signerInfo, NID_pkcs9_signingTime, -1); at >= 0) {
        const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(signerInfo, at), 0);
        if (value != nullptr && (value->type == V_ASN1_UTCTIME || value->type == V_ASN1_GENERALIZEDTIME)) {
            check.claimedSigningTime = epoch(reinterpret_cast<const ASN1_TIME*>(value->value.asn1_string));
        }
    }

    const ASN1_OCTET_STRING* claimedDigest = nullptr;
    if (const int at = CMS_signed_get_attr_by_NID(signerInfo, NID_pkcs9_messageDigest, -1); at >= 0) {
        const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(signerInfo, at), 0);
        if (value != nullptr && value->type == V_ASN1_OCTET_STRING) claimedDigest = value->value.octet_string;
    }
    if (md == nullptr || claimedDigest == nullptr) {
        check.failure = md == nullptr ? "unknown digest algorithm" : "no message-digest attribute";
        return check;
    }
    unsigned char actual[EVP_MAX_MD_SIZE];
    unsigned int actualLength = 0;
    MdCtxPtr context(EVP_MD_CTX_new());
    if (!context || EVP_DigestInit_ex(context.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), content.data(), content.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), actual, &actualLength) != 1) {
        check.failure = "cannot compute the digest: " + drainErrors();
        return check;
    }
    check.digestMatches = static_cast<unsigned int>(ASN1_STRING_length(claimedDigest)) == actualLength &&
                          std::equal(actual, actual + actualLength, ASN1_STRING_get0_data(claimedDigest));
    CMS_SignerInfo_set1_signer_cert(signerInfo, signerCertificate);
    check.signatureValid = CMS_SignerInfo_verify(signerInfo) == 1;
    drainErrors();
    if (!check.digestMatches) check.failure = "the message digest does not match the signed bytes";
    else if (!check.signatureValid) check.failure = "the signature does not verify with the signer's certificate";
    return check;
}

std::string signerMismatch(const CmsSigner& signer, const ExpectedSigner& expected) {
    if (!expected.subjectContains.empty() && signer.subject.find(expected.subjectContains) == std::string::npos) {
        return "the signer is " + signer.subject + ", not " + expected.subjectContains;
    }
    if (!expected.serialHex.empty()) {
        std::string wanted = upper(expected.serialHex);
        wanted.erase(0, std::min(wanted.find_first_not_of('0'), wanted.size()));
        std::string actual = signer.serialHex;
        actual.erase(0, std::min(actual.find_first_not_of('0'), actual.size()));
        if (wanted != actual) return "the certificate serial is " + signer.serialHex + ", not " + expected.serialHex;
    }
    if (!expected.pesel.empty()) {
        const auto& value = signer.subjectSerialNumber;
        const bool matches = value == expected.pesel || value == "PNOPL-" + expected.pesel;
        if (!matches) return "the certificate's serialNumber is \"" + value + "\", not PESEL " + expected.pesel;
    }
    if (!expected.certificateSha256.empty() &&
        upper(toHex(sha256(signer.certificateDer))) != upper(expected.certificateSha256)) {
        return "the certificate is not the expected one (SHA-256 differs)";
    }
    return {};
}

}  // namespace kooperdoc::signing
