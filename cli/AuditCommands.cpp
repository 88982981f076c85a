// SPDX-License-Identifier: AGPL-3.0-or-later
// `kooperdoc audit …` and the audit plumbing of the storage commands (issue 6; docs/audit.md).
//
// verify needs the database and the audit public key only (no master key, no private key): an
// auditor may run it on a copy. check needs neither database nor configuration: the file and
// the public key the auditor holds.
#include "AuditCommands.h"

#include "Commands.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/DocumentModel.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Attachments.h"
#include "kooperdoc/pdf/PdfReader.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/storage/Repository.h"

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

std::string utcTime(std::int64_t epoch) {
    const std::time_t t = static_cast<std::time_t>(epoch);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &parts);
    return buffer;
}

/// The event types as the card prints them.
std::string polishEventType(const std::string& type) {
    static const std::map<std::string, std::string> names{
        {"document.created", "Utworzenie dokumentu"},
        {"document.rendered", "Wygenerowanie pliku PDF"},
        {"document.sealed", "Opieczętowanie dokumentu"},
        {"document.downloaded", "Wydanie (pobranie) dokumentu"},
        {"document.signed", "Podpisanie dokumentu"},
        {"document.upload_accepted", "Przyjęcie podpisanego dokumentu"},
        {"document.upload_rejected", "Odrzucenie przesłanego dokumentu"},
        {"document.verified", "Weryfikacja podpisów"},
        {"document.viewed", "Wyświetlenie dokumentu"},
        {"document.restricted", "Ograniczenie przetwarzania"},
        {"document.erased", "Usunięcie dokumentu"},
        {"consent.withdrawn", "Wycofanie zgody"},
        {"hold.placed", "Nałożenie blokady prawnej"},
        {"hold.cleared", "Zdjęcie blokady prawnej"},
        {"retention.proposed", "Propozycja brakowania"},
        {"retention.approved", "Zatwierdzenie brakowania"},
        {"retention.rejected", "Odrzucenie brakowania"},
        {"retention.executed", "Wykonanie brakowania"},
        {"subject.exported", "Eksport danych osoby"},
        {"subject.erased", "Usunięcie danych osoby"},
        {"config.changed", "Zmiana konfiguracji"},
        {"key.changed", "Zmiana klucza"},
        {"user.login", "Logowanie"},
        {"user.login_failed", "Nieudane logowanie"},
    };
    const auto it = names.find(type);
    return it == names.end() ? type : it->second;
}

std::string polishRole(const std::string& role) {
    static const std::map<std::string, std::string> names{
        {"admin", "administrator"}, {"dpo", "inspektor ochrony danych"}, {"auditor", "audytor"},
        {"animator", "animator"},   {"system", "system"},                {"intake", "przyjmowanie"},
    };
    const auto it = names.find(role);
    return it == names.end() ? role : it->second;
}

doc::Block paragraph(const std::string& text, bool bold = false, bool small = false) {
    doc::Block b;
    b.kind = doc::Block::Kind::kParagraph;
    b.small = small;
    b.spans.push_back({text, bold, false});
    return b;
}

doc::TableCell cell(const std::string& text, int colspan = 1) {
    doc::TableCell c;
    c.content.push_back(paragraph(text));
    c.colspan = colspan;
    return c;
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

int auditVerify(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc audit verify [--trusted-checkpoint FILE] [--public-key PEM] [--json]");
    const auto setup = storageSetupFor(ctx, a);
    // The auditor's own copy of the public key when given; else the one of the configured key.
    const std::string publicKey = a.value("--public-key") ? readInput(*a.value("--public-key"))
                                                          : server::loadAuditSigner(setup, ctx.err, false).publicKeyPem();
    std::optional<std::string> trusted;
    if (const auto file = a.value("--trusted-checkpoint")) trusted = readInput(*file);
    auto repository = openRepositoryFor(setup);
    const auto result = audit::verifyLog(repository->auditStore(), setup.auditOrigin, publicKey, trusted);
    if (a.flag("--json")) {
        Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("ok", result.ok);
        o->set("entries", static_cast<Poco::UInt64>(result.entries));
        o->set("checkpoints", static_cast<Poco::UInt64>(result.checkpoints));
        o->set("trusted_checkpoint", trusted.has_value());
        o->set("problem", result.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(result.problem));
        o->set("detail", result.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(result.detail));
        o->set("first_bad_index",
               result.firstBadIndex ? Poco::Dynamic::Var(static_cast<Poco::UInt64>(*result.firstBadIndex)) : Poco::Dynamic::Var());
        printJsonObject(ctx, o);
    } else if (result.ok) {
        ctx.out << "ok\t" << result.entries << " entries\t" << result.checkpoints << " checkpoints"
                << (trusted ? "\textends the trusted checkpoint" : "") << "\n";
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
    audit::AuditLog log(repository->auditStore(), server::loadAuditSigner(setup, ctx.err), setup.auditCheckpointEvery);
    const auto trail = documentTrail(log, a.positionals()[1]);
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
    audit::AuditLog log(repository->auditStore(), server::loadAuditSigner(setup, ctx.err), setup.auditCheckpointEvery);
    ctx.out << log.checkpoint().note;
    return kExitOk;
}

int auditPublicKey(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc audit public-key");
    ctx.out << server::loadAuditSigner(storageSetupFor(ctx, a), ctx.err).publicKeyPem();
    return kExitOk;
}

/// The trail of FILE: the kooperdoc-audit.json a "Karta audytu" PDF carries, or such a JSON
/// file itself (from `audit prove`).
audit::DocumentTrail trailOfFile(const std::string& bytes) {
    if (bytes.rfind("%PDF-", 0) != 0) return audit::trailFromJson(bytes);
    const pdf::PdfReader reader(bytes);
    for (const auto& file : pdf::readEmbeddedFiles(reader)) {
        if (file.name == audit::kTrailFileName) return audit::trailFromJson(file.bytes);
    }
    throw Error(ErrorCode::kNotFound, "audit.trail_missing", std::string("the PDF has no ") + audit::kTrailFileName + " attachment");
}

int auditCheck(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc audit check FILE.pdf --public-key PEM [--origin O] [--document DOC.pdf] [--json]");
    const auto publicKey = readPublicKey(a);
    audit::TrailCheck check;
    audit::DocumentTrail trail;
    std::string origin;
    try {
        trail = trailOfFile(readInput(a.positionals()[1]));
        // The origin is in the signed note: a note of another log fails whichever origin is used,
        // so taking the file's own is safe; --origin pins it for auditors who want to.
        origin = a.value("--origin").value_or(trail.origin);
        check = audit::checkTrail(trail, origin, publicKey);
        if (check.ok) {
            if (const auto documentFile = a.value("--document")) {
                // The copy handed out is the one whose SHA-256 an event of the trail names.
                const auto digest = sha256Hex(readInput(*documentFile));
                bool named = false;
                for (const auto& receipt : trail.receipts) {
                    named = named || entryFields(receipt.entry.canonical)->optValue<std::string>("document_sha256", "") == digest;
                }
                if (!named) {
                    check.ok = false;
                    check.problem = "audit.document_not_in_trail";
                    check.detail = "no event of the trail names the SHA-256 of " + *documentFile;
                }
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
        o->set("problem", check.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(check.problem));
        o->set("detail", check.ok ? Poco::Dynamic::Var() : Poco::Dynamic::Var(check.detail));
        o->set("bad_index", check.badIndex ? Poco::Dynamic::Var(static_cast<Poco::UInt64>(*check.badIndex)) : Poco::Dynamic::Var());
        printJsonObject(ctx, o);
    } else if (check.ok) {
        ctx.out << "ok\t" << trail.documentId << "\t" << check.entries << " entries proven under " << origin << "\n";
    } else {
        ctx.out << "FAILED\t" << check.problem << "\t"
                << (check.badIndex ? "index " + std::to_string(*check.badIndex) : std::string("-")) << "\t" << check.detail << "\n";
    }
    return check.ok ? kExitOk : kExitFailed;
}

int auditCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--data-dir", "--trusted-checkpoint", "--public-key", "--origin", "--document", "-o", "--output"}, {"--json"});
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
          return audit::AuditLog(repository.auditStore(), server::loadAuditSigner(setup, ctx.err), setup.auditCheckpointEvery);
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

audit::DocumentTrail documentTrail(audit::AuditLog& log, const std::string& documentId) {
    audit::DocumentTrail trail;
    trail.documentId = documentId;
    trail.origin = log.signer().origin();
    trail.publicKeyPem = log.signer().publicKeyPem();
    trail.receipts = log.proveDocument(documentId);
    return trail;
}

std::string renderAuditCard(const audit::DocumentTrail& trail, std::int64_t createdAt) {
    const auto json = audit::trailToJson(trail);
    doc::Document card;
    auto& p = card.provenance;
    p.documentId = trail.documentId;
    p.documentNumber = trail.documentId;
    p.title = "Karta audytu dokumentu " + trail.documentId;
    p.templateId = "karta-audytu";
    p.templateVersion = "1";
    p.inputSha256 = sha256Hex(json);
    p.createdEpochSeconds = createdAt;

    doc::Block title;
    title.kind = doc::Block::Kind::kTitle;
    title.align = doc::Align::kCenter;
    title.spans.push_back({"Karta audytu", true, false});
    card.blocks.push_back(title);
    doc::Block subtitle;
    subtitle.kind = doc::Block::Kind::kSubtitle;
    subtitle.align = doc::Align::kCenter;
    subtitle.spans.push_back({"dokumentu " + trail.documentId, false, false});
    card.blocks.push_back(subtitle);
    card.blocks.push_back(paragraph(
        "Karta wymienia wszystkie zdarzenia dotyczące dokumentu zapisane w dzienniku audytu Kooperdoc. Dziennik "
        "zawiera wyłącznie identyfikatory, role i skróty SHA-256 – żadnych danych osobowych. Każde zdarzenie ma w "
        "załączniku " + std::string(audit::kTrailFileName) +
        " dowód włączenia (RFC 6962) do drzewa Merkle'a, którego korzeń podpisał klucz audytu (punkt kontrolny "
        "C2SP). Sprawdzenie nie wymaga dostępu do systemu: kooperdoc audit check KARTA.pdf --public-key KLUCZ.pem."));

    doc::Block table;
    table.kind = doc::Block::Kind::kTable;
    table.columnPercents = {8, 24, 40, 28};
    doc::TableRow header;
    header.header = true;
    for (const char* heading : {"Nr", "Czas (UTC)", "Zdarzenie", "Rola wykonującego"}) header.cells.push_back(cell(heading));
    table.rows.push_back(header);
    for (const auto& receipt : trail.receipts) {
        const auto fields = entryFields(receipt.entry.canonical);
        doc::TableRow row;
        row.cells.push_back(cell(std::to_string(receipt.entry.index)));
        row.cells.push_back(cell(utcTime(fields->optValue<Poco::Int64>("time", 0))));
        std::string event = polishEventType(fields->optValue<std::string>("type", ""));
        const auto details = fields->getObject("details");
        if (details && details->has("outcome")) event += " (" + details->getValue<std::string>("outcome") + ")";
        row.cells.push_back(cell(event));
        row.cells.push_back(cell(polishRole(fields->optValue<std::string>("role", ""))));
        table.rows.push_back(row);
        const auto digest = fields->optValue<std::string>("document_sha256", "");
        doc::TableRow digestRow;
        digestRow.cells.push_back(cell("", 1));
        digestRow.cells.push_back(cell("SHA-256 dokumentu: " + (digest.empty() ? std::string("–") : digest), 3));
        table.rows.push_back(digestRow);
    }
    card.blocks.push_back(table);

    const auto checkpoint = trail.receipts.empty() ? std::string() : trail.receipts.back().checkpointNote;
    card.blocks.push_back(paragraph("Punkt kontrolny dziennika (podpisany kluczem audytu)", true));
    std::string firstLines;
    {
        std::istringstream lines(checkpoint);
        std::string line;
        for (int i = 0; i < 3 && std::getline(lines, line); ++i) firstLines += (i ? " · " : "") + line;
    }
    card.blocks.push_back(paragraph("Źródło, rozmiar drzewa, korzeń: " + firstLines, false, true));
    card.blocks.push_back(paragraph("SHA-256 załącznika " + std::string(audit::kTrailFileName) + ": " + p.inputSha256, false, true));

    pdf::RenderSettings settings;
    pdf::Attachment attachment;
    attachment.name = audit::kTrailFileName;
    attachment.mimeType = "application/json";
    attachment.description = "Dziennik audytu dokumentu " + trail.documentId + ": zdarzenia, dowody włączenia, punkt kontrolny";
    attachment.bytes = json;
    settings.attachments.push_back(std::move(attachment));
    return pdf::renderPdf(card, settings).bytes;
}

void addAuditCommands(CommandTable& table) {
    table["audit"] = {
        "verify the audit log, prove a document's entries, check a Karta audytu offline",
        "usage: kooperdoc audit verify [--trusted-checkpoint FILE] [--public-key PEM] [--json]\n"
        "       kooperdoc audit prove DOC_ID [-o receipts.json]\n"
        "       kooperdoc audit checkpoint\n"
        "       kooperdoc audit public-key\n"
        "       kooperdoc audit check FILE.pdf|receipts.json --public-key PEM [--origin O] [--document DOC.pdf] [--json]\n\n"
        "verify checks the whole log: every entry in place and chained, every checkpoint signed by the\n"
        "audit key and matching the entries, each consistent with the next; with --trusted-checkpoint\n"
        "(a note an auditor saved earlier) also that the log still extends it — the only way to catch\n"
        "the newest entries deleted together with their checkpoints. Exit 0 when all checks, 1 with the\n"
        "problem code and the first bad index otherwise.\n"
        "prove writes every entry about the document with its inclusion proof and a checkpoint signed now.\n"
        "checkpoint signs one now and prints the note; public-key prints the PEM auditors configure.\n"
        "check needs no database: it reads kooperdoc-audit.json from a Karta audytu PDF (`document export`)\n"
        "or a receipts file and checks every receipt against the public key; --document also checks that\n"
        "the trail names that file's SHA-256. Exit 0 when it checks, 1 otherwise.\n"
        "  --data-dir DIR   the store in DIR (kooperdoc.db, audit.key) instead of the configured one\n"
        "Audit keys: kooperdoc.audit.* in config/kooperdoc.properties. See docs/audit.md.\n",
        auditCommand};
}

}  // namespace kooperdoc::cli
