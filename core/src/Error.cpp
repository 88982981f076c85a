// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/core/Error.h"

namespace kooperdoc {

const char* toString(ErrorCode code) {
    switch (code) {
    case ErrorCode::kUnknown: return "unknown";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kValidationFailed: return "validation_failed";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kResourceExhausted: return "resource_exhausted";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kUnsupportedMediaType: return "unsupported_media_type";
    case ErrorCode::kDataLoss: return "data_loss";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
    }
    return "unknown";
}

Error::Error(ErrorCode code, std::string reason, const std::string& message)
    : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}

namespace {
std::string summarize(const std::vector<Violation>& violations) {
    std::string text = std::to_string(violations.size()) + " validation error(s)";
    for (const auto& v : violations) {
        text += "\n  " + (v.pointer.empty() ? std::string("/") : v.pointer) + ": " + v.code + ": " +
                v.messageEn;
    }
    return text;
}
}  // namespace

ValidationError::ValidationError(std::vector<Violation> violations)
    : Error(ErrorCode::kValidationFailed, "request.invalid", summarize(violations)),
      violations_(std::move(violations)) {}

}  // namespace kooperdoc
