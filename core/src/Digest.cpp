// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/core/Digest.h"

#include <openssl/evp.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc {

Sha256 sha256(std::string_view data) {
    Sha256 digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != digest.size()) {
        throw Error(ErrorCode::kInternal, "crypto.digest", "SHA-256 failed");
    }
    return digest;
}

std::string toHex(const std::uint8_t* data, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        hex[2 * i] = kDigits[data[i] >> 4];
        hex[2 * i + 1] = kDigits[data[i] & 0x0f];
    }
    return hex;
}

}  // namespace kooperdoc
