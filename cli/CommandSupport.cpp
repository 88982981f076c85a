// SPDX-License-Identifier: AGPL-3.0-or-later
#include "CommandSupport.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::cli {

std::string readInput(const std::string& path) {
    std::ostringstream buffer;
    if (path == "-") {
        buffer << std::cin.rdbuf();
        return buffer.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read " + path);
    buffer << in.rdbuf();
    return buffer.str();
}

void writeFileAtomically(const std::string& path, const std::string& bytes) {
    // A unique temporary beside the target, fsync, rename, fsync the directory: a reader never
    // sees half a PDF, and once we report success the file survives a crash.
    std::string temporary = path + ".XXXXXX";
    const int fd = mkstemp(temporary.data());
    if (fd < 0) throw Error(ErrorCode::kUnavailable, "file.unwritable", "cannot write " + path);
    std::size_t written = 0;
    while (written < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
    }
    const bool ok = written == bytes.size() && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    ::close(fd);
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw Error(ErrorCode::kUnavailable, "file.unwritable", "cannot write " + path);
    }
    const auto slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (const int dirFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY); dirFd >= 0) {
        fsync(dirFd);
        ::close(dirFd);
    }
}

std::int64_t creationTime() {
    // Reproducible builds' convention: a fixed SOURCE_DATE_EPOCH gives byte-identical output.
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
        char* end = nullptr;
        const long long value = std::strtoll(epoch, &end, 10);
        if (*end != '\0' || value < 0) {
            throw UsageError("SOURCE_DATE_EPOCH must be a non-negative whole number of seconds");
        }
        return value;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t signingTime() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Poco::AutoPtr<Poco::Util::AbstractConfiguration> loadConfiguration(const Context& ctx) {
    if (ctx.configPath.empty()) return new Poco::Util::MapConfiguration;
    try {
        return new Poco::Util::PropertyFileConfiguration(ctx.configPath);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::kInvalidArgument, "config.unreadable",
                    "cannot read the configuration " + ctx.configPath + ": " + e.displayText());
    }
}

}  // namespace kooperdoc::cli
