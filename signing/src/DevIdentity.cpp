// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/DevIdentity.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::signing {
namespace {

namespace fs = std::filesystem;

template <auto Fn> struct Free {
    template <class T> void operator()(T* pointer) const noexcept { Fn(pointer); }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Free<X509_CRL_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Free<PKCS12_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;
using TimePtr = std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>>;
struct X509StackView {
    void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};

constexpr const char* kOrganization = "Środowisko deweloperskie";
constexpr std::int64_t kCrlLifetimeSeconds = 30 * 24 * 60 * 60;

/// Every file of an identity: if any one exists, the directory holds an identity already.
constexpr std::array<const char*, 10> kFileNames = {
    "seal.key.pem", "person.key.pem", "tsa.key.pem", "seal.p12.password", "seal.p12",
    "seal.pem",     "person.pem",     "tsa.pem",     "ca.crl.pem",        "ca.pem"};

[[noreturn]] void fail(const std::string& message) {
    std::string text = message;
    const char* data = nullptr;
    int flags = 0;
    unsigned long code = 0;
    bool first = true;
    while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        text += first ? ": " : "; ";
        text += buffer;
        if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') text += std::string(" (") + data + ")";
        first = false;
    }
    throw Error(ErrorCode::kInternal, "identity.generate", text);
}

[[noreturn]] void failIo(const std::string& what, int error) {
    throw Error(ErrorCode::kInternal, "identity.io", what + ": " + std::strerror(error));
}

PkeyPtr generateKey(const char* type, unsigned int rsaBits) {
    PkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!context || EVP_PKEY_keygen_init(context.get()) != 1)
        fail(std::string("cannot start a ") + type + " key generation");
    const int configured = rsaBits != 0 ? EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), static_cast<int>(rsaBits))
                                        : EVP_PKEY_CTX_set_group_name(context.get(), "P-256");
    EVP_PKEY* key = nullptr;
    if (configured != 1 || EVP_PKEY_generate(context.get(), &key) != 1)
        fail(std::string("cannot generate a ") + type + " key");
    return PkeyPtr(key);
}

NamePtr makeName(std::initializer_list<std::pair<const char*, std::string>> entries) {
    NamePtr name(X509_NAME_new());
    if (!name) fail("cannot allocate a name");
    for (const auto& [field, value] : entries) {
        if (X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, 0) != 1) {
            fail(std::string("cannot add ") + field + " to a name");
        }
    }
    return name;
}

/// Calendar years, not multiples of 365 days, so "10 years" ends on the same date.
std::int64_t addYears(std::int64_t epochSeconds, int years) {
    const std::time_t time = static_cast<std::time_t>(epochSeconds);
    std::tm parts{};
    if (gmtime_r(&time, &parts) == nullptr) {
        throw Error(ErrorCode::kInvalidArgument, "identity.generate", "the current time is out of range");
    }
    parts.tm_year += years;
    return static_cast<std::int64_t>(timegm(&parts));
}

void setTime(ASN1_TIME* target, std::int64_t epochSeconds) {
    if (target == nullptr || ASN1_TIME_set(target, static_cast<std::time_t>(epochSeconds)) == nullptr) {
        fail("cannot set a validity time");
    }
}

void addExtension(X509V3_CTX& context, int nid, const char* value, X509* certificate, X509_CRL* crl) {
    ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
    const bool added = extension && (certificate != nullptr ? X509_add_ext(certificate, extension.get(), -1)
                                                            : X509_CRL_add_ext(crl, extension.get(), -1)) == 1;
    if (!added) fail(std::string("cannot add the extension ") + OBJ_nid2sn(nid) + " = " + value);
}

struct CertificateSpec {
    NamePtr subject;
    EVP_PKEY* publicKey;
    std::int64_t notBefore;
    std::int64_t notAfter;
    std::vector<std::pair<int, const char*>> extensions;
};

/// \param issuer null for a self-signed certificate.
X509Ptr issue(const CertificateSpec& spec, X509* issuer, EVP_PKEY* issuerKey) {
    X509Ptr certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1) fail("cannot allocate a certificate");
    // 16 random bytes, positive and with the top bits set so the DER is always 16 bytes long.
    unsigned char serialBytes[16];
    if (RAND_bytes(serialBytes, sizeof serialBytes) != 1) fail("no random serial number");
    serialBytes[0] = static_cast<unsigned char>((serialBytes[0] & 0x3f) | 0x40);
    BignumPtr serial(BN_bin2bn(serialBytes, sizeof serialBytes, nullptr));
    if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr) {
        fail("cannot set the serial number");
    }
    if (X509_set_subject_name(certificate.get(), spec.subject.get()) != 1 ||
        X509_set_issuer_name(certificate.get(),
                             issuer != nullptr ? X509_get_subject_name(issuer) : spec.subject.get()) != 1 ||
        X509_set_pubkey(certificate.get(), spec.publicKey) != 1) {
        fail("cannot fill in the certificate");
    }
    setTime(X509_getm_notBefore(certificate.get()), spec.notBefore);
    setTime(X509_getm_notAfter(certificate.get()), spec.notAfter);
    X509V3_CTX context{};
    X509V3_set_ctx(&context, issuer != nullptr ? issuer : certificate.get(), certificate.get(), nullptr, nullptr, 0);
    for (const auto& [nid, value] : spec.extensions)
        addExtension(context, nid, value, certificate.get(), nullptr);
    if (X509_sign(certificate.get(), issuerKey, EVP_sha256()) <= 0) fail("cannot sign a certificate");
    return certificate;
}

CrlPtr issueEmptyCrl(X509* ca, EVP_PKEY* caKey, std::int64_t now) {
    CrlPtr crl(X509_CRL_new());
    TimePtr time(ASN1_TIME_new());
    if (!crl || !time || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca)) != 1) {
        fail("cannot allocate the CRL");
    }
    setTime(time.get(), now);
    if (X509_CRL_set1_lastUpdate(crl.get(), time.get()) != 1) fail("cannot set the CRL's thisUpdate");
    setTime(time.get(), now + kCrlLifetimeSeconds);
    if (X509_CRL_set1_nextUpdate(crl.get(), time.get()) != 1) fail("cannot set the CRL's nextUpdate");
    X509V3_CTX context{};
    X509V3_set_ctx(&context, ca, nullptr, nullptr, crl.get(), 0);
    addExtension(context, NID_authority_key_identifier, "keyid:always", nullptr, crl.get());
    IntegerPtr number(ASN1_INTEGER_new());
    if (!number || ASN1_INTEGER_set(number.get(), 1) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
        fail("cannot set the CRL number");
    }
    if (X509_CRL_sign(crl.get(), caKey, EVP_sha256()) <= 0) fail("cannot sign the CRL");
    return crl;
}

class PemWriter {
public:
    PemWriter() : bio_(BIO_new(BIO_s_mem())) {
        if (!bio_) fail("cannot allocate a memory BIO");
    }
    PemWriter& certificate(X509* certificate) {
        if (PEM_write_bio_X509(bio_.get(), certificate) != 1) fail("cannot write a certificate");
        return *this;
    }
    PemWriter& privateKey(EVP_PKEY* key) {
        if (PEM_write_bio_PrivateKey(bio_.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
            fail("cannot write a private key");
        }
        return *this;
    }
    PemWriter& crl(X509_CRL* crl) {
        if (PEM_write_bio_X509_CRL(bio_.get(), crl) != 1) fail("cannot write the CRL");
        return *this;
    }
    std::string text() const {
        char* data = nullptr;
        const long length = BIO_ctrl(bio_.get(), BIO_CTRL_INFO, 0, &data);
        return std::string(data, static_cast<std::size_t>(length));
    }

private:
    BioPtr bio_;
};

std::string pkcs12Der(const std::string& password, EVP_PKEY* key, X509* certificate, X509* ca) {
    std::unique_ptr<STACK_OF(X509), X509StackView> chain(sk_X509_new_null());
    if (!chain || sk_X509_push(chain.get(), ca) <= 0) fail("cannot build the PKCS#12 chain");
    // Zeros select OpenSSL 3's defaults: AES-256-CBC with PBKDF2 and an HMAC-SHA-256 MAC.
    Pkcs12Ptr pkcs12(PKCS12_create(password.c_str(), "Kooperdoc seal", key, certificate, chain.get(), 0, 0, 0, 0, 0));
    unsigned char* der = nullptr;
    const int length = pkcs12 ? i2d_PKCS12(pkcs12.get(), &der) : 0;
    if (length <= 0) fail("cannot create the PKCS#12 file");
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

std::string randomPassword() {
    std::uint8_t bytes[16];
    if (RAND_priv_bytes(bytes, sizeof bytes) != 1) fail("no random password");
    return toHex(bytes, sizeof bytes);
}

/// Writes under a temporary name and links it into place: link() fails on an existing name, so
/// a file is never overwritten, and a reader sees either nothing or the whole file.
void writeNewFile(const fs::path& directory, const std::string& name, const std::string& content, bool secret) {
    const fs::path target = directory / name;
    std::string temporary = (directory / ("." + name + ".XXXXXX")).string();
    const int fd = ::mkstemp(temporary.data()); // mode 0600 from the start: a key is never readable by others
    if (fd < 0) failIo("cannot create a file in " + directory.string(), errno);
    auto abandon = [&](const std::string& what) {
        const int error = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        failIo(what + " " + target.string(), error);
    };
    for (std::size_t written = 0; written < content.size();) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) abandon("cannot write");
        written += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, secret ? 0600 : 0644) != 0) abandon("cannot set the permissions of");
    if (::fsync(fd) != 0) abandon("cannot flush");
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        failIo("cannot close " + target.string(), error);
    }
    if (::link(temporary.c_str(), target.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        if (error == EEXIST) {
            throw Error(ErrorCode::kAlreadyExists, "identity.exists", target.string() + " exists already");
        }
        failIo("cannot create " + target.string(), error);
    }
    ::unlink(temporary.c_str());
}

void prepareDirectory(const fs::path& directory) {
    std::error_code error;
    const fs::file_status status = fs::status(directory, error);
    if (fs::exists(status)) {
        if (!fs::is_directory(status)) {
            throw Error(ErrorCode::kInvalidArgument, "identity.io", directory.string() + " is not a directory");
        }
        for (const char* name : kFileNames) {
            if (fs::exists(fs::symlink_status(directory / name, error))) {
                throw Error(ErrorCode::kAlreadyExists, "identity.exists",
                            (directory / name).string() +
                                " exists already; a development identity is never overwritten");
            }
        }
        return;
    }
    if (directory.has_parent_path()) fs::create_directories(directory.parent_path(), error);
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) failIo("cannot create " + directory.string(), errno);
}

void syncDirectory(const fs::path& directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return; // the files are complete; only their names might not survive a power cut
    ::fsync(fd);
    ::close(fd);
}

} // namespace

void writeDevelopmentIdentity(const std::string& directory, std::int64_t nowEpochSeconds) {
    const fs::path root(directory);
    prepareDirectory(root); // before the key generation: refusing should be instant
    ERR_clear_error();

    const std::vector<std::pair<int, const char*>> kSignerExtensions = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
    };

    PkeyPtr caKey = generateKey("RSA", 3072);
    // No authorityKeyIdentifier on the self-signed root (RFC 5280 4.2.1.1 allows leaving it out).
    X509Ptr ca = issue({makeName({{"C", "PL"}, {"O", kOrganization}, {"CN", "Kooperdoc Development CA"}}),
                        caKey.get(),
                        nowEpochSeconds,
                        addYears(nowEpochSeconds, 10),
                        {{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}}},
                       nullptr, caKey.get());

    PkeyPtr sealKey = generateKey("RSA", 2048);
    X509Ptr seal = issue({makeName({{"C", "PL"}, {"O", kOrganization}, {"CN", "Kooperdoc – pieczęć deweloperska"}}),
                          sealKey.get(), nowEpochSeconds, addYears(nowEpochSeconds, 3), kSignerExtensions},
                         ca.get(), caKey.get());

    PkeyPtr personKey = generateKey("EC", 0);
    X509Ptr person = issue({makeName({{"C", "PL"},
                                      {"GN", "Jan"},
                                      {"SN", "Kowalski"},
                                      {"serialNumber", "PNOPL-44051401359"},
                                      {"CN", "Jan Kowalski"}}),
                            personKey.get(), nowEpochSeconds, addYears(nowEpochSeconds, 3), kSignerExtensions},
                           ca.get(), caKey.get());

    PkeyPtr tsaKey = generateKey("RSA", 2048);
    // RFC 3161 2.3: the TSA certificate has exactly one, critical, extended key usage: timeStamping.
    X509Ptr tsa =
        issue({makeName({{"C", "PL"}, {"O", kOrganization}, {"CN", "Kooperdoc – znacznik czasu deweloperski"}}),
               tsaKey.get(),
               nowEpochSeconds,
               addYears(nowEpochSeconds, 5),
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature"},
                {NID_ext_key_usage, "critical,timeStamping"},
                {NID_subject_key_identifier, "hash"},
                {NID_authority_key_identifier, "keyid:always"}}},
              ca.get(), caKey.get());

    CrlPtr crl = issueEmptyCrl(ca.get(), caKey.get(), nowEpochSeconds);
    const std::string password = randomPassword();

    writeNewFile(root, "seal.key.pem", PemWriter().privateKey(sealKey.get()).text(), true);
    writeNewFile(root, "person.key.pem", PemWriter().privateKey(personKey.get()).text(), true);
    writeNewFile(root, "tsa.key.pem", PemWriter().privateKey(tsaKey.get()).text(), true);
    writeNewFile(root, "seal.p12.password", password, true);
    writeNewFile(root, "seal.p12", pkcs12Der(password, sealKey.get(), seal.get(), ca.get()), true);
    writeNewFile(root, "seal.pem", PemWriter().certificate(seal.get()).certificate(ca.get()).text(), false);
    writeNewFile(root, "person.pem", PemWriter().certificate(person.get()).certificate(ca.get()).text(), false);
    writeNewFile(root, "tsa.pem", PemWriter().certificate(tsa.get()).certificate(ca.get()).text(), false);
    writeNewFile(root, "ca.crl.pem", PemWriter().crl(crl.get()).text(), false);
    writeNewFile(root, "ca.pem", PemWriter().certificate(ca.get()).text(), false);
    syncDirectory(root);
}

} // namespace kooperdoc::signing
