// SPDX-License-Identifier: AGPL-3.0-or-later
// The verification report as a doc::Document, in Polish: what the HTML page and the PDF/A show.
// Every English code the verifier gives maps to Polish in one table (kLabels).
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/verify/ReportRendering.h"

namespace kooperdoc::verify {

const char* const kReportFormatVersion = "1";
const char* const kReportTemplateId = "raport-weryfikacji";

namespace {

struct Label {
    const char* code;
    const char* polish;
};

/// Indications, sub-indications (ETSI EN 319 102-1), revocation, coverage, modification levels.
constexpr Label kLabels[] = {
    {"TOTAL-PASSED", "prawidłowy"},
    {"TOTAL-FAILED", "nieprawidłowy"},
    {"INDETERMINATE", "nierozstrzygnięty"},
    {"FORMAT_FAILURE", "błąd struktury podpisu lub niedozwolone zmiany w pliku"},
    {"HASH_FAILURE", "skrót podpisanych danych nie zgadza się – treść zmieniono po podpisaniu"},
    {"SIG_CRYPTO_FAILURE", "wartość podpisu nie weryfikuje się kluczem podpisującego"},
    {"REVOKED", "certyfikat unieważniony"},
    {"NO_CERTIFICATE_CHAIN_FOUND", "brak ścieżki certyfikacji do zaufanego urzędu"},
    {"OUT_OF_BOUNDS_NO_POE", "certyfikat wygasł, a nic nie dowodzi, że podpis złożono wcześniej"},
    {"NOT_YET_VALID", "certyfikat jeszcze nie był ważny"},
    {"CHAIN_CONSTRAINTS_FAILURE", "ścieżka certyfikacji narusza ograniczenia"},
    {"CERTIFICATE_CHAIN_GENERAL_FAILURE", "błąd ścieżki certyfikacji"},
    {"TRY_LATER", "brak aktualnych danych o unieważnieniu – spróbuj później"},
    {"SIGNED_DATA_NOT_FOUND", "nie znaleziono podpisanych danych"},
    {"CRYPTO_CONSTRAINTS_FAILURE_NO_POE", "algorytm niedozwolony przez politykę"},
    {"not_checked", "nie sprawdzono (brak list CRL)"},
    {"good", "nieunieważniony (sprawdzono listy CRL)"},
    {"revoked", "unieważniony"},
    {"unknown", "nieustalony (listy CRL nieaktualne lub niezweryfikowane)"},
    {"ENTIRE_FILE", "cały plik"},
    {"ENTIRE_REVISION", "cała wersja pliku, do której dopisano później zmiany"},
    {"CONTIGUOUS_BLOCK_FROM_START", "tylko początek pliku, nie cała wersja"},
    {"UNCLEAR", "niejasny"},
    {"NONE", "brak"},
    {"LTA_UPDATES", "tylko dane do długoterminowej weryfikacji (DSS, znaczniki czasu)"},
    {"FORM_FILLING", "wypełnienie pól formularza i kolejne podpisy"},
    {"ANNOTATIONS", "adnotacje na stronach"},
    {"OTHER", "inne zmiany, których żadna reguła nie dopuszcza"},
    {"none", "nie dotyczy (podpis nie jest prawidłowy)"},
    {"advanced", "zaawansowany – urząd nie figuruje na zaufanej liście jako kwalifikowany"},
    {"qualified_esignature", "kwalifikowany podpis elektroniczny"},
    {"qualified_eseal", "kwalifikowana pieczęć elektroniczna"},
    {"timestamp", "znacznik czasu (niekwalifikowany)"},
    {"qualified_timestamp", "kwalifikowany elektroniczny znacznik czasu"},
};

constexpr const char* kDash = "—";

/// "2020-11-01 00:00:00 UTC".
std::string polishTime(std::int64_t epochSeconds) {
    std::string text = formatTime(epochSeconds); // 2020-11-01T00:00:00Z
    if (text.size() == 20) text = text.substr(0, 10) + ' ' + text.substr(11, 8) + " UTC";
    return text;
}

std::string optionalTime(const std::optional<std::int64_t>& time) {
    return time ? polishTime(*time) : kDash;
}

std::string yesNo(bool value, const char* yes, const char* no) {
    return value ? yes : no;
}

std::string documentIdFor(const std::string& sha256HexText) {
    std::string id = "RW";
    for (std::size_t i = 0; i < 16 && i < sha256HexText.size(); ++i) {
        if (i % 4 == 0) id += '-';
        const char c = sha256HexText[i];
        id += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 32) : c;
    }
    return id;
}

doc::Block textBlock(doc::Block::Kind kind, std::vector<doc::Span> spans) {
    doc::Block block;
    block.kind = kind;
    block.spans = std::move(spans);
    return block;
}

doc::Block paragraph(const std::string& text, bool bold = false) {
    return textBlock(doc::Block::Kind::kParagraph, {{text, bold, false}});
}

doc::TableCell cell(std::vector<doc::Span> spans) {
    doc::TableCell c;
    c.content.push_back(textBlock(doc::Block::Kind::kParagraph, std::move(spans)));
    return c;
}

/// A two-column table, label | value; a value with several lines is one span per line.
class KeyValueTable {
public:
    KeyValueTable() {
        block_.kind = doc::Block::Kind::kTable;
        block_.columnPercents = {32, 68};
    }
    void add(const std::string& label, const std::string& value, bool bold = false) { addLines(label, {value}, bold); }
    void addLines(const std::string& label, const std::vector<std::string>& lines, bool bold = false) {
        doc::TableRow row;
        row.cells.push_back(cell({{label, true, false}}));
        std::vector<doc::Span> spans;
        for (std::size_t i = 0; i < lines.size(); ++i)
            spans.push_back({lines[i], bold, i + 1 < lines.size()});
        if (spans.empty()) spans.push_back({kDash, false, false});
        row.cells.push_back(cell(std::move(spans)));
        block_.rows.push_back(std::move(row));
    }
    doc::Block take() { return std::move(block_); }

private:
    doc::Block block_;
};

std::string indicationText(Indication indication, SubIndication subIndication) {
    std::string text = polishLabel(toString(indication)) + " (" + toString(indication);
    if (subIndication != SubIndication::kNone) text += " / " + std::string(toString(subIndication));
    return text + ")";
}

doc::Blocks signatureBlocks(const SignatureReport& s, std::size_t number, std::size_t revisionCount) {
    doc::Blocks blocks;
    const std::string kind = s.documentTimestamp ? "Znacznik czasu dokumentu" : "Podpis";
    blocks.push_back(textBlock(doc::Block::Kind::kHeading,
                               {{kind + " " + std::to_string(number) + ": pole „" + s.fieldName + "”", false, false}}));
    KeyValueTable t;
    t.add("Wynik", indicationText(s.indication, s.subIndication), true);
    t.add("Podwynik ETSI", s.subIndication == SubIndication::kNone ? std::string(kDash)
                                                                   : std::string(toString(s.subIndication)) + " – " +
                                                                         polishLabel(toString(s.subIndication)));
    t.addLines("Uzasadnienie", {s.messagePl, "kod: " + s.reason});
    t.add("Pole", s.fieldName);
    t.addLines("Rodzaj", {(s.documentTimestamp ? "znacznik czasu dokumentu" : "podpis elektroniczny") +
                              std::string(s.certification ? ", certyfikujący (DocMDP)" : ""),
                          "SubFilter: " + (s.subFilter.empty() ? std::string(kDash) : s.subFilter),
                          "wersja pliku: " + std::to_string(s.revision + 1) + " z " + std::to_string(revisionCount)});
    const char* signerLabel = s.documentTimestamp ? "Wystawca znacznika (TSA)" : "Podpisujący";
    if (s.signer) {
        t.add(signerLabel, s.signer->subject);
        t.add("Wystawca certyfikatu", s.signer->issuer);
        t.add("Numer seryjny", s.signer->serialHex);
        t.add("Ważność certyfikatu", "od " + polishTime(s.signer->notBefore) + " do " + polishTime(s.signer->notAfter));
        t.add("SHA-256 certyfikatu", s.signer->sha256Hex);
    } else {
        t.add(signerLabel, "nieznany (certyfikatu nie odczytano)");
    }
    std::vector<std::string> claimed{optionalTime(s.claimedSigningTime)};
    if (!s.claimedSigningTimeRaw.empty()) claimed.push_back("zapis w pliku: " + s.claimedSigningTimeRaw);
    claimed.emplace_back("(deklaracja podpisującego, niepotwierdzona)");
    t.addLines("Deklarowany czas podpisu", claimed);
    std::string timestamp;
    if (s.documentTimestamp) {
        timestamp = s.timestampTime ? polishTime(*s.timestampTime) : "znacznik niezweryfikowany";
    } else if (!s.signatureTimestampPresent) {
        timestamp = "brak znacznika czasu podpisu";
    } else if (s.signatureTimestampValid && s.timestampTime) {
        timestamp = polishTime(*s.timestampTime) +
                    (s.timestampQualified ? " (znacznik prawidłowy, kwalifikowany)" : " (znacznik prawidłowy)");
    } else {
        timestamp = "znacznik czasu nieprawidłowy";
    }
    t.add("Czas ze znacznika czasu", timestamp);
    t.addLines("Algorytmy", {"skrót: " + (s.digestAlgorithm.empty() ? std::string(kDash) : s.digestAlgorithm),
                             "format: " + (s.subFilter.empty() ? std::string(kDash) : s.subFilter)});
    t.add("Integralność", yesNo(s.intact, "zachowana – skrót podpisanych bajtów się zgadza",
                                "naruszona – skrót podpisanych bajtów się nie zgadza"));
    t.add("Poprawność kryptograficzna",
          yesNo(s.cryptoValid, "tak – podpis weryfikuje się kluczem z certyfikatu", "nie"));
    std::vector<std::string> chain{s.trusted ? "zbudowano do zaufanego urzędu" : "nie zbudowano do zaufanego urzędu"};
    if (s.chainValidationTime) chain.push_back("oceniono na chwilę: " + polishTime(*s.chainValidationTime));
    for (std::size_t i = 0; i < s.chain.size(); ++i)
        chain.push_back(std::to_string(i + 1) + ". " + s.chain[i]);
    t.addLines("Łańcuch zaufania", chain);
    t.add("Unieważnienie", polishLabel(toString(s.revocation)));
    std::vector<std::string> coverage{polishLabel(pdf::toString(s.coverage)) + " (" + pdf::toString(s.coverage) + ")"};
    if (!s.coverageProblem.empty()) coverage.push_back("kod: " + s.coverageProblem);
    t.addLines("Zakres podpisu", coverage);
    std::vector<std::string> changes{polishLabel(pdf::toString(s.modificationLevel)) + " (" +
                                         pdf::toString(s.modificationLevel) + ")",
                                     s.docMdpOk ? "zmiany dozwolone" : "zmiany niedozwolone"};
    if (s.docMdpPermission) changes.push_back("uprawnienia DocMDP /P: " + std::to_string(*s.docMdpPermission));
    for (const auto& finding : s.modificationFindings)
        changes.push_back(finding);
    t.addLines("Późniejsze zmiany", changes);
    t.add("Kwalifikacja (eIDAS)", polishLabel(toString(s.qualification)));
    t.add("Poziom PAdES", !s.padesLevel.empty() ? "PAdES " + s.padesLevel
                          : s.documentTimestamp ? "nie dotyczy (znacznik czasu dokumentu)"
                                                : "nie dotyczy (podpis nie jest PAdES)");
    t.addLines("Ostrzeżenia", s.warnings.empty() ? std::vector<std::string>{"brak"} : s.warnings);
    blocks.push_back(t.take());
    return blocks;
}

} // namespace

std::string polishLabel(std::string_view code) {
    for (const auto& label : kLabels) {
        if (code == label.code) return label.polish;
    }
    return std::string(code);
}

std::string polishVerdict(const VerificationReport& report) {
    if (!report.readable()) return "Pliku nie można odczytać – weryfikacja zakończona wynikiem negatywnym";
    if (report.signatures.empty()) return "Dokument nie zawiera żadnego podpisu";
    if (report.allPassed()) return "Wszystkie podpisy są prawidłowe";
    for (const auto& s : report.signatures) {
        if (s.indication == Indication::kTotalFailed) return "Co najmniej jeden podpis jest nieprawidłowy";
    }
    return "Wynik weryfikacji co najmniej jednego podpisu jest nierozstrzygnięty";
}

doc::Document buildReportDocument(const VerificationReport& report, std::string_view fileName,
                                  std::int64_t createdEpochSeconds) {
    doc::Document document;
    auto& p = document.provenance;
    p.title = "Raport weryfikacji podpisów";
    p.templateId = kReportTemplateId;
    p.templateVersion = kReportFormatVersion;
    p.templateSha256 = sha256Hex(std::string(kReportTemplateId) + '\n' + kReportFormatVersion);
    p.inputSha256 = report.fileSha256Hex.empty() ? sha256Hex("") : report.fileSha256Hex;
    p.documentId = documentIdFor(p.inputSha256);
    p.documentNumber = p.documentId;
    p.createdEpochSeconds = createdEpochSeconds;

    auto& blocks = document.blocks;
    blocks.push_back(textBlock(doc::Block::Kind::kTitle, {{"Raport weryfikacji podpisów", false, false}}));
    blocks.push_back(textBlock(doc::Block::Kind::kSubtitle, {{"Plik: " + std::string(fileName), false, false}}));

    blocks.push_back(textBlock(doc::Block::Kind::kHeading, {{"Podsumowanie", false, false}}));
    blocks.push_back(paragraph(polishVerdict(report), true));
    std::size_t passed = 0, failed = 0, indeterminate = 0;
    for (const auto& s : report.signatures) {
        if (s.indication == Indication::kTotalPassed)
            ++passed;
        else if (s.indication == Indication::kTotalFailed)
            ++failed;
        else
            ++indeterminate;
    }
    blocks.push_back(paragraph("Podpisy i znaczniki czasu: " + std::to_string(report.signatures.size()) +
                               "; prawidłowe: " + std::to_string(passed) + ", nieprawidłowe: " +
                               std::to_string(failed) + ", nierozstrzygnięte: " + std::to_string(indeterminate) + "."));

    KeyValueTable file;
    file.add("Nazwa pliku", std::string(fileName));
    file.add("Rozmiar", std::to_string(report.fileSize) + " B");
    file.add("SHA-256 pliku", report.fileSha256Hex.empty() ? std::string(kDash) : report.fileSha256Hex);
    file.add("Wersje pliku (rewizje)", std::to_string(report.revisionCount));
    if (report.trailingBytes != 0) file.add("Bajty po końcu pliku", std::to_string(report.trailingBytes));
    file.add("Czas weryfikacji", polishTime(report.validationTime));
    if (!report.readable()) {
        file.addLines("Błąd odczytu", {std::string(toString(Indication::kTotalFailed)) + " / " +
                                           toString(SubIndication::kFormatFailure),
                                       "kod: " + report.formatReason, report.formatDetail});
    }
    if (report.readable()) {
        const DocumentReport& d = report.document;
        std::vector<std::string> origin{d.messagePl};
        if (d.kooperdoc) {
            origin.push_back("numer dokumentu: " + d.documentNumber);
            origin.push_back("szablon: " + d.templateId + " " + d.templateVersion);
            if (!d.renderer.empty()) origin.push_back("wytworzył: " + d.renderer);
        }
        file.addLines("Pochodzenie dokumentu", origin);
    }
    file.addLines("Niepodpisane pola podpisu",
                  report.emptySignatureFields.empty() ? std::vector<std::string>{"brak"} : report.emptySignatureFields);
    file.addLines("Ostrzeżenia dla pliku",
                  report.warnings.empty() ? std::vector<std::string>{"brak"} : report.warnings);
    blocks.push_back(file.take());

    for (std::size_t i = 0; i < report.signatures.size(); ++i) {
        for (auto& block : signatureBlocks(report.signatures[i], i + 1, report.revisionCount)) {
            blocks.push_back(std::move(block));
        }
    }

    blocks.push_back(textBlock(doc::Block::Kind::kHeading, {{"Objaśnienia", false, false}}));
    doc::Block notes =
        paragraph("Wyniki według ETSI EN 319 102-1: prawidłowy (TOTAL-PASSED), nieprawidłowy (TOTAL-FAILED), "
                  "nierozstrzygnięty (INDETERMINATE). Kooperdoc jest surowszy niż domyślna polityka EU DSS: każda "
                  "niedozwolona zmiana po podpisaniu, niepełny zakres podpisu lub dane dopisane za końcem pliku "
                  "czynią podpis nieprawidłowym. Zaufane są wyłącznie wskazane urzędy certyfikacji, nigdy "
                  "certyfikaty zapisane w pliku. Raport w formacie JSON: kooperdoc verify --json.");
    notes.small = true;
    blocks.push_back(std::move(notes));
    return document;
}

std::string renderReportPdf(const VerificationReport& report, std::string_view fileName,
                            std::int64_t createdEpochSeconds) {
    return pdf::renderPdf(buildReportDocument(report, fileName, createdEpochSeconds)).bytes;
}

} // namespace kooperdoc::verify
