// SPDX-License-Identifier: AGPL-3.0-or-later
// The data protection officer's subject requests: find a person by PESEL or name (sent in a POST
// body, never in a URL), hand out a copy of their data (art. 15/20), erase them (art. 17) with an
// answer per document — erased, or kept with its legal ground. The same store operations and
// audit events as /v1/subjects.
#include "PageRoutes.h"
#include "Pages.h"

#include "../Http.h"
#include "../routes/SubjectOutcomes.h"
#include "kooperdoc/service/SubjectExport.h"

namespace kooperdoc::server::web {
namespace {

using Poco::Net::HTTPResponse;

std::string groundName(const std::string& ground) {
    const auto code = service::erasureGroundCode(ground);
    if (code == "legal_hold") return "blokada prawna";
    if (code == "archival_duty") return "obowiązek archiwalny (art. 17 ust. 3 lit. b RODO)";
    if (code == "other_subjects") return "dokument dotyczy także innych osób";
    return ground;
}

void searchPage(const Api& api, RequestContext& ctx, const Form* form) {
    mustache::data data;
    if (form != nullptr) {
        const auto pesel = form->field("pesel");
        const auto name = form->field("nazwisko");
        if (pesel.empty() == name.empty()) {
            data.set("error", "Podaj PESEL albo imię i nazwisko (jedno z dwóch).");
        } else {
            mustache::data rows{mustache::data::type::list};
            bool any = false;
            for (const auto& id : api.store->findSubjects(ctx.who().tenantId, pesel.empty() ? name : pesel)) {
                const auto subject = api.store->repository().subject(ctx.who().tenantId, id);
                mustache::data row;
                row.set("id", id);
                row.set("erased", subject && subject->erasedAt.has_value());
                mustache::data documents{mustache::data::type::list};
                for (const auto& d : api.store->repository().documentsOfSubject(ctx.who().tenantId, id)) {
                    mustache::data doc;
                    doc.set("id", d.id);
                    doc.set("number", d.number);
                    doc.set("status", statusName(storage::toString(d.status)));
                    documents.push_back(doc);
                }
                row.set("documents", documents);
                rows.push_back(row);
                any = true;
            }
            data.set("searched", true);
            data.set("any", any);
            data.set("subjects", rows);
        }
    }
    sendHtml(ctx, renderPage(ctx, "subjects", "Osoby – żądania RODO", data));
}

storage::SubjectRecord subjectOf(const Api& api, const RequestContext& ctx) {
    const auto subject = api.store->repository().subject(ctx.who().tenantId, ctx.param("id"));
    if (!subject) throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no data subject in this tenant");
    return *subject;
}

void eraseConfirm(const Api& api, RequestContext& ctx) {
    const auto subject = subjectOf(api, ctx);
    mustache::data data;
    data.set("id", subject.id);
    data.set("documents", std::to_string(api.store->repository().documentsOfSubject(ctx.who().tenantId, subject.id).size()));
    sendHtml(ctx, renderPage(ctx, "erase", "Usunięcie danych osoby", data));
}

void erase(const Api& api, RequestContext& ctx) {
    readForm(ctx, 64 * 1024);
    const auto subject = subjectOf(api, ctx);
    const auto outcomes = api.store->eraseSubject(ctx.who().tenantId, subject.id, api.clock());
    recordOutcomes(api, ctx, "subject.erased", subject.id, outcomes);
    mustache::data rows{mustache::data::type::list};
    for (const auto& o : outcomes) {
        mustache::data row;
        row.set("document", o.documentId);
        row.set("erased", o.erased);
        row.set("ground", groundName(o.ground));
        row.set("detail", o.detail);
        rows.push_back(row);
    }
    mustache::data data;
    data.set("id", subject.id);
    data.set("done", true);
    data.set("outcomes", rows);
    sendHtml(ctx, renderPage(ctx, "erase", "Usunięcie danych osoby", data));
}

}  // namespace

void addDpoPages(Router& router, const Api& api) {
    const auto dpo = roles({Role::kDpo});
    router.add("GET", "/iod/osoby", dpo, [&api](RequestContext& ctx) { searchPage(api, ctx, nullptr); });
    router.add("POST", "/iod/osoby", dpo, [&api](RequestContext& ctx) {
        const auto form = readForm(ctx, 64 * 1024);
        searchPage(api, ctx, &form);
    });
    router.add("GET", "/iod/osoby/{id}/eksport", dpo, [&api](RequestContext& ctx) { sendSubjectExport(api, ctx, ctx.param("id")); });
    router.add("GET", "/iod/osoby/{id}/usun", dpo, [&api](RequestContext& ctx) { eraseConfirm(api, ctx); });
    router.add("POST", "/iod/osoby/{id}/usun", dpo, [&api](RequestContext& ctx) { erase(api, ctx); });
}

}  // namespace kooperdoc::server::web
