// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/audit/Checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "kooperdoc/core/Base64.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::audit {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string rawPublicKey(EVP_PKEY* key) {
    std::size_t length = 32;
    std::string raw(length, '\0');
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) != 1 || length != 32) {
        throw Error(ErrorCode::kInternal, "audit.crypto", "cannot read the Ed25519 public key");
    }
    return raw;
}

/// signed-note key id: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), 0x01 being
/// the Ed25519 algorithm byte.
std::string keyId(const std::string& name, EVP_PKEY* key) {
    const Sha256 digest = sha256(name + "\n" + std::string(1, '\x01') + rawPublicKey(key));
    return std::string(reinterpret_cast<const char*>(digest.data()), 4);
}

PkeyPtr publicKeyFromPem(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) return nullptr;
    return key;
}

std::string body(const std::string& origin, std::uint64_t size, const Sha256& root) {
    return origin + "\n" + std::to_string(size) + "\n" +
           base64(std::string_view(reinterpret_cast<const char*>(root.data()), root.size())) + "\n";
}

bool validOrigin(const std::string& origin) {
    if (origin.empty()) return false;
    for (const char c : origin) {
        if (c == '\n' || c == ' ' || static_cast<unsigned char>(c) < 0x21) return false;
    }
    return true;
}

const std::string kDash = "\xE2\x80\x94";  // U+2014, as signed notes write it

}  // namespace

struct CheckpointSigner::Key {
    PkeyPtr key;
};

CheckpointSigner::CheckpointSigner(std::string origin, std::unique_ptr<Key> key) : origin_(std::move(origin)), key_(std::move(key)) {}
CheckpointSigner::CheckpointSigner(CheckpointSigner&&) noexcept = default;
CheckpointSigner& CheckpointSigner::operator=(CheckpointSigner&&) noexcept = default;
CheckpointSigner::~CheckpointSigner() = default;

CheckpointSigner CheckpointSigner::fromPem(const std::string& origin, const std::string& privateKeyPem) {
    if (!validOrigin(origin)) {
        throw Error(ErrorCode::kInvalidArgument, "audit.origin_invalid", "a checkpoint origin is one word without spaces");
    }
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(privateKeyPem.data(), static_cast<int>(privateKeyPem.size())),
                                                  &BIO_free);
    PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
        throw Error(ErrorCode::kInvalidArgument, "audit.key_invalid", "the audit key must be an unencrypted Ed25519 PEM key");
    }
    return CheckpointSigner(origin, std::make_unique<Key>(Key{std::move(key)}));
}

std::string CheckpointSigner::generatePem() {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                     &EVP_PKEY_CTX_free);
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
        throw Error(ErrorCode::kInternal, "audit.crypto", "cannot generate an Ed25519 key");
    }
    PkeyPtr key(raw);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw Error(ErrorCode::kInternal, "audit.crypto", "cannot encode the Ed25519 key");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

CheckpointSigner CheckpointSigner::loadOrCreate(const std::string& origin, const std::string& path) {
    if (!std::filesystem::exists(path)) {
        const auto parent = std::filesystem::path(path).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent);
        // link() publishes the key only if none exists yet: two processes starting at once end
        // with one key (the loser reads the winner's).
        const std::string temporary = path + "." + std::to_string(::getpid()) + "." +
                                      std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())) + ".tmp";
        const mode_t previous = ::umask(077);
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            out << generatePem();
        }
        ::umask(previous);
        const int linked = ::link(temporary.c_str(), path.c_str());
        const int linkError = errno;
        ::unlink(temporary.c_str());
        if (linked != 0 && linkError != EEXIST) {
            throw Error(ErrorCode::kUnavailable, "audit.io", "cannot create the audit key file " + path);
        }
    }
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw Error(ErrorCode::kFailedPrecondition, "audit.key_exposed", "audit key file " + path + " is readable by others: chmod 600 it");
    }
    std::ifstream in(path, std::ios::binary);
    const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return fromPem(origin, pem);
}

std::string CheckpointSigner::publicKeyPem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_->key.get()) != 1) {
        throw Error(ErrorCode::kInternal, "audit.crypto", "cannot encode the audit public key");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

Checkpoint CheckpointSigner::sign(std::uint64_t size, const Sha256& root) const {
    const std::string text = body(origin_, size, root);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::string signature(64, '\0');
    std::size_t length = signature.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1) {
        throw Error(ErrorCode::kInternal, "audit.crypto", "cannot sign the checkpoint");
    }
    signature.resize(length);
    Checkpoint checkpoint;
    checkpoint.origin = origin_;
    checkpoint.size = size;
    checkpoint.root = root;
    checkpoint.note = text + "\n" + kDash + " " + origin_ + " " + base64(keyId(origin_, key_->key.get()) + signature) + "\n";
    return checkpoint;
}

std::optional<Checkpoint> verifyCheckpoint(const std::string& note, const std::string& origin, const std::string& publicKeyPem,
                                           std::string* whyNot) {
    const auto fail = [&](const std::string& why) -> std::optional<Checkpoint> {
        if (whyNot != nullptr) *whyNot = why;
        return std::nullopt;
    };
    PkeyPtr key = publicKeyFromPem(publicKeyPem);
    if (!key) return fail("the audit public key is not an Ed25519 PEM key");
    const auto separator = note.find("\n\n");
    if (separator == std::string::npos || note.size() > 16384) return fail("not a signed note");
    const std::string text = note.substr(0, separator + 1);
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < text.size();) {
        const auto end = text.find('\n', start);
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    if (lines.size() < 3) return fail("a checkpoint has an origin, a size and a root");
    if (lines[0] != origin) return fail("the checkpoint is for origin \"" + lines[0] + "\", not \"" + origin + "\"");
    if (lines[1].empty() || lines[1].size() > 19 || lines[1].find_first_not_of("0123456789") != std::string::npos ||
        (lines[1].size() > 1 && lines[1][0] == '0')) {
        return fail("the tree size is not a decimal number");
    }
    const auto root = unbase64(lines[2]);
    if (!root || root->size() != 32) return fail("the root is not 32 bytes of base64");

    const std::string expectedId = keyId(origin, key.get());
    bool verified = false;
    std::size_t start = separator + 2;
    while (start < note.size()) {
        const auto end = note.find('\n', start);
        if (end == std::string::npos) return fail("a signature line is not terminated");
        const std::string line = note.substr(start, end - start);
        start = end + 1;
        const std::string prefix = kDash + " " + origin + " ";
        if (line.rfind(kDash + " ", 0) != 0) return fail("a signature line does not start with an em dash");
        if (line.rfind(prefix, 0) != 0) continue;  // another key's signature: not ours to judge
        const auto blob = unbase64(line.substr(prefix.size()));
        if (!blob || blob->size() != 4 + 64 || blob->substr(0, 4) != expectedId) continue;
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
        verified = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
                   EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(blob->data() + 4), 64,
                                    reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
        if (verified) break;
    }
    if (!verified) return fail("no signature by the audit key verifies");
    Checkpoint checkpoint;
    checkpoint.origin = origin;
    checkpoint.size = std::stoull(lines[1]);
    std::memcpy(checkpoint.root.data(), root->data(), 32);
    checkpoint.note = note;
    return checkpoint;
}

}  // namespace kooperdoc::audit
