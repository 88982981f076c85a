// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kooperdoc {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
std::string toHex(const std::uint8_t* data, std::size_t size);
inline std::string toHex(const Sha256& digest) { return toHex(digest.data(), digest.size()); }
inline std::string sha256Hex(std::string_view data) { return toHex(sha256(data)); }

}  // namespace kooperdoc
