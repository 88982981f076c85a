// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A document's trail as a file (issue 6, point 4): every entry about one document, each with its
// inclusion proof to one signed checkpoint, the origin and the audit public key. It travels as
// kooperdoc-audit.json inside the "Karta audytu" PDF (and from `kooperdoc audit prove`), so that
// an auditor holding the public key checks the history with this file alone — no database, no
// server. The public key inside is a convenience for reading: trust comes from the key the
// auditor brings, never from the one in the file.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kooperdoc/audit/AuditLog.h"

namespace kooperdoc::audit {

inline constexpr const char* kTrailFormat = "kooperdoc.audit-trail/1";
inline constexpr const char* kTrailFileName = "kooperdoc-audit.json";

struct DocumentTrail {
    std::string documentId;
    std::string origin;
    std::string publicKeyPem;
    std::vector<InclusionReceipt> receipts;
};

/// {"format", "document_id", "origin", "public_key", "entries": [{"index", "entry" (the canonical
/// entry, byte for byte), "proof": [hex…], "checkpoint" (the signed note), "checkpoint_timestamp"
/// (base64 DER RFC 3161 token over SHA-256 of the note; absent when the checkpoint has none)}]};
/// docs/audit.md.
std::string trailToJson(const DocumentTrail& trail);
/// Error{kInvalidArgument, "audit.trail_invalid"} for anything that is not such a file.
DocumentTrail trailFromJson(const std::string& json);

/// The result of checking a trail offline: ok, or the first problem and the entry it concerns.
struct TrailCheck {
    bool ok = false;
    std::size_t entries = 0;
    std::string problem;  ///< "audit.trail_empty", "audit.receipt_invalid", "audit.trail_other_document"
    std::string detail;
    std::optional<std::uint64_t> badIndex;
};

/// Every receipt verifies (verifyReceipt) under \p origin and \p publicKeyPem, and every entry
/// names the trail's document. Checkpoint timestamps are not judged here (that needs CMS, which
/// audit/ does not do): `kooperdoc audit check` checks them with verify::checkTimestampToken.
TrailCheck checkTrail(const DocumentTrail& trail, const std::string& origin, const std::string& publicKeyPem);

}  // namespace kooperdoc::audit
