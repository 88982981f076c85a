// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/signing/Pades.h"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <set>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/RevisionAnalysis.h"
#include "OpenSsl.h"

namespace kooperdoc::signing {
namespace {

using namespace openssl;

struct DistPointsFree {
    void operator()(STACK_OF(DIST_POINT) * points) const noexcept { sk_DIST_POINT_pop_free(points, DIST_POINT_free); }
};


/// The certificates a CMS SignedData (a signature or a timestamp token) carries.
std::vector<std::string> certificatesIn(std::string_view cmsDer) {
    if (cmsDer.size() > static_cast<std::size_t>(INT_MAX)) return {};
    const auto* cursor = reinterpret_cast<const unsigned char*>(cmsDer.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(cmsDer.size())));
    if (!cms) throw Error(ErrorCode::kInvalidArgument, "signature.cms_invalid", "not a CMS SignedData");
    X509StackPtr certificates(CMS_get1_certs(cms.get()));
    std::vector<std::string> out;
    for (int i = 0; certificates && i < sk_X509_num(certificates.get()); ++i) {
        out.push_back(certificateToDer(sk_X509_value(certificates.get(), i)));
    }
    return out;
}

X509Ptr parseCertificate(const std::string& der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!certificate) throw Error(ErrorCode::kInvalidArgument, "identity.invalid", "not a DER certificate");
    return certificate;
}

/// The http(s) URLs of a certificate's CRL distribution points.
std::vector<std::string> crlDistributionPoints(X509* certificate) {
    std::vector<std::string> urls;
    std::unique_ptr<STACK_OF(DIST_POINT), DistPointsFree> points(static_cast<STACK_OF(DIST_POINT)*>(
        X509_get_ext_d2i(certificate, NID_crl_distribution_points, nullptr, nullptr)));
    for (int i = 0; points && i < sk_DIST_POINT_num(points.get()); ++i) {
        const DIST_POINT* point = sk_DIST_POINT_value(points.get(), i);
        if (point->distpoint == nullptr || point->distpoint->type != 0) continue;
        const GENERAL_NAMES* names = point->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
            if (name->type != GEN_URI) continue;
            const auto* uri = name->d.uniformResourceIdentifier;
            std::string url(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                            static_cast<std::size_t>(ASN1_STRING_length(uri)));
            if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) urls.push_back(url);
        }
    }
    return urls;
}

bool selfSigned(X509* certificate) {
    return X509_check_issued(certificate, certificate) == X509_V_OK;
}

void appendUnique(std::vector<std::string>& into, std::set<std::string>& seen, const std::string& item) {
    if (seen.insert(item).second) into.push_back(item);
}

std::string documentTimestamp(std::string_view pdf, const PadesContext& context) {
    SignatureOptions options;
    options.documentTimestamp = true;
    return signPdf(pdf, options, [&](std::string_view signedBytes) { return context.tsa->timestamp(sha256(signedBytes)); });
}

void requireTsa(const PadesContext& context, PadesLevel level) {
    if (!context.tsa) {
        throw Error(ErrorCode::kFailedPrecondition, "signing.tsa_missing",
                    std::string(toString(level)) + " needs a timestamp authority; none is configured");
    }
}

}  // namespace

PadesLevel parsePadesLevel(std::string_view text) {
    std::string upper(text);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (upper.rfind("PADES-", 0) == 0) upper.erase(0, 6);
    if (upper == "B-B") return PadesLevel::kBB;
    if (upper == "B-T") return PadesLevel::kBT;
    if (upper == "B-LT") return PadesLevel::kBLT;
    if (upper == "B-LTA") return PadesLevel::kBLTA;
    throw Error(ErrorCode::kInvalidArgument, "signing.level_unknown",
                "unknown PAdES level \"" + std::string(text) + "\"; use B-B, B-T, B-LT or B-LTA");
}

const char* toString(PadesLevel level) {
    switch (level) {
    case PadesLevel::kBB: return "B-B";
    case PadesLevel::kBT: return "B-T";
    case PadesLevel::kBLT: return "B-LT";
    case PadesLevel::kBLTA: return "B-LTA";
    }
    return "?";
}

namespace {

template <class T, class ReadPem, class ReadDer, class Encode, class FreeFn>
std::vector<std::string> readPemOrDer(std::string_view text, ReadPem readPem, ReadDer readDer, Encode encode, FreeFn freeFn) {
    std::vector<std::string> out;
    auto take = [&](T* item) {
        unsigned char* bytes = nullptr;
        const int length = encode(item, &bytes);
        if (length > 0) out.emplace_back(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(length));
        OPENSSL_free(bytes);
        freeFn(item);
    };
    if (text.size() > static_cast<std::size_t>(INT_MAX)) return out;
    if (text.find("-----BEGIN") != std::string_view::npos) {
        std::unique_ptr<BIO, Free<BIO_free>> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
        while (T* item = readPem(bio.get(), nullptr, nullptr, nullptr)) take(item);
    } else {
        const auto* cursor = reinterpret_cast<const unsigned char*>(text.data());
        if (T* item = readDer(nullptr, &cursor, static_cast<long>(text.size()))) take(item);
    }
    ERR_clear_error();
    return out;
}

}  // namespace

std::vector<std::string> readCertificates(std::string_view pemOrDer) {
    auto out = readPemOrDer<X509>(pemOrDer, PEM_read_bio_X509, d2i_X509, i2d_X509, X509_free);
    if (out.empty()) throw Error(ErrorCode::kInvalidArgument, "identity.invalid", "no certificate found");
    return out;
}

std::vector<std::string> readCrls(std::string_view pemOrDer) {
    auto out = readPemOrDer<X509_CRL>(pemOrDer, PEM_read_bio_X509_CRL, d2i_X509_CRL, i2d_X509_CRL, X509_CRL_free);
    if (out.empty()) throw Error(ErrorCode::kInvalidArgument, "signing.crl_invalid", "no CRL found");
    return out;
}

DssMaterial collectValidationMaterial(const std::vector<std::string>& cmsOrTokensDer, const PadesContext& context) {
    DssMaterial material;
    std::set<std::string> seenCertificates, seenCrls;
    for (const auto& cms : cmsOrTokensDer) {
        for (const auto& certificate : certificatesIn(cms)) appendUnique(material.certificatesDer, seenCertificates, certificate);
    }
    for (const auto& certificate : context.extraCertificatesDer) {
        appendUnique(material.certificatesDer, seenCertificates, certificate);
    }
    for (const auto& crl : context.crlsDer) appendUnique(material.crlsDer, seenCrls, crl);
    if (context.fetchCrl) {
        std::set<std::string> fetched;
        for (const auto& der : material.certificatesDer) {
            const auto certificate = parseCertificate(der);
            if (selfSigned(certificate.get())) continue;  // a trust anchor is not revoked by a CRL
            for (const auto& url : crlDistributionPoints(certificate.get())) {
                if (fetched.insert(url).second) appendUnique(material.crlsDer, seenCrls, context.fetchCrl(url));
            }
        }
    }
    return material;
}

std::string completeSignature(const PreparedPdfSignature& prepared, std::string cmsDer, PadesLevel level,
                              const PadesContext& context) {
    if (level != PadesLevel::kBB) requireTsa(context, level);
    if (level != PadesLevel::kBB) cmsDer = addSignatureTimestamp(cmsDer, *context.tsa);
    std::string pdf = embedSignature(prepared, cmsDer);
    if (level == PadesLevel::kBLT || level == PadesLevel::kBLTA) {
        std::vector<std::string> sources{cmsDer};
        for (auto& token : signatureTimestampTokens(cmsDer)) sources.push_back(std::move(token));
        pdf = addDocumentSecurityStore(pdf, collectValidationMaterial(sources, context));
    }
    if (level == PadesLevel::kBLTA) pdf = documentTimestamp(pdf, context);
    return pdf;
}

std::string signAtLevel(std::string_view pdf, const SigningIdentity& identity, SignatureOptions options,
                        PadesLevel level, const PadesContext& context) {
    if (level != PadesLevel::kBB) requireTsa(context, level);
    const auto prepared = prepareSignature(pdf, options);
    auto cms = identity.signCadesDetached(prepared.signedBytes(), options.signingTimeEpoch);
    return completeSignature(prepared, std::move(cms), level, context);
}

std::string renewArchiveTimestamp(std::string_view pdf, const PadesContext& context) {
    requireTsa(context, PadesLevel::kBLTA);
    const auto signatures = pdf::analyzeDocument(pdf).signatures;
    if (signatures.empty()) {
        throw Error(ErrorCode::kFailedPrecondition, "signing.not_signed", "the document has no signature to preserve");
    }
    // Validation data for every signature and timestamp present: what is already in the DSS is
    // de-duplicated by the writer, and the latest document timestamp is what needs it now.
    std::vector<std::string> sources;
    for (const auto& signature : signatures) {
        sources.push_back(signature.contents);
        if (!signature.isDocumentTimestamp()) {
            for (auto& token : signatureTimestampTokens(signature.contents)) sources.push_back(std::move(token));
        }
    }
    const auto withDss = addDocumentSecurityStore(pdf, collectValidationMaterial(sources, context));
    return documentTimestamp(withDss, context);
}

}  // namespace kooperdoc::signing
