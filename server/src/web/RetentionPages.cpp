// SPDX-License-Identifier: AGPL-3.0-or-later
// The data protection officer's retention and legal-hold pages: the same workflow and audit
// events as /v1/retention and /v1/holds (routes/RetentionRoutes.cpp). Disposal is never a side
// effect of opening a page: a sweep only proposes what is due and not held, the DPO approves it
// (with the state archive's consent where the JRWA category needs it), and only execution erases.
#include "PageRoutes.h"
#include "Pages.h"

#include "../Http.h"
#include "../TenantAdministration.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Retention.h"

namespace kooperdoc::server::web {
namespace {

using Poco::Net::HTTPResponse;

constexpr std::size_t kFormLimit = 64 * 1024;
/// As the API: a hold's reason is a file reference or a short note; a consent reference is a sign.
constexpr std::size_t kMaxReasonBytes = 1000;
constexpr std::size_t kMaxConsentRefBytes = 200;

std::string actionName(const std::string& action) {
    if (action == "erase") return "usunięcie";
    if (action == "review") return "ocena (ekspertyza archiwalna)";
    if (action == "transfer_to_archive") return "przekazanie do archiwum państwowego";
    return action;
}

std::string proposalStatusName(const std::string& status) {
    if (status == "proposed") return "czeka na decyzję";
    if (status == "approved") return "zatwierdzona";
    if (status == "executed") return "wykonana";
    if (status == "rejected") return "odrzucona";
    return status;
}

std::string blockedName(const std::string& blockedBy) {
    static const std::string hold = "legal_hold: ";
    if (blockedBy.rfind(hold, 0) == 0) return "blokada prawna: " + blockedBy.substr(hold.size());
    if (blockedBy == "pending_proposal") return "w oczekującej propozycji brakowania";
    return blockedBy;
}

std::string optionalTime(const std::optional<std::int64_t>& epoch, const std::string& none) {
    return epoch ? displayTime(*epoch) : none;
}

/// Retention counts in calendar days and years: the hour would only distract.
std::string optionalDate(const std::optional<std::int64_t>& epoch, const std::string& none) {
    return epoch ? displayTime(*epoch).substr(0, 10) : none;
}

mustache::data statusRow(const storage::RetentionStatus& s) {
    mustache::data row;
    row.set("document", s.documentId);
    row.set("template", s.templateId);
    row.set("rule", s.ruleId);
    row.set("category", s.category);
    row.set("action", actionName(s.action));
    row.set("trigger", optionalDate(s.triggerAt, "jeszcze nie nastąpiło"));
    row.set("end", optionalDate(s.endsAt, s.category == "A" ? "nigdy (kategoria A)" : "—"));
    row.set("due", s.due);
    row.set("blocked", blockedName(s.blockedBy));
    return row;
}

void retentionPage(const Api& api, RequestContext& ctx, const std::string& error = "",
                   HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    const auto& tenant = ctx.who().tenantId;
    mustache::data report{mustache::data::type::list};
    std::size_t total = 0, due = 0;
    for (const auto& row : storage::retentionReport(api.store->repository(), tenant, *api.retention, api.clock())) {
        report.push_back(statusRow(row));
        ++total;
        if (row.due) ++due;
    }
    mustache::data proposals{mustache::data::type::list};
    for (const auto& p : api.store->repository().disposalProposals(tenant)) {
        mustache::data proposal;
        proposal.set("id", p.id);
        proposal.set("status", proposalStatusName(p.status));
        proposal.set("created", displayTime(p.createdAt));
        // Absent, not empty: a Mustache section shows for any string, even "".
        if (p.approvedAt) {
            proposal.set("approvedAt", displayTime(*p.approvedAt));
            proposal.set("approvedBy", p.approvedBy);
        }
        if (!p.archiveConsentRef.empty()) proposal.set("consentRef", p.archiveConsentRef);
        if (p.executedAt) proposal.set("executedAt", displayTime(*p.executedAt));
        proposal.set("proposed", p.status == "proposed");
        proposal.set("approved", p.status == "approved");
        mustache::data items{mustache::data::type::list};
        bool needsConsent = false;
        for (const auto& item : p.items) {
            items.push_back(statusRow(item));
            try {
                needsConsent = needsConsent || storage::ArchivalCategory::parse(item.category).needsArchiveConsent();
            } catch (const Error&) {
                // A category the rules no longer parse: approval will say what is wrong.
            }
        }
        proposal.set("items", items);
        proposal.set("count", std::to_string(p.items.size()));
        proposal.set("needsConsent", needsConsent);
        proposals.push_back(proposal);
    }
    mustache::data data;
    data.set("report", report);
    data.set("count", std::to_string(total));
    data.set("due", std::to_string(due));
    data.set("anyReport", total > 0);
    data.set("proposals", proposals);
    data.set("anyProposal", proposals.is_non_empty_list());
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "retention", "Retencja i brakowanie", data), status);
}

/// A sweep now, not a dry run: what is due and not held becomes one proposal (nothing is erased).
void runSweep(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    const auto proposal = runRetentionSweep(api, ctx, false);
    redirect(ctx, proposal.items.empty() ? "/iod/retencja?komunikat=nic-do-brakowania"
                                         : "/iod/retencja?komunikat=propozycja-utworzona#propozycje");
}

void approve(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, kFormLimit);
    const auto& id = ctx.param("id");
    tenantProposal(api, ctx, id);  // 404 before any complaint about the form
    const auto consent = form.field("archive_consent_ref");
    if (consent.size() > kMaxConsentRefBytes) {
        retentionPage(api, ctx, "Znak zgody archiwum ma najwyżej 200 bajtów.", HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    try {
        approveProposal(api, ctx, id, consent);
    } catch (const Error& e) {
        // The two refusals a person can fix from this page: said on it, beside the form.
        if (e.reason() != "retention.archive_consent_required" && e.reason() != "retention.proposal_state") throw;
        retentionPage(api, ctx, polishMessage(e), HTTPResponse::HTTP_CONFLICT);
        return;
    }
    redirect(ctx, "/iod/retencja?komunikat=propozycja-zatwierdzona#propozycje");
}

void reject(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    rejectProposal(api, ctx, ctx.param("id"));
    redirect(ctx, "/iod/retencja?komunikat=propozycja-odrzucona#propozycje");
}

void execute(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    executeProposal(api, ctx, ctx.param("id"));
    redirect(ctx, "/iod/retencja?komunikat=propozycja-wykonana#propozycje");
}

// ------------------------------------------------------------------------------------- holds

struct HoldInput {
    std::string document, caseNumber, reason;
};

void holdsPage(const Api& api, RequestContext& ctx, const std::string& error = "", const HoldInput& input = {},
               HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    mustache::data active{mustache::data::type::list};
    mustache::data cleared{mustache::data::type::list};
    for (const auto& h : api.store->repository().legalHolds(ctx.who().tenantId)) {
        mustache::data row;
        row.set("id", h.id);
        row.set("document", h.documentId);
        row.set("case", h.caseRef);
        row.set("reason", h.reason);
        row.set("setBy", h.setBy);
        row.set("setAt", displayTime(h.setAt));
        row.set("clearedBy", h.clearedBy);
        row.set("clearedAt", optionalTime(h.clearedAt, ""));
        (h.clearedAt ? cleared : active).push_back(row);
    }
    mustache::data data;
    data.set("active", active);
    data.set("anyActive", active.is_non_empty_list());
    data.set("cleared", cleared);
    data.set("anyCleared", cleared.is_non_empty_list());
    data.set("document", input.document);
    data.set("caseNumber", input.caseNumber);
    data.set("reason", input.reason);
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "holds", "Blokady prawne", data), status);
}

/// A document id or a case number (exactly one) and a reason, like POST /v1/holds.
void placeHold(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, kFormLimit);
    HoldInput input{form.field("document"), form.field("case_number"), form.field("reason")};
    std::string error;
    if (input.document.empty() == input.caseNumber.empty()) {
        error = "Podaj identyfikator dokumentu albo numer sprawy (dokładnie jedno z dwóch).";
    } else if (input.reason.empty()) {
        error = "Podaj powód blokady.";
    } else if (input.reason.size() > kMaxReasonBytes) {
        error = "Powód ma najwyżej 1000 bajtów.";
    }
    if (error.empty()) {
        try {
            server::placeHold(api, ctx, input.document, input.caseNumber, input.reason);
        } catch (const Error& e) {
            // Another tenant's document is answered like an unknown one.
            if (e.reason() != "storage.document_unknown") throw;
            error = polishMessage(e);
        }
    }
    if (!error.empty()) {
        holdsPage(api, ctx, error, input, HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    redirect(ctx, "/iod/blokady?komunikat=blokada-zalozona");
}

void clearHold(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    server::clearHold(api, ctx, ctx.param("id"));
    redirect(ctx, "/iod/blokady?komunikat=blokada-zdjeta");
}

}  // namespace

void addRetentionPages(Router& router, const Api& api) {
    const auto dpo = roles({Role::kDpo});
    router.add("GET", "/iod/retencja", dpo, [&api](RequestContext& ctx) { retentionPage(api, ctx); });
    router.add("POST", "/iod/retencja/przeglad", dpo, [&api](RequestContext& ctx) { runSweep(api, ctx); });
    router.add("POST", "/iod/retencja/propozycje/{id}/zatwierdz", dpo, [&api](RequestContext& ctx) { approve(api, ctx); });
    router.add("POST", "/iod/retencja/propozycje/{id}/odrzuc", dpo, [&api](RequestContext& ctx) { reject(api, ctx); });
    router.add("POST", "/iod/retencja/propozycje/{id}/wykonaj", dpo, [&api](RequestContext& ctx) { execute(api, ctx); });
    router.add("GET", "/iod/blokady", dpo, [&api](RequestContext& ctx) { holdsPage(api, ctx); });
    router.add("POST", "/iod/blokady", dpo, [&api](RequestContext& ctx) { placeHold(api, ctx); });
    router.add("POST", "/iod/blokady/{id}/zdejmij", dpo, [&api](RequestContext& ctx) { clearHold(api, ctx); });
}

}  // namespace kooperdoc::server::web
