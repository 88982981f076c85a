// SPDX-License-Identifier: AGPL-3.0-or-later
// Signing a stored document through the API: in the service with the person's own PKCS#12
// (POST /v1/documents/{id}/sign), or remotely, the key staying on the signer's card
// (POST /v1/documents/{id}/signatures, …/{session}/complete, …/{session}/finalize). Both end in
// service::addRevision, like an uploaded signed copy: the same review, the same events.
//
// The remote signing state (signing::RemoteSigningState: the prepared PDF, the signed attributes,
// later the CMS) travels with the client, sealed, instead of living in the service: any instance
// can continue a session, a restart loses nothing, and there is nothing to expire or clean up
// server-side. Why this and not a table: docs/api.md, "Remote signing".
#include "../Api.h"
#include "../Http.h"

#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "kooperdoc/core/Base64.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/RevisionIntake.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/RemoteSigning.h"
#include "kooperdoc/signing/SigningIdentity.h"
#include "kooperdoc/storage/Keys.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::server {
namespace {

using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

/// How long a prepared remote signature may wait for its signature and finalisation: long enough
/// for a person to find their card and PIN, short enough that a forgotten session is harmless.
constexpr std::int64_t kRemoteSessionSeconds = 15 * 60;

using kooperdoc::base64;

/// Error{kInvalidArgument, "request.base64_invalid"} (400) naming \p pointer for text that is not base64.
std::string unbase64(const std::string& text, const std::string& pointer) {
    // Poco's decoder reports a bad character only through the stream's state, which copying the
    // stream buffer loses: the alphabet and the padding are checked here.
    const auto invalid = [&] { return Error(ErrorCode::kInvalidArgument, "request.base64_invalid", pointer + " is not base64"); };
    std::string compact;
    for (const char c : text) {
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
    }
    const auto padding = compact.find('=');
    const auto body = compact.substr(0, padding);
    if (compact.size() % 4 != 0 || (padding != std::string::npos && compact.size() - padding > 2) ||
        (padding != std::string::npos && compact.find_first_not_of('=', padding) != std::string::npos) ||
        body.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != std::string::npos) {
        throw invalid();
    }
    try {
        std::istringstream in(text);
        Poco::Base64Decoder decoder(in);
        std::ostringstream out;
        out << decoder.rdbuf();
        return out.str();
    } catch (const Poco::Exception&) {
        throw invalid();
    }
}

/// A required string member, else a 422 with its pointer (the shape every route answers).
std::string requiredString(const Object::Ptr& body, const std::string& name) {
    if (!body->has(name) || !body->get(name).isString() || body->getValue<std::string>(name).empty()) {
        throw ValidationError({Violation{"/" + name, "schema.required", "Pole jest wymagane (tekst).", name + " (a string) is required"}});
    }
    return body->getValue<std::string>(name);
}

std::string optionalString(const Object::Ptr& body, const std::string& name) {
    if (!body->has(name)) return {};
    if (!body->get(name).isString()) {
        throw ValidationError({Violation{"/" + name, "request.type", "Pole musi być tekstem.", name + " must be a string"}});
    }
    return body->getValue<std::string>(name);
}

Object::Ptr jsonBody(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/json"});
    return http::parseJsonObject(http::readBody(ctx.request, api.limits.maxBodyBytes));
}

/// Runs a signing step and gives its failures the statuses the API promises: what the client
/// sent (a certificate, a PKCS#12 and its password, a field name, a signature) is 422 with the
/// library's own reason; a field already signed or a document that allows no more signatures is
/// a state conflict, 409; anything else keeps its category (a TSA down is still 503).
template <typename Step>
auto signingStep(Step step) -> decltype(step()) {
    try {
        return step();
    } catch (const ValidationError&) {
        throw;
    } catch (const Error& e) {
        const auto& reason = e.reason();
        const bool aboutTheRequest = reason.rfind("identity.", 0) == 0 || reason.rfind("signature.", 0) == 0;
        const bool conflict = reason == "signature.field_signed" || reason == "signature.field_exists" ||
                              reason == "signature.field_not_signature" || reason == "signature.document_certified";
        if (aboutTheRequest && conflict) throw Error(ErrorCode::kFailedPrecondition, reason, e.what());
        if (aboutTheRequest && (e.code() == ErrorCode::kInvalidArgument || e.code() == ErrorCode::kNotFound ||
                                e.code() == ErrorCode::kFailedPrecondition)) {
            throw Error(ErrorCode::kValidationFailed, reason, e.what());
        }
        throw;
    }
}

const SigningSetup& signingSetup(const Api& api) {
    if (api.signing == nullptr) throw Error(ErrorCode::kUnavailable, "signing.unavailable", "signing is not configured");
    return *api.signing;
}

/// The newest stored revision: what a new signature is an incremental update of.
storage::RevisionRecord newestRevision(const Api& api, const std::string& documentId) {
    const auto revisions = api.store->repository().revisions(documentId);
    if (revisions.empty()) throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + documentId);
    const storage::RevisionRecord* newest = &revisions.front();
    for (const auto& r : revisions) {
        if (r.number > newest->number) newest = &r;
    }
    return *newest;
}

/// The verifier's word on the signature just made in \p field (the service's trust anchors).
Object::Ptr verdictOf(const Api& api, const std::string& pdf, const std::string& field) {
    const auto report = verify::verifyPdf(pdf, api.verifyOptions);
    Object::Ptr verdict = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& s : report.signatures) {
        if (s.documentTimestamp || s.fieldName != field) continue;
        verdict->set("indication", std::string(verify::toString(s.indication)));
        verdict->set("subIndication", std::string(verify::toString(s.subIndication)));
        verdict->set("padesLevel", s.padesLevel);
        verdict->set("reason", s.reason);
    }
    return verdict;
}

}  // namespace

service::RevisionIntake storeServiceSignature(const Api& api, const RequestContext& ctx, const std::string& documentId,
                                              const std::string& signedPdf, const std::string& field, const std::string& method) {
    const auto intake = service::addRevision(*api.store, *api.log, api.actor(ctx), ctx.who().tenantId, documentId, signedPdf,
                                             "signed_upload", api.clock());
    if (!intake.accepted) throw Error(ErrorCode::kValidationFailed, intake.reason, intake.detail);
    api.record(ctx, "document.signed", documentId, intake.sha256,
               {{"revision", std::to_string(intake.revision)}, {"field", field}, {"method", method}});
    return intake;
}

ServiceSignature signWithPkcs12(const Api& api, const RequestContext& ctx, const std::string& documentId, const Pkcs12Signing& request) {
    const auto& setup = signingSetup(api);
    // The key lives only in this identity, for this one signature: never stored, never logged.
    const auto identity = signingStep([&] { return signing::SigningIdentity::fromPkcs12(request.pkcs12, request.password); });
    signing::SignatureOptions options;
    options.fieldName = request.field;
    options.reason = request.reason;
    options.location = request.location;
    options.signingTimeEpoch = api.clock();
    const auto newest = api.store->read(ctx.who().tenantId, documentId);
    ServiceSignature result;
    result.signedPdf = signingStep([&] { return signing::signAtLevel(newest, identity, options, setup.level, setup.context); });
    result.intake = storeServiceSignature(api, ctx, documentId, result.signedPdf, request.field, "in_service");
    return result;
}

namespace {

/// The answer to a stored signature: 201 with the revision and the verifier's word on it.
void sendStoredSignature(const Api& api, RequestContext& ctx, const std::string& documentId, const service::RevisionIntake& intake,
                         const std::string& signedPdf, const std::string& field) {
    Object::Ptr answer = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    answer->set("id", documentId);
    answer->set("revision", intake.revision);
    answer->set("status", storage::toString(intake.status));
    answer->set("sha256", intake.sha256);
    answer->set("field", field);
    answer->set("verdict", verdictOf(api, signedPdf, field));
    ctx.response.set("Location", "/v1/documents/" + documentId);
    http::sendJson(ctx.response, HTTPResponse::HTTP_CREATED, answer);
}

void signInService(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(api, ctx);
    const auto document = api.document(ctx, ctx.param("id"));
    Pkcs12Signing request;
    request.field = requiredString(body, "field");
    request.pkcs12 = unbase64(requiredString(body, "pkcs12"), "/pkcs12");
    request.password = optionalString(body, "password");
    request.reason = optionalString(body, "reason");
    request.location = optionalString(body, "location");
    const auto signature = signWithPkcs12(api, ctx, document.id, request);
    request.password.assign(request.password.size(), '\0');
    sendStoredSignature(api, ctx, document.id, signature.intake, signature.signedPdf, request.field);
}

// --- remote signing: the sealed state --------------------------------------------------------

/// What the client carries between the steps. Bound to tenant, document and session by the
/// seal's context, and to the revision it was prepared on by baseRevision/baseSha256.
struct RemoteSession {
    std::string id;
    std::string tenantId, documentId;
    int baseRevision = 0;
    std::string baseSha256;
    std::int64_t expiresAt = 0;
    signing::RemoteSigningState state;
};

std::string sealContext(const std::string& tenantId, const std::string& documentId, const std::string& session) {
    return "kooperdoc-remote-signing/1:" + tenantId + ":" + documentId + ":" + session;
}

/// A fresh key per session seals the state (AES-256-GCM); the master key wraps that key, bound
/// to the same context — the store's own pattern, so every instance with the master key can open
/// it and nobody else can read or alter it.
std::string sealSession(const Api& api, const RemoteSession& session) {
    Object payload(Poco::JSON_PRESERVE_KEY_ORDER);
    payload.set("baseRevision", session.baseRevision);
    payload.set("baseSha256", session.baseSha256);
    payload.set("expiresAt", session.expiresAt);
    payload.set("state", signing::serializeRemoteSigningState(session.state));
    std::ostringstream text;
    payload.stringify(text);
    const auto context = sealContext(session.tenantId, session.documentId, session.id);
    const auto key = storage::randomKey();
    return base64(api.store->masterKey().wrap(key, context)) + "." + base64(storage::sealBytes(key, text.str(), context));
}

/// The state the client sent back for \p sessionId of this document, or 404
/// "signing.session_unknown" (not ours, another document's, altered), 409 "signing.session_expired".
RemoteSession openSession(const Api& api, const RequestContext& ctx, const std::string& documentId, const std::string& sessionId,
                          const std::string& token) {
    RemoteSession session;
    session.id = sessionId;
    session.tenantId = ctx.who().tenantId;
    session.documentId = documentId;
    const auto unknown = [] {
        return Error(ErrorCode::kNotFound, "signing.session_unknown", "no such signing session for this document");
    };
    const auto dot = token.find('.');
    if (dot == std::string::npos) throw unknown();
    const auto context = sealContext(session.tenantId, documentId, sessionId);
    Object::Ptr payload;
    try {
        const auto key = api.store->masterKey().unwrap(unbase64(token.substr(0, dot), "/state"), context);
        Poco::JSON::Parser parser;
        payload = parser.parse(storage::openBytes(key, unbase64(token.substr(dot + 1), "/state"), context)).extract<Object::Ptr>();
        session.baseRevision = payload->getValue<int>("baseRevision");
        session.baseSha256 = payload->getValue<std::string>("baseSha256");
        session.expiresAt = payload->getValue<std::int64_t>("expiresAt");
        session.state = signing::parseRemoteSigningState(payload->getValue<std::string>("state"));
    } catch (const Error&) {
        throw unknown();
    } catch (const Poco::Exception&) {
        throw unknown();
    }
    if (api.clock() > session.expiresAt) {
        throw Error(ErrorCode::kFailedPrecondition, "signing.session_expired", "the signing session expired; prepare again");
    }
    return session;
}

/// 409 "signing.document_changed" when a revision was added since the session was prepared: the
/// prepared signature would not be an update of the newest revision any more.
void requireUnchanged(const Api& api, const RemoteSession& session) {
    const auto newest = newestRevision(api, session.documentId);
    if (newest.number != session.baseRevision || newest.sha256 != session.baseSha256) {
        throw Error(ErrorCode::kFailedPrecondition, "signing.document_changed",
                    "revision " + std::to_string(newest.number) + " was added after this signature was prepared on revision " +
                        std::to_string(session.baseRevision) + "; prepare again");
    }
}

std::string sessionIdParam(const RequestContext& ctx) {
    const auto id = ctx.param("session");
    // storage::randomId(): 32 lower-case hex digits; anything else is no session of ours.
    if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw Error(ErrorCode::kNotFound, "signing.session_unknown", "no such signing session for this document");
    }
    return id;
}

Object::Ptr sessionJson(const std::string& documentId, const RemoteSession& session, const std::string& token) {
    Object::Ptr answer = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    answer->set("session", session.id);
    answer->set("document", documentId);
    answer->set("field", session.state.field);
    answer->set("level", std::string(signing::toString(session.state.level)));
    answer->set("revision", session.baseRevision);
    answer->set("expiresAt", service::isoTime(session.expiresAt));
    answer->set("completed", session.state.completed());
    answer->set("state", token);
    return answer;
}

void prepareRemote(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(api, ctx);
    const auto document = api.document(ctx, ctx.param("id"));
    const auto field = requiredString(body, "field");
    const auto certificate = requiredString(body, "certificate");
    const auto& setup = signingSetup(api);
    const auto base = newestRevision(api, document.id);
    const auto pdf = api.store->read(ctx.who().tenantId, document.id, base.number);
    RemoteSession session;
    session.id = storage::randomId();
    session.tenantId = ctx.who().tenantId;
    session.documentId = document.id;
    session.baseRevision = base.number;
    session.baseSha256 = sha256Hex(pdf);
    const auto now = api.clock();
    session.expiresAt = now + kRemoteSessionSeconds;
    session.state = signingStep([&] { return signing::prepareRemoteSignature(pdf, field, certificate, now, setup.level); });
    const auto token = sealSession(api, session);
    auto answer = sessionJson(document.id, session, token);
    answer->set("toBeSigned", base64(session.state.signedAttributesDer));
    answer->set("digest", sha256Hex(session.state.signedAttributesDer));
    answer->set("byteRangeDigest", toHex(signing::byteRangeDigest(session.state)));
    ctx.response.set("Location", "/v1/documents/" + document.id + "/signatures/" + session.id);
    http::sendJson(ctx.response, HTTPResponse::HTTP_CREATED, answer);
}

void completeRemote(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(api, ctx);
    const auto document = api.document(ctx, ctx.param("id"));
    auto session = openSession(api, ctx, document.id, sessionIdParam(ctx), requiredString(body, "state"));
    const auto signature = unbase64(requiredString(body, "signature"), "/signature");
    requireUnchanged(api, session);
    signingStep([&] { signing::completeRemoteSignature(session.state, signature); });
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, sessionJson(document.id, session, sealSession(api, session)));
}

void finalizeRemote(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(api, ctx);
    const auto document = api.document(ctx, ctx.param("id"));
    const auto session = openSession(api, ctx, document.id, sessionIdParam(ctx), requiredString(body, "state"));
    const auto& setup = signingSetup(api);
    // Checked before and, by the intake's prefix review, again while storing: a revision that
    // slips in between is refused there (upload.not_ours), never overwritten.
    requireUnchanged(api, session);
    const auto signedPdf = signingStep([&] { return signing::finalizeRemoteSignature(session.state, setup.context); });
    const auto intake = storeServiceSignature(api, ctx, document.id, signedPdf, session.state.field, "remote");
    sendStoredSignature(api, ctx, document.id, intake, signedPdf, session.state.field);
}

}  // namespace

void addSigningRoutes(Router& router, const Api& api) {
    router.add("POST", "/v1/documents/{id}/sign", roles({Role::kAnimator}), [&api](RequestContext& ctx) { signInService(api, ctx); });
    router.add("POST", "/v1/documents/{id}/signatures", roles({Role::kAnimator}), [&api](RequestContext& ctx) { prepareRemote(api, ctx); });
    router.add("POST", "/v1/documents/{id}/signatures/{session}/complete", roles({Role::kAnimator}),
               [&api](RequestContext& ctx) { completeRemote(api, ctx); });
    router.add("POST", "/v1/documents/{id}/signatures/{session}/finalize", roles({Role::kAnimator}),
               [&api](RequestContext& ctx) { finalizeRemote(api, ctx); });
}

}  // namespace kooperdoc::server
