// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstddef>

/// The files of templates/catalog/, compiled in by cmake/EmbedFiles.cmake.
namespace kooperdoc::templates::embedded {

struct File {
    const char* path;  ///< relative to templates/catalog/, with '/'
    const unsigned char* data;
    std::size_t size;
};

extern const File kFiles[];
extern const std::size_t kFileCount;

}  // namespace kooperdoc::templates::embedded
