// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/storage/BlobStore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Keys.h"

namespace kooperdoc::storage {
namespace {

namespace fs = std::filesystem;
constexpr const char* kTemporarySuffix = ".partial";

[[noreturn]] void ioFailure(const std::string& what, int error) {
    throw Error(ErrorCode::kUnavailable, "storage.io", what + ": " + std::strerror(error));
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    /// close() reports the last deferred write error (NFS and friends): it must be checked.
    int release() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result;
    }

private:
    int fd_;
};

void syncDirectory(const std::string& directory) {
    FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) ioFailure("open directory " + directory, errno);
    if (::fsync(dir.get()) != 0) ioFailure("fsync directory " + directory, errno);
}

bool validId(std::string_view id) {
    if (id.size() < 8 || id.size() > 64) return false;
    for (const char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

BlobStore::BlobStore(std::string directory) : directory_(std::move(directory)) {
    std::error_code error;
    fs::create_directories(directory_, error);
    if (error) ioFailure("create " + directory_, error.value());
    ::chmod(directory_.c_str(), 0700);
}

std::string BlobStore::pathOf(std::string_view id) const {
    if (!validId(id)) throw Error(ErrorCode::kInvalidArgument, "storage.blob_id", "not a blob id: " + std::string(id));
    // Two levels of fan-out keep directories small with millions of files.
    return directory_ + "/" + std::string(id.substr(0, 2)) + "/" + std::string(id);
}

void BlobStore::put(std::string_view id, std::string_view bytes) {
    const std::string path = pathOf(id);
    const std::string parent = fs::path(path).parent_path().string();
    std::error_code error;
    const bool created = fs::create_directory(parent, error);
    if (error) ioFailure("create " + parent, error.value());
    if (created) syncDirectory(directory_);

    const std::string temporary = path + "." + randomId().substr(0, 8) + kTemporarySuffix;
    FileDescriptor file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (file.get() < 0) ioFailure("create " + temporary, errno);
    auto discard = [&](int savedErrno, const std::string& what) {
        ::unlink(temporary.c_str());
        ioFailure(what, savedErrno);
    };
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(file.get(), bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            discard(errno, "write " + temporary);
        }
        written += static_cast<std::size_t>(n);
    }
    // An fsync failure is never retried: the page cache may have dropped the dirty pages, so a
    // second fsync could succeed without the data being on disk (PostgreSQL's fsyncgate).
    if (::fsync(file.get()) != 0) discard(errno, "fsync " + temporary);
    if (file.release() != 0) discard(errno, "close " + temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0) discard(errno, "rename " + temporary);
    syncDirectory(parent);
}

std::string BlobStore::get(std::string_view id) const {
    const std::string path = pathOf(id);
    FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) {
        if (errno == ENOENT) throw Error(ErrorCode::kNotFound, "storage.blob_missing", "blob " + std::string(id) + " is missing");
        ioFailure("open " + path, errno);
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) ioFailure("stat " + path, errno);
    std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(file.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            ioFailure("read " + path, errno);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

bool BlobStore::exists(std::string_view id) const {
    std::error_code error;
    return fs::exists(pathOf(id), error);
}

std::chrono::seconds BlobStore::age(std::string_view id) const {
    struct stat info {};
    if (::stat(pathOf(id).c_str(), &info) != 0) return std::chrono::seconds(0);
    const auto written = std::chrono::system_clock::from_time_t(info.st_mtime);
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - written);
}

void BlobStore::remove(std::string_view id) {
    const std::string path = pathOf(id);
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) return;
        ioFailure("unlink " + path, errno);
    }
    syncDirectory(fs::path(path).parent_path().string());
}

std::vector<std::string> BlobStore::list() const {
    std::vector<std::string> ids;
    std::error_code error;
    for (fs::recursive_directory_iterator it(directory_, error), end; !error && it != end; it.increment(error)) {
        if (!it->is_regular_file()) continue;
        const std::string name = it->path().filename().string();
        if (validId(name)) ids.push_back(name);
    }
    return ids;
}

std::size_t BlobStore::removeLeftovers() {
    const std::size_t suffix = std::strlen(kTemporarySuffix);
    std::vector<fs::path> leftovers;
    std::error_code error;
    for (fs::recursive_directory_iterator it(directory_, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (it->is_regular_file() && name.size() > suffix && name.compare(name.size() - suffix, suffix, kTemporarySuffix) == 0) {
            leftovers.push_back(it->path());
        }
    }
    std::size_t removed = 0;
    for (const auto& path : leftovers) {
        std::error_code ignored;
        if (fs::remove(path, ignored)) ++removed;
    }
    return removed;
}

}  // namespace kooperdoc::storage
