// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The HTTP edge of the service: bodies read with a limit, media types checked, JSON parsed, and
// the one error shape every route answers with. Poco::Net stays in server/.

#include <cstddef>
#include <string>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server::http {

using Status = Poco::Net::HTTPResponse::HTTPStatus;

/// The one place where failure categories become HTTP statuses.
Status statusFor(ErrorCode code);

/// The body, at most \p limit bytes: Error{kPayloadTooLarge, "request.too_large"} beyond it
/// (checked against Content-Length first, so a large upload is refused before it is read).
std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit);

/// Reads and drops what is left of a body of at most \p limit bytes, so a client still sending
/// (an answer given before the body was read: 401, 403, 404, 415) receives the answer instead of a
/// reset connection; a longer body is not read and the connection is closed after the answer.
void discardBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, std::size_t limit);

/// "application/json; charset=utf-8" → "application/json".
std::string mediaType(const std::string& contentType);

/// Error{kUnsupportedMediaType, "request.media_type"} unless the Content-Type is one of \p types.
void requireMediaType(const Poco::Net::HTTPServerRequest& request, const std::vector<std::string>& types);

/// Does the Accept header name \p type (exactly, without wildcards: a browser's */* keeps JSON)?
bool accepts(const Poco::Net::HTTPServerRequest& request, const std::string& type);

/// A JSON object, or Error{kInvalidArgument, "request.json_invalid"}.
Poco::JSON::Object::Ptr parseJsonObject(const std::string& body);

void sendJson(Poco::Net::HTTPServerResponse& response, Status status, const Poco::Dynamic::Var& body);
void sendBytes(Poco::Net::HTTPServerResponse& response, Status status, const std::string& body, const std::string& type);

/// {"error": {"code", "message_pl", "message_en", "violations": [{"pointer", "code", "message"}]}}
Poco::JSON::Object::Ptr errorBody(const std::string& code, const std::string& pl, const std::string& en,
                                  const std::vector<Violation>& violations = {});
/// An Error (a ValidationError with its violations) in that shape; an internal failure's message
/// is replaced by "Internal error." (it may name files or hosts). Also one line of a batch answer.
Poco::JSON::Object::Ptr errorBody(const Error& error);
/// An Error (a ValidationError with its violations) in that shape, with its mapped status.
void sendError(Poco::Net::HTTPServerResponse& response, const Error& error);
void sendError(Poco::Net::HTTPServerResponse& response, Status status, const std::string& code, const std::string& pl,
               const std::string& en);

}  // namespace kooperdoc::server::http
