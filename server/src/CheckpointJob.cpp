// SPDX-License-Identifier: AGPL-3.0-or-later
#include "CheckpointJob.h"

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {

CheckpointJob::CheckpointJob(audit::AuditLog& log, std::chrono::seconds interval, std::ostream& out)
    : log_(log), interval_(interval), out_(out) {}

CheckpointJob::~CheckpointJob() { stop(); }

void CheckpointJob::start() { thread_ = std::thread([this] { loop(); }); }

void CheckpointJob::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

CheckpointJob::Run CheckpointJob::runOnce() {
    Run run;
    if (const auto made = log_.checkpointIfGrown()) run.signedSize = made->size;
    run.timestamps = log_.timestampMissing(kTimestampsPerRun);
    if (!run.timestamps.failure.empty()) {
        out_ << "kooperdoc: audit checkpoint timestamps: " << run.timestamps.missing
             << " checkpoint(s) without a token, the TSA gave none: " << run.timestamps.failure << "; retried in "
             << interval_.count() << " s" << std::endl;
    } else if (run.timestamps.added > 0) {
        out_ << "kooperdoc: audit checkpoint timestamps: " << run.timestamps.added << " late token(s) added, "
             << run.timestamps.missing << " checkpoint(s) still without one" << std::endl;
    }
    return run;
}

void CheckpointJob::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            runOnce();
        } catch (const Error& e) {
            // The database may be away for a moment: the next interval tries again; the service
            // keeps serving, and entries keep their N-entry checkpoints meanwhile.
            out_ << "kooperdoc: audit checkpoint failed: " << e.what() << " [" << e.reason() << "]" << std::endl;
        }
        lock.lock();
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
}

}  // namespace kooperdoc::server
