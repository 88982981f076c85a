// SPDX-License-Identifier: AGPL-3.0-or-later
// POST /v1/documents/batch: many documents in one request, JSON lines in and JSON lines out.
// Each line runs exactly the code path of POST /v1/documents (issueDocument), commits on its own
// and is answered as soon as it is stored: the streamed answer is the progress. A line's failure
// is its own result line and stops nothing else; nothing of a failed line is stored.
#include "../Api.h"
#include "../Http.h"

#include <sstream>
#include <vector>

#include <Poco/JSON/Object.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {
namespace {

using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

struct BatchLine {
    int number = 0;  ///< 1-based, counting every line of the body (blank ones too), so it is stable on a resend
    std::string text;
};

/// The non-blank lines ("\n" or "\r\n" separated).
std::vector<BatchLine> splitLines(const std::string& body) {
    std::vector<BatchLine> lines;
    std::size_t start = 0;
    int number = 0;
    while (start < body.size()) {
        auto end = body.find('\n', start);
        if (end == std::string::npos) end = body.size();
        ++number;
        auto text = body.substr(start, end - start);
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text.find_first_not_of(" \t") != std::string::npos) lines.push_back({number, std::move(text)});
        start = end + 1;
    }
    return lines;
}

std::string toLine(const Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

/// One line of the batch, as POST /v1/documents would answer it, in a result line.
Object::Ptr runLine(const Api& api, const RequestContext& ctx, const BatchLine& line, const std::string& batchKey, bool& created) {
    Object::Ptr result = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    result->set("line", line.number);
    created = false;
    try {
        const auto request = http::parseJsonObject(line.text);
        std::string idempotencyKey;
        if (request->has("idempotencyKey")) {
            if (!request->get("idempotencyKey").isString()) {
                throw ValidationError({Violation{"/idempotencyKey", "request.type", "Pole musi być tekstem.", "must be a string"}});
            }
            idempotencyKey = request->getValue<std::string>("idempotencyKey");
        } else if (!batchKey.empty()) {
            // A resent batch maps each line to the document its first sending made.
            idempotencyKey = batchKey + ":" + std::to_string(line.number);
        }
        const auto issued = issueDocument(api, ctx, request, idempotencyKey);
        created = !issued.replayed;
        result->set("status", static_cast<int>(issued.replayed ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_CREATED));
        const auto answer = issuedJson(issued);
        for (const auto& [name, value] : *answer) result->set(name, value);
    } catch (const Error& e) {
        result->set("status", static_cast<int>(http::statusFor(e.code())));
        result->set("error", http::errorBody(e)->getObject("error"));
    } catch (const std::exception&) {
        result->set("status", static_cast<int>(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR));
        result->set("error", http::errorBody(Error(ErrorCode::kInternal, "internal", "internal error"))->getObject("error"));
    }
    return result;
}

void createBatch(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/x-ndjson"});
    const auto batchKey = ctx.request.get("Idempotency-Key", "");
    if (batchKey.size() > 190) {
        // Room for ":<line>" within the 200 characters a document's key may have.
        throw Error(ErrorCode::kInvalidArgument, "request.idempotency_key_invalid", "a batch's Idempotency-Key is at most 190 characters");
    }
    const auto lines = splitLines(http::readBody(ctx.request, api.limits.maxBatchBytes));
    if (lines.empty()) throw Error(ErrorCode::kInvalidArgument, "request.batch_empty", "the batch has no lines");
    if (lines.size() > static_cast<std::size_t>(api.limits.maxBatchLines)) {
        throw Error(ErrorCode::kPayloadTooLarge, "request.too_many_lines",
                    "a batch has at most " + std::to_string(api.limits.maxBatchLines) + " lines (kooperdoc.http.max_batch_lines)");
    }

    // Every check that can refuse the whole batch is above: from here on the answer is 200 and
    // each line says how it went, as soon as it did.
    ctx.response.setStatus(HTTPResponse::HTTP_OK);
    ctx.response.setContentType("application/x-ndjson");
    ctx.response.setChunkedTransferEncoding(true);
    auto& out = ctx.response.send();
    int created = 0, failed = 0, replayed = 0;
    for (const auto& line : lines) {
        bool isNew = false;
        const auto result = runLine(api, ctx, line, batchKey, isNew);
        const int status = result->getValue<int>("status");
        if (status >= 400) ++failed;
        else if (isNew) ++created;
        else ++replayed;
        out << toLine(result) << '\n';
        out.flush();
        // A client that went away gets nothing more; what is stored stays stored, and resending
        // the batch with the same Idempotency-Key hands those documents back.
        if (!out.good()) return;
    }
    Object::Ptr counts = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    counts->set("total", static_cast<int>(lines.size()));
    counts->set("created", created);
    counts->set("replayed", replayed);
    counts->set("failed", failed);
    Object::Ptr summary = new Object;
    summary->set("summary", counts);
    out << toLine(summary) << '\n';
    out.flush();
}

}  // namespace

void addBatchRoutes(Router& router, const Api& api) {
    router.add("POST", "/v1/documents/batch", roles({Role::kIntake}), [&api](RequestContext& ctx) { createBatch(api, ctx); });
}

}  // namespace kooperdoc::server
