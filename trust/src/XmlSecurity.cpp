// SPDX-License-Identifier: AGPL-3.0-or-later
#include "XmlSecurity.h"

#include <kooperdoc/core/Error.h>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>

namespace kooperdoc::trust {
namespace {

constexpr const char* kDsigNamespace = "http://www.w3.org/2000/09/xmldsig#";
constexpr const char* kXadesNamespace = "http://uri.etsi.org/01903/v1.3.2#";
constexpr const char* kXadesSignedPropertiesType = "http://uri.etsi.org/01903#SignedProperties";

[[noreturn]] void malformed(const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, "trustlist.malformed", "trusted list: " + message);
}

[[noreturn]] void unreadable(ErrorCode code, const std::string& message) {
    throw Error(code, "trustlist.unreadable", "trusted list: " + message);
}

struct ParserContextFree {
    void operator()(xmlParserCtxt* context) const noexcept { xmlFreeParserCtxt(context); }
};
struct DSigContextFree {
    void operator()(xmlSecDSigCtx* context) const noexcept { xmlSecDSigCtxDestroy(context); }
};
struct XmlSecKeyFree {
    void operator()(xmlSecKey* key) const noexcept { xmlSecKeyDestroy(key); }
};

// Set by the SAX hook below; thread_local because parsers on other threads have their own.
thread_local bool documentHadDoctype = false;

/// A DOCTYPE is where XXE and entity expansion ("billion laughs") start, and a trusted list has
/// none, so the parser stops at the DOCTYPE's name, before reading a single declaration.
void stopAtDoctype(void* userData, const xmlChar*, const xmlChar*, const xmlChar*) {
    documentHadDoctype = true;
    xmlStopParser(static_cast<xmlParserCtxtPtr>(userData));
}

void stopAtEntityDeclaration(void* userData, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
    documentHadDoctype = true;
    xmlStopParser(static_cast<xmlParserCtxtPtr>(userData));
}

bool isElement(const xmlNode* node, const char* localName, const char* namespaceUri) {
    return node != nullptr && node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
           std::strcmp(reinterpret_cast<const char*>(node->name), localName) == 0 &&
           std::strcmp(reinterpret_cast<const char*>(node->ns->href), namespaceUri) == 0;
}

void collectElements(xmlNode* node, const char* localName, const char* namespaceUri, std::vector<xmlNode*>& found) {
    for (xmlNode* child = node->children; child != nullptr; child = child->next) {
        if (child->type != XML_ELEMENT_NODE) continue;
        if (isElement(child, localName, namespaceUri)) found.push_back(child);
        collectElements(child, localName, namespaceUri, found);
    }
}

std::string attributeValue(xmlAttr* attribute) {
    const std::unique_ptr<xmlChar, XmlFree> value(xmlNodeListGetString(attribute->doc, attribute->children, 1));
    return value ? reinterpret_cast<const char*>(value.get()) : std::string();
}

/// Without a DTD an attribute named "Id" is not an XML ID, so "#Id" references would not resolve.
/// Only the attributes a reference may legitimately name are registered: registering every Id
/// would let a reference point at a fragment an attacker placed elsewhere (signature wrapping).
std::string registerId(xmlDoc* document, xmlNode* element) {
    xmlAttr* attribute = xmlHasProp(element, xmlText("Id"));
    if (attribute == nullptr) return {};
    const std::string value = attributeValue(attribute);
    if (value.empty()) return {};
    if (xmlGetID(document, xmlText(value.c_str())) != nullptr) malformed("the Id \"" + value + "\" is used twice");
    if (xmlAddID(nullptr, document, xmlText(value.c_str()), attribute) == nullptr) malformed("bad Id " + value);
    return value;
}

void initialiseXmlSecOnce() {
    static std::once_flag once;
    // call_once: the init functions are not thread-safe, and verification may run on many
    // threads of the server. If initialisation throws, the next call tries again.
    std::call_once(once, [] {
        xmlInitParser();
        if (xmlSecInit() < 0) throw Error(ErrorCode::kInternal, "trustlist.xmlsec_init", "xmlSecInit failed");
        if (xmlSecCheckVersion() != 1) {
            throw Error(ErrorCode::kInternal, "trustlist.xmlsec_init", "libxmlsec1 version mismatch");
        }
        if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0) {
            throw Error(ErrorCode::kInternal, "trustlist.xmlsec_init", "xmlsec crypto initialisation failed");
        }
        // A failed verification is an expected verdict here, not something to print to stderr.
        xmlSecErrorsDefaultCallbackEnableOutput(0);
        // Never shut down: another thread may be verifying while static destructors run.
    });
}

/// Only these algorithms: no XSLT, XPath or XPointer transforms (code and external access in a
/// signature), no SHA-1 (TS 119 612 v2.2+ and ETSI TS 119 312 retired it for new signatures).
bool allowOnlyModernAlgorithms(xmlSecDSigCtx* context) {
    const xmlSecTransformId canonicalisations[] = {
        xmlSecTransformInclC14NId,   xmlSecTransformInclC14NWithCommentsId,
        xmlSecTransformInclC14N11Id, xmlSecTransformInclC14N11WithCommentsId,
        xmlSecTransformExclC14NId,   xmlSecTransformExclC14NWithCommentsId,
    };
    const xmlSecTransformId digests[] = {xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id};
    const xmlSecTransformId signatures[] = {
        xmlSecTransformRsaSha256Id,   xmlSecTransformRsaSha384Id,   xmlSecTransformRsaSha512Id,
        xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id,
    };
    bool ok = xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformEnvelopedId) >= 0;
    for (xmlSecTransformId id : canonicalisations) {
        ok = ok && xmlSecDSigCtxEnableReferenceTransform(context, id) >= 0;
        ok = ok && xmlSecDSigCtxEnableSignatureTransform(context, id) >= 0;
    }
    for (xmlSecTransformId id : digests)
        ok = ok && xmlSecDSigCtxEnableReferenceTransform(context, id) >= 0;
    for (xmlSecTransformId id : signatures)
        ok = ok && xmlSecDSigCtxEnableSignatureTransform(context, id) >= 0;
    // Same-document references only: nothing is ever fetched.
    context->enabledReferenceUris =
        static_cast<xmlSecTransformUriType>(xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument);
    return ok;
}

struct SignatureScope {
    std::string rootId;
    std::vector<std::string> signedPropertiesIds;
};

bool hasEnvelopedTransform(const xmlSecDSigReferenceCtx& reference) {
    for (xmlSecTransformPtr transform = reference.transformCtx.first; transform != nullptr;
         transform = transform->next) {
        if (transform->id == xmlSecTransformEnvelopedId) return true;
    }
    return false;
}

/// After a successful verification: the references must cover the whole list, once. xmlsec
/// checks that what is referenced is unchanged; this checks that what is referenced is the list.
void requireWholeDocumentReference(xmlSecDSigCtx* context, const SignatureScope& scope) {
    int documentReferences = 0;
    const xmlSecSize count = xmlSecPtrListGetSize(&context->signedInfoReferences);
    for (xmlSecSize i = 0; i < count; ++i) {
        const auto* reference =
            static_cast<const xmlSecDSigReferenceCtx*>(xmlSecPtrListGetItem(&context->signedInfoReferences, i));
        if (reference == nullptr || reference->uri == nullptr) malformed("a signature reference without URI");
        const std::string uri = reinterpret_cast<const char*>(reference->uri);
        const std::string type = reference->type != nullptr ? reinterpret_cast<const char*>(reference->type) : "";
        if (uri.empty() || (!scope.rootId.empty() && uri == "#" + scope.rootId)) {
            if (!hasEnvelopedTransform(*reference)) malformed("the list's reference lacks the enveloped transform");
            ++documentReferences;
        } else if (type == kXadesSignedPropertiesType && uri.size() > 1 &&
                   std::find(scope.signedPropertiesIds.begin(), scope.signedPropertiesIds.end(), uri.substr(1)) !=
                       scope.signedPropertiesIds.end()) {
            // XAdES-BES as published lists use it: the signed properties of this signature.
        } else {
            malformed("the signature references \"" + uri + "\", not the whole list");
        }
    }
    if (documentReferences != 1) malformed("the signature must reference the whole list exactly once");
}

/// True when the signature verifies with this certificate's key (and its references pass);
/// false when it does not, or when the certificate's key cannot be used at all.
bool verifiesWith(xmlNode* signature, const std::string& certificateDer, const SignatureScope& scope) {
    const std::unique_ptr<xmlSecDSigCtx, DSigContextFree> context(xmlSecDSigCtxCreate(nullptr));
    if (!context) throw Error(ErrorCode::kInternal, "trustlist.xmlsec", "xmlSecDSigCtxCreate failed");
    if (!allowOnlyModernAlgorithms(context.get())) {
        throw Error(ErrorCode::kInternal, "trustlist.xmlsec", "cannot restrict xmlsec transforms");
    }
    if (certificateDer.size() > UINT_MAX) return false;
    std::unique_ptr<xmlSecKey, XmlSecKeyFree> key(xmlSecCryptoAppKeyLoadMemory(
        reinterpret_cast<const xmlSecByte*>(certificateDer.data()), static_cast<xmlSecSize>(certificateDer.size()),
        xmlSecKeyDataFormatCertDer, nullptr, nullptr, nullptr));
    if (!key) return false;
    // With signKey set xmlsec never looks at ds:KeyInfo: the key is ours, not the document's.
    context->signKey = key.release();
    if (xmlSecDSigCtxVerify(context.get(), signature) < 0) return false;
    if (context->status != xmlSecDSigStatusSucceeded) return false;
    requireWholeDocumentReference(context.get(), scope);
    return true;
}

std::string subjectOf(const std::string& der) {
    const X509Pointer certificate = parseCertificate(der);
    if (!certificate) return "?";
    const std::unique_ptr<char, void (*)(void*)> line(
        X509_NAME_oneline(X509_get_subject_name(certificate.get()), nullptr, 0),
        [](void* text) { OPENSSL_free(text); });
    return line ? line.get() : "?";
}

} // namespace

X509Pointer parseCertificate(const std::string& der) {
    if (der.empty() || der.size() > LONG_MAX) return nullptr;
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    X509Pointer certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    // Trailing bytes would make two different strings the "same" certificate.
    if (certificate && cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return nullptr;
    return certificate;
}

bool isCertificate(const std::string& der) {
    return parseCertificate(der) != nullptr;
}

std::string decodeBase64(std::string_view text) {
    const auto valueOf = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    out.reserve(text.size() * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    int padding = 0;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        const int value = valueOf(c);
        if (value < 0 || padding > 0) malformed("bad base64");
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFFu));
        }
    }
    if (padding > 2 || bits >= 6) malformed("bad base64");
    return out;
}

XmlDocPointer parseUntrustedXml(std::string_view xml, std::size_t maxSizeBytes) {
    if (xml.size() > maxSizeBytes || xml.size() > static_cast<std::size_t>(INT_MAX)) {
        unreadable(ErrorCode::kPayloadTooLarge, "larger than " + std::to_string(maxSizeBytes) + " bytes");
    }
    initialiseXmlSecOnce(); // also initialises libxml2 once, thread-safely
    const std::unique_ptr<xmlParserCtxt, ParserContextFree> context(xmlNewParserCtxt());
    if (!context) throw Error(ErrorCode::kInternal, "trustlist.xml", "xmlNewParserCtxt failed");
    context->sax->internalSubset = stopAtDoctype;
    context->sax->externalSubset = stopAtDoctype;
    context->sax->entityDecl = stopAtEntityDeclaration;
    documentHadDoctype = false;
    // No XML_PARSE_NOENT (substitution), DTDLOAD, DTDATTR or HUGE; NONET in case anything slips by.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    XmlDocPointer document(xmlCtxtReadMemory(context.get(), xml.data(), static_cast<int>(xml.size()),
                                             "trusted-list.xml", nullptr, options));
    if (documentHadDoctype) unreadable(ErrorCode::kInvalidArgument, "has a DOCTYPE; trusted lists have none");
    if (!document || context->wellFormed == 0 || context->errNo != 0) {
        unreadable(ErrorCode::kInvalidArgument, "not well-formed XML");
    }
    if (document->intSubset != nullptr || document->extSubset != nullptr) {
        unreadable(ErrorCode::kInvalidArgument, "has a DOCTYPE; trusted lists have none");
    }
    return document;
}

VerifiedSignature verifyEnvelopedSignature(xmlDoc* document, const std::vector<std::string>& trustedCertificatesDer) {
    initialiseXmlSecOnce();
    xmlNode* root = xmlDocGetRootElement(document);
    std::vector<xmlNode*> signatures;
    collectElements(reinterpret_cast<xmlNode*>(document), "Signature", kDsigNamespace, signatures);
    if (signatures.size() != 1) {
        malformed("expected exactly one ds:Signature, found " + std::to_string(signatures.size()));
    }
    xmlNode* signature = signatures.front();
    if (signature->parent != root) malformed("the ds:Signature is not enveloped in the list's root");

    SignatureScope scope;
    scope.rootId = registerId(document, root);
    std::vector<xmlNode*> signedProperties;
    collectElements(signature, "SignedProperties", kXadesNamespace, signedProperties);
    for (xmlNode* element : signedProperties) {
        std::string id = registerId(document, element);
        if (!id.empty()) scope.signedPropertiesIds.push_back(std::move(id));
    }

    for (const std::string& trusted : trustedCertificatesDer) {
        if (verifiesWith(signature, trusted, scope)) return VerifiedSignature{trusted};
    }
    // Not by a trusted key. Tell "changed or broken" from "sound, but by someone else" with the
    // certificates the signature carries: this only picks the error, it never admits a list.
    std::vector<xmlNode*> embedded;
    collectElements(signature, "X509Certificate", kDsigNamespace, embedded);
    for (const xmlNode* element : embedded) {
        const std::unique_ptr<xmlChar, XmlFree> content(xmlNodeGetContent(element));
        if (!content) continue;
        std::string der;
        try {
            der = decodeBase64(reinterpret_cast<const char*>(content.get()));
        } catch (const Error&) {
            continue;
        }
        if (isCertificate(der) && verifiesWith(signature, der, scope)) {
            throw Error(ErrorCode::kPermissionDenied, "trustlist.signer_untrusted",
                        "trusted list: signed by " + subjectOf(der) +
                            ", which is not a configured trusted-list signer certificate");
        }
    }
    throw Error(ErrorCode::kFailedPrecondition, "trustlist.signature_invalid",
                "trusted list: the XML signature does not verify with any configured signer certificate "
                "(content changed after signing, or an algorithm we do not accept)");
}

} // namespace kooperdoc::trust
