// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Incremental-update analysis of signed PDFs, on top of PdfReader (no PoDoFo, no OpenSSL):
// which signatures a file holds, which bytes each one covers, and what later revisions changed.
//
// The change classifier follows pyHanko's difference analysis (DEFAULT_DIFF_POLICY): every
// object written after the signed revision must be *explained* by a whitelist rule, object
// values of the old and new revision are compared, and an object that existed before signing
// is explained only when every place that referenced it in the signed revision has been
// cleared. Anything unexplained is ModificationLevel::kOther. Verdicts are values; only an
// unreadable file throws (the PdfReader errors: "pdf.malformed", "pdf.limit_exceeded",
// "pdf.unsupported"); an unreadable object *inside* a later revision is a verdict (kOther,
// "diff.unreadable").
//
// Deliberate differences from pyHanko (all but the first two are stricter):
//  - new markup annotations on a page are kAnnotations (pyHanko has no such rule: kOther);
//  - /SigFlags of /AcroForm may change, and a first signature field may create /AcroForm;
//  - coverage: the ByteRange gap must be exactly this dictionary's /Contents token, hex digits
//    only, and kEntireRevision needs the range to end at the revision's %%EOF (with or
//    without its EOL), where pyHanko accepts a %%EOF within the last 1 KiB;
//  - objects must lie inside the bytes of the revision whose xref wrote them;
//  - bytes after the last revision that are not whitespace make every signature kOther;
//  - freeing an object in use is kOther; a free entry for an unused number is ignored;
//  - approvals through /Reference and /TransformParams need fresh object numbers;
//  - "every place that referred to it" is tracked as the last hop (container object and path
//    inside it) rather than every absolute path, which keeps the work linear;
//  - a signature once made never changes: in every later revision the signature dictionary, the
//    field, its value and its appearance streams of each field already signed stay as they were
//    (diff.signature_redefined, diff.signature_value_replaced, diff.signed_field_changed,
//    diff.signed_appearance_changed), which pyHanko only checks against the covered revision;
//  - two signatures claiming the same bytes (one dictionary shared by two fields, or two ranges
//    ending at the same offset) fail both (signature.byterange_collision).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kooperdoc/pdf/PdfReader.h"

namespace kooperdoc::pdf {

/// pyHanko's SignatureCoverageLevel, ordered from worst to best.
enum class Coverage : std::uint8_t {
    kUnclear = 0,                  ///< byte range malformed, gap is not this /Contents, ...
    kContiguousBlockFromStart = 1, ///< a clean prefix of the file, but not a revision boundary
    kEntireRevision = 2,           ///< exactly the revision that holds the signature
    kEntireFile = 3,
};

/// pyHanko's ModificationLevel, ordered.
enum class ModificationLevel : std::uint8_t {
    kNone = 0,        ///< nothing after the signed bytes
    kLtaUpdates = 1,  ///< DSS, document timestamps, XMP/Info, new xref/object streams
    kFormFilling = 2, ///< signing signature fields, their appearances, filling form fields
    kAnnotations = 3, ///< new markup annotations on pages
    kOther = 4,       ///< anything else, including every change no rule explains
};

const char* toString(Coverage coverage);
const char* toString(ModificationLevel level);

/// Why a revision is not acceptable, or what a rule noticed. `code` is stable.
struct ChangeFinding {
    std::size_t revision = 0;
    std::uint32_t object = 0; ///< 0 when the finding is not about one object
    ModificationLevel level = ModificationLevel::kOther;
    std::string code; ///< e.g. "diff.unexplained_object", "diff.catalog_changed"
    std::string detail;
};

/// A /FieldMDP transform or a field's /Lock dictionary.
struct FieldLock {
    std::string action;              ///< "All", "Include" or "Exclude"
    std::vector<std::string> fields; ///< fully qualified names (UTF-8)
    bool locks(std::string_view fieldName) const;
};

/// The result of comparing one later revision with a base revision.
struct RevisionDiff {
    std::size_t baseRevision = 0;
    std::size_t revision = 0;
    ModificationLevel level = ModificationLevel::kLtaUpdates;
    std::vector<ChangeFinding> findings; ///< why kOther (and notes such as orphans)
    std::vector<std::uint32_t> unexplainedObjects;
    std::vector<std::string> changedFields; ///< fields a rule let change (signed, filled)
    std::vector<std::string> changedNonSignatureFields;
    std::vector<std::string> newSignatureFields; ///< signature fields created in the revision
};

/// The result over every revision after a base (pyHanko's review_file).
struct ModificationReview {
    ModificationLevel level = ModificationLevel::kNone;
    std::vector<RevisionDiff> revisions;
    std::vector<ChangeFinding> findings; ///< the findings that decided kOther, if any
};

struct DiffOptions {
    /// DocMDP permission in force (1, 2, 3), if the base is certified; stricter rules apply
    /// (no new visible signature fields).
    std::optional<int> docMdpPermission;
    std::optional<FieldLock> fieldLock;
};

struct SignatureReference {
    std::string transformMethod;   ///< "DocMDP", "FieldMDP", "UR3", ...
    std::optional<int> permission; ///< DocMDP /P (absent /P means 2)
    std::optional<FieldLock> fieldLock;
};

struct SignatureInfo {
    std::string fieldName; ///< fully qualified /T, UTF-8
    ObjectRef fieldRef;
    std::optional<ObjectRef> signatureRef; ///< the /V reference (nullopt: /V is direct, unusable)
    std::string type;                      ///< "Sig", "DocTimeStamp" or "" when /Type is absent
    std::string filter;
    std::string subFilter;
    std::vector<std::int64_t> byteRange; ///< the integers of /ByteRange (empty if not an array)
    bool byteRangeIntegers = false;      ///< /ByteRange was an array of integers only
    std::string contents;                ///< /Contents bytes: the CMS DER with its zero padding
    std::string signingTime;             ///< /M as written
    std::vector<SignatureReference> references;
    std::optional<int> docMdpPermission; ///< from a DocMDP reference, else the field's /Lock /P
    bool certification = false;          ///< has a DocMDP reference, or is /Perms /DocMDP
    std::optional<FieldLock> fieldLock;
    std::optional<std::size_t> signedRevision; ///< revision that last wrote the signature dict
    Coverage coverage = Coverage::kUnclear;
    std::string coverageProblem; ///< stable code when coverage < kEntireFile
    ModificationLevel modificationLevel = ModificationLevel::kOther;
    /// pyHanko's docmdp_ok: the level is not kOther and within the DocMDP permission, if any.
    bool docMdpOk = false;
    std::vector<ChangeFinding> findings;
    std::vector<std::string> changedFormFields;

    bool isDocumentTimestamp() const { return type == "DocTimeStamp"; }
};

struct DocumentAnalysis {
    std::size_t revisionCount = 0;
    std::vector<std::size_t> revisionEnds;
    std::size_t trailingBytes = 0; ///< after the last revision's %%EOF line
    bool trailingBytesWhitespaceOnly = true;
    std::vector<std::size_t> unaccountedEofMarkers;
    std::optional<int> certificationPermission; ///< /Perms /DocMDP signature's P
    std::optional<std::string> certificationField;
    std::vector<SignatureInfo> signatures; ///< signing order (revision, then field name)
    std::vector<std::string> emptySignatureFields;
    std::vector<ChangeFinding> warnings; ///< structural anomalies (not verdicts)
};

/// Whether a DocMDP permission (none = an approval signature) allows a modification level:
/// P1 up to kLtaUpdates, P2 up to kFormFilling, P3 up to kAnnotations, none up to kAnnotations.
bool docMdpPermits(std::optional<int> permission, ModificationLevel level);

/// Compares revision `revision` with `base` (pyHanko's StandardDiffPolicy.apply).
RevisionDiff diffRevisions(const PdfReader& reader, std::size_t base, std::size_t revision,
                           const DiffOptions& options = {});
/// Every revision after `base`, each against `base`; the level is the maximum.
ModificationReview reviewUpdates(const PdfReader& reader, std::size_t base, const DiffOptions& options = {});

DocumentAnalysis analyzeDocument(const PdfReader& reader);
DocumentAnalysis analyzeDocument(std::string_view pdf, const PdfLimits& limits = {});

/// Issue 3: a PDF we issued came back signed elsewhere.
struct UploadedSignature {
    std::string fieldName;
    std::size_t revision = 0;
    std::string type; ///< "Sig" / "DocTimeStamp" / ""
    std::string subFilter;
    std::string cmsDer; ///< /Contents without the trailing zero padding
    std::vector<std::int64_t> byteRange;
    Coverage coverage = Coverage::kUnclear;
};

struct UploadCheck {
    bool allowed = false;
    /// "" when allowed; otherwise one of "upload.not_ours", "upload.not_revision_boundary",
    /// "upload.no_new_signature", "upload.forbidden_change", "upload.unsigned_field_changed",
    /// "upload.signature_coverage", "upload.trailing_data".
    std::string reason;
    std::string detail;
    ModificationLevel level = ModificationLevel::kNone;
    std::vector<std::uint32_t> offendingObjects;
    std::size_t issuedRevisions = 0; ///< revisions of the issued file (a prefix of the upload)
    std::size_t uploadedRevisions = 0;
    std::vector<UploadedSignature> newSignatures;
    std::vector<ChangeFinding> findings;
};

/// `issued` must be a byte-identical prefix of `uploaded` that ends at one of its revision
/// boundaries; every later revision may only sign signature fields, add DSS data and document
/// timestamps (pyHanko levels up to kFormFilling, signature fields only), and at least one new
/// signature must be there. Throws kooperdoc::Error only when either file cannot be read.
UploadCheck checkIncrementalUpload(std::string_view issued, std::string_view uploaded, const PdfLimits& limits = {});

} // namespace kooperdoc::pdf
