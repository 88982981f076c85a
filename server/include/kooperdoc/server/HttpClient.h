// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace kooperdoc::server {

/// Outgoing HTTP for the signing module's network needs (an RFC 3161 timestamp authority, CRLs
/// at their distribution points). It lives here because Poco::Net stays in server/; signing
/// takes it as a plain function.
struct HttpLimits {
    std::chrono::milliseconds timeout{10000};
    std::size_t maxResponseBytes = 8 * 1024 * 1024;  ///< a CRL of a large CA is a few MiB
    int maxRedirects = 3;
};

/// POSTs \p body and returns the response body of a 200 answer. http:// and https:// (system
/// trust store). Throws Error{kUnavailable, "http.unreachable"} when the server cannot be
/// reached or times out, "http.status" for another status, Error{kResourceExhausted,
/// "http.too_large"} beyond the limit, Error{kInvalidArgument, "http.bad_url"}.
std::string httpPost(const std::string& url, const std::string& body, const std::string& contentType,
                     const HttpLimits& limits = {});

/// GETs \p url (following up to maxRedirects redirects); errors as httpPost.
std::string httpGet(const std::string& url, const HttpLimits& limits = {});

}  // namespace kooperdoc::server
