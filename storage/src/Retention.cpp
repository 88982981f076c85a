// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/storage/Retention.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <ctime>
#include <set>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Keys.h"

namespace kooperdoc::storage {

namespace embedded {
struct File {
    const char* path;
    const unsigned char* data;
    std::size_t size;
};
extern const File kFiles[];
extern const std::size_t kFileCount;
}  // namespace embedded

namespace {

[[noreturn]] void invalid(const std::string& where, const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, "retention.invalid", "retention rules: " + where + ": " + message);
}

std::string requiredString(const Poco::JSON::Object::Ptr& object, const std::string& key, const std::string& where) {
    if (!object->has(key) || !object->get(key).isString()) invalid(where, "\"" + key + "\" must be a string");
    const std::string value = object->getValue<std::string>(key);
    if (value.empty()) invalid(where, "\"" + key + "\" must not be empty");
    return value;
}

std::string optionalString(const Poco::JSON::Object::Ptr& object, const std::string& key, const std::string& where) {
    if (!object->has(key)) return {};
    if (!object->get(key).isString()) invalid(where, "\"" + key + "\" must be a string");
    return object->getValue<std::string>(key);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) {
    year -= month <= 2;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto yearOfEra = static_cast<unsigned>(year - era * 400);
    const unsigned dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146097 + static_cast<std::int64_t>(dayOfEra) - 719468;
}

std::int64_t yearOf(std::int64_t epochSeconds) {
    const std::time_t t = static_cast<std::time_t>(epochSeconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    return utc.tm_year + 1900;
}

std::optional<std::int64_t> triggerTime(const RetentionRule& rule, const DocumentRecord& document) {
    switch (rule.trigger) {
    case RetentionTrigger::kCreated: return document.createdAt;
    case RetentionTrigger::kSigned: return document.signedAt;
    case RetentionTrigger::kCaseClosed: return document.closedAt;
    }
    return std::nullopt;
}

}  // namespace

const char* toString(RetentionAction action) {
    switch (action) {
    case RetentionAction::kErase: return "erase";
    case RetentionAction::kReview: return "review";
    case RetentionAction::kTransferToArchive: return "transfer_to_archive";
    }
    return "erase";
}

ArchivalCategory ArchivalCategory::parse(const std::string& text) {
    ArchivalCategory category;
    category.text = text;
    const auto digits = [&](std::size_t from) {
        if (from >= text.size() || text.size() - from > 3) return -1;
        int value = 0;
        for (std::size_t i = from; i < text.size(); ++i) {
            if (text[i] < '0' || text[i] > '9') return -1;
            value = value * 10 + (text[i] - '0');
        }
        return value;
    };
    if (text == "A") {
        category.kind = Kind::kA;
    } else if (text == "Bc") {
        category.kind = Kind::kBc;
    } else if (text.rfind("BE", 0) == 0 && digits(2) > 0) {
        category.kind = Kind::kBE;
        category.years = digits(2);
    } else if (text.rfind("B", 0) == 0 && digits(1) > 0) {
        category.kind = Kind::kB;
        category.years = digits(1);
    } else {
        throw Error(ErrorCode::kInvalidArgument, "retention.category_invalid",
                    "archival category \"" + text + "\" is none of A, B<n>, BE<n>, Bc");
    }
    return category;
}

RetentionPolicies RetentionPolicies::fromJson(const std::string& json) {
    Poco::JSON::Object::Ptr root;
    try {
        root = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception& e) {
        invalid("file", std::string("not a JSON object: ") + e.what());
    }
    if (!root || optionalString(root, "schema", "file") != "kooperdoc.retention/1") {
        invalid("file", "\"schema\" must be \"kooperdoc.retention/1\"");
    }
    const auto rules = root->getArray("rules");
    if (!rules || rules->size() == 0) invalid("file", "\"rules\" must be a non-empty array");
    RetentionPolicies policies;
    std::set<std::string> ids, targets;
    for (std::size_t i = 0; i < rules->size(); ++i) {
        const std::string where = "rules[" + std::to_string(i) + "]";
        const auto object = rules->getObject(static_cast<unsigned>(i));
        if (!object) invalid(where, "must be an object");
        RetentionRule rule;
        rule.id = requiredString(object, "id", where);
        const std::string at = where + " (" + rule.id + ")";
        if (!ids.insert(rule.id).second) invalid(at, "duplicate id");
        rule.retentionClass = optionalString(object, "retention_class", at);
        rule.templateId = optionalString(object, "template_id", at);
        if (rule.retentionClass.empty() == rule.templateId.empty()) invalid(at, "name exactly one of retention_class, template_id");
        if (!targets.insert(rule.retentionClass + "|" + rule.templateId).second) invalid(at, "a second rule for the same documents");
        rule.legalBasis = requiredString(object, "legal_basis", at);
        if (rule.legalBasis != "consent" && rule.legalBasis != "legal_obligation" && rule.legalBasis != "public_task" &&
            rule.legalBasis != "vital_interests" && rule.legalBasis != "contract") {
            invalid(at, "legal_basis must be consent, legal_obligation, public_task, vital_interests or contract");
        }
        rule.legalBasisText = optionalString(object, "legal_basis_text", at);
        try {
            rule.category = ArchivalCategory::parse(requiredString(object, "archival_category", at));
        } catch (const Error& e) {
            invalid(at, e.what());
        }
        rule.triggerText = requiredString(object, "trigger", at);
        if (rule.triggerText == "created") rule.trigger = RetentionTrigger::kCreated;
        else if (rule.triggerText == "signed") rule.trigger = RetentionTrigger::kSigned;
        else if (rule.triggerText == "case_closed" || rule.triggerText == "cooperation_ended") rule.trigger = RetentionTrigger::kCaseClosed;
        else invalid(at, "trigger must be created, signed, case_closed or cooperation_ended");
        const std::string action = requiredString(object, "action", at);
        if (action == "erase") rule.action = RetentionAction::kErase;
        else if (action == "review") rule.action = RetentionAction::kReview;
        else if (action == "transfer_to_archive") rule.action = RetentionAction::kTransferToArchive;
        else invalid(at, "action must be erase, review or transfer_to_archive");
        if ((rule.category.kind == ArchivalCategory::Kind::kA) != (rule.action == RetentionAction::kTransferToArchive)) {
            invalid(at, "category A (and only A) goes to the state archive: action transfer_to_archive");
        }
        if (rule.category.kind == ArchivalCategory::Kind::kBE && rule.action == RetentionAction::kErase) {
            invalid(at, "category BE needs the state archive's expert review first: action review");
        }
        if (object->has("erase_on_consent_withdrawal")) {
            if (!object->get("erase_on_consent_withdrawal").isBoolean()) invalid(at, "erase_on_consent_withdrawal must be true or false");
            rule.eraseOnConsentWithdrawal = object->getValue<bool>("erase_on_consent_withdrawal");
        }
        if (rule.eraseOnConsentWithdrawal && rule.legalBasis != "consent") {
            invalid(at, "only a consent-based rule ends with the consent's withdrawal");
        }
        rule.source = requiredString(object, "source", at);
        policies.rules_.push_back(std::move(rule));
    }
    return policies;
}

const RetentionPolicies& RetentionPolicies::builtIn() {
    static const RetentionPolicies policies = [] {
        for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
            if (std::string(embedded::kFiles[i].path) == "default.json") {
                return fromJson(std::string(reinterpret_cast<const char*>(embedded::kFiles[i].data), embedded::kFiles[i].size));
            }
        }
        throw Error(ErrorCode::kInternal, "retention.builtin_missing", "config/retention/default.json was not compiled in");
    }();
    return policies;
}

const RetentionRule& RetentionPolicies::ruleFor(const std::string& templateId, const std::string& retentionClass) const {
    for (const auto& rule : rules_) {
        if (!rule.templateId.empty() && rule.templateId == templateId) return rule;
    }
    for (const auto& rule : rules_) {
        if (rule.templateId.empty() && rule.retentionClass == retentionClass) return rule;
    }
    throw Error(ErrorCode::kFailedPrecondition, "retention.no_rule",
                "no retention rule for template " + templateId + " (class " + retentionClass + ")");
}

std::int64_t jrwaPeriodEnd(std::int64_t eventTime, int years) {
    return daysFromCivil(yearOf(eventTime) + 1 + years, 1, 1) * 86400;
}

std::optional<std::int64_t> retentionEnd(const RetentionRule& rule, const DocumentRecord& document) {
    if (rule.category.kind == ArchivalCategory::Kind::kA) return std::nullopt;
    const auto trigger = triggerTime(rule, document);
    if (!trigger) return std::nullopt;
    // Bc: "after practical use", which for a closed case is its closure itself.
    if (rule.category.kind == ArchivalCategory::Kind::kBc) return *trigger;
    return jrwaPeriodEnd(*trigger, rule.category.years);
}

std::vector<RetentionStatus> retentionReport(Repository& repository, const std::string& tenantId,
                                             const RetentionPolicies& policies, std::int64_t now) {
    std::set<std::string> pending;
    for (const auto& proposal : repository.disposalProposals(tenantId)) {
        if (proposal.status != "proposed" && proposal.status != "approved") continue;
        for (const auto& item : proposal.items) pending.insert(item.documentId);
    }
    std::vector<RetentionStatus> report;
    for (const auto& document : repository.documents(tenantId)) {
        if (document.status == DocumentStatus::kErased) continue;
        const RetentionRule& rule = policies.ruleFor(document.templateId, document.retentionClass);
        RetentionStatus status;
        status.documentId = document.id;
        status.templateId = document.templateId;
        status.ruleId = rule.id;
        status.category = rule.category.text;
        status.action = toString(rule.action);
        status.triggerAt = triggerTime(rule, document);
        status.endsAt = retentionEnd(rule, document);
        status.due = status.endsAt && *status.endsAt <= now;
        if (status.due) {
            const auto holds = repository.activeHolds(tenantId, document.id);
            if (!holds.empty()) status.blockedBy = "legal_hold: " + holds.front().reason;
            else if (pending.count(document.id) != 0) status.blockedBy = "pending_proposal";
        }
        report.push_back(std::move(status));
    }
    return report;
}

RetentionSweep::RetentionSweep(DocumentStore& store, const RetentionPolicies& policies) : store_(store), policies_(policies) {}

DisposalProposal RetentionSweep::run(const std::string& tenantId, std::int64_t now, bool dryRun,
                                     const std::function<void(std::size_t, std::size_t)>& progress) {
    DisposalProposal proposal;
    proposal.id = randomId();
    proposal.tenantId = tenantId;
    proposal.status = dryRun ? "dry_run" : "proposed";
    proposal.createdAt = now;
    const auto report = retentionReport(store_.repository(), tenantId, policies_, now);
    for (std::size_t i = 0; i < report.size(); ++i) {
        if (report[i].due && report[i].blockedBy.empty()) proposal.items.push_back(report[i]);
        if (progress && (i + 1 == report.size() || (i + 1) % 100 == 0)) progress(i + 1, report.size());
    }
    if (!dryRun && !proposal.items.empty()) store_.repository().insertDisposalProposal(proposal);
    return proposal;
}

void RetentionSweep::approve(const std::string& tenantId, const std::string& proposalId, const std::string& approvedBy,
                             const std::string& archiveConsentRef, std::int64_t now) {
    const auto proposal = store_.repository().disposalProposal(tenantId, proposalId);
    if (!proposal) throw Error(ErrorCode::kNotFound, "retention.proposal_unknown", "no disposal proposal " + proposalId);
    if (approvedBy.empty()) throw Error(ErrorCode::kInvalidArgument, "retention.approver_missing", "an approval names its approver");
    for (const auto& item : proposal->items) {
        if (ArchivalCategory::parse(item.category).needsArchiveConsent() && archiveConsentRef.empty()) {
            throw Error(ErrorCode::kFailedPrecondition, "retention.archive_consent_required",
                        "category " + item.category + " needs the state archive's consent: give its reference");
        }
    }
    store_.repository().updateDisposalProposal(tenantId, proposalId, "proposed", "approved", approvedBy, archiveConsentRef, now);
}

void RetentionSweep::reject(const std::string& tenantId, const std::string& proposalId, const std::string& by, std::int64_t now) {
    store_.repository().updateDisposalProposal(tenantId, proposalId, "proposed", "rejected", by, "", now);
}

std::vector<DisposalRecord> RetentionSweep::execute(const std::string& tenantId, const std::string& proposalId, std::int64_t now) {
    const auto proposal = store_.repository().disposalProposal(tenantId, proposalId);
    if (!proposal) throw Error(ErrorCode::kNotFound, "retention.proposal_unknown", "no disposal proposal " + proposalId);
    if (proposal->status != "approved") {
        throw Error(ErrorCode::kFailedPrecondition, "retention.not_approved",
                    "disposal proposal " + proposalId + " is " + proposal->status + ": a dpo approves it first");
    }
    std::vector<DisposalRecord> records;
    for (const auto& item : proposal->items) {
        DisposalRecord record;
        record.id = randomId();
        record.tenantId = tenantId;
        record.proposalId = proposalId;
        record.documentId = item.documentId;
        record.templateId = item.templateId;
        record.ruleId = item.ruleId;
        record.category = item.category;
        record.approvedBy = proposal->approvedBy;
        record.archiveConsentRef = proposal->archiveConsentRef;
        record.executedAt = now;
        const auto document = store_.repository().document(tenantId, item.documentId);
        if (document) record.templateVersion = document->templateVersion;
        for (const auto& revision : store_.repository().revisions(item.documentId)) {
            record.revisionSha256 += (record.revisionSha256.empty() ? "" : ",") + revision.sha256;
        }
        // Everything is checked again now: a hold placed or a rule changed after the approval wins.
        const auto holds = store_.repository().activeHolds(tenantId, item.documentId);
        std::optional<std::int64_t> endsAt;
        if (document) endsAt = retentionEnd(policies_.ruleFor(document->templateId, document->retentionClass), *document);
        if (!document || document->status == DocumentStatus::kErased) {
            record.outcome = "skipped: already erased";
        } else if (!holds.empty()) {
            record.outcome = "skipped: legal hold (" + holds.front().reason + ")";
        } else if (!endsAt || *endsAt > now) {
            record.outcome = "skipped: no longer due";
        } else if (item.action == "transfer_to_archive") {
            record.outcome = "skipped: category A goes to the state archive, it is never destroyed";
        } else {
            // "erase", and "review" (BE) once the archive's expert review agreed to destruction:
            // its reference is the approval's archive consent.
            store_.eraseDocument(tenantId, item.documentId, now);
            record.outcome = "erased";
        }
        store_.repository().insertDisposalRecord(record);
        records.push_back(std::move(record));
    }
    store_.repository().updateDisposalProposal(tenantId, proposalId, "approved", "executed", "", "", now);
    store_.repository().purgeFreedPages();
    return records;
}

LegalHold placeLegalHold(Repository& repository, const std::string& tenantId, const std::string& documentId,
                         const std::string& caseRef, const std::string& reason, const std::string& setBy, std::int64_t setAt) {
    if (documentId.empty() == caseRef.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "hold.target_invalid", "a hold names exactly one of a document and a case");
    }
    LegalHold hold;
    hold.id = randomId();
    hold.tenantId = tenantId;
    hold.documentId = documentId;
    hold.caseRef = caseRef;
    hold.reason = reason;
    hold.setBy = setBy;
    hold.setAt = setAt;
    repository.placeHold(hold);
    return hold;
}

}  // namespace kooperdoc::storage
