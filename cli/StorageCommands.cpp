// SPDX-License-Identifier: AGPL-3.0-or-later
// The store from the command line (issue 5): store, tenant, document, case, subject, hold,
// retention, backup and restore. Every command opens the store the configuration names
// (server::StorageSetup, shared with `serve`), or the one under --data-dir.
//
// Personal data never reaches stdout/stderr from here except inside files the operator asked
// for (a PDF, an export ZIP): subjects are shown by pseudonymous id, documents by id.
#include "StorageCommands.h"

#include "AuditCommands.h"
#include "Commands.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <Poco/AutoPtr.h>
#include <Poco/Checksum.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/server/StorageSetup.h"
#include "kooperdoc/service/AuditCard.h"
#include "kooperdoc/service/DocumentIssuer.h"
#include "kooperdoc/service/RevisionIntake.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/signing/UploadReview.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Retention.h"
#include "kooperdoc/templates/DataSubjects.h"
#include "kooperdoc/templates/Engine.h"
#include "kooperdoc/templates/TenantProfiles.h"
#include "SigningCommands.h"
#include "VerifyCommands.h"

namespace kooperdoc::cli {
namespace {

namespace fs = std::filesystem;
using Poco::JSON::Array;
using Poco::JSON::Object;

// ---------------------------------------------------------------------------------------------
// Shared plumbing

server::StorageSetup storageSetup(const Context& ctx, const Arguments& a) {
    return server::loadStorageSetup(*loadConfiguration(ctx), {a.value("--data-dir")});
}

std::unique_ptr<storage::DocumentStore> openStore(const Context& ctx, const Arguments& a) {
    return server::openDocumentStore(storageSetup(ctx, a), ctx.err);
}

/// Options every storage command understands, besides its own.
std::vector<std::string> withCommon(std::vector<std::string> options) {
    options.push_back("--data-dir");
    options.push_back("--at");
    options.push_back("--actor");
    options.push_back("--role");
    return options;
}

/// "archival_duty (GDPR art. 17(3)(b))" → "archival_duty": the code, which the audit log takes.
std::string groundCode(const std::string& ground) { return service::erasureGroundCode(ground); }

/// One subject.erased / consent.withdrawn event per document outcome: the subject's pseudonymous
/// id, the document id and "erased" or "kept:<ground>" — never who the person is.
void recordOutcomes(EventRecorder& events, const std::string& type, const std::string& tenantId, const std::string& subjectId,
                    const std::vector<storage::ErasureOutcome>& outcomes) {
    for (const auto& outcome : outcomes) {
        events.record(type, tenantId, outcome.documentId, "",
                      {{"subject", subjectId}, {"outcome", outcome.erased ? std::string("erased") : "kept:" + groundCode(outcome.ground)}});
    }
    if (outcomes.empty()) events.record(type, tenantId, "", "", {{"subject", subjectId}, {"outcome", "no_documents"}});
}

std::string required(const Arguments& a, const char* option, const char* command) {
    const auto value = a.value(option);
    if (!value || value->empty()) throw UsageError(std::string(command) + " needs " + option);
    return *value;
}

std::string outputOf(const Arguments& a, const char* command) {
    if (const auto o = a.value("-o")) return *o;
    if (const auto o = a.value("--output")) return *o;
    throw UsageError(std::string(command) + " needs -o FILE");
}

/// --at TIME: the clock of the command (retention tests and replays run at a chosen time).
/// Seconds since the epoch, YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ.
std::int64_t clockOf(const Arguments& a) {
    const auto at = a.value("--at");
    if (!at) return signingTime();
    const std::string& text = *at;
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::stoll(text);
    }
    std::tm parts{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    char tail = 0;
    const bool dateOnly = std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &tail) == 3;
    const bool dateTime = !dateOnly && std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &year, &month, &day, &hour,
                                                   &minute, &second, &tail) == 6;
    if ((!dateOnly && !dateTime) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        throw UsageError("--at takes seconds since the epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), not \"" + text + "\"");
    }
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    return static_cast<std::int64_t>(timegm(&parts));
}

using service::isoTime;

void printJson(const Context& ctx, const Poco::Dynamic::Var& value) {
    if (value.type() == typeid(Object::Ptr)) {
        Poco::JSON::Stringifier::stringify(value.extract<Object::Ptr>(), ctx.out, 2);
    } else {
        Poco::JSON::Stringifier::stringify(value.extract<Array::Ptr>(), ctx.out, 2);
    }
    ctx.out << "\n";
}

/// A person's identifier given on the command line ends up in shell history and `ps`; "-"
/// reads it from standard input instead.
std::string personArgument(const std::string& given) {
    if (given != "-") return given;
    std::string line;
    std::getline(std::cin, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
}

void requireTenant(storage::DocumentStore& store, const std::string& tenantId) {
    if (!store.repository().tenant(tenantId)) {
        throw Error(ErrorCode::kNotFound, "storage.tenant_unknown", "no tenant " + tenantId + " (create it with `kooperdoc tenant put`)");
    }
}

Object::Ptr outcomeJson(const storage::ErasureOutcome& outcome) {
    Object::Ptr o = new Object;
    o->set("document_id", outcome.documentId);
    o->set("outcome", outcome.erased ? "erased" : "kept");
    if (!outcome.erased) o->set("ground", outcome.ground);
    if (!outcome.detail.empty()) o->set("detail", outcome.detail);
    return o;
}

void printOutcomes(const Context& ctx, const std::vector<storage::ErasureOutcome>& outcomes, bool json) {
    if (json) {
        Array::Ptr list = new Array;
        for (const auto& outcome : outcomes) list->add(outcomeJson(outcome));
        Object::Ptr result = new Object;
        result->set("documents", list);
        printJson(ctx, result);
        return;
    }
    for (const auto& outcome : outcomes) {
        ctx.out << outcome.documentId << "\t" << (outcome.erased ? "erased" : "kept");
        if (!outcome.erased) ctx.out << "\t" << outcome.ground;
        if (!outcome.detail.empty()) ctx.out << "\t" << outcome.detail;
        ctx.out << "\n";
    }
    if (outcomes.empty()) ctx.err << "kooperdoc: no document names this data subject\n";
}

}  // namespace

server::StorageSetup storageSetupFor(const Context& ctx, const Arguments& a) { return storageSetup(ctx, a); }

namespace {

// ---------------------------------------------------------------------------------------------
// store

int storeCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"-o", "--output", "--tenant", "--case", "--idempotency-key", "--identity", "--level", "--template-version",
                                  "--supersedes", "--relation"}),
                {"--seal", "--json"});
    a.expectPositionals(2, "kooperdoc store TEMPLATE INPUT.json --tenant T [--case REF] [--idempotency-key K] [--seal] [-o OUT.pdf]\n"
                           "                [--supersedes ID --relation corrected_version|annex]");
    const auto supersedes = a.value("--supersedes");
    if (supersedes.has_value() != a.value("--relation").has_value()) {
        throw UsageError("--supersedes and --relation go together (rectification: a corrected version or an annex)");
    }
    const auto tenantId = required(a, "--tenant", "store");
    const auto& tmpl = ctx.catalog().get(a.positionals()[0], a.value("--template-version").value_or(""));

    service::IssueRequest request;
    request.tenantId = tenantId;
    request.tmpl = &tmpl;
    request.input = parseJson(readInput(a.positionals()[1]));
    request.caseRef = a.value("--case").value_or("");
    request.idempotencyKey = a.value("--idempotency-key").value_or("");
    request.seal = a.flag("--seal");
    request.supersedes = supersedes;
    request.relation = a.value("--relation").value_or("");
    request.now = clockOf(a);
    request.createdAt = creationTime();

    auto store = openStore(ctx, a);
    EventRecorder events(ctx, a, store->repository(), request.now);
    request.actor = events.actor();
    service::Sealer sealer;
    if (request.seal) sealer = [&](const pdf::RenderedPdf& rendered) { return sealRendered(ctx, rendered, a); };
    const auto setup = storageSetup(ctx, a);
    service::DocumentIssuer issuer(*store, *setup.retention, events.log(), sealer);
    const auto result = issuer.issue(request);
    const auto output = a.value("-o") ? a.value("-o") : a.value("--output");
    if (output) {
        const auto bytes = store->read(tenantId, result.documentId);
        writeFileAtomically(*output, bytes);
        events.record("document.downloaded", tenantId, result.documentId, sha256Hex(bytes));
    }
    if (a.flag("--json")) {
        Object::Ptr o = new Object;
        o->set("code", "ok");
        o->set("document_id", result.documentId);
        o->set("replayed", result.replayed);
        o->set("subjects", static_cast<int>(result.subjects));
        o->set("legal_basis", result.legalBasis);
        o->set("archival_duty", result.archivalDuty);
        printJson(ctx, o);
    } else {
        ctx.out << result.documentId << "\n";
        if (result.replayed) ctx.err << "kooperdoc: the idempotency key was used for this request before: the first document\n";
    }
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// tenant

int tenantCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"--profile"}), {});
    if (a.positionals().empty()) throw UsageError("usage: kooperdoc tenant put T --profile FILE.json | tenant list");
    const auto& action = a.positionals()[0];
    if (action == "list") {
        a.expectPositionals(1, "kooperdoc tenant list");
        auto store = openStore(ctx, a);
        for (const auto& id : store->repository().tenantIds()) ctx.out << id << "\n";
        return kExitOk;
    }
    if (action != "put") throw UsageError("tenant: unknown action " + action + " (put, list)");
    a.expectPositionals(2, "kooperdoc tenant put T --profile FILE.json");
    const auto profile = readInput(required(a, "--profile", "tenant put"));
    templates::parseTenantProfile(profile);  // refuse a profile the templates could not print
    auto store = openStore(ctx, a);
    EventRecorder events(ctx, a, store->repository(), clockOf(a));
    store->putTenant(a.positionals()[1], profile, clockOf(a));
    events.record("config.changed", a.positionals()[1], "", sha256Hex(profile), {{"setting", "tenant_profile"}});
    ctx.out << a.positionals()[1] << "\n";
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// document

int documentGet(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc document get ID --tenant T [--revision N] -o OUT.pdf");
    const auto output = outputOf(a, "document get");
    const int revision = a.value("--revision") ? std::stoi(*a.value("--revision")) : 0;
    const auto tenantId = required(a, "--tenant", "document get");
    auto store = openStore(ctx, a);
    EventRecorder events(ctx, a, store->repository(), clockOf(a));
    const auto bytes = store->read(tenantId, a.positionals()[1], revision, a.flag("--archive-access"));
    writeFileAtomically(output, bytes);
    events.record("document.downloaded", tenantId, a.positionals()[1], sha256Hex(bytes),
                  {{"revision", std::to_string(revision > 0 ? revision : 0)}});
    return kExitOk;
}

int documentAddRevision(Context& ctx, const Arguments& a) {
    a.expectPositionals(3, "kooperdoc document add-revision ID --tenant T FILE.pdf --kind signed_upload");
    const auto tenantId = required(a, "--tenant", "document add-revision");
    const auto kind = required(a, "--kind", "document add-revision");
    const auto& documentId = a.positionals()[1];
    const auto uploaded = readInput(a.positionals()[2]);
    auto store = openStore(ctx, a);
    EventRecorder events(ctx, a, store->repository(), clockOf(a));
    const auto intake = service::addRevision(*store, events.log(), events.actor(), tenantId, documentId, uploaded, kind, clockOf(a));
    if (!intake.accepted) {
        ctx.err << "kooperdoc: upload refused: " << intake.detail << " [" << intake.reason << "]\n";
        return kExitFailed;
    }
    ctx.out << documentId << "\trevision " << intake.revision << "\t" << storage::toString(intake.status) << "\n";
    return kExitOk;
}

/// OUT.pdf → OUT-karta-audytu.pdf
std::string defaultCardPath(const std::string& output) {
    const auto dot = output.rfind(".pdf");
    const auto stem = dot != std::string::npos && dot + 4 == output.size() ? output.substr(0, dot) : output;
    return stem + "-karta-audytu.pdf";
}

/// The newest revision as it is stored (byte for byte: every signature in it stays valid) and,
/// beside it, its "Karta audytu": a PDF/A-3b companion whose attached kooperdoc-audit.json proves
/// the document's history offline. Not appended to the document itself: a catalog changed after
/// a signature (/Names, /AF, a page) is a forbidden change to every verifier (docs/audit.md).
int documentExport(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc document export ID --tenant T -o OUT.pdf [--card CARD.pdf] [--archive-access]");
    const auto output = outputOf(a, "document export");
    const auto cardPath = a.value("--card").value_or(defaultCardPath(output));
    const auto tenantId = required(a, "--tenant", "document export");
    const auto& documentId = a.positionals()[1];
    const auto now = clockOf(a);
    auto store = openStore(ctx, a);
    EventRecorder events(ctx, a, store->repository(), now);
    const auto bytes = store->read(tenantId, documentId, 0, a.flag("--archive-access"));
    // Recorded before the trail is proven, so the card carries this hand-over and the SHA-256 of
    // the very file it accompanies (`audit check CARD --document OUT.pdf` relies on it).
    events.record("document.downloaded", tenantId, documentId, sha256Hex(bytes), {{"with", "audit_card"}});
    const auto card = service::renderAuditCard(service::documentTrail(events.log(), documentId), now,
                                               service::CarriedDocument{documentId + ".pdf", bytes});
    writeFileAtomically(output, bytes);
    writeFileAtomically(cardPath, card);
    ctx.out << output << "\n" << cardPath << "\n";
    return kExitOk;
}

/// Verifies the stored document (its newest revision unless --revision N) like `verify`, and
/// records document.verified with the verdict: an auditor's check is part of the history.
int documentVerify(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc document verify ID --tenant T [--revision N] [--json] [--trust CA.pem]... [verify's options]");
    const auto tenantId = required(a, "--tenant", "document verify");
    const auto& documentId = a.positionals()[1];
    const auto options = verifyOptionsOf(a);
    const auto revision = a.value("--revision") ? std::stoi(*a.value("--revision")) : 0;
    auto store = openStore(ctx, a);
    EventRecorder events(ctx, a, store->repository(), clockOf(a));
    const auto bytes = store->read(tenantId, documentId, revision, a.flag("--archive-access"));
    const auto report = verify::verifyPdf(bytes, options);
    const std::string outcome = !report.readable() ? "format_failure" : report.allPassed() ? "passed" : "not_passed";
    events.record("document.verified", tenantId, documentId, sha256Hex(bytes),
                  {{"outcome", outcome}, {"signatures", std::to_string(report.signatures.size())}});
    printReport(ctx, report, a.flag("--json"));
    return report.allPassed() ? kExitOk : kExitFailed;
}

/// A stored document's record as `document list` and `subject export`'s manifest show it.
Object::Ptr documentJson(const storage::DocumentRecord& d) { return service::documentJson(d); }

int documentList(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc document list --tenant T [--json]");
    auto store = openStore(ctx, a);
    const auto tenantId = required(a, "--tenant", "document list");
    requireTenant(*store, tenantId);
    Array::Ptr list = new Array;
    for (const auto& d : store->repository().documents(tenantId)) {
        if (a.flag("--json")) {
            Object::Ptr o = documentJson(d);
            o->set("revisions", static_cast<int>(store->repository().revisions(d.id).size()));
            list->add(o);
        } else {
            ctx.out << d.id << "\t" << d.templateId << "\t" << storage::toString(d.status) << (d.restricted ? " (restricted)" : "")
                    << "\t" << d.caseRef << "\n";
        }
    }
    if (a.flag("--json")) printJson(ctx, list);
    return kExitOk;
}

int documentCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args,
                withCommon({"-o", "--output", "--tenant", "--revision", "--kind", "--card", "--trust", "--crl", "--ocsp", "--trusted-list",
                            "--list-signer"}),
                {"--json", "--archive-access", "--require-revocation"});
    if (a.positionals().empty()) throw UsageError("usage: kooperdoc document get|add-revision|list|export|verify …");
    const auto& action = a.positionals()[0];
    if (action == "get") return documentGet(ctx, a);
    if (action == "add-revision") return documentAddRevision(ctx, a);
    if (action == "list") return documentList(ctx, a);
    if (action == "export") return documentExport(ctx, a);
    if (action == "verify") return documentVerify(ctx, a);
    throw UsageError("document: unknown action " + action + " (get, add-revision, list, export, verify)");
}

// ---------------------------------------------------------------------------------------------
// case

int caseCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"--tenant"}), {});
    if (a.positionals().empty() || a.positionals()[0] != "close") throw UsageError("usage: kooperdoc case close REF --tenant T [--at TIME]");
    a.expectPositionals(2, "kooperdoc case close REF --tenant T [--at TIME]");
    auto store = openStore(ctx, a);
    const auto tenantId = required(a, "--tenant", "case close");
    requireTenant(*store, tenantId);
    const auto at = clockOf(a);
    store->repository().closeCase(tenantId, a.positionals()[1], at);
    ctx.out << a.positionals()[1] << "\tclosed " << isoTime(at) << "\n";
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// subject

int subjectFind(Context& ctx, const Arguments& a, storage::DocumentStore& store, const std::string& tenantId) {
    a.expectPositionals(2, "kooperdoc subject find --tenant T (PESEL | NAME | -)");
    const auto subjects = store.findSubjects(tenantId, personArgument(a.positionals()[1]));
    Array::Ptr list = new Array;
    for (const auto& id : subjects) {
        const auto subject = store.repository().subject(tenantId, id);
        const auto documents = store.repository().documentsOfSubject(tenantId, id);
        if (a.flag("--json")) {
            Object::Ptr o = new Object;
            o->set("subject_id", id);
            o->set("erased", subject && subject->erasedAt.has_value());
            Array::Ptr ids = new Array;
            for (const auto& d : documents) ids->add(d.id);
            o->set("documents", ids);
            list->add(o);
        } else {
            ctx.out << id << "\t" << documents.size() << " document(s)\n";
        }
    }
    if (a.flag("--json")) printJson(ctx, list);
    if (subjects.empty()) {
        ctx.err << "kooperdoc: nobody with this identifier in tenant " << tenantId << "\n";
        return kExitFailed;
    }
    return kExitOk;
}

int subjectExport(Context& ctx, const Arguments& a, storage::DocumentStore& store, const std::string& tenantId) {
    a.expectPositionals(2, "kooperdoc subject export --tenant T SUBJECT -o OUT.zip");
    const auto output = outputOf(a, "subject export");
    const auto& subjectId = a.positionals()[1];
    const auto exported = service::exportSubject(store, tenantId, subjectId, clockOf(a));
    writeFileAtomically(output, exported.zip);
    EventRecorder(ctx, a, store.repository(), clockOf(a))
        .record("subject.exported", tenantId, "", sha256Hex(exported.zip),
                {{"subject", subjectId}, {"documents", std::to_string(exported.documents)}});
    ctx.out << output << "\t" << exported.documents << " document(s)\n";
    return kExitOk;
}

int subjectCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"-o", "--output", "--tenant"}), {"--json"});
    if (a.positionals().empty()) throw UsageError("usage: kooperdoc subject find|export|erase|withdraw-consent --tenant T …");
    const auto& action = a.positionals()[0];
    const auto tenantId = required(a, "--tenant", "subject");
    auto store = openStore(ctx, a);
    requireTenant(*store, tenantId);
    if (action == "find") return subjectFind(ctx, a, *store, tenantId);
    if (action == "export") return subjectExport(ctx, a, *store, tenantId);
    if (action == "erase" || action == "withdraw-consent") {
        a.expectPositionals(2, "kooperdoc subject erase|withdraw-consent --tenant T SUBJECT [--json]");
        const auto now = clockOf(a);
        EventRecorder events(ctx, a, store->repository(), now);
        const auto outcomes = action == "erase" ? store->eraseSubject(tenantId, a.positionals()[1], now)
                                                : store->withdrawConsent(tenantId, a.positionals()[1], now);
        recordOutcomes(events, action == "erase" ? "subject.erased" : "consent.withdrawn", tenantId, a.positionals()[1], outcomes);
        printOutcomes(ctx, outcomes, a.flag("--json"));
        return kExitOk;
    }
    throw UsageError("subject: unknown action " + action + " (find, export, erase, withdraw-consent)");
}

// ---------------------------------------------------------------------------------------------
// hold

int holdCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"--tenant", "--document", "--case", "--reason", "--by"}), {});
    if (a.positionals().empty()) throw UsageError("usage: kooperdoc hold place|clear …");
    const auto& action = a.positionals()[0];
    const auto tenantId = required(a, "--tenant", "hold");
    auto store = openStore(ctx, a);
    requireTenant(*store, tenantId);
    EventRecorder events(ctx, a, store->repository(), clockOf(a));
    if (action == "place") {
        a.expectPositionals(1, "kooperdoc hold place --tenant T (--document ID | --case REF) --reason TEXT --by WHO");
        const auto documentId = a.value("--document").value_or("");
        const auto caseRef = a.value("--case").value_or("");
        if (documentId.empty() == caseRef.empty()) throw UsageError("hold place needs exactly one of --document and --case");
        const auto reason = required(a, "--reason", "hold place");
        const auto hold = storage::placeLegalHold(store->repository(), tenantId, documentId, caseRef, reason,
                                                  required(a, "--by", "hold place"), clockOf(a));
        // The reason and who set it are free text in the hold's row; the log keeps the hold's id.
        events.record("hold.placed", tenantId, hold.documentId, "",
                      {{"hold", hold.id}, {"scope", hold.documentId.empty() ? "case" : "document"}});
        ctx.out << hold.id << "\n";
        return kExitOk;
    }
    if (action == "clear") {
        a.expectPositionals(2, "kooperdoc hold clear HOLD --tenant T --by WHO");
        store->repository().clearHold(tenantId, a.positionals()[1], required(a, "--by", "hold clear"), clockOf(a));
        events.record("hold.cleared", tenantId, "", "", {{"hold", a.positionals()[1]}});
        ctx.out << a.positionals()[1] << "\tcleared\n";
        return kExitOk;
    }
    throw UsageError("hold: unknown action " + action + " (place, clear)");
}

// ---------------------------------------------------------------------------------------------
// retention

Object::Ptr statusJson(const storage::RetentionStatus& s) {
    Object::Ptr o = new Object;
    service::setRetentionStatus(*o, s);
    if (!s.blockedBy.empty()) o->set("blocked_by", s.blockedBy);
    return o;
}

void printStatuses(const Context& ctx, const std::vector<storage::RetentionStatus>& rows) {
    for (const auto& s : rows) {
        ctx.out << s.documentId << "\t" << s.templateId << "\t" << s.ruleId << "\t" << s.category << "\t" << s.action << "\t"
                << (s.endsAt ? isoTime(*s.endsAt) : std::string(s.category == "A" ? "never" : "open")) << "\t"
                << (s.due ? "due" : "-") << (s.blockedBy.empty() ? "" : "\t" + s.blockedBy) << "\n";
    }
}

std::vector<std::string> tenantsOf(storage::DocumentStore& store, const Arguments& a) {
    if (const auto tenant = a.value("--tenant")) {
        requireTenant(store, *tenant);
        return {*tenant};
    }
    return store.repository().tenantIds();
}

int retentionCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"--tenant", "--by", "--archive-consent"}), {"--dry-run", "--json"});
    if (a.positionals().empty()) throw UsageError("usage: kooperdoc retention report|run|approve|reject|execute …");
    const auto& action = a.positionals()[0];
    const auto setup = storageSetup(ctx, a);
    auto store = server::openDocumentStore(setup, ctx.err);
    storage::RetentionSweep sweep(*store, *setup.retention);
    const auto now = clockOf(a);
    EventRecorder events(ctx, a, store->repository(), now);

    if (action == "report") {
        a.expectPositionals(1, "kooperdoc retention report [--tenant T] [--at TIME] [--json]");
        Object::Ptr result = new Object;
        for (const auto& tenantId : tenantsOf(*store, a)) {
            const auto rows = storage::retentionReport(store->repository(), tenantId, *setup.retention, now);
            if (a.flag("--json")) {
                Array::Ptr list = new Array;
                for (const auto& row : rows) list->add(statusJson(row));
                result->set(tenantId, list);
            } else {
                printStatuses(ctx, rows);
            }
        }
        if (a.flag("--json")) printJson(ctx, result);
        return kExitOk;
    }
    if (action == "run") {
        a.expectPositionals(1, "kooperdoc retention run [--tenant T] [--dry-run] [--at TIME] [--json]");
        Object::Ptr result = new Object;
        Array::Ptr proposals = new Array;
        for (const auto& tenantId : tenantsOf(*store, a)) {
            const auto proposal = sweep.run(tenantId, now, a.flag("--dry-run"), [&](std::size_t done, std::size_t total) {
                ctx.err << "kooperdoc: retention " << tenantId << ": " << done << "/" << total << " documents checked\n";
            });
            if (!a.flag("--dry-run") && !proposal.items.empty()) {
                for (const auto& item : proposal.items) {
                    events.record("retention.proposed", tenantId, item.documentId, "", {{"proposal", proposal.id}, {"rule", item.ruleId}});
                }
            }
            Object::Ptr o = new Object;
            o->set("tenant_id", tenantId);
            o->set("proposal_id", a.flag("--dry-run") || proposal.items.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(proposal.id));
            o->set("status", proposal.items.empty() ? std::string("nothing_due") : proposal.status);
            Array::Ptr items = new Array;
            for (const auto& item : proposal.items) items->add(statusJson(item));
            o->set("items", items);
            proposals->add(o);
            if (!a.flag("--json")) {
                printStatuses(ctx, proposal.items);
                if (proposal.items.empty()) ctx.err << "kooperdoc: " << tenantId << ": nothing is due\n";
                else if (a.flag("--dry-run")) ctx.err << "kooperdoc: " << tenantId << ": dry run, nothing recorded\n";
                else ctx.err << "kooperdoc: " << tenantId << ": proposal " << proposal.id << " awaits a dpo's approval\n";
            }
        }
        result->set("proposals", proposals);
        if (a.flag("--json")) printJson(ctx, result);
        return kExitOk;
    }
    const auto tenantId = required(a, "--tenant", ("retention " + action).c_str());
    requireTenant(*store, tenantId);
    if (action == "approve") {
        a.expectPositionals(2, "kooperdoc retention approve ID --tenant T --by WHO [--archive-consent REF]");
        sweep.approve(tenantId, a.positionals()[1], required(a, "--by", "retention approve"), a.value("--archive-consent").value_or(""), now);
        events.record("retention.approved", tenantId, "", "", {{"proposal", a.positionals()[1]}});
        ctx.out << a.positionals()[1] << "\tapproved\n";
        return kExitOk;
    }
    if (action == "reject") {
        a.expectPositionals(2, "kooperdoc retention reject ID --tenant T --by WHO");
        sweep.reject(tenantId, a.positionals()[1], required(a, "--by", "retention reject"), now);
        events.record("retention.rejected", tenantId, "", "", {{"proposal", a.positionals()[1]}});
        ctx.out << a.positionals()[1] << "\trejected\n";
        return kExitOk;
    }
    if (action == "execute") {
        a.expectPositionals(2, "kooperdoc retention execute ID --tenant T [--at TIME]");
        const auto records = sweep.execute(tenantId, a.positionals()[1], now);
        for (const auto& r : records) {
            events.record("retention.executed", tenantId, r.documentId, "",
                          {{"proposal", a.positionals()[1]}, {"outcome", groundCode(r.outcome)}, {"record", r.id}});
        }
        Array::Ptr list = new Array;
        for (const auto& r : records) {
            if (a.flag("--json")) {
                Object::Ptr o = new Object;
                o->set("document_id", r.documentId);
                o->set("rule", r.ruleId);
                o->set("category", r.category);
                o->set("outcome", r.outcome);
                o->set("record_id", r.id);
                list->add(o);
            } else {
                ctx.out << r.documentId << "\t" << r.outcome << "\t" << r.ruleId << "\t" << r.category << "\n";
            }
        }
        if (a.flag("--json")) printJson(ctx, list);
        return kExitOk;
    }
    throw UsageError("retention: unknown action " + action + " (report, run, approve, reject, execute)");
}

// ---------------------------------------------------------------------------------------------
// backup and restore

bool emptyOrMissing(const fs::path& dir) {
    return !fs::exists(dir) || (fs::is_directory(dir) && fs::directory_iterator(dir) == fs::directory_iterator());
}

void fsyncPath(const fs::path& path, bool directory) {
    const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

int backupCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"--to"}), {});
    a.expectPositionals(0, "kooperdoc backup --to DIR");
    const fs::path target(required(a, "--to", "backup"));
    if (!emptyOrMissing(target)) throw Error(ErrorCode::kAlreadyExists, "storage.backup_exists", "the backup directory " + target.string() + " is not empty");
    auto store = openStore(ctx, a);
    fs::create_directories(target);
    fs::permissions(target, fs::perms::owner_all, fs::perm_options::replace);
    const auto database = (target / "kooperdoc.db").string();
    // One snapshot of the rows (writers go on meanwhile), then exactly the blobs it names:
    // a blob is durable before its row commits, so every one of them exists now.
    store->repository().backupTo(database);
    fsyncPath(database, false);
    auto snapshot = storage::openRepository(storage::DatabaseConfig::parse("sqlite:" + database));
    const auto blobIds = snapshot->referencedBlobs();
    const auto documents = [&] {
        std::size_t count = 0;
        for (const auto& tenantId : snapshot->tenantIds()) count += snapshot->documents(tenantId).size();
        return count;
    }();
    snapshot.reset();
    storage::BlobStore copies((target / "blobs").string());
    for (std::size_t i = 0; i < blobIds.size(); ++i) {
        copies.put(blobIds[i], store->blobs().get(blobIds[i]));
        if ((i + 1) % 500 == 0 || i + 1 == blobIds.size()) ctx.err << "kooperdoc: backup: " << i + 1 << "/" << blobIds.size() << " blobs\n";
    }
    Object::Ptr manifest = new Object;
    manifest->set("format", "kooperdoc.backup/1");
    manifest->set("created_at", isoTime(clockOf(a)));
    manifest->set("schema_version", storage::currentSchemaVersion());
    manifest->set("documents", static_cast<int>(documents));
    manifest->set("blobs", static_cast<int>(blobIds.size()));
    manifest->set("master_key_fingerprint", store->masterKey().fingerprint());
    std::ostringstream text;
    Poco::JSON::Stringifier::stringify(manifest, text, 2);
    writeFileAtomically((target / "backup.json").string(), text.str() + "\n");
    ctx.out << target.string() << "\t" << documents << " document(s), " << blobIds.size() << " blob(s)\n";
    ctx.err << "kooperdoc: the backup holds no master key: keep the key apart, and keep the backup no longer than the "
               "retention rules allow (people erased later come back with it; see docs/storage.md)\n";
    return kExitOk;
}

int restoreCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, withCommon({"--from"}), {});
    a.expectPositionals(0, "kooperdoc restore --from DIR --data-dir NEW");
    const fs::path source(required(a, "--from", "restore"));
    const auto dataDir = required(a, "--data-dir", "restore");
    const auto setup = storageSetup(ctx, a);
    if (fs::exists(setup.database.sqlitePath) || !emptyOrMissing(setup.blobDir)) {
        throw Error(ErrorCode::kAlreadyExists, "storage.restore_target_not_empty",
                    "the data directory " + dataDir + " already holds a store: restore only into a new one");
    }
    const auto manifestPath = (source / "backup.json").string();
    if (!fs::exists(manifestPath) || !fs::exists(source / "kooperdoc.db")) {
        throw Error(ErrorCode::kNotFound, "storage.backup_invalid", source.string() + " is not a Kooperdoc backup (no backup.json)");
    }
    // The key must be the one the backup was made with; it is never in the backup, and a new
    // one is never made up here (it could open nothing).
    const auto key = server::loadMasterKey(setup, ctx.err, false);
    const auto manifest = parseJson(readInput(manifestPath)).extract<Object::Ptr>();
    if (manifest->optValue<std::string>("master_key_fingerprint", "") != key.fingerprint()) {
        throw Error(ErrorCode::kFailedPrecondition, "storage.master_key_mismatch",
                    "this master key is not the one the backup was made with");
    }
    fs::create_directories(fs::path(setup.database.sqlitePath).parent_path());
    const auto temporary = setup.database.sqlitePath + ".restoring";
    fs::copy_file(source / "kooperdoc.db", temporary, fs::copy_options::overwrite_existing);
    fsyncPath(temporary, false);
    fs::rename(temporary, setup.database.sqlitePath);
    fsyncPath(fs::path(setup.database.sqlitePath).parent_path(), true);
    storage::BlobStore from((source / "blobs").string());
    storage::BlobStore to(setup.blobDir);
    for (const auto& id : from.list()) to.put(id, from.get(id));

    // Prove it: every revision of every live document opens and matches its SHA-256.
    auto store = server::openDocumentStore(setup, ctx.err, false);
    std::size_t documents = 0, revisions = 0;
    for (const auto& tenantId : store->repository().tenantIds()) {
        for (const auto& d : store->repository().documents(tenantId)) {
            if (d.status == storage::DocumentStatus::kErased) continue;
            ++documents;
            for (const auto& r : store->repository().revisions(d.id)) {
                try {
                    store->read(tenantId, d.id, r.number, true);
                    ++revisions;
                } catch (const Error& e) {
                    throw Error(ErrorCode::kDataLoss, "storage.restore_unreadable",
                                "document " + d.id + " revision " + std::to_string(r.number) + " does not open: " + e.reason());
                }
            }
        }
    }
    ctx.out << dataDir << "\t" << documents << " document(s), " << revisions << " revision(s) verified\n";
    return kExitOk;
}

}  // namespace

void addStorageCommands(CommandTable& table) {
    static const char* const kCommon =
        "  --data-dir DIR   the store in DIR (kooperdoc.db, blobs/, master.key) instead of the configured one\n"
        "  --at TIME        the command's clock: epoch seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n"
        "  --actor ID       who acts, for the audit log: a pseudonymous id, never a name (default cli)\n"
        "  --role ROLE      the actor's role: admin (default), dpo, animator, auditor, system, intake\n"
        "Storage keys: kooperdoc.storage.* in config/kooperdoc.properties; $KOOPERDOC_MASTER_KEY (base64)\n"
        "holds the master key in production. See docs/storage.md.\n";
    table["store"] = {"render a template's input and store the PDF encrypted",
                      std::string("usage: kooperdoc store TEMPLATE INPUT.json --tenant T [--case REF] [--idempotency-key K]\n"
                                  "                       [--seal [--level L] [--identity DIR]] [-o OUT.pdf] [--json]\n\n"
                                  "Validates and renders like `render` (with the stored tenant's profile), seals with --seal,\n"
                                  "and stores the PDF under a new document id (printed). The people it is about come from the\n"
                                  "template's identification fields; the legal basis and archival duty from its retention rule.\n"
                                  "The same --idempotency-key with the same request returns the first id; with another request\n"
                                  "it is refused [storage.idempotency_conflict] and nothing is stored.\n") + kCommon,
                      storeCommand};
    table["tenant"] = {"create or update a tenant (its RODO controller profile)",
                       std::string("usage: kooperdoc tenant put T --profile FILE.json | tenant list\n\n"
                                   "The profile is the tenant JSON `render --tenant` takes.\n") + kCommon,
                       tenantCommand};
    table["document"] = {"read, list, verify, export or add a revision to a stored document",
                         std::string("usage: kooperdoc document get ID --tenant T [--revision N] -o OUT.pdf [--archive-access]\n"
                                     "       kooperdoc document add-revision ID --tenant T FILE.pdf --kind signed_upload|timestamp|…\n"
                                     "       kooperdoc document list --tenant T [--json]\n"
                                     "       kooperdoc document export ID --tenant T -o OUT.pdf [--card CARD.pdf]\n"
                                     "       kooperdoc document verify ID --tenant T [--revision N] [--json] [--trust CA.pem]… [verify's options]\n\n"
                                     "export writes the newest revision unchanged and, beside it (default OUT-karta-audytu.pdf),\n"
                                     "its Karta audytu: the document's events in Polish, with kooperdoc-audit.json (inclusion\n"
                                     "proofs and a signed checkpoint) and the exported file attached; `kooperdoc audit check`\n"
                                     "verifies it offline. A sealed document also carries the trail of its making inside.\n"
                                     "verify answers like `kooperdoc verify` and records document.verified with the verdict.\n"
                                     "add-revision --kind signed_upload runs the check-upload review against the newest revision\n"
                                     "first (exit 1, nothing stored, when refused). A restricted document (art. 18) is handed out\n"
                                     "only with --archive-access.\n") + kCommon,
                         documentCommand};
    table["case"] = {"close a case (starts the retention periods counted from it)",
                     std::string("usage: kooperdoc case close REF --tenant T [--at TIME]\n") + kCommon, caseCommand};
    table["subject"] = {"find, export or erase everything about a person",
                        std::string("usage: kooperdoc subject find --tenant T (PESEL | NAME | -) [--json]\n"
                                    "       kooperdoc subject export --tenant T SUBJECT -o OUT.zip\n"
                                    "       kooperdoc subject erase --tenant T SUBJECT [--json]\n"
                                    "       kooperdoc subject withdraw-consent --tenant T SUBJECT [--json]\n\n"
                                    "find prints pseudonymous subject ids (- reads the PESEL or name from stdin, out of the\n"
                                    "shell history). export writes every readable PDF and manifest.json. erase and\n"
                                    "withdraw-consent answer per document: erased, or kept with its legal ground.\n") + kCommon,
                        subjectCommand};
    table["hold"] = {"place or clear a legal hold on a document or a case",
                     std::string("usage: kooperdoc hold place --tenant T (--document ID | --case REF) --reason TEXT --by WHO\n"
                                 "       kooperdoc hold clear HOLD --tenant T --by WHO\n") + kCommon,
                     holdCommand};
    table["retention"] = {"retention report, disposal sweep, approval and execution",
                          std::string("usage: kooperdoc retention report [--tenant T] [--json]\n"
                                      "       kooperdoc retention run [--tenant T] [--dry-run] [--json]\n"
                                      "       kooperdoc retention approve ID --tenant T --by WHO [--archive-consent REF]\n"
                                      "       kooperdoc retention reject ID --tenant T --by WHO\n"
                                      "       kooperdoc retention execute ID --tenant T [--json]\n\n"
                                      "run proposes what is due and not held (--dry-run only lists it); a dpo approves, with the\n"
                                      "state archive's consent reference for categories B and BE; execute erases and writes\n"
                                      "disposal records (no personal data). Progress goes to stderr.\n") + kCommon,
                          retentionCommand};
    table["backup"] = {"copy the database and blobs, consistently, while the service runs",
                       std::string("usage: kooperdoc backup --to DIR\n\n"
                                   "SQLite only (VACUUM INTO, then the blobs the snapshot names); for PostgreSQL use pg_dump.\n"
                                   "The master key is not copied. Keep backups no longer than the retention rules allow.\n") + kCommon,
                       backupCommand};
    table["restore"] = {"restore a backup into a new data directory and verify it",
                        std::string("usage: kooperdoc restore --from DIR --data-dir NEW\n\n"
                                    "Refuses a NEW that already holds a store. The master key (NEW/master.key or\n"
                                    "$KOOPERDOC_MASTER_KEY) must be the backup's. Every document is read back and verified.\n") + kCommon,
                        restoreCommand};
}

}  // namespace kooperdoc::cli
