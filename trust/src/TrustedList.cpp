// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/trust/TrustedList.h"

#include "XmlSecurity.h"

#include <kooperdoc/core/Error.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace kooperdoc::trust {
namespace {

constexpr const char* kTslNamespace = "http://uri.etsi.org/02231/v2#";

[[noreturn]] void malformed(const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, "trustlist.malformed", "trusted list: " + message);
}

bool isElement(const xmlNode* node, const char* localName, const char* namespaceUri) {
    return node != nullptr && node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
           std::strcmp(reinterpret_cast<const char*>(node->name), localName) == 0 &&
           std::strcmp(reinterpret_cast<const char*>(node->ns->href), namespaceUri) == 0;
}

std::vector<const xmlNode*> tslChildren(const xmlNode* parent, const char* localName) {
    std::vector<const xmlNode*> found;
    if (parent == nullptr) return found;
    for (const xmlNode* child = parent->children; child != nullptr; child = child->next) {
        if (isElement(child, localName, kTslNamespace)) found.push_back(child);
    }
    return found;
}

/// At most one such child; two would make the list ambiguous, so they are refused.
const xmlNode* optionalTslChild(const xmlNode* parent, const char* localName) {
    const auto found = tslChildren(parent, localName);
    if (found.size() > 1) malformed(std::string("more than one ") + localName);
    return found.empty() ? nullptr : found.front();
}

const xmlNode* requiredTslChild(const xmlNode* parent, const char* localName) {
    const xmlNode* child = optionalTslChild(parent, localName);
    if (child == nullptr) malformed(std::string("missing ") + localName);
    return child;
}

std::string trimmed(std::string text) {
    const auto notSpace = [](unsigned char c) { return std::isspace(c) == 0; };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), notSpace));
    text.erase(std::find_if(text.rbegin(), text.rend(), notSpace).base(), text.end());
    return text;
}

std::string textOf(const xmlNode* node) {
    if (node == nullptr) return {};
    const std::unique_ptr<xmlChar, XmlFree> content(xmlNodeGetContent(node));
    return content ? trimmed(reinterpret_cast<const char*>(content.get())) : std::string();
}

/// A multilingual name (TS 119 612 5.1.4): English if given, else the first.
std::string multilingualName(const xmlNode* namesElement) {
    const auto names = tslChildren(namesElement, "Name");
    for (const xmlNode* name : names) {
        const std::unique_ptr<xmlChar, XmlFree> lang(xmlNodeGetLang(name));
        if (lang && std::strcmp(reinterpret_cast<const char*>(lang.get()), "en") == 0) return textOf(name);
    }
    return names.empty() ? std::string() : textOf(names.front());
}

std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) {
    // Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar, no timegm.
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto yearOfEra = static_cast<unsigned>(year - era * 400);
    const unsigned dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146097 + static_cast<std::int64_t>(dayOfEra) - 719468;
}

std::vector<std::string> certificatesOf(const xmlNode* serviceDigitalIdentity) {
    std::vector<std::string> certificates;
    for (const xmlNode* digitalId : tslChildren(serviceDigitalIdentity, "DigitalId")) {
        for (const xmlNode* encoded : tslChildren(digitalId, "X509Certificate")) {
            std::string der = decodeBase64(textOf(encoded));
            if (!isCertificate(der)) malformed("a ServiceDigitalIdentity holds something that is not a certificate");
            certificates.push_back(std::move(der));
        }
    }
    return certificates;
}

/// AdditionalServiceInformation URIs and Qualifications' Qualifier URIs, wherever they sit
/// inside the extensions (the Qualifications extension lives in another namespace).
void collectQualifiers(const xmlNode* node, std::vector<std::string>& qualifiers) {
    for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
        if (child->type != XML_ELEMENT_NODE) continue;
        if (isElement(child, "AdditionalServiceInformation", kTslNamespace)) {
            const std::string value = textOf(optionalTslChild(child, "URI"));
            if (!value.empty()) qualifiers.push_back(value);
            continue;
        }
        if (std::strcmp(reinterpret_cast<const char*>(child->name), "Qualifier") == 0) {
            const std::unique_ptr<xmlChar, XmlFree> value(xmlGetProp(child, xmlText("uri")));
            if (value) qualifiers.push_back(reinterpret_cast<const char*>(value.get()));
        }
        collectQualifiers(child, qualifiers);
    }
}

/// ServiceInformation and ServiceHistoryInstance share these elements.
ServiceState readState(const xmlNode* element) {
    ServiceState state;
    state.serviceType = textOf(requiredTslChild(element, "ServiceTypeIdentifier"));
    state.status = textOf(requiredTslChild(element, "ServiceStatus"));
    state.statusStartingTime = parseXsdDateTime(textOf(requiredTslChild(element, "StatusStartingTime")));
    state.serviceName = multilingualName(optionalTslChild(element, "ServiceName"));
    if (const xmlNode* extensions = optionalTslChild(element, "ServiceInformationExtensions")) {
        collectQualifiers(extensions, state.qualifiers);
    }
    return state;
}

TrustService readService(const xmlNode* tspService, const std::string& providerName) {
    const xmlNode* information = requiredTslChild(tspService, "ServiceInformation");
    TrustService service;
    static_cast<ServiceState&>(service) = readState(information);
    service.providerName = providerName;
    service.certificatesDer = certificatesOf(requiredTslChild(information, "ServiceDigitalIdentity"));
    if (const xmlNode* history = optionalTslChild(tspService, "ServiceHistory")) {
        for (const xmlNode* instance : tslChildren(history, "ServiceHistoryInstance")) {
            service.history.push_back(readState(instance));
            // A history instance may name the service by an older certificate; it is the same
            // service, so its certificates identify it too.
            if (const xmlNode* identity = optionalTslChild(instance, "ServiceDigitalIdentity")) {
                for (std::string& der : certificatesOf(identity)) {
                    if (std::find(service.certificatesDer.begin(), service.certificatesDer.end(), der) ==
                        service.certificatesDer.end()) {
                        service.certificatesDer.push_back(std::move(der));
                    }
                }
            }
        }
    }
    return service;
}

std::int64_t parseInteger(const std::string& text, const char* what) {
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
        malformed(std::string("not a number: ") + what);
    }
    return std::stoll(text);
}

TrustedList readContent(const xmlNode* root) {
    TrustedList list;
    const xmlNode* scheme = requiredTslChild(root, "SchemeInformation");
    list.sequenceNumber = parseInteger(textOf(requiredTslChild(scheme, "TSLSequenceNumber")), "TSLSequenceNumber");
    list.schemeTerritory = textOf(requiredTslChild(scheme, "SchemeTerritory"));
    list.listIssueDateTime = parseXsdDateTime(textOf(requiredTslChild(scheme, "ListIssueDateTime")));
    const xmlNode* nextUpdate = requiredTslChild(scheme, "NextUpdate");
    if (const xmlNode* dateTime = optionalTslChild(nextUpdate, "dateTime")) {
        list.nextUpdate = parseXsdDateTime(textOf(dateTime));
    }
    if (const xmlNode* providers = optionalTslChild(root, "TrustServiceProviderList")) {
        for (const xmlNode* provider : tslChildren(providers, "TrustServiceProvider")) {
            const xmlNode* information = requiredTslChild(provider, "TSPInformation");
            const std::string providerName = multilingualName(requiredTslChild(information, "TSPName"));
            for (const xmlNode* service : tslChildren(requiredTslChild(provider, "TSPServices"), "TSPService")) {
                list.services.push_back(readService(service, providerName));
            }
        }
    }
    return list;
}

bool sameCertificateOrKey(const std::string& leftDer, const std::string& rightDer) {
    if (leftDer == rightDer) return true;
    const X509Pointer left = parseCertificate(leftDer);
    const X509Pointer right = parseCertificate(rightDer);
    if (!left || !right) return false;
    if (X509_NAME_cmp(X509_get_subject_name(left.get()), X509_get_subject_name(right.get())) != 0) return false;
    const EVP_PKEY* leftKey = X509_get0_pubkey(left.get());
    const EVP_PKEY* rightKey = X509_get0_pubkey(right.get());
    return leftKey != nullptr && rightKey != nullptr && EVP_PKEY_eq(leftKey, rightKey) == 1;
}

std::vector<std::string> certificatesOfQualifyingServices(const TrustedList& list, const char* serviceType,
                                                          std::int64_t at) {
    std::vector<std::string> certificates;
    for (const TrustService& service : list.services) {
        const ServiceState* state = stateAt(service, at);
        if (state == nullptr || state->serviceType != serviceType || !isQualifyingStatus(state->status)) continue;
        for (const std::string& der : service.certificatesDer) {
            if (std::find(certificates.begin(), certificates.end(), der) == certificates.end()) {
                certificates.push_back(der);
            }
        }
    }
    return certificates;
}

bool hasQualifier(const ServiceState& state, const char* qualifier) {
    return std::find(state.qualifiers.begin(), state.qualifiers.end(), qualifier) != state.qualifiers.end();
}

} // namespace

std::int64_t parseXsdDateTime(std::string_view text) {
    // YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm). TS 119 612 asks for UTC; a time without a zone
    // would be local to nobody knows where, so it is refused.
    const auto digits = [&](std::size_t at, std::size_t count) -> unsigned {
        if (at + count > text.size()) malformed("bad dateTime: " + std::string(text));
        unsigned value = 0;
        for (std::size_t i = at; i < at + count; ++i) {
            if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
                malformed("bad dateTime: " + std::string(text));
            }
            value = value * 10 + static_cast<unsigned>(text[i] - '0');
        }
        return value;
    };
    const auto expect = [&](std::size_t at, char c) {
        if (at >= text.size() || text[at] != c) malformed("bad dateTime: " + std::string(text));
    };
    const unsigned year = digits(0, 4);
    expect(4, '-');
    const unsigned month = digits(5, 2);
    expect(7, '-');
    const unsigned day = digits(8, 2);
    expect(10, 'T');
    const unsigned hour = digits(11, 2);
    expect(13, ':');
    const unsigned minute = digits(14, 2);
    expect(16, ':');
    const unsigned second = digits(17, 2);
    std::size_t position = 19;
    if (position < text.size() && text[position] == '.') {
        ++position;
        const std::size_t fractionStart = position;
        while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position])) != 0)
            ++position;
        if (position == fractionStart) malformed("bad dateTime: " + std::string(text));
    }
    std::int64_t offsetSeconds = 0;
    if (position < text.size() && text[position] == 'Z') {
        ++position;
    } else if (position < text.size() && (text[position] == '+' || text[position] == '-')) {
        const int sign = text[position] == '+' ? 1 : -1;
        const unsigned offsetHours = digits(position + 1, 2);
        expect(position + 3, ':');
        const unsigned offsetMinutes = digits(position + 4, 2);
        if (offsetHours > 14 || offsetMinutes > 59) malformed("bad dateTime: " + std::string(text));
        offsetSeconds = sign * static_cast<std::int64_t>(offsetHours * 3600 + offsetMinutes * 60);
        position += 6;
    } else {
        malformed("dateTime without a time zone: " + std::string(text));
    }
    if (position != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 60) {
        malformed("bad dateTime: " + std::string(text));
    }
    return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + std::min(second, 59u) - offsetSeconds;
}

TrustedList importTrustedList(std::string_view xml, const std::vector<std::string>& trustedSignerCertificatesDer,
                              std::int64_t now, const ImportOptions& options) {
    const XmlDocPointer document = parseUntrustedXml(xml, options.maxSizeBytes);
    const xmlNode* root = xmlDocGetRootElement(document.get());
    if (!isElement(root, "TrustServiceStatusList", kTslNamespace)) {
        malformed("the root is not a TS 119 612 TrustServiceStatusList");
    }
    // The signature first: nothing from the content is believed before it verifies.
    const VerifiedSignature signature = verifyEnvelopedSignature(document.get(), trustedSignerCertificatesDer);

    TrustedList list = readContent(root);
    list.signerCertificateDer = signature.signerCertificateDer;
    if (!options.acceptExpired) {
        if (list.nextUpdate == 0) {
            throw Error(ErrorCode::kFailedPrecondition, "trustlist.expired",
                        "trusted list: the list is closed (no NextUpdate); it lists no current services");
        }
        if (list.nextUpdate < now) {
            throw Error(ErrorCode::kFailedPrecondition, "trustlist.expired",
                        "trusted list: NextUpdate has passed; fetch the current list (sequence number " +
                            std::to_string(list.sequenceNumber) + ")");
        }
    }
    return list;
}

const ServiceState* stateAt(const TrustService& service, std::int64_t at) {
    const ServiceState* inForce = nullptr;
    const auto consider = [&](const ServiceState& state) {
        if (state.statusStartingTime <= at &&
            (inForce == nullptr || state.statusStartingTime > inForce->statusStartingTime)) {
            inForce = &state;
        }
    };
    consider(service);
    for (const ServiceHistoryEntry& entry : service.history)
        consider(entry);
    return inForce;
}

bool isQualifyingStatus(const std::string& statusUri) {
    static const char* const kQualifying[] = {
        uri::kStatusGranted,
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/undersupervision",
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/supervisionincessation",
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/accredited",
    };
    return std::any_of(std::begin(kQualifying), std::end(kQualifying),
                       [&](const char* qualifying) { return statusUri == qualifying; });
}

std::vector<std::string> qualifiedCaCertificates(const TrustedList& list, std::int64_t at) {
    return certificatesOfQualifyingServices(list, uri::kServiceTypeQualifiedCa, at);
}

std::vector<std::string> qualifiedTsaCertificates(const TrustedList& list, std::int64_t at) {
    return certificatesOfQualifyingServices(list, uri::kServiceTypeQualifiedTimestamp, at);
}

Qualification qualificationOf(const TrustedList& list, const std::string& caCertificateDer, std::int64_t at) {
    Qualification qualification;
    for (const TrustService& service : list.services) {
        const bool identifiesService =
            std::any_of(service.certificatesDer.begin(), service.certificatesDer.end(),
                        [&](const std::string& der) { return sameCertificateOrKey(der, caCertificateDer); });
        if (!identifiesService) continue;
        const ServiceState* state = stateAt(service, at);
        if (state == nullptr || state->serviceType != uri::kServiceTypeQualifiedCa ||
            !isQualifyingStatus(state->status)) {
            continue;
        }
        // Several services may name one CA (e.g. one for signatures, one for seals): the union.
        qualification.qualifiedCa = true;
        qualification.forESignatures |= hasQualifier(*state, uri::kForESignatures);
        qualification.forESeals |= hasQualifier(*state, uri::kForESeals);
        qualification.forWebSiteAuthentication |= hasQualifier(*state, uri::kForWebSiteAuthentication);
    }
    return qualification;
}

bool isQualifiedForESignatures(const TrustedList& list, const std::string& caCertificateDer, std::int64_t at) {
    return qualificationOf(list, caCertificateDer, at).forESignatures;
}

bool isQualifiedForESeals(const TrustedList& list, const std::string& caCertificateDer, std::int64_t at) {
    return qualificationOf(list, caCertificateDer, at).forESeals;
}

} // namespace kooperdoc::trust
