// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <map>
#include <string>

namespace kooperdoc {

/// An OPS/PCPR/ROPS using Kooperdoc, with the data controller facts the RODO clauses print.
/// These never come from a request: a clause must name the real controller, whatever the
/// intake system sends.
struct TenantProfile {
    std::string id;
    std::map<std::string, std::string> fields;  ///< name, short_name, kind, address, city, nip,
                                                ///< regon, email, dpo_email, withdrawal_address,
                                                ///< archival_period

    static const char* const kFieldNames[];
    static constexpr std::size_t kFieldCount = 11;
};

}  // namespace kooperdoc
