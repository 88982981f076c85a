// SPDX-License-Identifier: AGPL-3.0-or-later
// The verification report as JSON; docs/verification-report.md is the schema. Keys keep their
// insertion order so that the output reads top-down like the human report.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::verify {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr newObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Poco::Dynamic::Var optionalTime(const std::optional<std::int64_t>& time) {
    return time ? Poco::Dynamic::Var(formatTime(*time)) : Poco::Dynamic::Var();
}

Array::Ptr strings(const std::vector<std::string>& values) {
    Array::Ptr array = new Array;
    for (const auto& v : values) array->add(v);
    return array;
}

Object::Ptr certificate(const CertificateSummary& c) {
    auto o = newObject();
    o->set("subject", c.subject);
    o->set("issuer", c.issuer);
    o->set("serial", c.serialHex);
    o->set("not_before", formatTime(c.notBefore));
    o->set("not_after", formatTime(c.notAfter));
    o->set("sha256", c.sha256Hex);
    return o;
}

Object::Ptr signature(const SignatureReport& s) {
    auto o = newObject();
    o->set("field", s.fieldName);
    o->set("type", s.documentTimestamp ? "document_timestamp" : "signature");
    o->set("sub_filter", s.subFilter);
    o->set("revision", static_cast<Poco::UInt64>(s.revision));
    o->set("indication", toString(s.indication));
    o->set("sub_indication", s.subIndication == SubIndication::kNone ? Poco::Dynamic::Var() : Poco::Dynamic::Var(toString(s.subIndication)));
    o->set("reason", s.reason);
    o->set("message_en", s.messageEn);
    o->set("message_pl", s.messagePl);
    o->set("signer", s.signer ? Poco::Dynamic::Var(certificate(*s.signer)) : Poco::Dynamic::Var());
    o->set("claimed_signing_time", optionalTime(s.claimedSigningTime));
    o->set("claimed_signing_time_raw", s.claimedSigningTimeRaw);
    o->set("timestamp_time", optionalTime(s.timestampTime));
    o->set("timestamp_qualified", s.timestampQualified);
    o->set("signature_timestamp", s.documentTimestamp ? "not_applicable"
                                  : !s.signatureTimestampPresent ? "absent"
                                  : s.signatureTimestampValid ? "valid"
                                                              : "invalid");
    o->set("digest_algorithm", s.digestAlgorithm);
    o->set("intact", s.intact);
    o->set("crypto_valid", s.cryptoValid);
    o->set("trusted", s.trusted);
    o->set("chain_validation_time", optionalTime(s.chainValidationTime));
    o->set("chain", strings(s.chain));
    o->set("revocation", toString(s.revocation));
    o->set("coverage", pdf::toString(s.coverage));
    o->set("coverage_problem", s.coverageProblem);
    o->set("modification_level", pdf::toString(s.modificationLevel));
    o->set("docmdp_ok", s.docMdpOk);
    o->set("certification", s.certification);
    o->set("docmdp_permission", s.docMdpPermission ? Poco::Dynamic::Var(*s.docMdpPermission) : Poco::Dynamic::Var());
    o->set("modification_findings", strings(s.modificationFindings));
    o->set("pades_level", s.padesLevel.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(s.padesLevel));
    o->set("qualification", toString(s.qualification));
    o->set("warnings", strings(s.warnings));
    return o;
}

Object::Ptr document(const DocumentReport& d) {
    const auto optional = [](const std::string& value) { return value.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(value); };
    auto o = newObject();
    o->set("kooperdoc", d.kooperdoc);
    o->set("document_id", optional(d.documentId));
    o->set("document_number", optional(d.documentNumber));
    o->set("template_id", optional(d.templateId));
    o->set("template_version", optional(d.templateVersion));
    o->set("template_sha256", optional(d.templateSha256));
    o->set("template_known", d.templateKnown);
    o->set("template_sha256_matches", d.templateSha256Matches);
    o->set("input_sha256", optional(d.inputSha256));
    o->set("renderer", optional(d.renderer));
    o->set("message_en", d.messageEn);
    o->set("message_pl", d.messagePl);
    return o;
}

} // namespace

std::string toJson(const VerificationReport& report) {
    auto root = newObject();
    root->set("schema", "kooperdoc.verification-report/1");
    root->set("all_passed", report.allPassed());
    root->set("readable", report.readable());
    if (!report.readable()) {
        root->set("indication", toString(report.formatIndication));
        root->set("sub_indication", "FORMAT_FAILURE");
        root->set("reason", report.formatReason);
        root->set("detail", report.formatDetail);
    }
    root->set("file_size", static_cast<Poco::UInt64>(report.fileSize));
    root->set("file_sha256", report.fileSha256Hex);
    root->set("revisions", static_cast<Poco::UInt64>(report.revisionCount));
    root->set("trailing_bytes", static_cast<Poco::UInt64>(report.trailingBytes));
    root->set("validation_time", formatTime(report.validationTime));
    Array::Ptr signatures = new Array;
    for (const auto& s : report.signatures) signatures->add(signature(s));
    root->set("signatures", signatures);
    root->set("empty_signature_fields", strings(report.emptySignatureFields));
    if (report.readable()) root->set("document", document(report.document));
    root->set("warnings", strings(report.warnings));
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(root, out, 2);
    out << "\n";
    return out.str();
}

} // namespace kooperdoc::verify
