// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/storage/Keys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <Poco/Base64Decoder.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "kooperdoc/core/Base64.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Utf8.h"

namespace kooperdoc::storage {
namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

[[noreturn]] void cryptoFailure(const char* what) {
    throw Error(ErrorCode::kInternal, "storage.crypto", std::string("OpenSSL failed: ") + what);
}

void randomFill(unsigned char* out, std::size_t size) {
    if (RAND_bytes(out, static_cast<int>(size)) != 1) cryptoFailure("RAND_bytes");
}

/// HKDF-SHA256(master, info): one independent key per purpose, so no key serves two.
Key256 derive(const Key256& master, std::string_view info) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                     &EVP_PKEY_CTX_free);
    Key256 out{};
    std::size_t length = out.size();
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), master.data(), static_cast<int>(master.size())) != 1 ||
        EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes(info), static_cast<int>(info.size())) != 1 ||
        EVP_PKEY_derive(ctx.get(), out.data(), &length) != 1 || length != out.size()) {
        cryptoFailure("HKDF");
    }
    return out;
}

std::string hmacHex(const Key256& key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), mac, &length) == nullptr) {
        cryptoFailure("HMAC");
    }
    return toHex(mac, length);
}

[[noreturn]] void invalidKey(const std::string& detail) {
    throw Error(ErrorCode::kInvalidArgument, "storage.master_key_invalid",
                "master key: " + detail + " (expected 32 random bytes in base64, e.g. from `kooperdoc storage new-key`)");
}

}  // namespace

MasterKey MasterKey::fromBase64(std::string_view text) {
    std::string trimmed(text);
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' ')) trimmed.pop_back();
    if (trimmed.empty()) invalidKey("empty");
    std::string decoded;
    try {
        std::istringstream in(trimmed);
        Poco::Base64Decoder decoder(in);
        decoded.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
        invalidKey("not base64");
    }
    if (decoded.size() != 32) invalidKey("decodes to " + std::to_string(decoded.size()) + " bytes");
    Key256 key{};
    std::memcpy(key.data(), decoded.data(), key.size());
    return MasterKey(key);
}

MasterKey MasterKey::load(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw Error(ErrorCode::kFailedPrecondition, "storage.master_key_missing",
                    "master key file " + path + ": " + std::strerror(errno));
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw Error(ErrorCode::kFailedPrecondition, "storage.master_key_exposed",
                    "master key file " + path + " is readable by others: chmod 600 it");
    }
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return fromBase64(text);
}

MasterKey MasterKey::loadOrCreate(const std::string& path) {
    if (!std::filesystem::exists(path)) {
        const auto parent = std::filesystem::path(path).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent);
        // Two processes starting at once must end with one key: each writes its own temporary
        // file and link() publishes it only if no key exists yet; the loser reads the winner's.
        const std::string temporary = path + "." + randomId().substr(0, 8) + ".tmp";
        const mode_t previous = ::umask(077);
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            out << generateBase64() << '\n';
            out.flush();
            if (!out) {
                ::umask(previous);
                throw Error(ErrorCode::kUnavailable, "storage.io", "cannot write the master key file " + temporary);
            }
        }
        ::umask(previous);
        const int linked = ::link(temporary.c_str(), path.c_str());
        const int linkError = errno;
        ::unlink(temporary.c_str());
        if (linked != 0 && linkError != EEXIST) {
            throw Error(ErrorCode::kUnavailable, "storage.io", "cannot create the master key file " + path + ": " + std::strerror(linkError));
        }
    }
    return load(path);
}

std::string MasterKey::generateBase64() {
    Key256 key = randomKey();
    return base64(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

std::string MasterKey::fingerprint() const {
    return hmacHex(derive(key_, "kooperdoc/fingerprint/v1"), "kooperdoc").substr(0, 32);
}

std::string MasterKey::wrap(const Key256& key, std::string_view owner) const {
    return sealBytes(derive(key_, "kooperdoc/wrap/v1"),
                     std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), owner);
}

Key256 MasterKey::unwrap(std::string_view wrapped, std::string_view owner) const {
    const std::string plain = openBytes(derive(key_, "kooperdoc/wrap/v1"), wrapped, owner);
    if (plain.size() != 32) throw Error(ErrorCode::kDataLoss, "storage.decrypt_failed", "a wrapped key has the wrong size");
    Key256 key{};
    std::memcpy(key.data(), plain.data(), key.size());
    return key;
}

std::string MasterKey::indexHmac(std::string_view tenantId, std::string_view kind, std::string_view normalized) const {
    const Key256 indexKey = derive(key_, "kooperdoc/index/v1/" + std::string(tenantId));
    return hmacHex(indexKey, std::string(kind) + '\0' + std::string(normalized));
}

Key256 randomKey() {
    Key256 key{};
    randomFill(key.data(), key.size());
    return key;
}

namespace {

/// Eleven decimal digits in a row: what the audit log refuses as a possible PESEL.
bool hasPeselLikeRun(const std::string& hex) {
    std::size_t run = 0;
    for (const char c : hex) {
        run = (c >= '0' && c <= '9') ? run + 1 : 0;
        if (run >= 11) return true;
    }
    return false;
}

}  // namespace

std::string randomId() {
    // Ids go into the audit log, which refuses eleven digits in a row (a PESEL?). About 2% of
    // random 32-digit hex strings hold such a run; drawing those again costs 0.03 bits.
    for (;;) {
        std::array<std::uint8_t, 16> id{};
        randomFill(id.data(), id.size());
        auto hex = toHex(id.data(), id.size());
        if (!hasPeselLikeRun(hex)) return hex;
    }
}

std::string sealBytes(const Key256& key, std::string_view plaintext, std::string_view context) {
    std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    randomFill(nonce, kNonceSize);
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int length = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &length, bytes(context), static_cast<int>(context.size())) != 1) {
        cryptoFailure("AES-256-GCM init");
    }
    auto* cipher = nonce + kNonceSize;
    // EVP takes int lengths: feed large blobs in chunks.
    std::size_t done = 0;
    while (done < plaintext.size()) {
        const int chunk = static_cast<int>(std::min<std::size_t>(plaintext.size() - done, 1u << 30));
        if (EVP_EncryptUpdate(ctx.get(), cipher + done, &length, bytes(plaintext) + done, chunk) != 1) {
            cryptoFailure("AES-256-GCM update");
        }
        done += static_cast<std::size_t>(length);
    }
    if (EVP_EncryptFinal_ex(ctx.get(), cipher + done, &length) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), cipher + plaintext.size()) != 1) {
        cryptoFailure("AES-256-GCM final");
    }
    return out;
}

std::string openBytes(const Key256& key, std::string_view sealed, std::string_view context) {
    if (sealed.size() < kNonceSize + kTagSize) {
        throw Error(ErrorCode::kDataLoss, "storage.decrypt_failed", "an encrypted record is shorter than its header");
    }
    const std::size_t size = sealed.size() - kNonceSize - kTagSize;
    std::string out(size, '\0');
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int length = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes(sealed)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &length, bytes(context), static_cast<int>(context.size())) != 1) {
        cryptoFailure("AES-256-GCM init");
    }
    auto* plain = reinterpret_cast<unsigned char*>(out.data());
    const unsigned char* cipher = bytes(sealed) + kNonceSize;
    std::size_t done = 0;
    while (done < size) {
        const int chunk = static_cast<int>(std::min<std::size_t>(size - done, 1u << 30));
        if (EVP_DecryptUpdate(ctx.get(), plain + done, &length, cipher + done, chunk) != 1) cryptoFailure("AES-256-GCM update");
        done += static_cast<std::size_t>(length);
    }
    std::array<unsigned char, kTagSize> tag{};
    std::memcpy(tag.data(), cipher + size, kTagSize);
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), plain + done, &length) != 1) {
        throw Error(ErrorCode::kDataLoss, "storage.decrypt_failed",
                    "an encrypted record does not authenticate: damaged, moved, or under another key");
    }
    return out;
}

std::string normalizePesel(std::string_view pesel) {
    std::string digits;
    for (const char c : pesel) {
        if (c >= '0' && c <= '9') digits += c;
        else if (c != ' ' && c != '-') return {};
    }
    return digits.size() == 11 ? digits : std::string{};
}

std::string normalizeName(std::string_view name) {
    std::string collapsed;
    bool space = false;
    for (const char c : name) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !collapsed.empty();
            continue;
        }
        if (space) collapsed += ' ';
        space = false;
        collapsed += c;
    }
    return utf8::toUpper(collapsed);
}

}  // namespace kooperdoc::storage
