// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Retention and disposal (issue 5, points 4–6). Rules come from config/retention/default.json
// (built in) or an institution's own file: one per retention_class of the template catalogue,
// or per template. A document's retention ends n full calendar years after 1 January of the
// year following its trigger event (the JRWA counting rule); category A never ends in
// destruction. Disposal is a workflow, never a side effect of a clock:
//
//   sweep proposes (what is due and not held)  →  a person with the dpo role approves, recording
//   the state archive's consent where the category needs it  →  execution erases and writes a
//   disposal record (ids, hashes, rule, approval; nothing personal).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::storage {

class DocumentStore;

enum class RetentionAction : std::uint8_t { kErase, kReview, kTransferToArchive };
const char* toString(RetentionAction action); ///< "erase", "review", "transfer_to_archive"

/// JRWA qualification: A (archival, kept for ever), B<n>, BE<n> (expert review after n years),
/// Bc (destroyed after practical use, n = 0).
struct ArchivalCategory {
    enum class Kind : std::uint8_t { kA, kB, kBE, kBc };
    Kind kind = Kind::kB;
    int years = 0;
    std::string text; ///< as written, e.g. "B10"
    /// Error{kInvalidArgument, "retention.category_invalid"}.
    static ArchivalCategory parse(const std::string& text);
    /// B and BE need the state archive's consent before anything is destroyed.
    bool needsArchiveConsent() const { return kind == Kind::kB || kind == Kind::kBE; }
};

enum class RetentionTrigger : std::uint8_t { kCreated, kSigned, kCaseClosed };

struct RetentionRule {
    std::string id;
    std::string retentionClass; ///< matches DocumentRecord::retentionClass…
    std::string templateId;     ///< …or, more specific, one template ("" = any)
    std::string legalBasis;     ///< "consent", "legal_obligation", "public_task"
    std::string legalBasisText; ///< the articles, for people
    ArchivalCategory category;
    RetentionTrigger trigger = RetentionTrigger::kCaseClosed;
    std::string triggerText;    ///< as configured ("cooperation_ended" counts from the case's closure)
    RetentionAction action = RetentionAction::kErase;
    bool eraseOnConsentWithdrawal = false;
    std::string source;         ///< where the rule comes from, and what is assumed
};

class RetentionPolicies {
public:
    /// Error{kInvalidArgument, "retention.invalid"} naming the rule and key.
    static RetentionPolicies fromJson(const std::string& json);
    /// config/retention/default.json, compiled in.
    static const RetentionPolicies& builtIn();

    /// The template's own rule, else its class's. Error{kFailedPrecondition,
    /// "retention.no_rule"}: a document nobody wrote a rule for is never silently kept or erased.
    const RetentionRule& ruleFor(const std::string& templateId, const std::string& retentionClass) const;
    const std::vector<RetentionRule>& rules() const { return rules_; }

private:
    std::vector<RetentionRule> rules_;
};

/// 00:00 UTC on 1 January of (year of \p eventTime + 1 + years).
std::int64_t jrwaPeriodEnd(std::int64_t eventTime, int years);

/// When the document's retention ends; nullopt while its trigger has not happened (an open
/// case) or for category A (never destroyed).
std::optional<std::int64_t> retentionEnd(const RetentionRule& rule, const DocumentRecord& document);

std::vector<RetentionStatus> retentionReport(Repository& repository, const std::string& tenantId,
                                             const RetentionPolicies& policies, std::int64_t now);

/// The sweep and the disposal workflow over one DocumentStore.
/// Places a new legal hold (a random id) on one document or on a whole case: what `kooperdoc hold
/// place`, POST /v1/holds and the DPO's page do alike. The caller has checked the document is
/// the tenant's. Error{kInvalidArgument, "hold.target_invalid"} unless exactly one of
/// \p documentId and \p caseRef is given.
LegalHold placeLegalHold(Repository& repository, const std::string& tenantId, const std::string& documentId,
                         const std::string& caseRef, const std::string& reason, const std::string& setBy, std::int64_t setAt);

class RetentionSweep {
public:
    RetentionSweep(DocumentStore& store, const RetentionPolicies& policies);

    /// Lists what is due; unless \p dryRun, records it as one proposal (returned). Calls
    /// \p progress(done, total) while it works on long runs.
    DisposalProposal run(const std::string& tenantId, std::int64_t now, bool dryRun,
                         const std::function<void(std::size_t, std::size_t)>& progress = {});

    /// Error{kFailedPrecondition, "retention.archive_consent_required"} when an item's category
    /// needs the state archive's consent and \p archiveConsentRef is empty.
    void approve(const std::string& tenantId, const std::string& proposalId, const std::string& approvedBy,
                 const std::string& archiveConsentRef, std::int64_t now);
    void reject(const std::string& tenantId, const std::string& proposalId, const std::string& by, std::int64_t now);

    /// Erases every approved item still due and not held (each re-checked now) and writes one
    /// disposal record per item. Error{kFailedPrecondition, "retention.not_approved"}.
    std::vector<DisposalRecord> execute(const std::string& tenantId, const std::string& proposalId, std::int64_t now);

private:
    DocumentStore& store_;
    const RetentionPolicies& policies_;
};

}  // namespace kooperdoc::storage
