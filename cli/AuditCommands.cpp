// SPDX-License-Identifier: AGPL-3.0-or-later
// `kooperdoc audit …` and the audit plumbing of the storage commands (issue 6; docs/audit.md).
//
// verify needs the database and the audit public key only (no master key, no private key): an
// auditor may run it on a copy. check needs neither database nor configuration: the file and
// the public key the auditor holds.
#include "AuditCommands.h"

#include "Commands.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Attachments.h"
#include "kooperdoc/pdf/PdfReader.h"
#include "kooperdoc/pdf/Provenance.h"
#include "kooperdoc/service/AuditCard.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/storage/Repository.h"
#include "kooperdoc/verify/TimestampTokenCheck.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::cli {
namespace {

using Poco::JSON::Object;

/// The shape AuditLog::record accepts for ids, checked before anything changes so that a bad
/// --actor cannot leave a committed change without its event.
void requireAuditIdentifier(const char* option, const std::string& value) {
    bool ok = !value.empty() && value.size() <= 200;
    for (const char c : value) ok = ok && static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
    if (!ok) throw UsageError(std::string(option) + " takes a pseudonymous identifier (printable ASCII, no spaces), never a name");
}

Object::Ptr entryFields(const std::string& canonical) {
    Poco::JSON::Parser parser;
    return parser.parse(canonical).extract<Object::Ptr>();
}

std::string readPublicKey(const Arguments& a) {
    const auto path = a.value("--public-key");
    if (!path) throw UsageError("audit check needs --public-key PEM (the audit public key you were given)");
    return readInput(*path);
}

void printJsonObject(const Context& ctx, const Object::Ptr& o) {
    Poco::JSON::Stringifier::stringify(o, ctx.out, 2);
    ctx.out << "\n";
}

std::unique_ptr<storage::Repository> openRepositoryFor(const server::StorageSetup& setup) {
    if (setup.database.backend == storage::DatabaseConfig::Backend::kSqlite) {
        std::ifstream probe(setup.database.sqlitePath);
        if (!probe) {
            throw Error(ErrorCode::kNotFound, "storage.database_missing", "no database at " + setup.database.sqlitePath);
        }
    }
    return storage::openRepository(setup.database);
}

// ---------------------------------------------------------------------------------------------

/// A command waits this long at most for a remote TSA, then stores its checkpoint without a token
/// (the service's checkpoint job adds it later): a CLI run must not hang on a TSA that is down.
constexpr std::chrono::seconds kCommandTsaTimeout{3};

/// The --tsa-trusted-ca certificates (DER); none when not given: tokens are then checked for
/// integrity and imprint only.
std::vector<std::string> tsaTrustedCa(const Arguments& a) {
    const auto file = a.value("--tsa-trusted-ca");
    return file ? verify::certificatesFromPemOrDer(readInput(*file)) : std::vector<std::string>{};
}

/// audit/ cannot check CMS, so verifyLog takes verify/'s check as its hook.
audit::CheckpointTimestampVerifier checkpointTimestampVerifier(std::vector<std::string> trustedCaDer) {
    return [trustedCaDer = std::move(trustedCaDer)](const std::string& token, const Sha256& imprint, std::string* whyNot) {
        const auto check = verify::checkTimestampToken(token, imprint, trustedCaDer);
        if (whyNot != nullptr) *whyNot = check.failure;
        return check.valid();
    };
}

int auditVerify(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc audit verify [--trusted-checkpoint FILE] [--public-key PEM] [--tsa-trusted-ca PEM] "
                           "[--json]");
    const auto setup = storageSetupFor(ctx, a);
    // The auditor's own copy of the public key when given; else the one of the configured key.
    const std::string publicKey = a.value("--public-key") ? readInput(*a.value("--public-key"))
                                                          : server::loadAuditSigner(setup, ctx.err, false).publicKeyPem();
    std::optional<std::string> trusted;
    if (const auto file = a.value("--trusted-checkpoint")) trusted = readInput(*file);
    auto repository = openRepositoryFor(setup);
    const auto result = audit::verifyLog(repository->auditStore(), setup.auditOrigin, publicKey, trusted,
                                         checkpointTimestampVerifier(tsaTrustedCa(a)));
    if (a.flag("--json")) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("ok", result.ok);
        o->set("entries", static_cast<Poco::UInt64>(result.entries));
        o->set("checkpoints", static_cast<Poco::UInt64>(result.checkpoints));
        o->set("timestamped_checkpoints", static_cast<Poco::UInt64>(result.timestampedCheckpoints));
        o->set("trusted_checkpoint", trusted.has_value());
        o->set("problem", result.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(result.problem));
        o->set("detail", result.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(result.detail));
        o->set("first_bad_index",
               result.firstBadIndex ? Poco::Dynamic::Var(static_cast<Poco::UInt64>(*result.firstBadIndex)) : Poco::Dynamic::Var());
        printJsonObject(ctx, o);
    } else if (result.ok) {
        ctx.out << "ok\t" << result.entries << " entries\t" << result.checkpoints << " checkpoints\t"
                << result.timestampedCheckpoints << " timestamped" << (trusted ? "\textends the trusted checkpoint" : "") << "\n";
    } else {
        ctx.out << "FAILED\t" << result.problem << "\t"
                << (result.firstBadIndex ? "index " + std::to_string(*result.firstBadIndex) : std::string("-")) << "\t" << result.detail
                << "\n";
    }
    return result.ok ? kExitOk : kExitFailed;
}

int auditProve(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc audit prove DOC_ID [-o receipts.json]");
    const auto setup = storageSetupFor(ctx, a);
    auto repository = openRepositoryFor(setup);
    audit::AuditLog log(repository->auditStore(), server::loadAuditSigner(setup, ctx.err), setup.auditCheckpointEvery,
                        server::auditTimestamper(setup, kCommandTsaTimeout));
    const auto trail = service::documentTrail(log, a.positionals()[1]);
    if (trail.receipts.empty()) {
        throw Error(ErrorCode::kNotFound, "audit.entry_unknown", "the audit log holds no entry about " + a.positionals()[1]);
    }
    const auto json = audit::trailToJson(trail);
    const auto output = a.value("-o") ? a.value("-o") : a.value("--output");
    if (output) {
        writeFileAtomically(*output, json);
        ctx.out << *output << "\t" << trail.receipts.size() << " entries\n";
    } else {
        ctx.out << json;
    }
    return kExitOk;
}

int auditCheckpoint(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc audit checkpoint");
    const auto setup = storageSetupFor(ctx, a);
    auto repository = openRepositoryFor(setup);
    audit::AuditLog log(repository->auditStore(), server::loadAuditSigner(setup, ctx.err), setup.auditCheckpointEvery,
                        server::auditTimestamper(setup, kCommandTsaTimeout));
    ctx.out << log.checkpoint().note;
    return kExitOk;
}

int auditPublicKey(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc audit public-key");
    ctx.out << server::loadAuditSigner(storageSetupFor(ctx, a), ctx.err).publicKeyPem();
    return kExitOk;
}

/// FILE's trail and what the trail must be about: the kooperdoc-audit.json a PDF carries — a
/// sealed document (its trail names it) or a companion "Karta audytu" (which may also carry the
/// document) — or such a JSON file itself (from `audit prove`).
struct TrailFile {
    audit::DocumentTrail trail;
    /// The file is itself a Kooperdoc document: its first revision's provenance.
    std::optional<pdf::StoredProvenance> document;
    /// The file carries the document (/AFRelationship /Source): its name and SHA-256.
    std::optional<std::pair<std::string, std::string>> carried;
};

TrailFile trailOfFile(const std::string& bytes) {
    TrailFile result;
    if (bytes.rfind("%PDF-", 0) != 0) {
        result.trail = audit::trailFromJson(bytes);
        return result;
    }
    const pdf::PdfReader reader(bytes);
    bool found = false;
    for (const auto& file : pdf::readEmbeddedFiles(reader)) {
        if (file.name == audit::kTrailFileName) {
            result.trail = audit::trailFromJson(file.bytes);
            found = true;
        } else if (file.relationship == "Source") {
            result.carried.emplace(file.name, sha256Hex(file.bytes));
        }
    }
    if (!found) {
        throw Error(ErrorCode::kNotFound, "audit.trail_missing", std::string("the PDF has no ") + audit::kTrailFileName + " attachment");
    }
    if (const auto provenance = pdf::readProvenance(reader); provenance.kooperdoc() && provenance.templateId != service::kAuditCardTemplateId) {
        result.document = provenance;
    }
    return result;
}

bool trailNames(const audit::DocumentTrail& trail, const std::string& key, const std::string& value, const char* type = nullptr) {
    for (const auto& receipt : trail.receipts) {
        const auto fields = entryFields(receipt.entry.canonical);
        if (type != nullptr && fields->optValue<std::string>("type", "") != type) continue;
        const auto details = fields->getObject("details");
        const auto named = key == "document_sha256" ? fields->optValue<std::string>(key, "")
                                                    : (details ? details->optValue<std::string>(key, "") : std::string());
        if (named == value) return true;
    }
    return false;
}

/// Beyond the receipts: the trail is about the file it came with. Returns the problem, or
/// nothing. What was bound is added to \p bound ("document", "carried:NAME", "--document").
std::optional<std::pair<std::string, std::string>> checkBinding(const TrailFile& file, const std::optional<std::string>& documentFile,
                                                                std::vector<std::string>& bound) {
    const auto& trail = file.trail;
    if (file.document) {
        // A sealed document's own trail: about this document, and its rendering is the entry
        // naming the input the footer prints (the seal certifies both).
        if (file.document->documentId != trail.documentId) {
            return std::make_pair("audit.trail_other_document",
                                  "the trail is about " + trail.documentId + ", the file is " + file.document->documentId);
        }
        if (!trailNames(trail, "input_sha256", file.document->inputSha256, "document.rendered")) {
            return std::make_pair("audit.document_not_in_trail", "no document.rendered event names the input SHA-256 of this file");
        }
        bound.push_back("document");
    }
    if (file.carried) {
        if (!trailNames(trail, "document_sha256", file.carried->second)) {
            return std::make_pair("audit.document_not_in_trail", "no event of the trail names the SHA-256 of the carried " + file.carried->first);
        }
        bound.push_back("carried:" + file.carried->first);
    }
    if (documentFile) {
        // The copy handed out is the one whose SHA-256 an event of the trail names.
        if (!trailNames(trail, "document_sha256", sha256Hex(readInput(*documentFile)))) {
            return std::make_pair("audit.document_not_in_trail", "no event of the trail names the SHA-256 of " + *documentFile);
        }
        bound.push_back("--document");
    }
    return std::nullopt;
}

/// One checkpoint of a trail and what its timestamp token proves (nullopt: it has none).
struct CheckpointTimestamp {
    std::uint64_t size = 0;
    std::optional<verify::TimestampTokenCheck> check;
};

int auditCheck(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc audit check FILE.pdf --public-key PEM [--origin O] [--document DOC.pdf] "
                           "[--tsa-trusted-ca PEM] [--json]");
    const auto publicKey = readPublicKey(a);
    const auto trustedCa = tsaTrustedCa(a);
    audit::TrailCheck check;
    audit::DocumentTrail trail;
    std::string origin;
    std::vector<CheckpointTimestamp> timestamps;
    std::vector<std::string> bound;
    try {
        const auto file = trailOfFile(readInput(a.positionals()[1]));
        trail = file.trail;
        // The origin is in the signed note: a note of another log fails whichever origin is used,
        // so taking the file's own is safe; --origin pins it for auditors who want to.
        origin = a.value("--origin").value_or(trail.origin);
        check = audit::checkTrail(trail, origin, publicKey);
        if (check.ok) {
            // Each checkpoint once (a trail's receipts usually share one), but a note that comes
            // with two different tokens is judged twice: a file may pair a note with a forged one.
            std::set<std::pair<std::string, std::string>> seen;
            for (const auto& receipt : trail.receipts) {
                if (!seen.insert({receipt.checkpointNote, receipt.checkpointTimestamp}).second) continue;
                CheckpointTimestamp stamp;
                stamp.size = audit::verifyCheckpoint(receipt.checkpointNote, origin, publicKey)->size;  // checkTrail verified it
                if (!receipt.checkpointTimestamp.empty()) {
                    stamp.check = verify::checkTimestampToken(receipt.checkpointTimestamp,
                                                              audit::checkpointImprint(receipt.checkpointNote), trustedCa);
                    if (!stamp.check->valid() && check.ok) {
                        check.ok = false;
                        check.problem = "audit.checkpoint_timestamp_invalid";
                        check.detail = "the timestamp of checkpoint " + std::to_string(stamp.size) + ": " + stamp.check->failure;
                        check.badIndex = receipt.entry.index;
                    }
                }
                timestamps.push_back(std::move(stamp));
            }
        }
        if (check.ok) {
            if (const auto problem = checkBinding(file, a.value("--document"), bound)) {
                check.ok = false;
                check.problem = problem->first;
                check.detail = problem->second;
            }
        }
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kInvalidArgument && e.code() != ErrorCode::kNotFound) throw;
        check.ok = false;
        check.problem = e.reason();
        check.detail = e.what();
    }
    if (a.flag("--json")) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("ok", check.ok);
        o->set("document_id", trail.documentId);
        o->set("origin", origin);
        o->set("entries", static_cast<Poco::UInt64>(check.entries));
        Poco::JSON::Array::Ptr boundTo = new Poco::JSON::Array;
        for (const auto& what : bound) boundTo->add(what);
        o->set("bound_to", boundTo);
        o->set("problem", check.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(check.problem));
        o->set("detail", check.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(check.detail));
        o->set("bad_index", check.badIndex ? Poco::Dynamic::Var(static_cast<Poco::UInt64>(*check.badIndex)) : Poco::Dynamic::Var());
        Poco::JSON::Array::Ptr stamps = new Poco::JSON::Array;
        for (const auto& stamp : timestamps) {
            Object::Ptr t = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
            t->set("size", static_cast<Poco::UInt64>(stamp.size));
            t->set("timestamped", stamp.check.has_value());
            const bool readable = stamp.check && stamp.check->parsed;
            t->set("valid", stamp.check ? Poco::Dynamic::Var(stamp.check->valid()) : Poco::Dynamic::Var());
            t->set("gen_time", readable ? Poco::Dynamic::Var(service::isoTime(stamp.check->genTime)) : Poco::Dynamic::Var());
            t->set("tsa", readable ? Poco::Dynamic::Var(stamp.check->tsaSubject) : Poco::Dynamic::Var());
            t->set("tsa_trusted", stamp.check && stamp.check->trusted ? Poco::Dynamic::Var(*stamp.check->trusted) : Poco::Dynamic::Var());
            t->set("problem", stamp.check && !stamp.check->valid() ? Poco::Dynamic::Var(stamp.check->failure) : Poco::Dynamic::Var());
            stamps->add(t);
        }
        o->set("checkpoint_timestamps", stamps);
        printJsonObject(ctx, o);
    } else {
        if (check.ok) {
            std::string boundTo;
            for (const auto& what : bound) boundTo += (boundTo.empty() ? "" : ", ") + what;
            ctx.out << "ok\t" << trail.documentId << "\t" << check.entries << " entries proven under " << origin
                    << (boundTo.empty() ? std::string() : "\tbound to " + boundTo) << "\n";
        } else {
            ctx.out << "FAILED\t" << check.problem << "\t"
                    << (check.badIndex ? "index " + std::to_string(*check.badIndex) : std::string("-")) << "\t" << check.detail << "\n";
        }
        for (const auto& stamp : timestamps) {
            ctx.out << "checkpoint " << stamp.size << "\t";
            if (!stamp.check) {
                ctx.out << "not timestamped\n";  // reported, not a failure: the TSA may have been down
            } else if (!stamp.check->valid()) {
                ctx.out << "timestamp INVALID\t" << stamp.check->failure << "\n";
            } else {
                ctx.out << "timestamped " << service::isoTime(stamp.check->genTime) << "\t" << stamp.check->tsaSubject
                        << (stamp.check->trusted ? "\tTSA trusted" : "\tTSA not checked (no --tsa-trusted-ca)") << "\n";
            }
        }
    }
    return check.ok ? kExitOk : kExitFailed;
}

int auditCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--data-dir", "--trusted-checkpoint", "--public-key", "--origin", "--document", "--tsa-trusted-ca", "-o", "--output"},
                {"--json"});
    if (a.positionals().empty()) throw UsageError("usage: kooperdoc audit verify|prove|checkpoint|public-key|check …");
    const auto& action = a.positionals()[0];
    if (action == "verify") return auditVerify(ctx, a);
    if (action == "prove") return auditProve(ctx, a);
    if (action == "checkpoint") return auditCheckpoint(ctx, a);
    if (action == "public-key") return auditPublicKey(ctx, a);
    if (action == "check") return auditCheck(ctx, a);
    throw UsageError("audit: unknown action " + action + " (verify, prove, checkpoint, public-key, check)");
}

}  // namespace

// ---------------------------------------------------------------------------------------------

EventRecorder::EventRecorder(const Context& ctx, const Arguments& a, storage::Repository& repository, std::int64_t now)
    : log_([&]() -> audit::AuditLog {
          const auto setup = storageSetupFor(ctx, a);
          return audit::AuditLog(repository.auditStore(), server::loadAuditSigner(setup, ctx.err), setup.auditCheckpointEvery,
                                 server::auditTimestamper(setup, kCommandTsaTimeout));
      }()),
      actorId_(a.value("--actor").value_or("cli")),
      actorRole_(a.value("--role").value_or("admin")),
      now_(now) {
    requireAuditIdentifier("--actor", actorId_);
    requireAuditIdentifier("--role", actorRole_);
}

void EventRecorder::record(const std::string& type, const std::string& tenantId, const std::string& documentId,
                           const std::string& documentSha256, const std::map<std::string, std::string>& details) {
    audit::AuditEvent event;
    event.time = now_;
    event.tenantId = tenantId;
    event.actorId = actorId_;
    event.actorRole = actorRole_;
    event.type = type;
    event.documentId = documentId;
    event.documentSha256 = documentSha256;
    event.details = details;
    log_.record(event);
}

void addAuditCommands(CommandTable& table) {
    table["audit"] = {
        "verify the audit log, prove a document's entries, check a Karta audytu offline",
        "usage: kooperdoc audit verify [--trusted-checkpoint FILE] [--public-key PEM] [--tsa-trusted-ca PEM] [--json]\n"
        "       kooperdoc audit prove DOC_ID [-o receipts.json]\n"
        "       kooperdoc audit checkpoint\n"
        "       kooperdoc audit public-key\n"
        "       kooperdoc audit check FILE.pdf|receipts.json --public-key PEM [--origin O] [--document DOC.pdf]\n"
        "                             [--tsa-trusted-ca PEM] [--json]\n\n"
        "verify checks the whole log: every entry in place and chained, every checkpoint signed by the\n"
        "audit key and matching the entries, each consistent with the next; with --trusted-checkpoint\n"
        "(a note an auditor saved earlier) also that the log still extends it — the only way to catch\n"
        "the newest entries deleted together with their checkpoints. Stored checkpoint timestamps must\n"
        "cover their notes (audit.checkpoint_timestamp_invalid). Exit 0 when all checks, 1 with the\n"
        "problem code and the first bad index otherwise.\n"
        "prove writes every entry about the document with its inclusion proof and a checkpoint signed now.\n"
        "checkpoint signs one now and prints the note; public-key prints the PEM auditors configure.\n"
        "check needs no database: it reads kooperdoc-audit.json from a Karta audytu PDF (`document export`)\n"
        "or a receipts file and checks every receipt against the public key; --document also checks that\n"
        "the trail names that file's SHA-256. Each checkpoint's RFC 3161 timestamp, when it has one, must\n"
        "be intact and over SHA-256 of the note (audit.checkpoint_timestamp_invalid); its time is printed.\n"
        "A checkpoint without one is reported, not refused. Exit 0 when it checks, 1 otherwise.\n"
        "  --tsa-trusted-ca PEM  timestamps must also chain to these CA certificates (at their own time)\n"
        "  --data-dir DIR   the store in DIR (kooperdoc.db, audit.key) instead of the configured one\n"
        "Audit keys: kooperdoc.audit.* in config/kooperdoc.properties. See docs/audit.md.\n",
        auditCommand};
}

}  // namespace kooperdoc::cli
