// SPDX-License-Identifier: AGPL-3.0-or-later
// Base64 as Kooperdoc writes it everywhere (signed notes, the trail file, the master key file,
// remote-signing states): standard alphabet, padded, one line.
#pragma once

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>

#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace kooperdoc {

inline std::string base64(std::string_view data) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder.write(data.data(), static_cast<std::streamsize>(data.size()));
    encoder.close();
    return out.str();
}

/// nullopt for anything but the canonical encoding of some bytes: a second spelling of the same
/// bytes would let a signed value be written two ways.
inline std::optional<std::string> unbase64(const std::string& text) {
    try {
        std::istringstream in(text);
        Poco::Base64Decoder decoder(in);
        std::string out((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
        if (base64(out) != text) return std::nullopt;
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace kooperdoc
