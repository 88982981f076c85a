// SPDX-License-Identifier: AGPL-3.0-or-later
#include "OpenApi.h"

#include <cstddef>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {
namespace embedded {
struct File {
    const char* path;
    const unsigned char* data;
    std::size_t size;
};
extern const File kFiles[];
extern const std::size_t kFileCount;
}  // namespace embedded

const std::string& openApiDocument() {
    static const std::string document = [] {
        for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
            if (std::string(embedded::kFiles[i].path) == "openapi.json") {
                return std::string(reinterpret_cast<const char*>(embedded::kFiles[i].data), embedded::kFiles[i].size);
            }
        }
        throw Error(ErrorCode::kInternal, "openapi.missing", "the OpenAPI document was not embedded");
    }();
    return document;
}

}  // namespace kooperdoc::server
