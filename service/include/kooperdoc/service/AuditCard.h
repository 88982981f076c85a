// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The "Karta audytu" (issue 6, point 4): a document's events in Polish, with the trail as the
// associated file kooperdoc-audit.json. It is made twice in a document's life: as the last page
// of the sealed revision (the seal certifies it: the file alone proves how it was made), and as
// a companion PDF on export, which carries the whole trail and the exported file itself.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/audit/Trail.h"
#include "kooperdoc/core/DocumentModel.h"
#include "kooperdoc/pdf/Renderer.h"

namespace kooperdoc::service {

/// The companion card's template id in its provenance (it is no form of the catalogue).
inline constexpr const char* kAuditCardTemplateId = "karta-audytu";

/// Every entry about \p documentId with its inclusion proof to a checkpoint signed now.
audit::DocumentTrail documentTrail(audit::AuditLog& log, const std::string& documentId);

/// The card's blocks: title, what the card proves and how to check it, the events table, the
/// checkpoint. \p pageBreakFirst when they follow a document's own content.
std::vector<doc::Block> auditCardBlocks(const audit::DocumentTrail& trail, bool pageBreakFirst);

/// The trail as the PDF/A-3 associated file (/AFRelationship /Supplement).
pdf::Attachment trailAttachment(const audit::DocumentTrail& trail);

/// A document the companion card carries byte for byte (/AFRelationship /Source).
struct CarriedDocument {
    std::string fileName;  ///< ASCII, e.g. "KD-1A2B-….pdf"
    std::string bytes;
};

/// The companion "Karta audytu": a PDF/A-3b listing the trail's events, with the trail attached
/// and, when given, the document it accompanies, so that one file holds both.
std::string renderAuditCard(const audit::DocumentTrail& trail, std::int64_t createdAt,
                            const std::optional<CarriedDocument>& document = std::nullopt);

/// An event type as the card prints it ("document.sealed" → "Opieczętowanie dokumentu").
std::string polishEventType(const std::string& type);
/// A role as the card prints it ("dpo" → "inspektor ochrony danych").
std::string polishRole(const std::string& role);

}  // namespace kooperdoc::service
