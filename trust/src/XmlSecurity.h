// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// libxml2, xmlsec and OpenSSL behind RAII, and the two steps that must be safe on hostile input:
// parsing without DTDs, entities or network, and checking an enveloped XML signature against
// certificates the caller trusts.

#include <libxml/tree.h>
#include <openssl/x509.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kooperdoc::trust {

struct XmlFree {
    void operator()(xmlChar* text) const noexcept { xmlFree(text); }
};
struct XmlDocFree {
    void operator()(xmlDoc* document) const noexcept { xmlFreeDoc(document); }
};
struct X509Free {
    void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
/// libxml2 takes const xmlChar* (unsigned char); its BAD_CAST is an old-style cast.
inline const xmlChar* xmlText(const char* text) {
    return reinterpret_cast<const xmlChar*>(text);
}

using XmlDocPointer = std::unique_ptr<xmlDoc, XmlDocFree>;
using X509Pointer = std::unique_ptr<X509, X509Free>;

X509Pointer parseCertificate(const std::string& der);
bool isCertificate(const std::string& der);

/// Base64 with whitespace between the characters (as XML line-wraps it); throws
/// trustlist.malformed on anything else.
std::string decodeBase64(std::string_view text);

/// Parses untrusted XML: no network, no DTD (a DOCTYPE stops the parser before its first
/// declaration), no entity substitution, a size limit. Throws trustlist.unreadable.
XmlDocPointer parseUntrustedXml(std::string_view xml, std::size_t maxSizeBytes);

struct VerifiedSignature {
    std::string signerCertificateDer;
};

/// Checks that the document carries exactly one ds:Signature, a child of the root, whose
/// references cover the whole document ("" or the root's Id, with the enveloped transform; plus,
/// for XAdES, its own SignedProperties) and that it verifies with one of the trusted
/// certificates. Throws trustlist.malformed, trustlist.signature_invalid or
/// trustlist.signer_untrusted.
VerifiedSignature verifyEnvelopedSignature(xmlDoc* document, const std::vector<std::string>& trustedCertificatesDer);

} // namespace kooperdoc::trust
