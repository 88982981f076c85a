// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/verify/Verifier.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <memory>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/PdfReader.h"
#include "kooperdoc/pdf/Provenance.h"
#include "kooperdoc/signing/CmsCheck.h"
#include "kooperdoc/signing/Timestamp.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::verify {
namespace {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct CrlFree {
    void operator()(X509_CRL* x) const { X509_CRL_free(x); }
};
struct StoreFree {
    void operator()(X509_STORE* x) const { X509_STORE_free(x); }
};
struct StoreCtxFree {
    void operator()(X509_STORE_CTX* x) const { X509_STORE_CTX_free(x); }
};
struct StackFree {
    void operator()(STACK_OF(X509)* s) const { sk_X509_free(s); }
};
struct StackPopFree {
    void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); }
};
struct CrlStackFree {
    void operator()(STACK_OF(X509_CRL)* s) const { sk_X509_CRL_free(s); }
};
struct CmsFree {
    void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct BasicResponseFree {
    void operator()(OCSP_BASICRESP* b) const { OCSP_BASICRESP_free(b); }
};
struct CertIdFree {
    void operator()(OCSP_CERTID* c) const { OCSP_CERTID_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsFree>;

constexpr const char* kSha256Oid = "2.16.840.1.101.3.4.2.1";

X509Ptr certificateFromDer(std::string_view der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    return X509Ptr(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
}

CrlPtr crlFromDer(std::string_view der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    return CrlPtr(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));
}

std::string nameText(const X509_NAME* name) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || name == nullptr) return {};
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string{};
}

std::int64_t epochOf(const ASN1_TIME* time) {
    std::tm parts{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
    return static_cast<std::int64_t>(timegm(&parts));
}

std::string derOf(X509* certificate) {
    unsigned char* out = nullptr;
    const int length = i2d_X509(certificate, &out);
    if (length <= 0) return {};
    std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(length));
    OPENSSL_free(out);
    return der;
}

CertificateSummary summarize(X509* certificate) {
    CertificateSummary s;
    s.subject = nameText(X509_get_subject_name(certificate));
    s.issuer = nameText(X509_get_issuer_name(certificate));
    if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr)) {
        if (char* hex = BN_bn2hex(serial)) {
            s.serialHex = hex;
            OPENSSL_free(hex);
        }
        BN_free(serial);
    }
    s.notBefore = epochOf(X509_get0_notBefore(certificate));
    s.notAfter = epochOf(X509_get0_notAfter(certificate));
    s.sha256Hex = sha256Hex(derOf(certificate));
    return s;
}

/// The signer certificate of the single SignerInfo of \p cms, found by its sid among the CMS
/// certificates (never trusted for that reason: trust comes from the anchors only).
X509Ptr signerCertificateOf(CMS_ContentInfo* cms) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(infos) != 1) return nullptr;
    CMS_SignerInfo* info = sk_CMS_SignerInfo_value(infos, 0);
    std::unique_ptr<STACK_OF(X509), StackPopFree> certificates(CMS_get1_certs(cms));
    for (int i = 0; certificates && i < sk_X509_num(certificates.get()); ++i) {
        X509* candidate = sk_X509_value(certificates.get(), i);
        if (CMS_SignerInfo_cert_cmp(info, candidate) == 0) {
            X509_up_ref(candidate);
            return X509Ptr(candidate);
        }
    }
    return nullptr;
}

std::vector<std::string> cmsCertificates(CMS_ContentInfo* cms) {
    std::vector<std::string> out;
    std::unique_ptr<STACK_OF(X509), StackPopFree> certificates(CMS_get1_certs(cms));
    for (int i = 0; certificates && i < sk_X509_num(certificates.get()); ++i) out.push_back(derOf(sk_X509_value(certificates.get(), i)));
    return out;
}

/// The signature value of the single SignerInfo: what a signature timestamp's imprint hashes.
std::string signatureValueOf(CMS_ContentInfo* cms) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(infos) != 1) return {};
    const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(infos, 0));
    if (value == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)), static_cast<std::size_t>(ASN1_STRING_length(value)));
}

/// CMS_verify without any certificate verification: the digest (signed attributes' message
/// digest, or the content itself when there are none) and the signature value. \p detached is
/// null for a CMS with embedded content (a timestamp token).
bool cmsSignatureVerifies(CMS_ContentInfo* cms, const std::string* detached) {
    std::unique_ptr<BIO, BioFree> content;
    if (detached != nullptr) {
        content.reset(BIO_new_mem_buf(detached->data(), static_cast<int>(detached->size())));
        if (!content) return false;
    }
    const int ok = CMS_verify(cms, nullptr, nullptr, content.get(), nullptr,
                              CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
    ERR_clear_error();
    return ok == 1;
}

bool hasSignedAttributes(CMS_ContentInfo* cms) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(infos) != 1) return true;
    return CMS_signed_get_attr_count(sk_CMS_SignerInfo_value(infos, 0)) > 0;
}

std::string derLength(std::size_t length) {
    if (length < 0x80) return std::string(1, static_cast<char>(length));
    std::string bytes;
    for (std::size_t l = length; l > 0; l >>= 8) bytes.insert(bytes.begin(), static_cast<char>(l & 0xff));
    return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}

struct OwnCheck {
    bool intact = false;
    bool valid = false;
    std::string digestAlgorithm;
    bool digestAllowedForKey = true;
};

/// EdDSA signers (RFC 8419). OpenSSL 3.0's CMS cannot verify them when the SignerInfo names a
/// digest ("eddsa_digest_signverify_init: invalid digest"), and SHAKE256 must yield 512 bits
/// there, not OpenSSL's default 256. So: our own message-digest comparison and a pure-EdDSA
/// verification over the DER SET OF signed attributes. nullopt when the key is not EdDSA.
std::optional<OwnCheck> checkEdDsa(CMS_ContentInfo* cms, X509* signer, const std::string& content) {
    EVP_PKEY* key = X509_get0_pubkey(signer);
    const int keyType = key == nullptr ? 0 : EVP_PKEY_get_id(key);
    if (keyType != EVP_PKEY_ED25519 && keyType != EVP_PKEY_ED448) return std::nullopt;
    OwnCheck result;
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(infos) != 1) return result;
    CMS_SignerInfo* info = sk_CMS_SignerInfo_value(infos, 0);
    X509_ALGOR* digestAlgorithm = nullptr;
    CMS_SignerInfo_get0_algs(info, nullptr, nullptr, &digestAlgorithm, nullptr);
    const ASN1_OBJECT* oid = nullptr;
    X509_ALGOR_get0(&oid, nullptr, nullptr, digestAlgorithm);
    const EVP_MD* md = oid == nullptr ? nullptr : EVP_get_digestbyobj(oid);
    if (md == nullptr) return result;
    result.digestAlgorithm = OBJ_nid2sn(EVP_MD_get_type(md));
    // RFC 8419 3.1: Ed25519 with SHA-512, Ed448 with SHAKE256 (512-bit output).
    result.digestAllowedForKey = keyType == EVP_PKEY_ED25519 ? EVP_MD_get_type(md) == NID_sha512
                                                            : EVP_MD_get_type(md) == NID_shake256;
    const bool xof = (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) != 0;
    std::string digest(xof ? 64 : static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned int digestLength = 0;
    const bool computed =
        ctx && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 && EVP_DigestUpdate(ctx.get(), content.data(), content.size()) == 1 &&
        (xof ? EVP_DigestFinalXOF(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()), digest.size()) == 1
             : EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()), &digestLength) == 1);
    if (!computed) {
        ERR_clear_error();
        return result;
    }
    const int at = CMS_signed_get_attr_by_NID(info, NID_pkcs9_messageDigest, -1);
    if (at < 0) return result;
    const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(info, at), 0);
    if (value == nullptr || value->type != V_ASN1_OCTET_STRING) return result;
    const ASN1_OCTET_STRING* claimed = value->value.octet_string;
    result.intact = static_cast<std::size_t>(ASN1_STRING_length(claimed)) == digest.size() &&
                    std::equal(digest.begin(), digest.end(), reinterpret_cast<const char*>(ASN1_STRING_get0_data(claimed)));
    // The signature is over the DER encoding of the signed attributes as a SET OF (sorted).
    std::vector<std::string> encoded;
    for (int i = 0; i < CMS_signed_get_attr_count(info); ++i) {
        unsigned char* der = nullptr;
        const int length = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(info, i), &der);
        if (length <= 0) return result;
        encoded.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
        OPENSSL_free(der);
    }
    std::sort(encoded.begin(), encoded.end());
    std::string body;
    for (const auto& e : encoded) body += e;
    const std::string signedAttributes = "\x31" + derLength(body.size()) + body;
    const ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(info);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> verify(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    result.valid = signature != nullptr && verify && EVP_DigestVerifyInit(verify.get(), nullptr, nullptr, nullptr, key) == 1 &&
                   EVP_DigestVerify(verify.get(), ASN1_STRING_get0_data(signature), static_cast<std::size_t>(ASN1_STRING_length(signature)),
                                    reinterpret_cast<const unsigned char*>(signedAttributes.data()), signedAttributes.size()) == 1;
    ERR_clear_error();
    return result;
}

/// Why the SignerInfo's algorithms are below this verifier's policy, or empty. The floor follows
/// ETSI TS 119 312 and EU DSS's default constraints: no MD5 or SHA-1 digests (in digestAlgorithm
/// or in a combined signatureAlgorithm such as sha1WithRSAEncryption), RSA and DSA keys of at
/// least 2048 bits, elliptic curves of at least 256 bits. EdDSA pairs are checked by checkEdDsa.
std::string cryptoConstraintProblem(CMS_ContentInfo* cms, X509* signer, const std::string& digestName) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(infos) != 1) return {};
    const auto weakDigest = [](int nid) { return nid == NID_md5 || nid == NID_sha1 || nid == NID_md5_sha1 || nid == NID_md2 || nid == NID_md4; };
    if (digestName == "unknown") return "the digest algorithm is unknown to this verifier";
    X509_ALGOR* digestAlgorithm = nullptr;
    X509_ALGOR* signatureAlgorithm = nullptr;
    CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(infos, 0), nullptr, nullptr, &digestAlgorithm, &signatureAlgorithm);
    const ASN1_OBJECT* oid = nullptr;
    X509_ALGOR_get0(&oid, nullptr, nullptr, digestAlgorithm);
    if (oid != nullptr && weakDigest(OBJ_obj2nid(oid))) return std::string("the digest algorithm ") + OBJ_nid2sn(OBJ_obj2nid(oid)) + " is no longer accepted";
    X509_ALGOR_get0(&oid, nullptr, nullptr, signatureAlgorithm);
    int signatureDigest = NID_undef;
    if (oid != nullptr && OBJ_find_sigid_algs(OBJ_obj2nid(oid), &signatureDigest, nullptr) == 1 && weakDigest(signatureDigest)) {
        return std::string("the signature algorithm ") + OBJ_nid2sn(OBJ_obj2nid(oid)) + " is no longer accepted";
    }
    EVP_PKEY* key = signer == nullptr ? nullptr : X509_get0_pubkey(signer);
    ERR_clear_error();
    if (key == nullptr) return {};
    const int type = EVP_PKEY_get_base_id(key);
    const int bits = EVP_PKEY_get_bits(key);
    if ((type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS || type == EVP_PKEY_DSA) && bits < 2048) {
        return "the signer's " + std::string(type == EVP_PKEY_DSA ? "DSA" : "RSA") + " key has " + std::to_string(bits) +
               " bits, fewer than 2048";
    }
    if (type == EVP_PKEY_EC && bits < 256) return "the signer's elliptic curve key has " + std::to_string(bits) + " bits, fewer than 256";
    return {};
}

// ------------------------------------------------------------------ the DSS, with our reader

struct Dss {
    std::vector<std::string> certificatesDer;
    std::vector<std::string> crlsDer;
    std::vector<std::string> ocspResponsesDer;
    bool present = false;
};

Dss readDss(const pdf::PdfReader& reader, std::vector<std::string>& warnings) {
    Dss dss;
    try {
        const std::size_t last = reader.lastRevision();
        const pdf::PdfObject root = reader.deref(reader.trailer(last).get("Root"), last);
        const pdf::PdfDictionary* catalog = root.asDictionary();
        if (catalog == nullptr) return dss;
        const pdf::PdfObject dssObject = reader.deref(catalog->get("DSS"), last);
        const pdf::PdfDictionary* dict = dssObject.asDictionary();
        if (dict == nullptr) return dss;
        dss.present = true;
        const auto streams = [&](const char* key) {
            std::vector<std::string> out;
            const pdf::PdfObject array = reader.deref(dict->get(key), last);
            const pdf::PdfArray* items = array.asArray();
            if (items == nullptr) return out;
            for (const auto& item : *items) {
                const pdf::PdfObject value = reader.deref(item, last);
                if (const pdf::PdfStream* stream = value.asStream()) out.push_back(reader.decodeStream(*stream));
            }
            return out;
        };
        dss.certificatesDer = streams("Certs");
        dss.crlsDer = streams("CRLs");
        dss.ocspResponsesDer = streams("OCSPs");
    } catch (const Error& e) {
        warnings.push_back("verify.dss_unreadable: " + std::string(e.what()));
    }
    return dss;
}

// ------------------------------------------------------------------ the document level

std::string joined(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
    return out;
}

/// The renderer's provenance from the Info dictionary of the first revision (a later revision
/// could write any Info it likes), compared with the built-in catalogue.
DocumentReport readDocument(const pdf::PdfReader& reader, const std::vector<std::string>& emptyFields,
                            std::vector<std::string>& warnings) {
    DocumentReport d;
    try {
        const auto p = pdf::readProvenance(reader);
        d.documentId = p.documentId;
        d.documentNumber = p.documentNumber;
        d.templateId = p.templateId;
        d.templateVersion = p.templateVersion;
        d.templateSha256 = p.templateSha256;
        d.inputSha256 = p.inputSha256;
        d.renderer = p.renderer;
    } catch (const Error& e) {
        warnings.push_back("verify.info_unreadable: " + std::string(e.what()));
    }
    d.kooperdoc = !d.documentId.empty() && !d.templateId.empty() && !d.templateVersion.empty();
    if (d.kooperdoc) {
        try {
            const templates::Template& t = templates::Catalog::builtIn().get(d.templateId, d.templateVersion);
            d.templateKnown = true;
            d.templateSha256Matches = t.sha256() == d.templateSha256;
        } catch (const Error&) {
        }
    }
    const std::string fields = joined(emptyFields);
    if (!d.kooperdoc) {
        d.messageEn = "The first revision carries no Kooperdoc provenance: this is not a document Kooperdoc issued.";
        d.messagePl = "Pierwsza wersja pliku nie zawiera metryki Kooperdoc: to nie jest dokument wystawiony przez Kooperdoc.";
    } else {
        const std::string what = d.templateId + " " + d.templateVersion;
        d.messageEn = "Kooperdoc document " + d.documentId + " from template " + what +
                      (!d.templateKnown               ? ", which the built-in catalogue does not hold."
                       : d.templateSha256Matches ? ", identical to the built-in catalogue's."
                                                 : ", whose definition differs from the built-in catalogue's.");
        d.messagePl = "Dokument Kooperdoc " + d.documentId + " z szablonu " + what +
                      (!d.templateKnown               ? ", którego nie ma we wbudowanym katalogu."
                       : d.templateSha256Matches ? ", zgodnego z wbudowanym katalogiem."
                                                 : ", którego definicja różni się od wbudowanego katalogu.");
    }
    if (!fields.empty()) {
        d.messageEn += " Signature fields not signed yet: " + fields + ".";
        d.messagePl += " Niepodpisane jeszcze pola podpisu: " + fields + ".";
    }
    return d;
}

// ------------------------------------------------------------------ chains and revocation

struct Crl {
    CrlPtr crl;
    bool fromDss = false;
};

struct OcspResponse {
    std::unique_ptr<OCSP_BASICRESP, BasicResponseFree> basic;
    bool fromDss = false;
};

/// What the OCSP responses say about one certificate: kGood, kRevoked or kUnknown (an
/// authentic answer that is "unknown", stale or not yet valid at the validation time); kNotChecked
/// when no usable response names it.
struct OcspFinding {
    RevocationStatus status = RevocationStatus::kNotChecked;
    bool fromDss = false;
    std::string detail;
};

/// Producers' clocks drift: an OCSP response made a little after the validation time (or expiring
/// a little before it) still speaks for that moment.
constexpr std::int64_t kOcspClockSkewSeconds = 300;

/// X509_verify_cert callback for the CRL pass: a certificate a fresh OCSP "good" covers needs no
/// CRL of its own (the app data is the list of such certificates), and neither does the anchor,
/// which X509_V_FLAG_CRL_CHECK_ALL would otherwise check too.
int acceptOcspCovered(int ok, X509_STORE_CTX* ctx) {
    if (ok == 1) return ok;
    const int error = X509_STORE_CTX_get_error(ctx);
    if (error != X509_V_ERR_UNABLE_TO_GET_CRL && error != X509_V_ERR_CRL_HAS_EXPIRED && error != X509_V_ERR_CRL_NOT_YET_VALID) {
        return ok;
    }
    if (error == X509_V_ERR_UNABLE_TO_GET_CRL &&
        X509_STORE_CTX_get_error_depth(ctx) == sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) - 1) {
        return 1;
    }
    const auto* covered = static_cast<const std::vector<X509*>*>(X509_STORE_CTX_get_app_data(ctx));
    X509* current = X509_STORE_CTX_get_current_cert(ctx);
    if (covered == nullptr || current == nullptr) return ok;
    for (X509* c : *covered) {
        if (X509_cmp(c, current) == 0) return 1;
    }
    return ok;
}

struct ChainResult {
    bool ok = false;
    int error = X509_V_OK;
    std::string errorText;
    std::vector<std::string> subjects;
    std::vector<std::string> chainDer; ///< signer first, anchor last
    RevocationStatus revocation = RevocationStatus::kNotChecked;
    bool revocationFromDssOnly = false;
    bool revocationLeafOnly = false;
    std::string revocationDetail;
    bool expiredSomewhere = false;
    std::vector<std::string> warnings; ///< unusable OCSP responses for this chain
};

class TrustContext {
public:
    TrustContext(const std::vector<std::string>& anchorsDer, const std::vector<std::string>& dssCrls,
                 const std::vector<std::string>& extraCrls, const std::vector<std::string>& dssOcsps,
                 const std::vector<std::string>& extraOcsps, std::vector<std::string>& warnings) {
        for (const auto& der : anchorsDer) {
            if (auto c = certificateFromDer(der)) anchors_.push_back(std::move(c));
            else warnings.push_back("verify.anchor_unreadable: a trust anchor is not a DER certificate");
        }
        for (const auto& der : dssCrls) {
            if (auto c = crlFromDer(der)) crls_.push_back({std::move(c), true});
            else warnings.push_back("verify.crl_unreadable: a DSS CRL is not DER");
        }
        for (const auto& der : extraCrls) {
            if (auto c = crlFromDer(der)) crls_.push_back({std::move(c), false});
            else warnings.push_back("verify.crl_unreadable: a configured CRL is not DER");
        }
        const auto addOcsp = [&](const std::string& der, bool fromDss) {
            const char* where = fromDss ? "a DSS OCSP response" : "a configured OCSP response";
            const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
            std::unique_ptr<OCSP_RESPONSE, decltype(&OCSP_RESPONSE_free)> response(
                d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(der.size())), &OCSP_RESPONSE_free);
            ERR_clear_error();
            if (!response) {
                warnings.push_back(std::string("verify.ocsp_unusable: ") + where + " is not DER");
                return;
            }
            if (const int status = OCSP_response_status(response.get()); status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
                warnings.push_back(std::string("verify.ocsp_unusable: ") + where + " has status " + OCSP_response_status_str(status));
                return;
            }
            std::unique_ptr<OCSP_BASICRESP, BasicResponseFree> basic(OCSP_response_get1_basic(response.get()));
            ERR_clear_error();
            if (!basic) {
                warnings.push_back(std::string("verify.ocsp_unusable: ") + where + " is not a BasicOCSPResponse");
                return;
            }
            ocsps_.push_back({std::move(basic), fromDss});
        };
        for (const auto& der : dssOcsps) addOcsp(der, true);
        for (const auto& der : extraOcsps) addOcsp(der, false);
    }

    /// \p extraAnchorsDer: anchors for this signature only (a trusted list's CA/QC services at
    /// its signing time).
    ChainResult check(X509* leaf, const std::vector<std::string>& intermediatesDer, std::int64_t at,
                      const std::vector<std::string>& extraAnchorsDer = {}) const {
        ChainResult result;
        std::vector<X509Ptr> owned, extraAnchors;
        for (const auto& der : extraAnchorsDer) {
            if (auto c = certificateFromDer(der)) extraAnchors.push_back(std::move(c));
        }
        std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
        for (const auto& der : intermediatesDer) {
            if (auto c = certificateFromDer(der)) {
                sk_X509_push(untrusted.get(), c.get());
                owned.push_back(std::move(c));
            }
        }
        const auto run = [&](unsigned long flags, STACK_OF(X509_CRL)* crls, std::vector<std::string>* subjects,
                             std::vector<X509Ptr>* chainOut, const std::vector<X509*>* ocspCovered = nullptr) {
            std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
            for (const auto& anchor : anchors_) X509_STORE_add_cert(store.get(), anchor.get());
            for (const auto& anchor : extraAnchors) X509_STORE_add_cert(store.get(), anchor.get());
            std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
            if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
                return std::pair<bool, int>{false, X509_V_ERR_UNSPECIFIED};
            }
            X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
            X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
            // A configured anchor may be an intermediate CA (a trusted list names CA services,
            // not only roots): trust it without requiring its own issuer.
            X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | flags);
            if (crls != nullptr) X509_STORE_CTX_set0_crls(ctx.get(), crls);
            if (ocspCovered != nullptr) {
                X509_STORE_CTX_set_app_data(ctx.get(), const_cast<std::vector<X509*>*>(ocspCovered));
                X509_STORE_CTX_set_verify_cb(ctx.get(), acceptOcspCovered);
            }
            const bool ok = X509_verify_cert(ctx.get()) == 1;
            const int error = X509_STORE_CTX_get_error(ctx.get());
            if (ok && (subjects != nullptr || chainOut != nullptr)) {
                STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
                for (int i = 0; i < sk_X509_num(chain); ++i) {
                    X509* c = sk_X509_value(chain, i);
                    if (subjects) subjects->push_back(nameText(X509_get_subject_name(c)));
                    if (chainOut) {
                        X509_up_ref(c);
                        chainOut->push_back(X509Ptr(c));
                    }
                }
            }
            ERR_clear_error();
            return std::pair<bool, int>{ok, ok ? X509_V_OK : error};
        };

        std::vector<X509Ptr> chain;
        const auto [ok, error] = run(0, nullptr, &result.subjects, &chain);
        result.ok = ok;
        result.error = error;
        for (const auto& c : chain) result.chainDer.push_back(derOf(c.get()));
        if (!ok) {
            result.errorText = X509_verify_cert_error_string(error);
            return result;
        }
        // Revocation: per certificate below the anchor, an OCSP response of its issuer (RFC 6960)
        // or a CRL issued and signed by the next certificate.
        std::vector<X509*> pool;
        for (const auto& c : chain) pool.push_back(c.get());
        for (const auto& c : owned) pool.push_back(c.get());
        std::vector<OcspFinding> ocsp;
        for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
            ocsp.push_back(ocspStatus(chain[i].get(), chain[i + 1].get(), pool, at, result.warnings));
        }
        for (std::size_t i = 0; i < ocsp.size(); ++i) {
            if (ocsp[i].status != RevocationStatus::kRevoked) continue;
            result.revocation = RevocationStatus::kRevoked;
            result.revocationDetail = ocsp[i].detail;
            return result;
        }
        std::vector<X509*> ocspCovered;
        std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree> used(sk_X509_CRL_new_null());
        bool leafCovered = false, allCovered = chain.size() > 1, dssOnly = true;
        for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
            EVP_PKEY* issuerKey = X509_get0_pubkey(chain[i + 1].get());
            bool crlCovered = false, crlFromDssOnly = true;
            for (const auto& crl : crls_) {
                if (X509_NAME_cmp(X509_CRL_get_issuer(crl.crl.get()), X509_get_issuer_name(chain[i].get())) != 0) continue;
                if (issuerKey == nullptr || X509_CRL_verify(crl.crl.get(), issuerKey) != 1) continue;
                crlCovered = true;
                crlFromDssOnly = crlFromDssOnly && crl.fromDss;
                sk_X509_CRL_push(used.get(), crl.crl.get());
            }
            ERR_clear_error();
            const bool ocspGood = ocsp[i].status == RevocationStatus::kGood;
            if (ocspGood) ocspCovered.push_back(chain[i].get());
            const bool covered = crlCovered || ocspGood;
            if (covered) dssOnly = dssOnly && ((ocspGood && ocsp[i].fromDss) || (crlCovered && crlFromDssOnly));
            if (i == 0) leafCovered = covered;
            allCovered = allCovered && covered;
        }
        if (!leafCovered) {
            // An authentic OCSP answer that cannot vouch for the validation time ("unknown",
            // stale, not yet valid) is not the same as having no data at all.
            if (!ocsp.empty() && ocsp[0].status == RevocationStatus::kUnknown) {
                result.revocation = RevocationStatus::kUnknown;
                result.revocationDetail = ocsp[0].detail;
            }
            return result;
        }
        const unsigned long flags = X509_V_FLAG_CRL_CHECK | (allCovered ? X509_V_FLAG_CRL_CHECK_ALL : 0);
        const auto [crlOk, crlError] = run(flags, used.get(), nullptr, nullptr, &ocspCovered);
        result.revocationFromDssOnly = dssOnly;
        result.revocationLeafOnly = !allCovered;
        if (crlOk) {
            result.revocation = RevocationStatus::kGood;
        } else if (crlError == X509_V_ERR_CERT_REVOKED) {
            result.revocation = RevocationStatus::kRevoked;
            result.revocationDetail = X509_verify_cert_error_string(crlError);
        } else {
            result.revocation = RevocationStatus::kUnknown;
            result.revocationDetail = X509_verify_cert_error_string(crlError);
        }
        return result;
    }

private:
    /// RFC 6960: the responses naming \p certificate (CertID under the response's own hash
    /// algorithm, issued by \p issuer) whose signature verifies and whose responder is the issuer
    /// itself or a certificate the issuer gave id-kp-OCSPSigning (4.2.2.2); thisUpdate not after
    /// and nextUpdate not before \p at. Revoked beats good beats unknown across responses.
    OcspFinding ocspStatus(X509* certificate, X509* issuer, const std::vector<X509*>& pool, std::int64_t at,
                           std::vector<std::string>& warnings) const {
        OcspFinding finding;
        const std::string subject = nameText(X509_get_subject_name(certificate));
        const auto rank = [](RevocationStatus s) {
            return s == RevocationStatus::kRevoked ? 3 : s == RevocationStatus::kGood ? 2 : s == RevocationStatus::kUnknown ? 1 : 0;
        };
        const auto unusable = [&](const std::string& why) {
            const std::string warning = "verify.ocsp_unusable: the OCSP response for " + subject + " " + why;
            if (std::find(warnings.begin(), warnings.end(), warning) == warnings.end()) warnings.push_back(warning);
        };
        for (const auto& response : ocsps_) {
            OCSP_BASICRESP* basic = response.basic.get();
            OCSP_SINGLERESP* single = nullptr;
            for (int i = 0; single == nullptr && i < OCSP_resp_count(basic); ++i) {
                OCSP_SINGLERESP* candidate = OCSP_resp_get0(basic, i);
                ASN1_OBJECT* hashOid = nullptr;
                auto* id = const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(candidate));
                if (id == nullptr || OCSP_id_get0_info(nullptr, &hashOid, nullptr, nullptr, id) != 1) continue;
                const EVP_MD* md = EVP_get_digestbyobj(hashOid);
                if (md == nullptr) continue;
                std::unique_ptr<OCSP_CERTID, CertIdFree> ours(OCSP_cert_to_id(md, certificate, issuer));
                if (ours && OCSP_id_cmp(ours.get(), id) == 0) single = candidate;
            }
            ERR_clear_error();
            if (single == nullptr) continue;

            std::unique_ptr<STACK_OF(X509), StackFree> candidates(sk_X509_new_null());
            for (X509* c : pool) sk_X509_push(candidates.get(), c);
            X509* responder = nullptr;
            if (OCSP_resp_get0_signer(basic, &responder, candidates.get()) != 1 || responder == nullptr) {
                ERR_clear_error();
                unusable("does not carry or name its responder's certificate");
                continue;
            }
            // OCSP_NOVERIFY: only the signature with the responder's key; who may answer for
            // this certificate is decided below, against its issuer, not against the anchors.
            std::unique_ptr<X509_STORE, StoreFree> empty(X509_STORE_new());
            const bool signatureOk = empty && OCSP_basic_verify(basic, candidates.get(), empty.get(), OCSP_NOVERIFY) == 1;
            ERR_clear_error();
            if (!signatureOk) {
                unusable("has a signature that does not verify");
                continue;
            }
            bool authorized = X509_cmp(responder, issuer) == 0;
            if (!authorized) {
                EVP_PKEY* issuerKey = X509_get0_pubkey(issuer);
                const bool issuedByIssuer = X509_check_issued(issuer, responder) == X509_V_OK && issuerKey != nullptr &&
                                            X509_verify(responder, issuerKey) == 1;
                const bool ocspSigning = (X509_get_extension_flags(responder) & EXFLAG_XKUSAGE) != 0 &&
                                         (X509_get_extended_key_usage(responder) & XKU_OCSP_SIGN) != 0;
                const bool current = epochOf(X509_get0_notBefore(responder)) <= at && at <= epochOf(X509_get0_notAfter(responder));
                authorized = issuedByIssuer && ocspSigning && current;
                ERR_clear_error();
            }
            if (!authorized) {
                unusable("is signed by " + nameText(X509_get_subject_name(responder)) +
                         ", neither the issuing CA nor its delegated OCSP signer (RFC 6960 4.2.2.2)");
                continue;
            }
            int reason = 0;
            ASN1_GENERALIZEDTIME *revokedAt = nullptr, *thisUpdate = nullptr, *nextUpdate = nullptr;
            const int status = OCSP_single_get0_status(single, &reason, &revokedAt, &thisUpdate, &nextUpdate);
            OcspFinding answer;
            answer.fromDss = response.fromDss;
            if (thisUpdate == nullptr || epochOf(thisUpdate) > at + kOcspClockSkewSeconds) {
                answer.status = RevocationStatus::kUnknown;
                answer.detail = "the OCSP response for " + subject + " was produced after the validation time";
            } else if (nextUpdate != nullptr && epochOf(nextUpdate) + kOcspClockSkewSeconds < at) {
                answer.status = RevocationStatus::kUnknown;
                answer.detail = "the OCSP response for " + subject + " is stale (nextUpdate " + formatTime(epochOf(nextUpdate)) + ")";
            } else if (status == V_OCSP_CERTSTATUS_GOOD) {
                answer.status = RevocationStatus::kGood;
            } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
                answer.status = RevocationStatus::kRevoked;
                answer.detail = "an OCSP response says " + subject + " was revoked at " + formatTime(epochOf(revokedAt)) +
                                " (reason " + OCSP_crl_reason_str(reason) + ")";
            } else {
                answer.status = RevocationStatus::kUnknown;
                answer.detail = "the OCSP responder does not know " + subject;
            }
            if (rank(answer.status) > rank(finding.status) ||
                (rank(answer.status) == rank(finding.status) && answer.fromDss && !finding.fromDss)) {
                finding = std::move(answer);
            }
        }
        return finding;
    }

    std::vector<X509Ptr> anchors_;
    std::vector<Crl> crls_;
    std::vector<OcspResponse> ocsps_;
};

SubIndication chainSubIndication(int error) {
    switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return SubIndication::kOutOfBoundsNoPoe;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SubIndication::kNotYetValid;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SubIndication::kNoCertificateChainFound;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
        return SubIndication::kChainConstraintsFailure;
    default:
        return SubIndication::kCertificateChainGeneralFailure;
    }
}

// ------------------------------------------------------------------ times

int digits(std::string_view text, std::size_t at, std::size_t count, int fallback) {
    if (at + count > text.size()) return fallback;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

std::optional<std::int64_t> epochFromParts(int year, int month, int day, int hour, int minute, int second) {
    if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60) {
        return std::nullopt;
    }
    std::tm parts{};
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    return static_cast<std::int64_t>(timegm(&parts));
}

/// A PDF date, "D:YYYYMMDDHHmmSSOHH'mm'" with every part after the year optional.
std::optional<std::int64_t> parsePdfDate(std::string_view text) {
    if (text.substr(0, 2) == "D:") text.remove_prefix(2);
    const int year = digits(text, 0, 4, -1);
    const int month = digits(text, 4, 2, 1), day = digits(text, 6, 2, 1);
    const int hour = digits(text, 8, 2, 0), minute = digits(text, 10, 2, 0), second = digits(text, 12, 2, 0);
    auto epoch = epochFromParts(year, month, day, hour, minute, second);
    if (!epoch || text.size() <= 14) return epoch;
    const char sign = text[14];
    if (sign == '+' || sign == '-') {
        const int offsetHours = digits(text, 15, 2, 0);
        const int offsetMinutes = text.size() > 18 ? digits(text, 18, 2, 0) : 0;
        if (offsetHours < 0 || offsetMinutes < 0) return std::nullopt;
        const std::int64_t offset = offsetHours * 3600 + offsetMinutes * 60;
        *epoch += sign == '+' ? -offset : offset;
    }
    return epoch;
}

// ------------------------------------------------------------------ verdicts and sentences

struct Sentence {
    const char* en;
    const char* pl;
};

const std::map<std::string, Sentence>& sentences() {
    static const std::map<std::string, Sentence> table{
        {"verify.passed",
         {"The signature is intact, cryptographically valid, chains to a trusted anchor and the document was not changed "
          "afterwards in a forbidden way.",
          "Podpis jest nienaruszony, poprawny kryptograficznie, prowadzi do zaufanego urzędu certyfikacji, a dokument nie "
          "został później zmieniony w niedozwolony sposób."}},
        {"verify.passed/timestamp",
         {"The document timestamp is intact, cryptographically valid, issued by a trusted timestamping authority, and "
          "the document was not changed afterwards in a forbidden way.",
          "Znacznik czasu dokumentu jest nienaruszony, poprawny kryptograficznie, wystawiony przez zaufany urząd "
          "znakowania czasem, a dokument nie został później zmieniony w niedozwolony sposób."}},
        {"verify.contents_missing",
         {"The signature dictionary has no usable /Contents, so nothing was signed.",
          "Słownik podpisu nie ma użytecznego pola /Contents, więc nic nie zostało podpisane."}},
        {"verify.byte_range_invalid",
         {"The /ByteRange is malformed or points outside the file.",
          "Pole /ByteRange jest błędne albo wskazuje poza plik."}},
        {"verify.coverage_unclear",
         {"The signed byte range does not cleanly cover a revision of the file (only /Contents may be left out).",
          "Podpisany zakres bajtów nie obejmuje dokładnie wersji pliku (pominięte może być tylko /Contents)."}},
        {"verify.coverage_partial",
         {"The signed byte range stops inside a revision, so part of the signed revision is not covered.",
          "Podpisany zakres bajtów kończy się wewnątrz wersji pliku, więc jej część nie jest objęta podpisem."}},
        {"verify.contents_padding",
         {"The signature's /Contents holds data after the signature container that is not zero padding.",
          "Pole /Contents podpisu zawiera po kontenerze podpisu dane, które nie są dopełnieniem zerami."}},
        {"verify.cms_not_detached",
         {"The signature container carries content of its own instead of signing the document bytes.",
          "Kontener podpisu zawiera własną treść zamiast podpisywać bajty dokumentu."}},
        {"verify.algorithm_not_allowed",
         {"The signature uses an algorithm or key size the validation policy does not accept (SHA-1, MD5, RSA below "
          "2048 bits, an unknown digest, or an EdDSA digest RFC 8419 does not pair with the key).",
          "Podpis używa algorytmu albo długości klucza, których polityka weryfikacji nie akceptuje (SHA-1, MD5, RSA "
          "poniżej 2048 bitów, nieznany skrót albo skrót niedozwolony dla klucza EdDSA według RFC 8419)."}},
        {"verify.cms_unreadable",
         {"The signature container (CMS) cannot be read.", "Nie można odczytać kontenera podpisu (CMS)."}},
        {"verify.hash_failure",
         {"The document bytes do not match the signed digest: the file was changed after signing.",
          "Bajty dokumentu nie zgadzają się ze skrótem podpisanym: plik zmieniono po podpisaniu."}},
        {"verify.sig_crypto_failure",
         {"The signature value does not verify with the signer's certificate.",
          "Wartość podpisu nie weryfikuje się kluczem z certyfikatu podpisującego."}},
        {"verify.forbidden_modification",
         {"A later revision changed the document in a way the signature does not allow.",
          "Późniejsza wersja zmieniła dokument w sposób, na który podpis nie pozwala."}},
        {"verify.trailing_data",
         {"The file has data after its last revision that is not a valid incremental update.",
          "Plik zawiera dane po ostatniej wersji, które nie są poprawną aktualizacją przyrostową."}},
        {"verify.revoked",
         {"The signer's certificate (or a certificate of its chain) is revoked.",
          "Certyfikat podpisującego (albo certyfikat w jego ścieżce) został unieważniony."}},
        {"verify.no_chain",
         {"The signer's certificate does not chain to a trusted anchor.",
          "Certyfikat podpisującego nie prowadzi do zaufanego urzędu certyfikacji."}},
        {"verify.expired_no_poe",
         {"A certificate of the chain has expired and no valid timestamp proves the signature existed before.",
          "Certyfikat w ścieżce wygasł, a żaden ważny znacznik czasu nie dowodzi, że podpis powstał wcześniej."}},
        {"verify.not_yet_valid",
         {"A certificate of the chain is not yet valid at the validation time.",
          "Certyfikat w ścieżce nie jest jeszcze ważny w chwili weryfikacji."}},
        {"verify.chain_constraints",
         {"The certificate chain violates a constraint (CA flag, key usage, path length).",
          "Ścieżka certyfikacji narusza ograniczenie (flaga CA, użycie klucza, długość ścieżki)."}},
        {"verify.chain_failure",
         {"The certificate chain could not be validated.", "Nie udało się zweryfikować ścieżki certyfikacji."}},
        {"verify.timestamp_untrusted",
         {"The document timestamp is not a valid timestamp of a trusted timestamping authority.",
          "Znacznik czasu dokumentu nie jest ważnym znacznikiem zaufanego urzędu znakowania czasem."}},
        {"verify.revocation_missing",
         {"Revocation data for the chain is required but missing or not fresh.",
          "Wymagane są dane o unieważnieniu certyfikatów, ale ich brak albo są nieaktualne."}},
    };
    return table;
}

void decide(SignatureReport& r, Indication indication, SubIndication sub, const std::string& reason) {
    r.indication = indication;
    r.subIndication = sub;
    r.reason = reason;
    const auto& table = sentences();
    auto it = r.documentTimestamp ? table.find(reason + "/timestamp") : table.end();
    if (it == table.end()) it = table.find(reason);
    if (it != table.end()) {
        r.messageEn = it->second.en;
        r.messagePl = it->second.pl;
    }
}

// ------------------------------------------------------------------ EU trusted lists

/// The certificates of the lists' CA/QC (or TSA/QTST) services qualifying at \p at.
std::vector<std::string> listCertificates(const VerifyOptions& options, std::int64_t at, bool tsa) {
    std::vector<std::string> out;
    for (const auto& list : options.trustedLists) {
        for (auto& der : tsa ? trust::qualifiedTsaCertificates(list, at) : trust::qualifiedCaCertificates(list, at)) {
            out.push_back(std::move(der));
        }
    }
    return out;
}

struct TimestampCheck {
    bool valid = false;
    bool qualified = false; ///< verified against the TSA/QTST services alone
    std::string whyNot;
};

/// A timestamp token against the configured anchors and the lists' services at its own genTime:
/// qualified when the TSA/QTST services alone suffice.
TimestampCheck checkTimestamp(std::string_view token, const Sha256& imprint, const VerifyOptions& options,
                              std::optional<std::int64_t> validationTime) {
    TimestampCheck result;
    std::vector<std::string> anchors = options.trustAnchorsDer;
    if (!options.trustedLists.empty()) {
        std::int64_t genTime = validationTime.value_or(0);
        try {
            genTime = signing::inspectTimestampToken(token).genTime;
        } catch (const Error&) {
        }
        const auto qualified = listCertificates(options, genTime, true);
        if (!qualified.empty() && signing::verifyTimestampToken(token, imprint, qualified, nullptr, validationTime)) {
            result.valid = result.qualified = true;
            return result;
        }
        for (auto& der : qualified) anchors.push_back(std::move(der));
        for (auto& der : listCertificates(options, genTime, false)) anchors.push_back(std::move(der));
    }
    result.valid = signing::verifyTimestampToken(token, imprint, anchors, &result.whyNot, validationTime);
    return result;
}

/// The eIDAS level of a TOTAL-PASSED signature: the first certificate above the signer that a
/// list names as a CA/QC service at \p at decides.
Qualification qualificationOf(const std::vector<std::string>& chainDer, const VerifyOptions& options, std::int64_t at) {
    for (std::size_t i = 1; i < chainDer.size(); ++i) {
        for (const auto& list : options.trustedLists) {
            const trust::Qualification q = trust::qualificationOf(list, chainDer[i], at);
            if (!q.qualifiedCa) continue;
            if (q.forESignatures) return Qualification::kQualifiedESignature;
            if (q.forESeals) return Qualification::kQualifiedESeal;
            return Qualification::kAdvanced;
        }
    }
    return Qualification::kAdvanced;
}

SignatureReport verifyOne(const pdf::SignatureInfo& s, const pdf::DocumentAnalysis& analysis, std::string_view pdf,
                          const Dss& dss, const TrustContext& trust, const VerifyOptions& options, std::int64_t now) {
    SignatureReport r;
    r.fieldName = s.fieldName;
    r.subFilter = s.subFilter;
    r.documentTimestamp = s.isDocumentTimestamp() || s.subFilter == "ETSI.RFC3161";
    r.revision = s.signedRevision.value_or(0);
    r.coverage = s.coverage;
    r.coverageProblem = s.coverageProblem;
    r.modificationLevel = s.modificationLevel;
    r.docMdpOk = s.docMdpOk;
    r.certification = s.certification;
    r.docMdpPermission = s.docMdpPermission;
    for (const auto& f : s.findings) r.modificationFindings.push_back(f.code + ": " + f.detail);
    // DocMDP binds the whole document (ISO 32000-2 12.8.2.2): changes after a later approval
    // signature must stay within the certification's permission too. pyHanko judges an approval
    // signature by its own lock only; Kooperdoc's policy fails every DocMDP violation (issue 4),
    // so an annotation added to a P2-certified document fails every signature before it.
    if (!s.certification) {
        for (const auto& other : analysis.signatures) {
            if (!other.certification || !other.docMdpPermission) continue;
            if (other.signedRevision.value_or(0) > s.signedRevision.value_or(0)) continue;
            if (!pdf::docMdpPermits(other.docMdpPermission, s.modificationLevel)) {
                r.docMdpOk = false;
                r.modificationFindings.push_back("diff.docmdp_document: the certification signature \"" + other.fieldName +
                                                 "\" permits P=" + std::to_string(*other.docMdpPermission) + ", not " +
                                                 pdf::toString(s.modificationLevel) + " changes after this signature");
            }
        }
    }
    r.claimedSigningTimeRaw = s.signingTime;
    r.claimedSigningTime = parsePdfDate(s.signingTime);

    // 1. Structure: what is signed must be findable before anything can be checked.
    const std::string& contents = s.contents;
    if (contents.find_first_not_of('\0') == std::string::npos) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.contents_missing");
        return r;
    }
    // Every (offset, length) pair must lie inside the file for anything to be hashed; pyHanko
    // still hashes odd shapes (one range, a gap that is too big), so intact is reported for them
    // and the shape decides the verdict below.
    const auto& br = s.byteRange;
    bool pairsInFile = s.byteRangeIntegers && !br.empty() && br.size() % 2 == 0;
    for (std::size_t i = 0; pairsInFile && i < br.size(); i += 2) {
        pairsInFile = br[i] >= 0 && br[i + 1] >= 0 &&
                      static_cast<std::uint64_t>(br[i]) + static_cast<std::uint64_t>(br[i + 1]) <= pdf.size();
    }
    if (!pairsInFile) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.byte_range_invalid");
        return r;
    }
    const bool rangeShapeSound = br.size() == 4 && br[0] == 0 && br[1] > 0 && br[2] > br[1] && br[3] >= 0;
    std::string signedBytes;
    for (std::size_t i = 0; i < br.size(); i += 2) {
        signedBytes.append(pdf.substr(static_cast<std::size_t>(br[i]), static_cast<std::size_t>(br[i + 1])));
    }

    const auto* derStart = reinterpret_cast<const unsigned char*>(contents.data());
    const auto* derCursor = derStart;
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &derCursor, static_cast<long>(contents.size())));
    if (!cms) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.cms_unreadable");
        return r;
    }
    const std::string cmsDer = contents.substr(0, static_cast<std::size_t>(derCursor - derStart));
    // Only zeros may follow the DER inside /Contents: anything else is unsigned data hidden in
    // the signed-looking gap (a signature-wrapping variant).
    if (contents.find_first_not_of('\0', cmsDer.size()) != std::string::npos) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.contents_padding");
        return r;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.cms_unreadable");
        return r;
    }
    X509Ptr signerCertificate;
    std::vector<std::string> intermediates;
    std::optional<std::int64_t> ownGenTime;
    bool cryptoConstraintViolated = false;
    bool digestAlgorithmUnknown = false;

    // 2. Integrity and the signature value.
    if (r.documentTimestamp) {
        try {
            const auto info = signing::inspectTimestampToken(cmsDer);
            r.digestAlgorithm = info.imprintAlgorithmOid == kSha256Oid ? "SHA256" : info.imprintAlgorithmOid;
            r.intact = info.imprintAlgorithmOid == kSha256Oid && info.imprint == sha256(signedBytes);
            r.cryptoValid = cmsSignatureVerifies(cms.get(), nullptr);
            intermediates = info.certificatesDer;
            if (!info.tsaCertificateDer.empty()) signerCertificate = certificateFromDer(info.tsaCertificateDer);
            ownGenTime = info.genTime;
        } catch (const Error&) {
            decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.cms_unreadable");
            return r;
        }
    } else {
        signerCertificate = signerCertificateOf(cms.get());
        const signing::CmsCheck check = signing::checkDetachedCms(cmsDer, signedBytes);
        r.digestAlgorithm = check.digestAlgorithm;
        if (!r.claimedSigningTime) r.claimedSigningTime = check.claimedSigningTime;
        std::optional<OwnCheck> edDsa;
        if (signerCertificate) edDsa = checkEdDsa(cms.get(), signerCertificate.get(), signedBytes);
        if (CMS_is_detached(cms.get()) != 1) {
            // A PDF signature signs the byte range, never content of its own (ISO 32000-2
            // 12.8.3.3); pyHanko rejects such a CMS as well.
            decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.cms_not_detached");
            return r;
        } else if (edDsa) {
            r.intact = edDsa->intact;
            r.cryptoValid = edDsa->valid;
            r.digestAlgorithm = edDsa->digestAlgorithm;
            if (!edDsa->digestAllowedForKey) cryptoConstraintViolated = true;
        } else if (!hasSignedAttributes(cms.get())) {
            // Without signed attributes the signature is over the content itself: digest and
            // signature cannot be told apart, one verification answers both.
            r.intact = r.cryptoValid = cmsSignatureVerifies(cms.get(), &signedBytes);
        } else if (check.parsed) {
            r.intact = check.digestMatches;
            r.cryptoValid = check.signatureValid;
            // A digest algorithm we do not know proves nothing either way: not HASH_FAILURE (that
            // claims the file changed) but INDETERMINATE, like an algorithm below the policy.
            digestAlgorithmUnknown = check.digestAlgorithm == "unknown";
        } else {
            decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.cms_unreadable");
            r.warnings.push_back("verify.cms_detail: " + check.failure);
            return r;
        }
        intermediates = cmsCertificates(cms.get());
        if (!edDsa) {
            const std::string problem = cryptoConstraintProblem(cms.get(), signerCertificate.get(), r.digestAlgorithm);
            if (!problem.empty()) {
                cryptoConstraintViolated = true;
                r.warnings.push_back("verify.crypto_constraint: " + problem);
            }
        }
    }
    if (signerCertificate) r.signer = summarize(signerCertificate.get());

    // Signature timestamp (B-T): a proof of existence at its genTime when it verifies.
    if (!r.documentTimestamp) {
        std::vector<std::string> tokens;
        try {
            tokens = signing::signatureTimestampTokens(cmsDer);
        } catch (const Error&) {
        }
        if (!tokens.empty()) {
            r.signatureTimestampPresent = true;
            const std::string value = signatureValueOf(cms.get());
            TimestampCheck timestamp;
            if (value.empty()) timestamp.whyNot = "no signature value";
            else timestamp = checkTimestamp(tokens.front(), sha256(value), options, now);
            r.signatureTimestampValid = timestamp.valid;
            if (r.signatureTimestampValid) {
                r.timestampTime = signing::inspectTimestampToken(tokens.front()).genTime;
                r.timestampQualified = timestamp.qualified;
            } else {
                r.warnings.push_back("verify.signature_timestamp_invalid: " + timestamp.whyNot);
            }
        }
    }

    // 3. Chain at the validation time, or at a proven earlier time when a certificate expired.
    // The lists' services qualifying at the signing time are anchors for this signature: the
    // verified timestamp's time, else the validation time (a document timestamp: its own genTime).
    const std::int64_t signingTime = r.documentTimestamp ? ownGenTime.value_or(now) : r.timestampTime.value_or(now);
    std::vector<std::string> listAnchors;
    if (!options.trustedLists.empty()) {
        listAnchors = listCertificates(options, signingTime, false);
        if (r.documentTimestamp) {
            for (auto& der : listCertificates(options, signingTime, true)) listAnchors.push_back(std::move(der));
        }
    }
    ChainResult chain;
    if (signerCertificate) {
        std::vector<std::string> pool = intermediates;
        pool.insert(pool.end(), dss.certificatesDer.begin(), dss.certificatesDer.end());
        r.chainValidationTime = now;
        chain = trust.check(signerCertificate.get(), pool, now, listAnchors);
        if (!chain.ok && chain.error == X509_V_ERR_CERT_HAS_EXPIRED && r.timestampTime && r.signer &&
            *r.timestampTime <= r.signer->notAfter) {
            ChainResult atPoe = trust.check(signerCertificate.get(), pool, *r.timestampTime, listAnchors);
            if (atPoe.ok) {
                chain = std::move(atPoe);
                r.chainValidationTime = *r.timestampTime;
                r.warnings.push_back("verify.validated_at_timestamp: the signer's certificate has expired; the chain was "
                                     "validated at the signature timestamp's time");
            }
        }
        r.trusted = chain.ok;
        r.chain = chain.subjects;
        r.revocation = chain.revocation;
        for (const auto& w : chain.warnings) r.warnings.push_back(w);
        if (!chain.ok) r.warnings.push_back("verify.chain: " + chain.errorText);
    } else {
        chain.error = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
        r.warnings.push_back("verify.signer_certificate_missing: the CMS does not carry the signer's certificate");
    }
    bool timestampSpecificOk = true;
    if (r.documentTimestamp && r.trusted) {
        const TimestampCheck timestamp = checkTimestamp(cmsDer, sha256(signedBytes), options, r.chainValidationTime);
        timestampSpecificOk = timestamp.valid;
        if (!timestampSpecificOk) {
            r.warnings.push_back("verify.timestamp: " + timestamp.whyNot);
        } else {
            r.timestampTime = ownGenTime;
            r.timestampQualified = timestamp.qualified;
        }
    }

    // PAdES level reached (for ETSI.CAdES.detached signatures only: adbe.* are not PAdES).
    if (!r.documentTimestamp && s.subFilter == "ETSI.CAdES.detached" && r.intact && r.cryptoValid) {
        r.padesLevel = "B-B";
        if (r.signatureTimestampValid) {
            r.padesLevel = "B-T";
            if (dss.present && r.trusted && chain.revocation == RevocationStatus::kGood && chain.revocationFromDssOnly &&
                !chain.revocationLeafOnly) {
                r.padesLevel = "B-LT";
            }
        }
    }

    // 4. The verdict, most serious first: structure, crypto, later changes, revocation, chain.
    const bool trailingData = analysis.trailingBytes > 0 && !analysis.trailingBytesWhitespaceOnly;
    if (!rangeShapeSound) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.byte_range_invalid");
    } else if (s.coverage == pdf::Coverage::kUnclear) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.coverage_unclear");
    } else if (digestAlgorithmUnknown) {
        decide(r, Indication::kIndeterminate, SubIndication::kCryptoConstraintsFailureNoPoe, "verify.algorithm_not_allowed");
    } else if (!r.intact) {
        decide(r, Indication::kTotalFailed, SubIndication::kHashFailure, "verify.hash_failure");
    } else if (!r.cryptoValid) {
        decide(r, Indication::kTotalFailed, SubIndication::kSigCryptoFailure, "verify.sig_crypto_failure");
    } else if (trailingData) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.trailing_data");
    } else if (s.coverage == pdf::Coverage::kContiguousBlockFromStart) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.coverage_partial");
    } else if (s.modificationLevel == pdf::ModificationLevel::kOther || !r.docMdpOk) {
        decide(r, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.forbidden_modification");
    } else if (cryptoConstraintViolated) {
        decide(r, Indication::kIndeterminate, SubIndication::kCryptoConstraintsFailureNoPoe, "verify.algorithm_not_allowed");
    } else if (r.trusted && r.revocation == RevocationStatus::kRevoked) {
        decide(r, Indication::kTotalFailed, SubIndication::kRevoked, "verify.revoked");
    } else if (!r.trusted) {
        const SubIndication sub = chainSubIndication(chain.error);
        const char* reason = sub == SubIndication::kOutOfBoundsNoPoe        ? "verify.expired_no_poe"
                             : sub == SubIndication::kNotYetValid           ? "verify.not_yet_valid"
                             : sub == SubIndication::kNoCertificateChainFound ? "verify.no_chain"
                             : sub == SubIndication::kChainConstraintsFailure ? "verify.chain_constraints"
                                                                              : "verify.chain_failure";
        decide(r, Indication::kIndeterminate, sub, reason);
    } else if (!timestampSpecificOk) {
        decide(r, Indication::kIndeterminate, SubIndication::kCertificateChainGeneralFailure, "verify.timestamp_untrusted");
    } else if (r.revocation != RevocationStatus::kGood && options.requireRevocation) {
        // ETSI EN 319 102-1 5.2.6: revocation status information is missing or not fresh enough
        // and may become available later → INDETERMINATE / TRY_LATER.
        decide(r, Indication::kIndeterminate, SubIndication::kTryLater, "verify.revocation_missing");
    } else {
        decide(r, Indication::kTotalPassed, SubIndication::kNone, "verify.passed");
        if (r.revocation == RevocationStatus::kNotChecked) {
            r.warnings.push_back("verify.no_revocation_data: no CRL or OCSP response for the chain in the DSS or the configuration");
        } else if (r.revocation == RevocationStatus::kUnknown) {
            r.warnings.push_back("verify.revocation_unknown: " + chain.revocationDetail);
        } else if (chain.revocationLeafOnly) {
            r.warnings.push_back("verify.revocation_leaf_only: only the signer's certificate had a CRL or OCSP response");
        }
    }
    if (r.passed()) {
        r.qualification = r.documentTimestamp ? (r.timestampQualified ? Qualification::kQualifiedTimestamp : Qualification::kTimestamp)
                                              : qualificationOf(chain.chainDer, options, signingTime);
    }
    return r;
}

} // namespace

const char* toString(Indication indication) {
    switch (indication) {
    case Indication::kTotalPassed: return "TOTAL-PASSED";
    case Indication::kTotalFailed: return "TOTAL-FAILED";
    case Indication::kIndeterminate: return "INDETERMINATE";
    }
    return "INDETERMINATE";
}

const char* toString(SubIndication s) {
    switch (s) {
    case SubIndication::kNone: return "";
    case SubIndication::kFormatFailure: return "FORMAT_FAILURE";
    case SubIndication::kHashFailure: return "HASH_FAILURE";
    case SubIndication::kSigCryptoFailure: return "SIG_CRYPTO_FAILURE";
    case SubIndication::kRevoked: return "REVOKED";
    case SubIndication::kNoCertificateChainFound: return "NO_CERTIFICATE_CHAIN_FOUND";
    case SubIndication::kOutOfBoundsNoPoe: return "OUT_OF_BOUNDS_NO_POE";
    case SubIndication::kNotYetValid: return "NOT_YET_VALID";
    case SubIndication::kChainConstraintsFailure: return "CHAIN_CONSTRAINTS_FAILURE";
    case SubIndication::kCertificateChainGeneralFailure: return "CERTIFICATE_CHAIN_GENERAL_FAILURE";
    case SubIndication::kTryLater: return "TRY_LATER";
    case SubIndication::kSignedDataNotFound: return "SIGNED_DATA_NOT_FOUND";
    case SubIndication::kCryptoConstraintsFailureNoPoe: return "CRYPTO_CONSTRAINTS_FAILURE_NO_POE";
    }
    return "";
}

const char* toString(RevocationStatus status) {
    switch (status) {
    case RevocationStatus::kNotChecked: return "not_checked";
    case RevocationStatus::kGood: return "good";
    case RevocationStatus::kRevoked: return "revoked";
    case RevocationStatus::kUnknown: return "unknown";
    }
    return "unknown";
}

const char* toString(Qualification qualification) {
    switch (qualification) {
    case Qualification::kNone: return "none";
    case Qualification::kAdvanced: return "advanced";
    case Qualification::kQualifiedESignature: return "qualified_esignature";
    case Qualification::kQualifiedESeal: return "qualified_eseal";
    case Qualification::kTimestamp: return "timestamp";
    case Qualification::kQualifiedTimestamp: return "qualified_timestamp";
    }
    return "none";
}

bool VerificationReport::allPassed() const {
    return readable() && !signatures.empty() &&
           std::all_of(signatures.begin(), signatures.end(), [](const SignatureReport& s) { return s.passed(); });
}

VerificationReport verifyPdf(std::string_view pdf, const VerifyOptions& options) {
    VerificationReport report;
    report.fileSize = pdf.size();
    report.fileSha256Hex = sha256Hex(pdf);
    const std::int64_t now = options.validationTime.value_or(static_cast<std::int64_t>(std::time(nullptr)));
    report.validationTime = now;
    try {
        const pdf::PdfReader reader(std::string(pdf), options.limits);
        const pdf::DocumentAnalysis analysis = pdf::analyzeDocument(reader);
        report.revisionCount = analysis.revisionCount;
        report.trailingBytes = analysis.trailingBytes;
        report.emptySignatureFields = analysis.emptySignatureFields;
        report.document = readDocument(reader, analysis.emptySignatureFields, report.warnings);
        for (const auto& w : analysis.warnings) report.warnings.push_back(w.code + ": " + w.detail);
        const Dss dss = readDss(reader, report.warnings);
        const TrustContext trust(options.trustAnchorsDer, dss.crlsDer, options.extraCrlsDer, dss.ocspResponsesDer,
                                 options.extraOcspResponsesDer, report.warnings);
        for (const auto& signature : analysis.signatures) {
            // The reader's time budget covers the CMS and chain work too; checked here, outside
            // the per-signature catch, it ends the whole report as pdf.limit_exceeded.
            reader.checkDeadline();
            try {
                report.signatures.push_back(verifyOne(signature, analysis, pdf, dss, trust, options, now));
            } catch (const Error& e) {
                // One unreadable signature must not hide the verdicts on the others.
                SignatureReport broken;
                broken.fieldName = signature.fieldName;
                broken.subFilter = signature.subFilter;
                broken.documentTimestamp = signature.isDocumentTimestamp();
                broken.revision = signature.signedRevision.value_or(0);
                decide(broken, Indication::kTotalFailed, SubIndication::kFormatFailure, "verify.cms_unreadable");
                broken.warnings.push_back(e.reason() + ": " + e.what());
                report.signatures.push_back(std::move(broken));
            }
        }
        // B-LTA: a later document timestamp that passed covers a B-LT signature.
        for (auto& s : report.signatures) {
            if (s.padesLevel != "B-LT") continue;
            for (const auto& t : report.signatures) {
                if (t.documentTimestamp && t.revision > s.revision && t.passed()) s.padesLevel = "B-LTA";
            }
        }
    } catch (const Error& e) {
        report.formatIndication = Indication::kTotalFailed;
        report.formatReason = e.reason();
        report.formatDetail = e.what();
        report.signatures.clear();
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        report.formatIndication = Indication::kTotalFailed;
        report.formatReason = "verify.unreadable";
        report.formatDetail = e.what();
        report.signatures.clear();
    }
    ERR_clear_error();
    return report;
}

std::vector<std::string> certificatesFromPemOrDer(std::string_view bytes) {
    std::vector<std::string> out;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    while (bio) {
        X509Ptr c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!c) break;
        out.push_back(derOf(c.get()));
    }
    ERR_clear_error();
    if (out.empty()) {
        if (auto c = certificateFromDer(bytes)) out.push_back(derOf(c.get()));
    }
    if (out.empty()) throw Error(ErrorCode::kInvalidArgument, "verify.certificate_unreadable", "no certificate in PEM or DER");
    return out;
}

std::vector<std::string> crlsFromPemOrDer(std::string_view bytes) {
    std::vector<std::string> out;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    while (bio) {
        CrlPtr c(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
        if (!c) break;
        unsigned char* der = nullptr;
        const int length = i2d_X509_CRL(c.get(), &der);
        if (length > 0) out.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
        OPENSSL_free(der);
    }
    ERR_clear_error();
    if (out.empty() && crlFromDer(bytes)) out.emplace_back(bytes);
    if (out.empty()) throw Error(ErrorCode::kInvalidArgument, "verify.crl_unreadable", "no CRL in PEM or DER");
    return out;
}

std::string ocspResponseFromDer(std::string_view bytes) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
    std::unique_ptr<OCSP_RESPONSE, decltype(&OCSP_RESPONSE_free)> response(
        d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(bytes.size())), &OCSP_RESPONSE_free);
    ERR_clear_error();
    if (!response) throw Error(ErrorCode::kInvalidArgument, "verify.ocsp_unreadable", "not a DER OCSP response");
    return std::string(bytes);
}

std::optional<std::int64_t> parseTime(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        if (text.size() > 12) return std::nullopt;
        return std::stoll(std::string(text));
    }
    // YYYY-MM-DD[THH:MM[:SS]]Z
    if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    const int year = digits(text, 0, 4, -1), month = digits(text, 5, 2, -1), day = digits(text, 8, 2, -1);
    int hour = 0, minute = 0, second = 0;
    std::string_view rest = text.substr(10);
    if (!rest.empty()) {
        if (rest[0] != 'T' || rest.back() != 'Z') return std::nullopt;
        rest = rest.substr(1, rest.size() - 2);
        if (rest.size() != 5 && rest.size() != 8) return std::nullopt;
        if (rest[2] != ':' || (rest.size() == 8 && rest[5] != ':')) return std::nullopt;
        hour = digits(rest, 0, 2, -1);
        minute = digits(rest, 3, 2, -1);
        if (rest.size() == 8) second = digits(rest, 6, 2, -1);
    }
    return epochFromParts(year, month, day, hour, minute, second);
}

std::string formatTime(std::int64_t epochSeconds) {
    const auto seconds = static_cast<time_t>(epochSeconds);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

} // namespace kooperdoc::verify
