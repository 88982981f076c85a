// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
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
    /// Ignored for a document timestamp, which is always ETSI.RFC3161.
    std::string subFilter = "ETSI.CAdES.detached";
    /// A document timestamp (PAdES B-LTA) instead of a signature: /Type /DocTimeStamp, /SubFilter
    /// /ETSI.RFC3161, in a NEW invisible field (fieldName, or "DocTimeStamp<n>" when empty; the
    /// name must not exist yet), whatever createInvisibleField says. The CMS is the RFC 3161
    /// TimeStampToken whose message imprint is SHA-256 of the signed bytes. It records no claimed
    /// time and no signer text, so reason, location, signingTimeEpoch and certify must be left
    /// unset ("signature.options_invalid"). Allowed in a document certified with DocMDP /P 2.
    bool documentTimestamp = false;
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
/// produceCms for the CMS over the byte range and embeds it: prepareSignature(), then
/// embedSignature(), in one call. With SignatureOptions::documentTimestamp it adds a document
/// timestamp instead, and produceCms returns the TSA's token. Earlier revisions' bytes are
/// unchanged (a prefix of the result); the Info dictionary keeps its original /ModDate, so Info
/// and XMP still agree (PDF/A).
///
/// Throws Error{kInvalidArgument, "pdf.unreadable"}; Error{kInvalidArgument,
/// "signature.options_invalid"} (reservedBytes 0 or above 1 MiB, empty subFilter, empty
/// fieldName when not creating one, a document timestamp with certify, reason, location or a
/// signing time, no produceCms); Error{kNotFound, "signature.field_unknown"};
/// Error{kFailedPrecondition, "signature.field_not_signature"} when the name is another kind of
/// field; Error{kFailedPrecondition, "signature.field_signed"}; Error{kAlreadyExists,
/// "signature.field_exists"}; Error{kFailedPrecondition, "signature.certify_not_first"};
/// Error{kInternal, "signature.too_large"} when the CMS exceeds reservedBytes;
/// Error{kInternal, "signature.cms_empty"} for an empty CMS.
std::string signPdf(std::string_view pdf, const SignatureOptions& options, const CmsProducer& produceCms);

/// A new revision waiting for its CMS: the state between the steps of remote signing. Everything
/// is plain bytes and numbers, so it may be persisted and the CMS embedded by another process
/// after a restart; persisting `pdf` alone is enough (restorePreparedSignature()).
struct PreparedPdfSignature {
    /// The input with the new revision appended; /Contents is all zeros, /ByteRange is final.
    std::string pdf;
    /// {0, contentsOffset, contentsOffset + contentsLength, rest of the file}.
    std::array<std::int64_t, 4> byteRange{};
    std::size_t contentsOffset = 0; ///< offset of the '<' of /Contents
    std::size_t contentsLength = 0; ///< hex digits plus the two angle brackets
    /// The bytes the CMS signs (or the TSA timestamps): the two ranges of byteRange, concatenated.
    /// Throws Error{kInvalidArgument, "signature.prepared_invalid"} when byteRange lies outside pdf.
    std::string signedBytes() const;
};

/// The first step of signPdf(): the new revision with a zero-filled /Contents hole. Same options,
/// checks and errors as signPdf(), except those of the CMS.
PreparedPdfSignature prepareSignature(std::string_view pdf, const SignatureOptions& options);

/// The last step: \p cmsDer written into the hole, the rest of the bytes unchanged.
/// Throws Error{kInvalidArgument, "signature.prepared_invalid"} when the prepared state does not
/// hold together (byteRange, offsets and the PDF's own /ByteRange disagree, the hole is not all
/// zeros, e.g. already signed or damaged); Error{kInternal, "signature.cms_empty"};
/// Error{kInternal, "signature.too_large"} when the CMS does not fit the hole.
std::string embedSignature(const PreparedPdfSignature& prepared, std::string_view cmsDer);

/// Rebuilds the prepared state from the PDF alone: the one signature dictionary whose /ByteRange
/// ends at the end of the file and whose /Contents is all zeros. restorePreparedSignature(
/// prepareSignature(x, o).pdf) equals prepareSignature(x, o) in every field.
/// Throws Error{kInvalidArgument, "pdf.unreadable"} or "signature.prepared_invalid".
PreparedPdfSignature restorePreparedSignature(std::string pdfWithHole);

/// Validation data of one signature for the DSS's /VRI (ETSI EN 319 142-1, 5.4.2.2).
struct VriEntry {
    /// The DER of the signature's CMS (its /Contents without the zero padding); the VRI key is
    /// the upper-case hex SHA-1 of these bytes.
    std::string signatureContentsDer;
    /// Indexes into DssMaterial's vectors.
    std::vector<std::size_t> certIndexes, crlIndexes, ocspIndexes;
};

/// Validation material for a Document Security Store (PAdES B-LT), each item DER.
struct DssMaterial {
    std::vector<std::string> certificatesDer, crlsDer, ocspResponsesDer;
    std::vector<VriEntry> vri; ///< optional
};

/// Appends ONE incremental update that points the catalog at a new /DSS holding the earlier DSS
/// (when there is one) plus the new material: /Certs, /CRLs and /OCSPs arrays of Flate streams
/// and, when given, /VRI. An item byte-equal to one already stored (earlier DSS or this call)
/// reuses that stream; a VRI entry with a key that exists is merged. The catalog is the only
/// earlier object rewritten (with Info, as in every update); the input is a prefix of the result.
/// Deterministic: no clock reaches the output.
///
/// Throws Error{kInvalidArgument, "pdf.unreadable"}; Error{kInvalidArgument,
/// "dss.material_invalid"} for no material at all, an empty item or an index out of range.
std::string addDocumentSecurityStore(std::string_view pdf, const DssMaterial& material);

/// One /VRI entry as stored: the DER of the items it lists.
struct DssVriContents {
    std::vector<std::string> certificatesDer, crlsDer, ocspResponsesDer;
};

/// What the latest revision's /DSS holds, decoded, in array order.
struct DssContents {
    bool present = false; ///< the catalog has a /DSS
    std::vector<std::string> certificatesDer, crlsDer, ocspResponsesDer;
    std::map<std::string, DssVriContents> vri; ///< by key (upper-case hex SHA-1)
};

/// Throws Error{kInvalidArgument, "pdf.unreadable"}; Error{kInvalidArgument, "dss.invalid"} for a
/// /DSS whose arrays hold something other than streams.
DssContents readDocumentSecurityStore(std::string_view pdf);

} // namespace kooperdoc::signing
