// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// Trust anchors from EU trusted lists (ETSI TS 119 612), imported offline. A list is accepted
/// only when its enveloped XML signature verifies with a signer certificate the auditor
/// configured (as published in the EU's list of the lists), so a list found on a disk or in a
/// mail cannot smuggle in its own CAs.
namespace kooperdoc::trust {

namespace uri {
inline constexpr const char* kServiceTypeQualifiedCa = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC";
inline constexpr const char* kServiceTypeQualifiedTimestamp = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST";
inline constexpr const char* kStatusGranted = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted";
inline constexpr const char* kStatusWithdrawn = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn";
inline constexpr const char* kForESignatures = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures";
inline constexpr const char* kForESeals = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals";
inline constexpr const char* kForWebSiteAuthentication =
    "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForWebSiteAuthentication";
} // namespace uri

/// One state of a service: the current one (TSPService/ServiceInformation) or an earlier one
/// (ServiceHistoryInstance). A state holds from its statusStartingTime until the next later one.
struct ServiceState {
    std::string serviceType;             ///< URI, e.g. uri::kServiceTypeQualifiedCa
    std::string status;                  ///< URI, e.g. uri::kStatusGranted
    std::int64_t statusStartingTime = 0; ///< seconds since the epoch (UTC)
    std::string serviceName;
    /// AdditionalServiceInformation URIs (ForeSignatures, ForeSeals, …) and the Qualifier URIs
    /// of a Qualifications extension (QCForESig, QCWithSSCD, …), in document order.
    std::vector<std::string> qualifiers;
};

using ServiceHistoryEntry = ServiceState;

struct TrustService : ServiceState {
    std::string providerName;                 ///< TSPName, English if given, else the first
    std::vector<std::string> certificatesDer; ///< ServiceDigitalIdentity X509Certificate values
    std::vector<ServiceHistoryEntry> history; ///< earlier states, as listed
};

struct TrustedList {
    std::string schemeTerritory; ///< "PL"
    std::int64_t listIssueDateTime = 0;
    std::int64_t nextUpdate = 0; ///< 0 for a closed list (no NextUpdate/dateTime)
    std::int64_t sequenceNumber = 0;
    std::vector<TrustService> services;
    std::string signerCertificateDer; ///< the configured certificate the signature verified with
};

struct ImportOptions {
    /// Read an expired (or closed) list anyway, e.g. to judge an old signature with the list that
    /// was current then. Never set by default: an expired list may miss withdrawals.
    bool acceptExpired = false;
    /// The Polish list is well under 1 MiB and the EU's largest lists under 10 MiB.
    std::size_t maxSizeBytes = 32u * 1024u * 1024u;
};

/// Parses and checks a trusted list. Errors (kooperdoc::Error, by reason):
/// - "trustlist.unreadable": not well-formed XML, too large, or has a DOCTYPE (refused before any
///   entity is declared, so XXE and entity expansion cannot happen; nothing is fetched);
/// - "trustlist.malformed": not a TrustServiceStatusList, a required element or a date missing,
///   not exactly one enveloped ds:Signature, a reference to anything but the whole list;
/// - "trustlist.signature_invalid": the signature does not verify (changed content, wrong key,
///   SHA-1 or another algorithm we do not accept);
/// - "trustlist.signer_untrusted": the signature verifies, but with a certificate that is not one
///   of trustedSignerCertificatesDer;
/// - "trustlist.expired": nextUpdate < now, or a closed list, unless options.acceptExpired.
TrustedList importTrustedList(std::string_view xml, const std::vector<std::string>& trustedSignerCertificatesDer,
                              std::int64_t now, const ImportOptions& options = {});

/// The state of a service in force at a time: the one with the latest statusStartingTime not after
/// `at`; nullptr when the service did not exist yet.
const ServiceState* stateAt(const TrustService& service, std::int64_t at);

/// Statuses under which a service counts as qualified: "granted", and the pre-eIDAS statuses
/// eIDAS carried over (undersupervision, supervisionincessation, accredited).
bool isQualifyingStatus(const std::string& statusUri);

/// Certificates of the CA/QC services qualifying at `at`: trust anchors for qualified certificates.
std::vector<std::string> qualifiedCaCertificates(const TrustedList& list, std::int64_t at);

/// Certificates of the TSA/QTST services qualifying at `at`: anchors for qualified timestamps.
std::vector<std::string> qualifiedTsaCertificates(const TrustedList& list, std::int64_t at);

/// What a CA certificate was qualified to issue at a time. The purpose comes from the service's
/// AdditionalServiceInformation; a CA/QC without any of the three purpose URIs is left
/// undetermined (all false), which a report states as "advanced" rather than guess.
struct Qualification {
    bool qualifiedCa = false;    ///< listed as CA/QC with a qualifying status at that time
    bool forESignatures = false; ///< kwalifikowany podpis elektroniczny
    bool forESeals = false;      ///< kwalifikowana pieczęć elektroniczna
    bool forWebSiteAuthentication = false;
};

/// Looks the CA certificate up among the CA/QC services by DER equality, or by the same subject
/// and public key (a CA re-issued with the same key is the same service, TS 119 612 5.5.3).
Qualification qualificationOf(const TrustedList& list, const std::string& caCertificateDer, std::int64_t at);

bool isQualifiedForESignatures(const TrustedList& list, const std::string& caCertificateDer, std::int64_t at);
bool isQualifiedForESeals(const TrustedList& list, const std::string& caCertificateDer, std::int64_t at);

/// xsd:dateTime ("2025-01-31T23:00:00Z", fractions and ±hh:mm offsets allowed) to seconds since
/// the epoch; throws trustlist.malformed. Public because tests and reports print these times.
std::int64_t parseXsdDateTime(std::string_view text);

} // namespace kooperdoc::trust
