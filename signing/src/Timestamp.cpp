// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/Timestamp.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <utility>

#include "kooperdoc/core/Error.h"
#include "OpenSsl.h"

namespace kooperdoc::signing {
namespace {

using namespace openssl;

using Pkcs7Ptr = std::unique_ptr<PKCS7, Free<PKCS7_free>>;
using IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>>;
using TimePtr = std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>>;
using AlgorithmPtr = std::unique_ptr<X509_ALGOR, Free<X509_ALGOR_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using TsRequestPtr = std::unique_ptr<TS_REQ, Free<TS_REQ_free>>;
using TsResponsePtr = std::unique_ptr<TS_RESP, Free<TS_RESP_free>>;
using TsResponseContextPtr = std::unique_ptr<TS_RESP_CTX, Free<TS_RESP_CTX_free>>;
using TsVerifyContextPtr = std::unique_ptr<TS_VERIFY_CTX, Free<TS_VERIFY_CTX_free>>;
using TsInfoPtr = std::unique_ptr<TS_TST_INFO, Free<TS_TST_INFO_free>>;
using TsImprintPtr = std::unique_ptr<TS_MSG_IMPRINT, Free<TS_MSG_IMPRINT_free>>;


constexpr const char* kTimestampQueryContentType = "application/timestamp-query";
constexpr const char* kSha256Oid = "2.16.840.1.101.3.4.2.1";
/// What a TSA may send us as status text before we cut it: it ends up in error messages and logs.
constexpr std::size_t kMaxStatusTextLength = 300;


const unsigned char* bytesOf(std::string_view data) {
    return reinterpret_cast<const unsigned char*>(data.data());
}

bool fitsInt(std::size_t size) {
    return size <= static_cast<std::size_t>(INT_MAX);
}

/// A read-only BIO over \p data (at most 2 GiB, checked by the caller); never null.
BioPtr memoryBio(std::string_view data) {
    // An empty string_view may have a null data(), which BIO_new_mem_buf refuses.
    BioPtr bio(BIO_new_mem_buf(data.empty() ? "" : data.data(), static_cast<int>(data.size())));
    if (!bio) fail(ErrorCode::kInternal, "crypto.bio", "cannot allocate a memory BIO");
    return bio;
}


std::string objectToDotted(const ASN1_OBJECT* object) {
    char buffer[256];
    const int length = OBJ_obj2txt(buffer, sizeof buffer, object, 1);
    if (length <= 0 || static_cast<std::size_t>(length) >= sizeof buffer) return "?";
    return std::string(buffer, static_cast<std::size_t>(length));
}

std::string formatUtc(std::int64_t epochSeconds) {
    const std::time_t time = static_cast<std::time_t>(epochSeconds);
    std::tm parts{};
    char buffer[32] = "?";
    if (gmtime_r(&time, &parts) != nullptr) std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

/// Both UTCTime and GeneralizedTime, with or without fractions of a second (RFC 3161 allows them in
/// genTime); the fraction is dropped.
bool toEpochSeconds(const ASN1_TIME* time, std::int64_t& epochSeconds) {
    std::tm parts{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return false;
    epochSeconds = static_cast<std::int64_t>(timegm(&parts));
    return true;
}

std::uint64_t random64() {
    unsigned char bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1) fail(ErrorCode::kInternal, "crypto.random", "no random bytes");
    std::uint64_t value = 0;
    for (unsigned char byte : bytes)
        value = (value << 8) | byte;
    return value;
}

/// Removes control characters and cuts the length: the text comes from a remote TSA.
std::string sanitized(std::string text) {
    for (char& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    if (text.size() > kMaxStatusTextLength) text = text.substr(0, kMaxStatusTextLength) + "…";
    return text;
}

// ---- Requests and responses ------------------------------------------------------------------

/// A version 1 request for a SHA-256 imprint with certReq, and the nonce when given. The algorithm
/// carries NULL parameters, as `openssl ts -query` sends them: every TSA accepts that form.
TsRequestPtr buildRequest(const Sha256& imprint, const ASN1_INTEGER* nonce) {
    TsRequestPtr request(TS_REQ_new());
    TsImprintPtr messageImprint(TS_MSG_IMPRINT_new());
    AlgorithmPtr algorithm(X509_ALGOR_new());
    if (!request || !messageImprint || !algorithm ||
        X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
        TS_MSG_IMPRINT_set_algo(messageImprint.get(), algorithm.get()) != 1 ||
        TS_MSG_IMPRINT_set_msg(messageImprint.get(), const_cast<unsigned char*>(imprint.data()),
                               static_cast<int>(imprint.size())) != 1 ||
        TS_REQ_set_version(request.get(), 1) != 1 || TS_REQ_set_msg_imprint(request.get(), messageImprint.get()) != 1 ||
        TS_REQ_set_cert_req(request.get(), 1) != 1 ||
        (nonce != nullptr && TS_REQ_set_nonce(request.get(), nonce) != 1)) {
        fail(ErrorCode::kInternal, "crypto.ts", "cannot build a timestamp request");
    }
    return request;
}

std::string encodeRequest(TS_REQ* request) {
    unsigned char* der = nullptr;
    const int length = i2d_TS_REQ(request, &der);
    return takeDer(der, length, "the timestamp request");
}

std::string encodeResponse(TS_RESP* response) {
    unsigned char* der = nullptr;
    const int length = i2d_TS_RESP(response, &der);
    return takeDer(der, length, "the timestamp response");
}

std::string tokenOf(TS_RESP* response) {
    PKCS7* token = TS_RESP_get_token(response);
    if (token == nullptr) fail(ErrorCode::kUnavailable, "timestamp.invalid_response", "the response has no token");
    unsigned char* der = nullptr;
    const int length = i2d_PKCS7(token, &der);
    return takeDer(der, length, "the timestamp token");
}

long statusOf(TS_RESP* response) {
    const TS_STATUS_INFO* info = TS_RESP_get_status_info(response);
    const ASN1_INTEGER* status = info != nullptr ? TS_STATUS_INFO_get0_status(info) : nullptr;
    return status != nullptr ? ASN1_INTEGER_get(status) : -1;
}

bool isGranted(TS_RESP* response) {
    const long status = statusOf(response);
    return status == 0 || status == 1; // granted, grantedWithMods (RFC 3161 2.4.2)
}

/// "rejection: Time is not available. (timeNotAvailable)": the status, the TSA's text and the
/// failure bits.
std::string describeStatus(TS_RESP* response) {
    static const char* const kStatusNames[] = {"granted", "grantedWithMods",   "rejection",
                                               "waiting", "revocationWarning", "revocationNotification"};
    static const std::pair<int, const char*> kFailureNames[] = {
        {TS_INFO_BAD_ALG, "badAlg"},
        {TS_INFO_BAD_REQUEST, "badRequest"},
        {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
        {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
        {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
        {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
        {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
        {TS_INFO_SYSTEM_FAILURE, "systemFailure"},
    };
    const long status = statusOf(response);
    std::string text = status >= 0 && status < 6 ? kStatusNames[status] : "status " + std::to_string(status);
    const TS_STATUS_INFO* info = TS_RESP_get_status_info(response);
    if (info == nullptr) return text;
    const STACK_OF(ASN1_UTF8STRING)* lines = TS_STATUS_INFO_get0_text(info);
    std::string said;
    for (int i = 0; i < sk_ASN1_UTF8STRING_num(lines); ++i) {
        const ASN1_UTF8STRING* line = sk_ASN1_UTF8STRING_value(lines, i);
        if (!said.empty()) said += " ";
        said.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(line)),
                    static_cast<std::size_t>(std::max(ASN1_STRING_length(line), 0)));
    }
    if (!said.empty()) text += ": " + sanitized(said);
    const ASN1_BIT_STRING* failures = TS_STATUS_INFO_get0_failure_info(info);
    std::string failureNames;
    for (const auto& [bit, name] : kFailureNames) {
        if (failures != nullptr && ASN1_BIT_STRING_get_bit(failures, bit) == 1) {
            failureNames += failureNames.empty() ? "" : ", ";
            failureNames += name;
        }
    }
    if (!failureNames.empty()) text += " (" + failureNames + ")";
    return text;
}

// ---- Tokens and CMS --------------------------------------------------------------------------

Pkcs7Ptr decodeToken(std::string_view der) {
    if (!fitsInt(der.size())) return nullptr;
    const unsigned char* cursor = bytesOf(der);
    Pkcs7Ptr token(d2i_PKCS7(nullptr, &cursor, static_cast<long>(der.size())));
    if (token && cursor != bytesOf(der) + der.size()) token.reset();
    return token;
}

PKCS7_SIGNER_INFO* soleSigner(PKCS7* token) {
    if (token == nullptr || !PKCS7_type_is_signed(token)) return nullptr;
    STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token);
    if (signers == nullptr || sk_PKCS7_SIGNER_INFO_num(signers) != 1) return nullptr;
    return sk_PKCS7_SIGNER_INFO_value(signers, 0);
}

struct ParsedCms {
    CmsPtr cms;
    std::string_view der; ///< the input without its trailing zero padding
};

/// A DER CMS ContentInfo, optionally followed by zero bytes (a PDF /Contents is padded with them).
ParsedCms decodeCms(std::string_view input) {
    ERR_clear_error();
    if (!fitsInt(input.size()))
        throw Error(ErrorCode::kInvalidArgument, "timestamp.cms_invalid", "the CMS is larger than 2 GiB");
    const unsigned char* cursor = bytesOf(input);
    ParsedCms parsed;
    parsed.cms.reset(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(input.size())));
    if (!parsed.cms) fail(ErrorCode::kInvalidArgument, "timestamp.cms_invalid", "not a DER CMS ContentInfo");
    const auto used = static_cast<std::size_t>(cursor - bytesOf(input));
    if (std::any_of(input.begin() + static_cast<std::ptrdiff_t>(used), input.end(), [](char c) { return c != 0; })) {
        throw Error(ErrorCode::kInvalidArgument, "timestamp.cms_invalid",
                    "the CMS is followed by " + std::to_string(input.size() - used) + " bytes that are not padding");
    }
    if (OBJ_obj2nid(CMS_get0_type(parsed.cms.get())) != NID_pkcs7_signed) {
        throw Error(ErrorCode::kInvalidArgument, "timestamp.cms_invalid", "the CMS is not a SignedData");
    }
    parsed.der = input.substr(0, used);
    return parsed;
}

std::string encodeCms(CMS_ContentInfo* cms) {
    unsigned char* der = nullptr;
    const int length = i2d_CMS_ContentInfo(cms, &der);
    return takeDer(der, length, "the CMS");
}

} // namespace

// ---- EmbeddedTsa -----------------------------------------------------------------------------

struct EmbeddedTsa::Impl {
    X509Ptr certificate;
    X509StackPtr chain;
    PkeyPtr key;
    ObjectPtr policy;
    std::function<std::int64_t()> clock;
    std::int64_t notBefore = 0;
    std::int64_t notAfter = 0;

    std::mutex mutex;
    std::uint64_t nextSerial = 0; // guarded by mutex

    /// What one response is stamped with, fixed before OpenSSL asks for it through the callbacks.
    struct Stamp {
        std::int64_t time = 0;
        std::uint64_t serial = 0;
        std::string refusal; ///< not empty: the time cannot be certified, and why
    };

    Stamp takeStamp() {
        Stamp stamp;
        {
            std::lock_guard<std::mutex> lock(mutex);
            stamp.time = clock ? clock() : static_cast<std::int64_t>(std::time(nullptr));
            stamp.serial = nextSerial++;
        }
        if (stamp.time < notBefore || stamp.time > notAfter) {
            stamp.refusal = "The TSA certificate is not valid at " + formatUtc(stamp.time) + ".";
        }
        return stamp;
    }

    // OpenSSL reads the time and the serial number through these callbacks (its default time
    // callback is gettimeofday()); both hand out the stamp fixed above.
    static int stampTime(TS_RESP_CTX* context, void* data, long* seconds, long* microseconds) {
        const auto* stamp = static_cast<const Stamp*>(data);
        if (!stamp->refusal.empty()) {
            TS_RESP_CTX_set_status_info(context, TS_STATUS_REJECTION, stamp->refusal.c_str());
            TS_RESP_CTX_add_failure_info(context, TS_INFO_TIME_NOT_AVAILABLE);
            return 0;
        }
        *seconds = static_cast<long>(stamp->time);
        *microseconds = 0;
        return 1;
    }

    static ASN1_INTEGER* stampSerial(TS_RESP_CTX* context, void* data) {
        const auto* stamp = static_cast<const Stamp*>(data);
        ASN1_INTEGER* serial = ASN1_INTEGER_new();
        if (serial == nullptr || ASN1_INTEGER_set_uint64(serial, stamp->serial) != 1) {
            ASN1_INTEGER_free(serial);
            TS_RESP_CTX_set_status_info(context, TS_STATUS_REJECTION, "Error during serial number generation.");
            TS_RESP_CTX_add_failure_info(context, TS_INFO_SYSTEM_FAILURE);
            return nullptr;
        }
        return serial; // OpenSSL copies and frees it
    }

    /// OpenSSL's PKCS7 signing (PKCS7_dataFinal) adds a signingTime from the wall clock to the
    /// token's signed attributes. It is set to the stamp's time, so the whole token follows the clock
    /// callback, and the signer info is signed again; the signed content, and so its message digest,
    /// is unchanged.
    static void restampSigningTime(TS_RESP* response, std::int64_t time) {
        PKCS7_SIGNER_INFO* signer = soleSigner(TS_RESP_get_token(response));
        if (signer == nullptr) fail(ErrorCode::kInternal, "timestamp.tsa_failed", "the new token has no single signer");
        ASN1_TYPE* signingTime = PKCS7_get_signed_attribute(signer, NID_pkcs9_signingTime);
        if (signingTime == nullptr) return; // no wall-clock time to replace
        // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime from then on (RFC 5652 11.3).
        TimePtr stampTime(ASN1_TIME_set(nullptr, static_cast<std::time_t>(time)));
        if (!stampTime) fail(ErrorCode::kInternal, "timestamp.tsa_failed", "cannot encode the token's signing time");
        const int type = ASN1_STRING_type(stampTime.get());
        ASN1_TYPE_set(signingTime, type, stampTime.release()); // frees the old value, owns the new one
        if (PKCS7_SIGNER_INFO_sign(signer) != 1)
            fail(ErrorCode::kInternal, "timestamp.tsa_failed", "cannot sign the token again");
    }

    TsResponsePtr createResponse(std::string_view requestDer) {
        if (!fitsInt(requestDer.size())) {
            throw Error(ErrorCode::kPayloadTooLarge, "timestamp.request_too_large",
                        "the timestamp request is larger than 2 GiB");
        }
        Stamp stamp = takeStamp();
        ERR_clear_error();
        // One context per response: TS_RESP_CTX keeps the request being answered, so it cannot be
        // shared between threads. Setting it up costs reference counts, not copies.
        TsResponseContextPtr context(TS_RESP_CTX_new());
        if (!context || TS_RESP_CTX_set_signer_cert(context.get(), certificate.get()) != 1 ||
            TS_RESP_CTX_set_signer_key(context.get(), key.get()) != 1 ||
            TS_RESP_CTX_set_signer_digest(context.get(), EVP_sha256()) != 1 ||
            TS_RESP_CTX_set_ess_cert_id_digest(context.get(), EVP_sha256()) != 1 || // ESSCertIDv2
            TS_RESP_CTX_set_def_policy(context.get(), policy.get()) != 1 ||
            TS_RESP_CTX_set_certs(context.get(), chain.get()) != 1 ||
            TS_RESP_CTX_add_md(context.get(), EVP_sha256()) != 1 ||
            TS_RESP_CTX_add_md(context.get(), EVP_sha384()) != 1 ||
            TS_RESP_CTX_add_md(context.get(), EVP_sha512()) != 1 ||
            TS_RESP_CTX_set_accuracy(context.get(), 1, 0, 0) != 1) {
            fail(ErrorCode::kInternal, "timestamp.tsa_failed", "cannot set up the TSA");
        }
        TS_RESP_CTX_set_time_cb(context.get(), &Impl::stampTime, &stamp);
        TS_RESP_CTX_set_serial_cb(context.get(), &Impl::stampSerial, &stamp);

        BioPtr requestBio = memoryBio(requestDer);
        TsResponsePtr response(TS_RESP_create_response(context.get(), requestBio.get()));
        if (!response) fail(ErrorCode::kInternal, "timestamp.tsa_failed", "cannot create a timestamp response");
        ERR_clear_error(); // a refused request leaves errors behind; the response says it all
        if (isGranted(response.get())) restampSigningTime(response.get(), stamp.time);
        return response;
    }
};

EmbeddedTsa::EmbeddedTsa(std::string_view certificateChainPem, std::string_view privateKeyPem,
                         EmbeddedTsaOptions options)
    : impl_(std::make_unique<Impl>()) {
    constexpr const char* kInvalid = "timestamp.tsa_invalid";
    ERR_clear_error();
    if (!fitsInt(certificateChainPem.size()) || !fitsInt(privateKeyPem.size())) {
        throw Error(ErrorCode::kInvalidArgument, kInvalid, "the TSA's PEM is larger than 2 GiB");
    }
    BioPtr certificateBio = memoryBio(certificateChainPem);
    BioPtr keyBio = memoryBio(privateKeyPem);

    impl_->certificate.reset(PEM_read_bio_X509(certificateBio.get(), nullptr, noPassword, nullptr));
    if (!impl_->certificate) fail(ErrorCode::kInvalidArgument, kInvalid, "cannot read the TSA certificate PEM");
    impl_->chain.reset(sk_X509_new_null());
    if (!impl_->chain) fail(ErrorCode::kInternal, "crypto.ts", "cannot allocate a certificate stack");
    while (X509* link = PEM_read_bio_X509(certificateBio.get(), nullptr, noPassword, nullptr)) {
        if (sk_X509_push(impl_->chain.get(), link) <= 0) {
            X509_free(link);
            fail(ErrorCode::kInternal, "crypto.ts", "cannot collect the TSA chain");
        }
    }
    // Running out of PEM blocks ends the loop with "no start line"; any other error is a broken block.
    const unsigned long last = ERR_peek_last_error();
    if (last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
        fail(ErrorCode::kInvalidArgument, kInvalid, "cannot read the TSA chain PEM");
    }
    ERR_clear_error();

    impl_->key.reset(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, noPassword, nullptr));
    if (!impl_->key) fail(ErrorCode::kInvalidArgument, kInvalid, "cannot read the TSA private key PEM (unencrypted)");
    if (X509_check_private_key(impl_->certificate.get(), impl_->key.get()) != 1) {
        fail(ErrorCode::kInvalidArgument, kInvalid, "the private key does not belong to the TSA certificate");
    }
    // The check TS_RESP_CTX_set_signer_cert makes for every response, made once here so that a wrong
    // certificate fails at start-up; it also caches the extensions before threads share the certificate.
    if (X509_check_purpose(impl_->certificate.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
        fail(ErrorCode::kInvalidArgument, kInvalid,
             "the certificate is not a TSA certificate: RFC 3161 wants a critical extendedKeyUsage of "
             "timeStamping only, and a key usage (if any) of digitalSignature or nonRepudiation");
    }
    if (!toEpochSeconds(X509_get0_notBefore(impl_->certificate.get()), impl_->notBefore) ||
        !toEpochSeconds(X509_get0_notAfter(impl_->certificate.get()), impl_->notAfter)) {
        fail(ErrorCode::kInvalidArgument, kInvalid, "unreadable validity of the TSA certificate");
    }
    impl_->policy.reset(OBJ_txt2obj(options.policyOid.c_str(), 1));
    if (!impl_->policy) {
        fail(ErrorCode::kInvalidArgument, kInvalid, "the TSA policy \"" + options.policyOid + "\" is not a dotted OID");
    }
    impl_->clock = std::move(options.clock);
    // 63 random bits: counting up from there never overflows, and two TSA instances (or restarts)
    // practically never hand out the same serial number.
    impl_->nextSerial = random64() >> 1;
}

EmbeddedTsa::~EmbeddedTsa() = default;

std::string EmbeddedTsa::timestamp(const Sha256& messageImprint) {
    TsRequestPtr request = buildRequest(messageImprint, nullptr);
    TsResponsePtr response = impl_->createResponse(encodeRequest(request.get()));
    if (!isGranted(response.get())) {
        throw Error(ErrorCode::kUnavailable, "timestamp.unavailable",
                    "the embedded TSA refused the timestamp: " + describeStatus(response.get()));
    }
    return tokenOf(response.get());
}

std::string EmbeddedTsa::respond(std::string_view timeStampReqDer) {
    TsResponsePtr response = impl_->createResponse(timeStampReqDer);
    return encodeResponse(response.get());
}

// ---- Rfc3161Client ---------------------------------------------------------------------------

Rfc3161Client::Rfc3161Client(std::string url, TsaTransport transport, std::vector<std::string> trustedCaDer)
    : url_(std::move(url)), transport_(std::move(transport)), trustedCaDer_(std::move(trustedCaDer)) {}

std::string Rfc3161Client::timestamp(const Sha256& messageImprint) {
    constexpr const char* kUnavailable = "timestamp.unavailable";
    constexpr const char* kInvalidResponse = "timestamp.invalid_response";
    ERR_clear_error();
    IntegerPtr nonce(ASN1_INTEGER_new());
    if (!nonce || ASN1_INTEGER_set_uint64(nonce.get(), random64()) != 1)
        fail(ErrorCode::kInternal, "crypto.ts", "cannot make a nonce");
    TsRequestPtr request = buildRequest(messageImprint, nonce.get());
    const std::string body = encodeRequest(request.get());

    std::string answer;
    try {
        answer = transport_(url_, body, kTimestampQueryContentType);
    } catch (const std::exception& e) {
        throw Error(ErrorCode::kUnavailable, kUnavailable, "the TSA at " + url_ + " cannot be reached: " + e.what());
    } catch (...) {
        throw Error(ErrorCode::kUnavailable, kUnavailable, "the TSA at " + url_ + " cannot be reached");
    }

    const unsigned char* cursor = bytesOf(answer);
    TsResponsePtr response(fitsInt(answer.size()) ? d2i_TS_RESP(nullptr, &cursor, static_cast<long>(answer.size()))
                                                  : nullptr);
    if (!response || cursor != bytesOf(answer) + answer.size()) {
        fail(ErrorCode::kUnavailable, kInvalidResponse,
             "the TSA at " + url_ + " did not answer with a DER TimeStampResp (" + std::to_string(answer.size()) +
                 " bytes)");
    }
    if (!isGranted(response.get())) {
        throw Error(ErrorCode::kUnavailable, kUnavailable,
                    "the TSA at " + url_ + " refused the timestamp: " + describeStatus(response.get()));
    }
    // Version, imprint and nonce; no policy was requested. A response to another request (replayed,
    // or misrouted by a proxy) fails here. Trust in the signer is checked below, when configured.
    TsVerifyContextPtr verification(TS_REQ_to_TS_VERIFY_CTX(request.get(), nullptr));
    if (!verification) fail(ErrorCode::kInternal, "crypto.ts", "cannot set up the response check");
    TS_VERIFY_CTX_set_flags(verification.get(), TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
    if (TS_RESP_verify_response(verification.get(), response.get()) != 1) {
        fail(ErrorCode::kUnavailable, kInvalidResponse,
             "the answer of the TSA at " + url_ + " does not match the request");
    }
    std::string token = tokenOf(response.get());

    // certReq was set, so RFC 3161 2.4.1 obliges the TSA to include its certificate; B-LT needs it.
    TimestampInfo info;
    try {
        info = inspectTimestampToken(token);
    } catch (const Error& e) {
        throw Error(ErrorCode::kUnavailable, kInvalidResponse, "the token of the TSA at " + url_ + ": " + e.what());
    }
    if (info.tsaCertificateDer.empty()) {
        throw Error(ErrorCode::kUnavailable, kInvalidResponse,
                    "the token of the TSA at " + url_ + " lacks the TSA certificate although the request asked for it");
    }
    if (!trustedCaDer_.empty()) {
        std::string whyNot;
        if (!verifyTimestampToken(token, messageImprint, trustedCaDer_, &whyNot)) {
            throw Error(ErrorCode::kUnavailable, kInvalidResponse,
                        "the token of the TSA at " + url_ + " does not verify: " + whyNot);
        }
    }
    return token;
}

// ---- Signature timestamps (B-T) --------------------------------------------------------------

std::string addSignatureTimestamp(std::string_view cmsDer, TimestampAuthority& tsa) {
    constexpr const char* kCmsInvalid = "timestamp.cms_invalid";
    ParsedCms parsed = decodeCms(cmsDer);
    STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(parsed.cms.get());
    const int signerCount = signers != nullptr ? sk_CMS_SignerInfo_num(signers) : 0;
    if (signerCount != 1) {
        throw Error(ErrorCode::kInvalidArgument, kCmsInvalid,
                    "a signature timestamp needs a CMS with exactly one SignerInfo, this one has " +
                        std::to_string(signerCount));
    }
    // The re-encoding below must not change a single signed byte. OpenSSL encodes from the parsed
    // structure (DER, SETs sorted), so the input is accepted only if that reproduces it exactly.
    if (encodeCms(parsed.cms.get()) != parsed.der) {
        throw Error(ErrorCode::kInvalidArgument, kCmsInvalid,
                    "the CMS is not in DER (OpenSSL would re-encode it differently and could break the signature)");
    }
    CMS_SignerInfo* signer = sk_CMS_SignerInfo_value(signers, 0);
    const ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(signer);
    if (signature == nullptr || ASN1_STRING_length(signature) <= 0) {
        throw Error(ErrorCode::kInvalidArgument, kCmsInvalid, "the SignerInfo has no signature value");
    }
    const Sha256 imprint = sha256(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(signature)),
                                                   static_cast<std::size_t>(ASN1_STRING_length(signature))));

    const std::string token = tsa.timestamp(imprint);

    // A token over anything else would make a B-T signature whose timestamp proves nothing.
    TimestampInfo info;
    try {
        info = inspectTimestampToken(token);
    } catch (const Error& e) {
        throw Error(ErrorCode::kUnavailable, "timestamp.invalid_response", std::string("the TSA's token: ") + e.what());
    }
    if (info.imprintAlgorithmOid != kSha256Oid || info.imprint != imprint) {
        throw Error(ErrorCode::kUnavailable, "timestamp.invalid_response",
                    "the TSA's token is not over the SHA-256 of the signature value");
    }
    if (!fitsInt(token.size())) throw Error(ErrorCode::kUnavailable, "timestamp.invalid_response", "huge token");
    ERR_clear_error();
    // V_ASN1_SEQUENCE with a length: the attribute value is the token's DER as it is.
    if (CMS_unsigned_add1_attr_by_NID(signer, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token.data(),
                                      static_cast<int>(token.size())) != 1) {
        fail(ErrorCode::kInternal, "crypto.cms", "cannot add the signature timestamp to the CMS");
    }
    return encodeCms(parsed.cms.get());
}

std::vector<std::string> signatureTimestampTokens(std::string_view cmsDer) {
    ParsedCms parsed = decodeCms(cmsDer);
    std::vector<std::string> tokens;
    STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(parsed.cms.get());
    for (int s = 0; s < sk_CMS_SignerInfo_num(signers); ++s) {
        CMS_SignerInfo* signer = sk_CMS_SignerInfo_value(signers, s);
        for (int a = 0; a < CMS_unsigned_get_attr_count(signer); ++a) {
            X509_ATTRIBUTE* attribute = CMS_unsigned_get_attr(signer, a);
            if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attribute)) != NID_id_smime_aa_timeStampToken) continue;
            for (int v = 0; v < X509_ATTRIBUTE_count(attribute); ++v) {
                unsigned char* der = nullptr;
                const int length = i2d_ASN1_TYPE(X509_ATTRIBUTE_get0_type(attribute, v), &der);
                tokens.push_back(takeDer(der, length, "a signature timestamp"));
            }
        }
    }
    return tokens;
}

// ---- Reading and verifying tokens ------------------------------------------------------------

TimestampInfo inspectTimestampToken(std::string_view tokenDer) {
    constexpr const char* kTokenInvalid = "timestamp.token_invalid";
    ERR_clear_error();
    Pkcs7Ptr token = decodeToken(tokenDer);
    if (!token) fail(ErrorCode::kInvalidArgument, kTokenInvalid, "not a DER timestamp token");
    PKCS7_SIGNER_INFO* signer = soleSigner(token.get());
    if (signer == nullptr) {
        throw Error(ErrorCode::kInvalidArgument, kTokenInvalid, "the token is not a SignedData with one signer");
    }
    TsInfoPtr tstInfo(PKCS7_to_TS_TST_INFO(token.get()));
    if (!tstInfo) fail(ErrorCode::kInvalidArgument, kTokenInvalid, "the token holds no readable TSTInfo");

    TimestampInfo info;
    if (!toEpochSeconds(TS_TST_INFO_get_time(tstInfo.get()), info.genTime)) {
        fail(ErrorCode::kInvalidArgument, kTokenInvalid, "unreadable genTime");
    }
    BignumPtr serial(ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(tstInfo.get()), nullptr));
    char* hex = serial ? BN_bn2hex(serial.get()) : nullptr;
    if (hex == nullptr) fail(ErrorCode::kInvalidArgument, kTokenInvalid, "unreadable serial number");
    info.serialHex = hex;
    OPENSSL_free(hex);
    info.policyOid = objectToDotted(TS_TST_INFO_get_policy_id(tstInfo.get()));

    TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tstInfo.get());
    const ASN1_OBJECT* algorithm = nullptr;
    X509_ALGOR_get0(&algorithm, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
    info.imprintAlgorithmOid = objectToDotted(algorithm);
    const ASN1_OCTET_STRING* digest = TS_MSG_IMPRINT_get_msg(imprint);
    if (OBJ_obj2nid(algorithm) == NID_sha256) {
        if (ASN1_STRING_length(digest) != static_cast<int>(info.imprint.size())) {
            throw Error(ErrorCode::kInvalidArgument, kTokenInvalid, "a SHA-256 imprint that is not 32 bytes long");
        }
        std::memcpy(info.imprint.data(), ASN1_STRING_get0_data(digest), info.imprint.size());
    }

    STACK_OF(X509)* certificates = token->d.sign->cert;
    PKCS7_ISSUER_AND_SERIAL* signerId = signer->issuer_and_serial;
    X509* tsaCertificate = signerId != nullptr
                               ? X509_find_by_issuer_and_serial(certificates, signerId->issuer, signerId->serial)
                               : nullptr;
    if (tsaCertificate != nullptr) info.tsaCertificateDer = certificateToDer(tsaCertificate);
    for (int i = 0; i < sk_X509_num(certificates); ++i)
        info.certificatesDer.push_back(certificateToDer(sk_X509_value(certificates, i)));
    ERR_clear_error();
    return info;
}

bool verifyTimestampToken(std::string_view tokenDer, const Sha256& expectedImprint,
                          const std::vector<std::string>& trustedCaDer, std::string* whyNot,
                          std::optional<std::int64_t> validationTime) {
    auto refuse = [&](std::string reason) {
        if (whyNot != nullptr) *whyNot = std::move(reason);
        ERR_clear_error();
        return false;
    };
    ERR_clear_error();
    try {
        if (trustedCaDer.empty()) return refuse("no trusted CA certificate was given");
        Pkcs7Ptr token = decodeToken(tokenDer);
        if (!token) return refuse("not a DER timestamp token");
        const TimestampInfo info = inspectTimestampToken(tokenDer);
        if (info.imprintAlgorithmOid != kSha256Oid) {
            return refuse("the token's imprint algorithm is " + info.imprintAlgorithmOid + ", not SHA-256");
        }

        StorePtr store(X509_STORE_new());
        if (!store) return refuse(withDetails("cannot allocate a certificate store"));
        for (std::size_t i = 0; i < trustedCaDer.size(); ++i) {
            const std::string& der = trustedCaDer[i];
            const unsigned char* cursor = bytesOf(der);
            X509Ptr ca(fitsInt(der.size()) ? d2i_X509(nullptr, &cursor, static_cast<long>(der.size())) : nullptr);
            if (!ca || cursor != bytesOf(der) + der.size()) {
                return refuse("trusted CA certificate " + std::to_string(i + 1) + " is not a DER certificate");
            }
            if (X509_STORE_add_cert(store.get(), ca.get()) != 1) return refuse(withDetails("cannot trust a CA"));
        }
        if (validationTime) {
            X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<std::time_t>(*validationTime));
        }

        // A request for the expected imprint gives the verification context the SHA-256 algorithm
        // to compare as well; without one, OpenSSL would compare the digest bytes only.
        TsRequestPtr request = buildRequest(expectedImprint, nullptr);
        TsVerifyContextPtr verification(TS_REQ_to_TS_VERIFY_CTX(request.get(), nullptr));
        if (!verification) return refuse(withDetails("cannot set up the verification"));
        // TS_VFY_SIGNATURE: the signature, the chain to the store with the timestamping purpose
        // (critical EKU timeStamping) and the ESS signingCertificate(V2) binding.
        TS_VERIFY_CTX_set_flags(verification.get(), TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_IMPRINT);
        TS_VERIFY_CTX_set_store(verification.get(), store.release()); // freed with the context
        if (TS_RESP_verify_token(verification.get(), token.get()) != 1) {
            const std::string details = drainOpenSslErrors().text;
            return refuse(details.empty() ? "the token does not verify" : details);
        }
    } catch (const Error& e) {
        return refuse(e.what());
    }
    if (whyNot != nullptr) whyNot->clear();
    return true;
}

} // namespace kooperdoc::signing
