// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kooperdoc {

/// The category of a failure. It decides the HTTP status and the CLI exit code in one place
/// (server/ and cli/); the stable, fine-grained identifier is Error::reason().
enum class ErrorCode : std::uint16_t {
    kUnknown = 0,
    kInvalidArgument = 1,     // malformed request, usage error
    kValidationFailed = 2,    // well-formed request whose data break the template's schema
    kNotFound = 3,
    kAlreadyExists = 4,
    kFailedPrecondition = 5,  // the request is fine but the state forbids it
    kPermissionDenied = 6,
    kUnauthenticated = 7,
    kResourceExhausted = 8,
    kPayloadTooLarge = 9,
    kUnsupportedMediaType = 10,
    kDataLoss = 11,
    kUnavailable = 12,
    kInternal = 13,
};

const char* toString(ErrorCode code);

/// One broken rule in a request's data, addressed by JSON pointer (RFC 6901).
struct Violation {
    std::string pointer;    ///< e.g. "/parties/2/nip"; "" is the whole document
    std::string code;       ///< stable identifier, e.g. "schema.required", "value.pesel_checksum"
    std::string messagePl;
    std::string messageEn;
};

/// The one exception type of Kooperdoc. Third-party exceptions are translated into it at the
/// module that calls the library, so no Poco, PoDoFo or OpenSSL exception crosses a module edge.
class Error : public std::runtime_error {
public:
    /// \param reason a stable, dotted identifier ("template.unknown"); never reused for
    ///        another meaning, so clients may switch on it.
    Error(ErrorCode code, std::string reason, const std::string& message);

    ErrorCode code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    ErrorCode code_;
    std::string reason_;
};

/// Thrown when request data break a template's schema. Carries every violation at once, so a
/// client fixes its input in one round trip.
class ValidationError : public Error {
public:
    explicit ValidationError(std::vector<Violation> violations);

    const std::vector<Violation>& violations() const noexcept { return violations_; }

private:
    std::vector<Violation> violations_;
};

}  // namespace kooperdoc
