// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kooperdoc::signing {

/// An empty signature field to add over a signature block. The rectangle is in PDF user space
/// (points, origin bottom-left), as pdf::SignaturePlacement gives it.
struct FieldPlacement {
    std::string name; ///< the field's /T, unique in the document (UTF-8)
    int page = 0;     ///< 0-based
    double x = 0, y = 0, width = 0, height = 0;
    /// Lines separated by '\n', e.g. "Jan Kowalski\nanimator\npodpis elektroniczny", drawn in a
    /// thin box. Empty: the field keeps its rectangle but draws nothing.
    std::string appearanceText;
};

struct SignatureOptions {
    /// The field to sign. By default it must be an existing, empty signature field (the
    /// ready-to-sign fields of addSignatureFields); a name that does not exist is refused
    /// ("signature.field_unknown"), so that a typo never puts an invisible signature into a
    /// document whose signatories expect their own boxes.
    std::string fieldName;
    /// Creates a new invisible field named fieldName instead (the service seal). The name must
    /// not exist yet ("signature.field_exists"). An empty fieldName then picks "Signature<n>".
    bool createInvisibleField = false;
    std::string reason, location; ///< /Reason, /Location (UTF-8, Polish); empty: omitted
    /// /M of the signature dictionary, seconds since the epoch, written in UTC. 0 omits /M: the
    /// writer never reads the clock, so the same input and CMS give the same bytes.
    std::int64_t signingTimeEpoch = 0;
    /// A DocMDP certification signature with /P 2 (filling signature fields stays allowed). Only
    /// the first signature of a document may certify ("signature.certify_not_first").
    bool certify = false;
    /// Bytes reserved for the DER CMS in /Contents (the file grows by twice this, hex).
    std::size_t reservedBytes = 16384;
    std::string subFilter = "ETSI.CAdES.detached";
};

/// Produces the DER CMS (detached) over the bytes covered by the /ByteRange (the whole new
/// revision except the /Contents hole). May throw; the exception passes through unchanged.
using CmsProducer = std::function<std::string(std::string_view signedBytes)>;

/// Adds one empty, named signature field per placement in ONE incremental update. Each field
/// is a merged field/widget annotation on its page with a visible appearance (a thin box and the
/// text lines), drawn in an embedded DejaVu Sans subset (PDF/A). The input bytes are a prefix
/// of the result. Deterministic: no clock reaches the output.
///
/// Throws Error{kInvalidArgument, "pdf.unreadable"} for a PDF PoDoFo cannot load;
/// Error{kInvalidArgument, "signature.placement_invalid"} for an empty or duplicate name, a page
/// out of range or a rectangle without area; Error{kAlreadyExists, "signature.field_exists"}
/// when a field of that name exists; Error{kFailedPrecondition, "signature.document_certified"}
/// when a DocMDP certification with /P 1 or 2 forbids adding fields (add them before sealing).
std::string addSignatureFields(std::string_view pdf, const std::vector<FieldPlacement>& fields);

/// Signs in a NEW incremental update: fills the named empty field (or creates an invisible one,
/// see SignatureOptions::createInvisibleField), sets /SigFlags 3, reserves /Contents, asks
/// produceCms for the CMS over the byte range and embeds it. Earlier revisions' bytes are
/// unchanged (a prefix of the result); the Info dictionary keeps its original /ModDate, so Info
/// and XMP still agree (PDF/A).
///
/// Throws Error{kInvalidArgument, "pdf.unreadable"}; Error{kInvalidArgument,
/// "signature.options_invalid"} (reservedBytes 0 or above 1 MiB, empty subFilter, empty
/// fieldName when not creating one); Error{kNotFound, "signature.field_unknown"};
/// Error{kFailedPrecondition, "signature.field_not_signature"} when the name is another kind of
/// field; Error{kFailedPrecondition, "signature.field_signed"}; Error{kAlreadyExists,
/// "signature.field_exists"}; Error{kFailedPrecondition, "signature.certify_not_first"};
/// Error{kInternal, "signature.too_large"} when the CMS exceeds reservedBytes;
/// Error{kInternal, "signature.cms_empty"} for an empty CMS.
std::string signPdf(std::string_view pdf, const SignatureOptions& options, const CmsProducer& produceCms);

} // namespace kooperdoc::signing
