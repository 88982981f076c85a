// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/SigningIdentity.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <ctime>

#include "kooperdoc/core/Error.h"
#include "OpenSsl.h"

namespace kooperdoc::signing {
namespace {

using namespace openssl;

using Pkcs12Ptr = std::unique_ptr<PKCS12, Free<PKCS12_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;

/// Stacks whose elements belong to someone else: only the stack itself is freed.
struct X509StackView {
    void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};
struct AttributeStackView {
    void operator()(STACK_OF(X509_ATTRIBUTE) * stack) const noexcept { sk_X509_ATTRIBUTE_free(stack); }
};


int checkedLength(std::size_t size, const char* what) {
    if (size > static_cast<std::size_t>(INT_MAX)) {
        throw Error(ErrorCode::kInvalidArgument, "identity.invalid", std::string(what) + " is too large");
    }
    return static_cast<int>(size);
}

BioPtr memoryBio(std::string_view data, const char* what) {
    BioPtr bio(BIO_new_mem_buf(data.data(), checkedLength(data.size(), what)));
    if (!bio) fail(ErrorCode::kInternal, "crypto.bio", "cannot allocate a memory BIO");
    return bio;
}


std::string nameToRfc2253(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    // Without ESC_MSB the UTF-8 bytes of "Ś" stay as they are instead of becoming "\C5\9A".
    const unsigned long flags = XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
        fail(ErrorCode::kInternal, "crypto.encode", "cannot print a distinguished name");
    }
    char* data = nullptr;
    const long length = BIO_ctrl(bio.get(), BIO_CTRL_INFO, 0, &data);
    return std::string(data, static_cast<std::size_t>(std::max(length, 0L)));
}

std::string serialToHex(const X509* certificate) {
    BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
    char* hex = serial ? BN_bn2hex(serial.get()) : nullptr;
    if (hex == nullptr) fail(ErrorCode::kInvalidArgument, "identity.invalid", "unreadable certificate serial number");
    std::string out(hex);
    OPENSSL_free(hex);
    return out;
}

std::int64_t toEpochSeconds(const ASN1_TIME* time) {
    std::tm parts{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
        fail(ErrorCode::kInvalidArgument, "identity.invalid", "unreadable certificate validity");
    }
    return static_cast<std::int64_t>(timegm(&parts));
}

std::string formatUtc(std::int64_t epochSeconds) {
    const std::time_t time = static_cast<std::time_t>(epochSeconds);
    std::tm parts{};
    char buffer[32] = "?";
    if (gmtime_r(&time, &parts) != nullptr) std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

/// The key types PAdES B-B with SHA-256 is built for; anything else is refused at load time,
/// not at the first signature.
std::string describeKey(EVP_PKEY* publicKey) {
    if (publicKey == nullptr)
        fail(ErrorCode::kInvalidArgument, "identity.invalid", "the certificate has no usable public key");
    if (EVP_PKEY_is_a(publicKey, "RSA")) {
        const int bits = EVP_PKEY_get_bits(publicKey);
        if (bits >= 2048) return "RSA-" + std::to_string(bits);
        throw Error(ErrorCode::kInvalidArgument, "identity.unsupported_key",
                    "RSA keys shorter than 2048 bits are not accepted (this one has " + std::to_string(bits) + ")");
    }
    if (EVP_PKEY_is_a(publicKey, "EC")) {
        char group[80] = "";
        std::size_t length = 0;
        if (EVP_PKEY_get_group_name(publicKey, group, sizeof group, &length) == 1) {
            const std::string name(group, length);
            if (name == "prime256v1" || name == "P-256") return "ECDSA-P256";
            drainOpenSslErrors();
            throw Error(ErrorCode::kInvalidArgument, "identity.unsupported_key",
                        "only the P-256 curve is supported, not " + name);
        }
    }
    drainOpenSslErrors();
    throw Error(ErrorCode::kInvalidArgument, "identity.unsupported_key",
                std::string("unsupported key type ") + EVP_PKEY_get0_type_name(publicKey) +
                    "; expected RSA (2048 bits or more) or ECDSA P-256");
}

std::vector<X509Ptr> readCertificates(std::string_view pem) {
    ERR_clear_error();
    BioPtr bio = memoryBio(pem, "the certificate PEM");
    std::vector<X509Ptr> certificates;
    while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr)) {
        certificates.emplace_back(certificate);
    }
    // Running out of PEM blocks ends the loop with "no start line"; any other error is a broken block.
    const unsigned long last = ERR_peek_last_error();
    if (last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
        fail(ErrorCode::kInvalidArgument, "identity.invalid", "cannot read the certificate PEM");
    }
    ERR_clear_error();
    if (certificates.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "identity.invalid", "the certificate PEM holds no certificate");
    }
    return certificates;
}

/// Everything a SigningIdentity holds. Outside the class so helpers here may use it while
/// SigningIdentity::Impl stays private.
struct IdentityState {
    X509Ptr certificate;
    std::vector<X509Ptr> chain;
    PkeyPtr privateKey; // null for an identity whose key is on a remote card
    std::string certificateDer;
    std::vector<std::string> chainDer;
    std::string subject;
    std::string issuer;
    std::string serialHex;
    std::string keyAlgorithm;
    std::int64_t notBefore = 0;
    std::int64_t notAfter = 0;
    bool keyUsageAllowsSigning = true;
};

void initState(IdentityState& state, X509Ptr certificate, std::vector<X509Ptr> chain, PkeyPtr privateKey) {
    if (privateKey && X509_check_private_key(certificate.get(), privateKey.get()) != 1) {
        fail(ErrorCode::kInvalidArgument, "identity.key_mismatch",
             "the private key does not belong to the certificate");
    }
    ERR_clear_error();
    state.keyAlgorithm = describeKey(X509_get0_pubkey(certificate.get()));
    state.certificateDer = certificateToDer(certificate.get());
    // A chain file often repeats a certificate (the signer's own, or a CA pasted twice); CMS
    // refuses duplicates, and a user should not have to edit PEM files to please it.
    std::vector<X509Ptr> distinct;
    for (X509Ptr& link : chain) {
        auto der = certificateToDer(link.get());
        if (der == state.certificateDer || std::find(state.chainDer.begin(), state.chainDer.end(), der) != state.chainDer.end()) {
            continue;
        }
        state.chainDer.push_back(std::move(der));
        distinct.push_back(std::move(link));
    }
    chain = std::move(distinct);
    state.subject = nameToRfc2253(X509_get_subject_name(certificate.get()));
    state.issuer = nameToRfc2253(X509_get_issuer_name(certificate.get()));
    state.serialHex = serialToHex(certificate.get());
    state.notBefore = toEpochSeconds(X509_get0_notBefore(certificate.get()));
    state.notAfter = toEpochSeconds(X509_get0_notAfter(certificate.get()));
    // Also caches the parsed extensions now, so concurrent signers only read the certificate.
    const std::uint32_t extensionFlags = X509_get_extension_flags(certificate.get());
    if ((extensionFlags & EXFLAG_INVALID) != 0) {
        fail(ErrorCode::kInvalidArgument, "identity.invalid", "the certificate has malformed extensions");
    }
    state.keyUsageAllowsSigning =
        (extensionFlags & EXFLAG_KUSAGE) == 0 ||
        (X509_get_key_usage(certificate.get()) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0;
    state.certificate = std::move(certificate);
    state.chain = std::move(chain);
    state.privateKey = std::move(privateKey);
}

void checkUsableAt(const IdentityState& state, std::int64_t atEpochSeconds) {
    if (atEpochSeconds > state.notAfter) {
        throw Error(ErrorCode::kFailedPrecondition, "identity.expired",
                    "the certificate of " + state.subject + " expired at " + formatUtc(state.notAfter) +
                        ", before the signing time " + formatUtc(atEpochSeconds));
    }
    if (atEpochSeconds < state.notBefore) {
        throw Error(ErrorCode::kFailedPrecondition, "identity.not_yet_valid",
                    "the certificate of " + state.subject + " is valid only from " + formatUtc(state.notBefore) +
                        ", after the signing time " + formatUtc(atEpochSeconds));
    }
    if (!state.keyUsageAllowsSigning) {
        throw Error(ErrorCode::kFailedPrecondition, "identity.key_usage",
                    "the key usage of the certificate of " + state.subject +
                        " allows neither digitalSignature nor nonRepudiation");
    }
}

/// A SignedData with one signer whose signature is still empty, and the DER of its signed
/// attributes. Built from the certificate's public key only, so the local and the remote flow
/// share it and the remote flow needs no private key.
struct UnsignedCms {
    CmsPtr cms;
    CMS_SignerInfo* signer = nullptr; // owned by cms
    std::string signedAttributesDer;
};

UnsignedCms buildUnsignedCms(const IdentityState& state, std::string_view content) {
    constexpr unsigned int kFlags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL;
    ERR_clear_error();
    std::unique_ptr<STACK_OF(X509), X509StackView> chain(sk_X509_new_null());
    if (!chain) fail(ErrorCode::kInternal, "crypto.cms", "cannot allocate a certificate stack");
    for (const X509Ptr& link : state.chain) {
        if (sk_X509_push(chain.get(), link.get()) <= 0)
            fail(ErrorCode::kInternal, "crypto.cms", "cannot build the chain");
    }
    UnsignedCms result;
    // CMS_sign adds each chain certificate with its own reference.
    result.cms.reset(CMS_sign(nullptr, nullptr, chain.get(), nullptr, kFlags));
    if (!result.cms || CMS_set_detached(result.cms.get(), 1) != 1) {
        fail(ErrorCode::kInternal, "crypto.cms", "cannot create a CMS SignedData");
    }
    // CMS_CADES adds signingCertificateV2 (SHA-256 of the certificate, with issuer and serial).
    // CMS_SignerInfo_sign is never called: in OpenSSL 3.0 it would add signingTime.
    result.signer = CMS_add1_signer(result.cms.get(), state.certificate.get(),
                                    X509_get0_pubkey(state.certificate.get()), EVP_sha256(), kFlags | CMS_CADES);
    if (result.signer == nullptr) fail(ErrorCode::kInternal, "crypto.cms", "cannot add the signer to the CMS");

    const Sha256 digest = sha256(content);
    if (CMS_signed_add1_attr_by_NID(result.signer, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data),
                                    -1) != 1 ||
        CMS_signed_add1_attr_by_NID(result.signer, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digest.data(),
                                    static_cast<int>(digest.size())) != 1) {
        fail(ErrorCode::kInternal, "crypto.cms", "cannot add the signed attributes");
    }
    const int count = CMS_signed_get_attr_count(result.signer);
    if (count != 3) {
        throw Error(ErrorCode::kInternal, "crypto.cms",
                    "expected exactly 3 signed attributes, OpenSSL produced " + std::to_string(count));
    }
    std::unique_ptr<STACK_OF(X509_ATTRIBUTE), AttributeStackView> attributes(sk_X509_ATTRIBUTE_new_null());
    if (!attributes) fail(ErrorCode::kInternal, "crypto.cms", "cannot allocate an attribute stack");
    for (int i = 0; i < count; ++i) {
        if (sk_X509_ATTRIBUTE_push(attributes.get(), CMS_signed_get_attr(result.signer, i)) <= 0) {
            fail(ErrorCode::kInternal, "crypto.cms", "cannot collect the signed attributes");
        }
    }
    // PKCS7_ATTR_SIGN encodes a DER SET OF (sorted), the same bytes the SignerInfo holds once encoded
    // and the bytes a verifier hashes.
    unsigned char* der = nullptr;
    const int length =
        ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(attributes.get()), &der, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
    result.signedAttributesDer = takeDer(der, length, "the signed attributes");
    return result;
}

std::string signWithKey(EVP_PKEY* key, std::string_view data) {
    MdCtxPtr context(EVP_MD_CTX_new());
    std::size_t length = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &length, bytes, data.size()) != 1) {
        fail(ErrorCode::kInternal, "crypto.sign", "cannot start the signature");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                       data.size()) != 1) {
        fail(ErrorCode::kInternal, "crypto.sign", "the signature failed");
    }
    signature.resize(length);
    return signature;
}

bool verifiesWith(EVP_PKEY* publicKey, std::string_view data, std::string_view signature) {
    MdCtxPtr context(EVP_MD_CTX_new());
    const bool valid =
        context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, publicKey) == 1 &&
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    ERR_clear_error(); // a bad signature is an answer here, not a failure to report later
    return valid;
}

/// PKCS#11 tokens return ECDSA signatures as r||s; CMS needs the DER ECDSA-Sig-Value.
std::string ecdsaRawToDer(std::string_view raw) {
    const std::size_t half = raw.size() / 2;
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    BignumPtr r(BN_bin2bn(bytes, static_cast<int>(half), nullptr));
    BignumPtr s(BN_bin2bn(bytes + half, static_cast<int>(half), nullptr));
    EcdsaSigPtr signature(ECDSA_SIG_new());
    if (!r || !s || !signature || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
        fail(ErrorCode::kInternal, "crypto.encode", "cannot encode an ECDSA signature");
    }
    r.release(); // owned by signature now
    s.release();
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(signature.get(), &der);
    return takeDer(der, length, "an ECDSA signature");
}

std::string finishCms(UnsignedCms& unsignedCms, const std::string& signature) {
    ASN1_OCTET_STRING* slot = CMS_SignerInfo_get0_signature(unsignedCms.signer);
    if (slot == nullptr ||
        ASN1_STRING_set(slot, signature.data(), checkedLength(signature.size(), "the signature")) != 1) {
        fail(ErrorCode::kInternal, "crypto.cms", "cannot store the signature in the CMS");
    }
    unsigned char* der = nullptr;
    const int length = i2d_CMS_ContentInfo(unsignedCms.cms.get(), &der);
    return takeDer(der, length, "the CMS");
}

} // namespace

struct SigningIdentity::Impl : IdentityState {};

SigningIdentity::SigningIdentity(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

SigningIdentity SigningIdentity::fromPkcs12(std::string_view der, const std::string& password) {
    ERR_clear_error();
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    const auto* end = cursor + der.size();
    Pkcs12Ptr pkcs12(d2i_PKCS12(nullptr, &cursor, checkedLength(der.size(), "the PKCS#12 file")));
    if (!pkcs12 || cursor != end) fail(ErrorCode::kInvalidArgument, "identity.invalid", "not a PKCS#12 file");

    EVP_PKEY* key = nullptr;
    X509* certificate = nullptr;
    STACK_OF(X509)* others = nullptr;
    if (PKCS12_parse(pkcs12.get(), password.c_str(), &key, &certificate, &others) != 1) {
        const OpenSslErrors errors = drainOpenSslErrors();
        // A wrong password shows as a MAC mismatch; without a MAC, as bad padding after decryption.
        const bool wrongPassword = std::any_of(errors.codes.begin(), errors.codes.end(), [&](unsigned long code) {
            return ERR_GET_LIB(code) == ERR_LIB_PKCS12 &&
                   (ERR_GET_REASON(code) == PKCS12_R_MAC_VERIFY_FAILURE ||
                    (ERR_GET_REASON(code) == PKCS12_R_PKCS12_CIPHERFINAL_ERROR && !PKCS12_mac_present(pkcs12.get())));
        });
        if (wrongPassword) {
            throw Error(ErrorCode::kInvalidArgument, "identity.bad_password", "the PKCS#12 password is wrong");
        }
        const bool legacyCipher = std::any_of(errors.codes.begin(), errors.codes.end(), [](unsigned long code) {
            return ERR_GET_REASON(code) == ERR_R_UNSUPPORTED;
        });
        // OpenSSL 3 keeps RC2-40 and friends in the legacy provider, which we do not load process-wide.
        throw Error(ErrorCode::kInvalidArgument, "identity.invalid",
                    withDetails(legacyCipher
                                    ? "cannot open the PKCS#12 file, probably because of its legacy encryption "
                                      "(re-export it: openssl pkcs12 -legacy -in OLD.p12 -nodes | "
                                      "openssl pkcs12 -export -out NEW.p12)"
                                    : "cannot open the PKCS#12 file",
                                errors));
    }
    PkeyPtr ownedKey(key);
    X509Ptr ownedCertificate(certificate);
    std::vector<X509Ptr> chain;
    for (int i = 0; others != nullptr && i < sk_X509_num(others); ++i)
        chain.emplace_back(sk_X509_value(others, i));
    sk_X509_free(others);
    if (!ownedKey || !ownedCertificate) {
        throw Error(ErrorCode::kInvalidArgument, "identity.invalid",
                    "the PKCS#12 file must hold one private key and the certificate that matches it");
    }
    auto impl = std::make_shared<Impl>();
    initState(*impl, std::move(ownedCertificate), std::move(chain), std::move(ownedKey));
    return SigningIdentity(std::move(impl));
}

SigningIdentity SigningIdentity::fromPem(std::string_view certificateChainPem, std::string_view privateKeyPem) {
    std::vector<X509Ptr> certificates = readCertificates(certificateChainPem);
    if (privateKeyPem.find("ENCRYPTED") != std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument, "identity.invalid",
                    "the private key PEM is encrypted; use PKCS#12 for a key protected by a password");
    }
    ERR_clear_error();
    BioPtr bio = memoryBio(privateKeyPem, "the private key PEM");
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
    if (!key) fail(ErrorCode::kInvalidArgument, "identity.invalid", "cannot read the private key PEM");
    X509Ptr signer = std::move(certificates.front());
    certificates.erase(certificates.begin());
    auto impl = std::make_shared<Impl>();
    initState(*impl, std::move(signer), std::move(certificates), std::move(key));
    return SigningIdentity(std::move(impl));
}

SigningIdentity SigningIdentity::fromCertificates(std::string_view certificateChainPem) {
    std::vector<X509Ptr> certificates = readCertificates(certificateChainPem);
    X509Ptr signer = std::move(certificates.front());
    certificates.erase(certificates.begin());
    auto impl = std::make_shared<Impl>();
    initState(*impl, std::move(signer), std::move(certificates), nullptr);
    return SigningIdentity(std::move(impl));
}

const std::string& SigningIdentity::certificateDer() const noexcept {
    return impl_->certificateDer;
}
const std::vector<std::string>& SigningIdentity::chainDer() const noexcept {
    return impl_->chainDer;
}
const std::string& SigningIdentity::subject() const noexcept {
    return impl_->subject;
}
const std::string& SigningIdentity::issuer() const noexcept {
    return impl_->issuer;
}
const std::string& SigningIdentity::serialHex() const noexcept {
    return impl_->serialHex;
}
std::int64_t SigningIdentity::notBefore() const noexcept {
    return impl_->notBefore;
}
std::int64_t SigningIdentity::notAfter() const noexcept {
    return impl_->notAfter;
}
const std::string& SigningIdentity::keyAlgorithm() const noexcept {
    return impl_->keyAlgorithm;
}
bool SigningIdentity::hasPrivateKey() const noexcept {
    return static_cast<bool>(impl_->privateKey);
}

std::string SigningIdentity::signCadesDetached(std::string_view content, std::int64_t atEpochSeconds) const {
    if (!impl_->privateKey) {
        throw Error(ErrorCode::kFailedPrecondition, "identity.no_private_key",
                    "the identity of " + impl_->subject + " has no private key; use the remote signing flow");
    }
    checkUsableAt(*impl_, atEpochSeconds);
    UnsignedCms unsignedCms = buildUnsignedCms(*impl_, content);
    return finishCms(unsignedCms, signWithKey(impl_->privateKey.get(), unsignedCms.signedAttributesDer));
}

PreparedSignature SigningIdentity::prepareSignature(std::string_view content, std::int64_t atEpochSeconds) const {
    checkUsableAt(*impl_, atEpochSeconds);
    return PreparedSignature(buildUnsignedCms(*impl_, content).signedAttributesDer);
}

std::string SigningIdentity::assembleCms(std::string_view content, std::string_view rawSignature,
                                         const PreparedSignature& prepared) const {
    UnsignedCms unsignedCms = buildUnsignedCms(*impl_, content);
    // The attributes hold no time, so rebuilding them gives the prepared bytes unless the content
    // or the certificate differ from the ones they were prepared for.
    if (unsignedCms.signedAttributesDer != prepared.signedAttributesDer()) {
        throw Error(ErrorCode::kInvalidArgument, "signature.attributes_mismatch",
                    "the prepared signed attributes do not belong to this content and the certificate of " +
                        impl_->subject);
    }
    EVP_PKEY* publicKey = X509_get0_pubkey(impl_->certificate.get());
    std::vector<std::string> candidates{std::string(rawSignature)};
    const std::size_t orderBytes = static_cast<std::size_t>((EVP_PKEY_get_bits(publicKey) + 7) / 8);
    if (EVP_PKEY_is_a(publicKey, "EC") && rawSignature.size() == 2 * orderBytes) {
        candidates.push_back(ecdsaRawToDer(rawSignature));
    }
    for (const std::string& candidate : candidates) {
        if (verifiesWith(publicKey, prepared.signedAttributesDer(), candidate))
            return finishCms(unsignedCms, candidate);
    }
    throw Error(ErrorCode::kInvalidArgument, "signature.invalid",
                "the signature does not verify with the public key of " + impl_->subject +
                    " over the prepared signed attributes");
}

} // namespace kooperdoc::signing
