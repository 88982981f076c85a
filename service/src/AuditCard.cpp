// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/service/AuditCard.h"

#include <ctime>
#include <map>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "kooperdoc/core/Digest.h"

namespace kooperdoc::service {
namespace {

using Poco::JSON::Object;

std::string utcTime(std::int64_t epoch) {
    const std::time_t t = static_cast<std::time_t>(epoch);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &parts);
    return buffer;
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

}  // namespace

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
        {"animator", "animator"},   {"system", "system"},                {"intake", "system zasilający"},
    };
    const auto it = names.find(role);
    return it == names.end() ? role : it->second;
}

audit::DocumentTrail documentTrail(audit::AuditLog& log, const std::string& documentId) {
    audit::DocumentTrail trail;
    trail.documentId = documentId;
    trail.origin = log.signer().origin();
    trail.publicKeyPem = log.signer().publicKeyPem();
    trail.receipts = log.proveDocument(documentId);
    return trail;
}

std::vector<doc::Block> auditCardBlocks(const audit::DocumentTrail& trail, bool pageBreakFirst) {
    std::vector<doc::Block> blocks;
    if (pageBreakFirst) {
        doc::Block pageBreak;
        pageBreak.kind = doc::Block::Kind::kPageBreak;
        blocks.push_back(pageBreak);
    }
    doc::Block title;
    title.kind = doc::Block::Kind::kTitle;
    title.align = doc::Align::kCenter;
    title.spans.push_back({"Karta audytu", true, false});
    blocks.push_back(title);
    doc::Block subtitle;
    subtitle.kind = doc::Block::Kind::kSubtitle;
    subtitle.align = doc::Align::kCenter;
    subtitle.spans.push_back({"dokumentu " + trail.documentId, false, false});
    blocks.push_back(subtitle);
    blocks.push_back(paragraph(
        "Karta wymienia zdarzenia dotyczące dokumentu zapisane w dzienniku audytu Kooperdoc do chwili jej sporządzenia. "
        "Dziennik zawiera wyłącznie identyfikatory, role i skróty SHA-256 – żadnych danych osobowych. Każde zdarzenie ma w "
        "załączniku " + std::string(audit::kTrailFileName) +
        " dowód włączenia (RFC 6962) do drzewa Merkle'a, którego korzeń podpisał klucz audytu (punkt kontrolny "
        "C2SP). Sprawdzenie nie wymaga dostępu do systemu: kooperdoc audit check PLIK.pdf --public-key KLUCZ.pem."));

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
        const auto input = details ? details->optValue<std::string>("input_sha256", "") : std::string();
        doc::TableRow digestRow;
        digestRow.cells.push_back(cell("", 1));
        digestRow.cells.push_back(cell(!digest.empty() ? "SHA-256 dokumentu: " + digest
                                       : !input.empty() ? "SHA-256 danych: " + input
                                                        : std::string("SHA-256: –"),
                                       3));
        table.rows.push_back(digestRow);
    }
    blocks.push_back(table);

    const auto checkpoint = trail.receipts.empty() ? std::string() : trail.receipts.back().checkpointNote;
    blocks.push_back(paragraph("Punkt kontrolny dziennika (podpisany kluczem audytu)", true));
    std::string firstLines;
    {
        std::istringstream lines(checkpoint);
        std::string line;
        for (int i = 0; i < 3 && std::getline(lines, line); ++i) firstLines += (i ? " · " : "") + line;
    }
    blocks.push_back(paragraph("Źródło, rozmiar drzewa, korzeń: " + firstLines, false, true));
    blocks.push_back(paragraph("SHA-256 załącznika " + std::string(audit::kTrailFileName) + ": " +
                                   sha256Hex(audit::trailToJson(trail)),
                               false, true));
    return blocks;
}

pdf::Attachment trailAttachment(const audit::DocumentTrail& trail) {
    pdf::Attachment attachment;
    attachment.name = audit::kTrailFileName;
    attachment.mimeType = "application/json";
    attachment.description = "Dziennik audytu dokumentu " + trail.documentId + ": zdarzenia, dowody włączenia, punkt kontrolny";
    attachment.bytes = audit::trailToJson(trail);
    return attachment;
}

std::string renderAuditCard(const audit::DocumentTrail& trail, std::int64_t createdAt, const std::optional<CarriedDocument>& document) {
    doc::Document card;
    auto& p = card.provenance;
    p.documentId = trail.documentId;
    p.documentNumber = trail.documentId;
    p.title = "Karta audytu dokumentu " + trail.documentId;
    p.templateId = kAuditCardTemplateId;
    p.templateVersion = "1";
    p.inputSha256 = sha256Hex(audit::trailToJson(trail));
    p.createdEpochSeconds = createdAt;
    card.blocks = auditCardBlocks(trail, false);

    pdf::RenderSettings settings;
    settings.attachments.push_back(trailAttachment(trail));
    if (document) {
        card.blocks.push_back(paragraph("Karta niesie w załączniku " + document->fileName +
                                            " wydany plik dokumentu bajt w bajt (SHA-256: " + sha256Hex(document->bytes) +
                                            "); jego podpisy sprawdza kooperdoc verify.",
                                        false, true));
        pdf::Attachment carried;
        carried.name = document->fileName;
        carried.mimeType = "application/pdf";
        carried.description = "Dokument " + trail.documentId + " w postaci wydanej";
        carried.relationship = "Source";
        carried.bytes = document->bytes;
        settings.attachments.push_back(std::move(carried));
    }
    return pdf::renderPdf(card, settings).bytes;
}

}  // namespace kooperdoc::service
