// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <ostream>
#include <thread>
#include <vector>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Retention.h"

namespace kooperdoc::server {

/// The service's periodic retention sweep (issue 5, point 6): at start and then every interval it
/// proposes, per tenant, the disposals the rules make due. It never erases: a person with the dpo
/// role approves a proposal (with the archive's consent where needed) and executes it.
class RetentionJob {
public:
    using Clock = std::function<std::int64_t()>;
    RetentionJob(storage::DocumentStore& store, const storage::RetentionPolicies& policies, std::chrono::seconds interval,
                 std::ostream& log, audit::AuditLog* auditLog, Clock clock);
    ~RetentionJob();
    RetentionJob(const RetentionJob&) = delete;
    RetentionJob& operator=(const RetentionJob&) = delete;

    void start();
    /// Waits for a sweep in progress; safe to call twice.
    void stop();
    /// One sweep over every tenant now; the proposals it recorded (empty ones are not recorded).
    std::vector<storage::DisposalProposal> sweepOnce();

private:
    void loop();
    storage::DocumentStore& store_;
    const storage::RetentionPolicies& policies_;
    std::chrono::seconds interval_;
    std::ostream& log_;
    audit::AuditLog* auditLog_;
    Clock clock_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace kooperdoc::server
