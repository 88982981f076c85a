// SPDX-License-Identifier: AGPL-3.0-or-later
#include "RetentionJob.h"

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {

RetentionJob::RetentionJob(storage::DocumentStore& store, const storage::RetentionPolicies& policies, std::chrono::seconds interval,
                           std::ostream& log, audit::AuditLog* auditLog, Clock clock)
    : store_(store), policies_(policies), interval_(interval), log_(log), auditLog_(auditLog), clock_(std::move(clock)) {}

RetentionJob::~RetentionJob() { stop(); }

void RetentionJob::start() { thread_ = std::thread([this] { loop(); }); }

void RetentionJob::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::vector<storage::DisposalProposal> RetentionJob::sweepOnce() {
    std::vector<storage::DisposalProposal> recorded;
    storage::RetentionSweep sweep(store_, policies_);
    for (const auto& tenantId : store_.repository().tenantIds()) {
        const std::int64_t now = clock_();
        auto proposal = sweep.run(tenantId, now, false);
        if (proposal.items.empty()) continue;
        // Ids and counts only: the log, like the audit trail, never names a person.
        log_ << "kooperdoc: retention sweep: " << proposal.items.size() << " document(s) of tenant " << tenantId
             << " proposed for disposal (proposal " << proposal.id << "); a dpo approves it with `kooperdoc retention approve`"
             << std::endl;
        if (auditLog_ != nullptr) {
            audit::AuditEvent event;
            event.time = now;
            event.tenantId = tenantId;
            event.actorId = "retention-sweep";
            event.actorRole = "system";
            event.type = "retention.proposed";
            event.details["proposal"] = proposal.id;
            event.details["documents"] = std::to_string(proposal.items.size());
            auditLog_->record(event);
        }
        recorded.push_back(std::move(proposal));
    }
    return recorded;
}

void RetentionJob::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            sweepOnce();
        } catch (const Error& e) {
            // A failed sweep is retried at the next interval; the service keeps serving.
            log_ << "kooperdoc: retention sweep failed: " << e.what() << " [" << e.reason() << "]" << std::endl;
        }
        lock.lock();
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
}

}  // namespace kooperdoc::server
