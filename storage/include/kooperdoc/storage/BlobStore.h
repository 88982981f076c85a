// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kooperdoc::storage {

/// Files under one directory, each written atomically and durably: a temporary file in the same
/// file system, fsync, rename, fsync of the directory. A reader never sees half a file, and
/// put() returns only when the bytes survive a power cut. The store holds ciphertext only
/// (DocumentStore encrypts); ids are random hex, so paths say nothing about the content.
class BlobStore {
public:
    explicit BlobStore(std::string directory);

    /// Error{kUnavailable, "storage.io"} (disk full, read-only, gone): nothing is left behind.
    void put(std::string_view id, std::string_view bytes);
    /// Error{kNotFound, "storage.blob_missing"}.
    std::string get(std::string_view id) const;
    bool exists(std::string_view id) const;
    /// Time since the file was written (zero when it is missing).
    std::chrono::seconds age(std::string_view id) const;
    /// Unlinks the file, then fsyncs the directory; a missing file is not an error.
    void remove(std::string_view id);

    /// Every stored id (for the orphan sweep and backups).
    std::vector<std::string> list() const;
    /// Temporary files a crash left behind; removed at start-up. Returns how many.
    std::size_t removeLeftovers();

    const std::string& directory() const { return directory_; }

private:
    std::string pathOf(std::string_view id) const;
    std::string directory_;
};

}  // namespace kooperdoc::storage
