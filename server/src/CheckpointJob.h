// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "kooperdoc/audit/AuditLog.h"

namespace kooperdoc::server {

/// The service's periodic checkpoint (issue 6: "at least every N entries or T seconds"): at start
/// and then every interval it signs a checkpoint when the log grew since the newest one, so a
/// quiet log is still pinned within T seconds of its last entry, and asks the TSA for the tokens
/// of checkpoints stored while it was down.
class CheckpointJob {
public:
    /// At most this many late tokens per run: a backlog (e.g. after a long outage, or checkpoints
    /// from before timestamps were configured) is worked off over several runs instead of
    /// sending a remote TSA thousands of requests at once.
    static constexpr std::size_t kTimestampsPerRun = 100;

    CheckpointJob(audit::AuditLog& log, std::chrono::seconds interval, std::ostream& out);
    ~CheckpointJob();
    CheckpointJob(const CheckpointJob&) = delete;
    CheckpointJob& operator=(const CheckpointJob&) = delete;

    void start();
    /// Waits for a run in progress; safe to call twice.
    void stop();

    struct Run {
        std::optional<std::uint64_t> signedSize;  ///< the size of the checkpoint signed now, if any
        audit::TimestampBackfill timestamps;
    };
    /// One run now.
    Run runOnce();

private:
    void loop();
    audit::AuditLog& log_;
    std::chrono::seconds interval_;
    std::ostream& out_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace kooperdoc::server
