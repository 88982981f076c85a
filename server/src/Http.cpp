// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Http.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/String.h>

namespace kooperdoc::server::http {

using Poco::Net::HTTPResponse;

Status statusFor(ErrorCode code) {
    switch (code) {
    case ErrorCode::kInvalidArgument: return HTTPResponse::HTTP_BAD_REQUEST;
    case ErrorCode::kValidationFailed: return HTTPResponse::HTTP_UNPROCESSABLE_ENTITY;
    case ErrorCode::kNotFound: return HTTPResponse::HTTP_NOT_FOUND;
    case ErrorCode::kAlreadyExists: return HTTPResponse::HTTP_CONFLICT;
    case ErrorCode::kFailedPrecondition: return HTTPResponse::HTTP_CONFLICT;
    case ErrorCode::kPermissionDenied: return HTTPResponse::HTTP_FORBIDDEN;
    case ErrorCode::kUnauthenticated: return HTTPResponse::HTTP_UNAUTHORIZED;
    case ErrorCode::kResourceExhausted: return HTTPResponse::HTTP_TOO_MANY_REQUESTS;
    case ErrorCode::kPayloadTooLarge: return HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE;
    case ErrorCode::kUnsupportedMediaType: return HTTPResponse::HTTP_UNSUPPORTEDMEDIATYPE;
    case ErrorCode::kUnavailable: return HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
    case ErrorCode::kUnknown: return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    }
    return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
}

std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
    const auto tooLarge = [&] {
        return Error(ErrorCode::kPayloadTooLarge, "request.too_large",
                     "the request body exceeds " + std::to_string(limit) + " bytes");
    };
    if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(limit)) throw tooLarge();
    std::string body;
    char buffer[16384];
    auto& in = request.stream();
    try {
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            body.append(buffer, static_cast<std::size_t>(in.gcount()));
            // Chunked bodies have no length to check up front.
            if (body.size() > limit) throw tooLarge();
        }
    } catch (const Poco::TimeoutException&) {
        throw Error(ErrorCode::kInvalidArgument, "request.timeout", "the request body did not arrive in time");
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::kInvalidArgument, "request.unreadable", "the request body could not be read");
    }
    return body;
}

void discardBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, std::size_t limit) {
    const bool bounded = request.hasContentLength() && request.getContentLength64() <= static_cast<Poco::Int64>(limit);
    if (!bounded && (request.hasContentLength() || request.getChunkedTransferEncoding())) {
        response.setKeepAlive(false);
        return;
    }
    if (!bounded) return;
    try {
        auto& in = request.stream();
        char buffer[16384];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        }
    } catch (const Poco::Exception&) {
        response.setKeepAlive(false);
    }
}

std::string mediaType(const std::string& contentType) {
    auto type = Poco::toLower(Poco::trim(contentType.substr(0, contentType.find(';'))));
    return type;
}

void requireMediaType(const Poco::Net::HTTPServerRequest& request, const std::vector<std::string>& types) {
    const auto type = mediaType(request.getContentType());
    if (std::find(types.begin(), types.end(), type) != types.end()) return;
    std::string expected;
    for (const auto& t : types) expected += (expected.empty() ? "" : ", ") + t;
    throw Error(ErrorCode::kUnsupportedMediaType, "request.media_type", "expected Content-Type " + expected);
}

bool accepts(const Poco::Net::HTTPServerRequest& request, const std::string& type) {
    const auto accept = request.get("Accept", "");
    std::istringstream items(accept);
    std::string item;
    while (std::getline(items, item, ',')) {
        if (mediaType(item) == type) return true;
    }
    return false;
}

Poco::JSON::Object::Ptr parseJsonObject(const std::string& body) {
    try {
        Poco::JSON::Parser parser;
        const auto value = parser.parse(body);
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) return value.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
    }
    throw Error(ErrorCode::kInvalidArgument, "request.json_invalid", "the body is not a JSON object");
}

void sendJson(Poco::Net::HTTPServerResponse& response, Status status, const Poco::Dynamic::Var& body) {
    std::ostringstream text;
    Poco::JSON::Stringifier::stringify(body, text);
    sendBytes(response, status, text.str(), "application/json; charset=utf-8");
}

void sendBytes(Poco::Net::HTTPServerResponse& response, Status status, const std::string& body, const std::string& type) {
    response.setStatusAndReason(status);
    response.setContentType(type);
    response.set("Cache-Control", "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
}

Poco::JSON::Object::Ptr errorBody(const std::string& code, const std::string& pl, const std::string& en,
                                  const std::vector<Violation>& violations) {
    Poco::JSON::Object::Ptr error = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    error->set("code", code);
    error->set("message_pl", pl);
    error->set("message_en", en);
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    for (const auto& v : violations) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("pointer", v.pointer);
        o->set("code", v.code);
        o->set("message", v.messageEn);
        o->set("message_pl", v.messagePl);
        list->add(o);
    }
    error->set("violations", list);
    Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
    body->set("error", error);
    return body;
}

namespace {

/// A sentence in Polish for each category; the English one is the error's own message.
const char* polishFor(ErrorCode code) {
    switch (code) {
    case ErrorCode::kInvalidArgument: return "Nieprawidłowe żądanie.";
    case ErrorCode::kValidationFailed: return "Dane nie spełniają wymagań szablonu.";
    case ErrorCode::kNotFound: return "Nie znaleziono zasobu.";
    case ErrorCode::kAlreadyExists: return "Konflikt z istniejącym zasobem.";
    case ErrorCode::kFailedPrecondition: return "Stan zasobu nie pozwala na tę operację.";
    case ErrorCode::kPermissionDenied: return "Brak uprawnień do tej operacji.";
    case ErrorCode::kUnauthenticated: return "Wymagane uwierzytelnienie (nagłówek Authorization: Bearer).";
    case ErrorCode::kResourceExhausted: return "Przekroczono limit żądań; spróbuj ponownie później.";
    case ErrorCode::kPayloadTooLarge: return "Treść żądania jest za duża.";
    case ErrorCode::kUnsupportedMediaType: return "Nieobsługiwany typ treści.";
    case ErrorCode::kUnavailable: return "Usługa chwilowo niedostępna; spróbuj ponownie później.";
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
    case ErrorCode::kUnknown: return "Błąd wewnętrzny.";
    }
    return "Błąd wewnętrzny.";
}

}  // namespace

Poco::JSON::Object::Ptr errorBody(const Error& error) {
    const bool internal = statusFor(error.code()) == HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    // An internal failure's message may name files or hosts: the client gets the code only.
    const std::string en = internal ? "Internal error." : error.what();
    std::vector<Violation> violations;
    if (const auto* validation = dynamic_cast<const ValidationError*>(&error)) violations = validation->violations();
    return errorBody(error.reason(), polishFor(error.code()), en, violations);
}

void sendError(Poco::Net::HTTPServerResponse& response, const Error& error) {
    const auto status = statusFor(error.code());
    if (status == HTTPResponse::HTTP_SERVICE_UNAVAILABLE && !response.has("Retry-After")) response.set("Retry-After", "5");
    sendJson(response, status, errorBody(error));
}

void sendError(Poco::Net::HTTPServerResponse& response, Status status, const std::string& code, const std::string& pl,
               const std::string& en) {
    sendJson(response, status, errorBody(code, pl, en));
}

}  // namespace kooperdoc::server::http
