// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/audit/Trail.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

#include "kooperdoc/core/Base64.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::audit {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Error invalid(const std::string& detail) {
    return Error(ErrorCode::kInvalidArgument, "audit.trail_invalid", "not a Kooperdoc audit trail: " + detail);
}

std::optional<Sha256> fromHex(const std::string& hex) {
    if (hex.size() != 64) return std::nullopt;
    Sha256 out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        unsigned value = 0;
        for (std::size_t j = 0; j < 2; ++j) {
            const char c = hex[2 * i + j];
            value <<= 4;
            if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
            else return std::nullopt;
        }
        out[i] = static_cast<std::uint8_t>(value);
    }
    return out;
}

std::string entryDocument(const std::string& canonical) {
    try {
        Poco::JSON::Parser parser;
        return parser.parse(canonical).extract<Object::Ptr>()->optValue<std::string>("document", "");
    } catch (const Poco::Exception&) {
        return "";
    }
}

}  // namespace

std::string trailToJson(const DocumentTrail& trail) {
    Object::Ptr root = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    root->set("format", kTrailFormat);
    root->set("document_id", trail.documentId);
    root->set("origin", trail.origin);
    root->set("public_key", trail.publicKeyPem);
    Array::Ptr entries = new Array;
    for (const auto& receipt : trail.receipts) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("index", static_cast<Poco::UInt64>(receipt.entry.index));
        o->set("entry", receipt.entry.canonical);
        Array::Ptr proof = new Array;
        for (const auto& node : receipt.proof) proof->add(toHex(node));
        o->set("proof", proof);
        o->set("checkpoint", receipt.checkpointNote);
        // Absent rather than empty when there is none, so files written before timestamps
        // existed and files of a log without a TSA look alike.
        if (!receipt.checkpointTimestamp.empty()) o->set("checkpoint_timestamp", base64(receipt.checkpointTimestamp));
        entries->add(o);
    }
    root->set("entries", entries);
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(root, out, 2);
    return out.str() + "\n";
}

DocumentTrail trailFromJson(const std::string& json) {
    Object::Ptr root;
    try {
        Poco::JSON::Parser parser;
        root = parser.parse(json).extract<Object::Ptr>();
    } catch (const Poco::Exception& e) {
        throw invalid(e.displayText());
    } catch (const std::exception& e) {
        throw invalid(e.what());
    }
    if (root->optValue<std::string>("format", "") != kTrailFormat) throw invalid("format is not " + std::string(kTrailFormat));
    DocumentTrail trail;
    try {
        trail.documentId = root->getValue<std::string>("document_id");
        trail.origin = root->getValue<std::string>("origin");
        trail.publicKeyPem = root->optValue<std::string>("public_key", "");
        const auto entries = root->getArray("entries");
        if (!entries) throw invalid("no entries");
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const auto o = entries->getObject(static_cast<unsigned>(i));
            if (!o) throw invalid("entry " + std::to_string(i) + " is not an object");
            InclusionReceipt receipt;
            receipt.entry.index = o->getValue<Poco::UInt64>("index");
            receipt.entry.canonical = o->getValue<std::string>("entry");
            receipt.checkpointNote = o->getValue<std::string>("checkpoint");
            if (o->has("checkpoint_timestamp")) {
                const auto token = unbase64(o->getValue<std::string>("checkpoint_timestamp"));
                if (!token || token->empty()) throw invalid("entry " + std::to_string(i) + ": checkpoint_timestamp is not base64");
                receipt.checkpointTimestamp = *token;
            }
            const auto proof = o->getArray("proof");
            if (!proof) throw invalid("entry " + std::to_string(i) + " has no proof");
            for (std::size_t j = 0; j < proof->size(); ++j) {
                const auto node = fromHex(proof->getElement<std::string>(static_cast<unsigned>(j)));
                if (!node) throw invalid("entry " + std::to_string(i) + ": a proof node is not a SHA-256 in hex");
                receipt.proof.push_back(*node);
            }
            trail.receipts.push_back(std::move(receipt));
        }
    } catch (const Error&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw invalid(e.displayText());
    }
    return trail;
}

TrailCheck checkTrail(const DocumentTrail& trail, const std::string& origin, const std::string& publicKeyPem) {
    TrailCheck check;
    check.entries = trail.receipts.size();
    if (trail.receipts.empty()) {
        check.problem = "audit.trail_empty";
        check.detail = "the trail holds no entry";
        return check;
    }
    for (const auto& receipt : trail.receipts) {
        std::string whyNot;
        if (!verifyReceipt(receipt, origin, publicKeyPem, &whyNot)) {
            check.problem = "audit.receipt_invalid";
            check.detail = "entry " + std::to_string(receipt.entry.index) + ": " + whyNot;
            check.badIndex = receipt.entry.index;
            return check;
        }
        // A valid receipt of another document's entry proves nothing about this one.
        if (entryDocument(receipt.entry.canonical) != trail.documentId) {
            check.problem = "audit.trail_other_document";
            check.detail = "entry " + std::to_string(receipt.entry.index) + " is about another document";
            check.badIndex = receipt.entry.index;
            return check;
        }
    }
    check.ok = true;
    return check;
}

}  // namespace kooperdoc::audit
