// SPDX-License-Identifier: AGPL-3.0-or-later
#include <kooperdoc/core/Error.h>
#include <kooperdoc/trust/TrustedList.h>

#include "Process.h"
#include "TempDir.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using kooperdoc::Error;
using namespace kooperdoc::trust;
using kooperdoc::testing::quote;
using kooperdoc::testing::readFile;
using kooperdoc::testing::runCommand;
using kooperdoc::testing::TempDir;
using kooperdoc::testing::writeFile;

namespace {

// The fixture's clock: the list is issued 2025-01-01 and due for renewal 2025-07-01; the
// withdrawn CA was granted 2020-01-01 and withdrawn 2024-06-01.
constexpr std::int64_t kIssued = 1735689600;           // 2025-01-01T00:00:00Z
constexpr std::int64_t kNextUpdate = 1751328000;       // 2025-07-01T00:00:00Z
constexpr std::int64_t kNow = 1740787200;              // 2025-03-01T00:00:00Z
constexpr std::int64_t kBeforeWithdrawal = 1688169600; // 2023-07-01T00:00:00Z
constexpr std::int64_t kBeforeGrant = 1546300800;      // 2019-01-01T00:00:00Z

std::string pemBody(const std::string& pem) {
    std::string body;
    std::size_t start = pem.find('\n') + 1;
    const std::size_t end = pem.find("-----END");
    for (std::size_t i = start; i < end; ++i) {
        if (pem[i] != '\n' && pem[i] != '\r') body += pem[i];
    }
    return body;
}

/// A ds:Reference to the whole list (URI "" or "#tsl"), enveloped, as TS 119 612 signs it.
std::string documentReference(const std::string& referenceUri = "",
                              const std::string& digestMethod = "http://www.w3.org/2001/04/xmlenc#sha256") {
    return "<ds:Reference URI=\"" + referenceUri +
           "\"><ds:Transforms>"
           "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
           "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
           "</ds:Transforms><ds:DigestMethod Algorithm=\"" +
           digestMethod + "\"/><ds:DigestValue/></ds:Reference>";
}

/// A reference to XAdES SignedProperties in the signature's own ds:Object, as published lists
/// carry; with `typed` false it lacks the Type a XAdES reference has.
std::string signedPropertiesReference(bool typed) {
    return std::string("<ds:Reference URI=\"#sp\"") +
           (typed ? " Type=\"http://uri.etsi.org/01903#SignedProperties\"" : "") +
           "><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>"
           "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference>";
}

const char* const kXadesObject =
    "<ds:Object><xades:QualifyingProperties xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\" "
    "Target=\"#tsl-signature\"><xades:SignedProperties Id=\"sp\"><xades:SignedSignatureProperties>"
    "<xades:SigningTime>2025-01-01T00:00:00Z</xades:SigningTime></xades:SignedSignatureProperties>"
    "</xades:SignedProperties></xades:QualifyingProperties></ds:Object>";

struct TemplateOptions {
    std::string nextUpdate = "2025-07-01T00:00:00Z";
    std::string signatureMethod = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    std::string references = documentReference();
    std::string object; ///< e.g. kXadesObject
};

struct Certificate {
    std::string der;
    std::string base64;
};

// xmlsec1 needs to be told which attributes are IDs (there is no DTD).
const std::string kIdAttributes = "--id-attr:Id http://uri.etsi.org/02231/v2#:TrustServiceStatusList "
                                  "--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties ";

/// Keys, certificates and signed lists made once per test run with the openssl and xmlsec1 CLIs,
/// independent of the code under test.
class Fixture {
public:
    Fixture() {
        signer_ = makeCertificate("signer", "/C=PL/O=Test NCCert/CN=Test trusted list signer", "rsa:2048");
        otherSigner_ = makeCertificate("other", "/C=PL/O=Somebody else/CN=Other list signer", "rsa:2048");
        qualifiedCa_ = makeCertificate("qca", "/C=PL/O=Test Centre/CN=Test Qualified CA", "rsa:2048");
        tsa_ = makeCertificate("tsa", "/C=PL/O=Test Centre/CN=Test Qualified TSA", "rsa:2048");
        withdrawnCa_ = makeCertificate("wca", "/C=PL/O=Test Centre/CN=Test Withdrawn CA", "rsa:2048");
    }

    /// A TS 119 612 list with an empty enveloped signature template, the way xmlsec1 --sign wants it.
    std::string listTemplate(const TemplateOptions& options = {}) const {
        const std::string& nextUpdate = options.nextUpdate;
        const std::string extension = [](const char* uriValue) {
            return std::string(
                       "<ServiceInformationExtensions><Extension Critical=\"true\"><AdditionalServiceInformation>"
                       "<URI xml:lang=\"en\">") +
                   uriValue + "</URI></AdditionalServiceInformation></Extension></ServiceInformationExtensions>";
        }(uri::kForESignatures);
        const std::string sealExtension =
            std::string("<ServiceInformationExtensions><Extension Critical=\"true\"><AdditionalServiceInformation>"
                        "<URI xml:lang=\"en\">") +
            uri::kForESeals + "</URI></AdditionalServiceInformation></Extension></ServiceInformationExtensions>";
        return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<TrustServiceStatusList xmlns=\"http://uri.etsi.org/02231/v2#\" "
                           "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"tsl\" "
                           "TSLTag=\"http://uri.etsi.org/19612/TSLTag\">\n"
                           "<SchemeInformation>\n"
                           "<TSLVersionIdentifier>5</TSLVersionIdentifier>\n"
                           "<TSLSequenceNumber>42</TSLSequenceNumber>\n"
                           "<TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</TSLType>\n"
                           "<SchemeOperatorName><Name xml:lang=\"pl\">Narodowe Centrum Certyfikacji (test)</Name>"
                           "</SchemeOperatorName>\n"
                           "<SchemeTerritory>PL</SchemeTerritory>\n"
                           "<ListIssueDateTime>2025-01-01T00:00:00Z</ListIssueDateTime>\n"
                           "<NextUpdate><dateTime>") +
               nextUpdate +
               "</dateTime></NextUpdate>\n"
               "</SchemeInformation>\n"
               "<TrustServiceProviderList><TrustServiceProvider>\n"
               "<TSPInformation><TSPName><Name xml:lang=\"pl\">Testowe Centrum Sp. z o.o.</Name>"
               "<Name xml:lang=\"en\">Test Centre Ltd</Name></TSPName></TSPInformation>\n"
               "<TSPServices>\n"
               "<TSPService><ServiceInformation>"
               "<ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/CA/QC</ServiceTypeIdentifier>"
               "<ServiceName><Name xml:lang=\"en\">Test Qualified CA</Name></ServiceName>"
               "<ServiceDigitalIdentity><DigitalId><X509Certificate>" +
               qualifiedCa_.base64 +
               "</X509Certificate></DigitalId></ServiceDigitalIdentity>"
               "<ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</ServiceStatus>"
               "<StatusStartingTime>2020-01-01T00:00:00Z</StatusStartingTime>" +
               extension +
               "</ServiceInformation></TSPService>\n"
               "<TSPService><ServiceInformation>"
               "<ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST</ServiceTypeIdentifier>"
               "<ServiceName><Name xml:lang=\"en\">Test Qualified TSA</Name></ServiceName>"
               "<ServiceDigitalIdentity><DigitalId><X509Certificate>" +
               tsa_.base64 +
               "</X509Certificate></DigitalId></ServiceDigitalIdentity>"
               "<ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</ServiceStatus>"
               "<StatusStartingTime>2020-01-01T00:00:00Z</StatusStartingTime>"
               "</ServiceInformation></TSPService>\n"
               "<TSPService><ServiceInformation>"
               "<ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/CA/QC</ServiceTypeIdentifier>"
               "<ServiceName><Name xml:lang=\"en\">Test Withdrawn CA</Name></ServiceName>"
               "<ServiceDigitalIdentity><DigitalId><X509Certificate>" +
               withdrawnCa_.base64 +
               "</X509Certificate></DigitalId></ServiceDigitalIdentity>"
               "<ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn</ServiceStatus>"
               "<StatusStartingTime>2024-06-01T00:00:00Z</StatusStartingTime>"
               "</ServiceInformation>"
               "<ServiceHistory><ServiceHistoryInstance>"
               "<ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/CA/QC</ServiceTypeIdentifier>"
               "<ServiceName><Name xml:lang=\"en\">Test Withdrawn CA</Name></ServiceName>"
               "<ServiceDigitalIdentity><DigitalId><X509SKI>AAAA</X509SKI></DigitalId></ServiceDigitalIdentity>"
               "<ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</ServiceStatus>"
               "<StatusStartingTime>2020-01-01T00:00:00Z</StatusStartingTime>" +
               sealExtension +
               "</ServiceHistoryInstance></ServiceHistory>"
               "</TSPService>\n"
               "</TSPServices></TrustServiceProvider></TrustServiceProviderList>\n"
               "<ds:Signature Id=\"tsl-signature\"><ds:SignedInfo>"
               "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
               "<ds:SignatureMethod Algorithm=\"" +
               options.signatureMethod + "\"/>" + options.references +
               "</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>" + options.object +
               "</ds:Signature>\n"
               "</TrustServiceStatusList>\n";
    }

    /// Signs with xmlsec1 --sign; `idAttribute` tells xmlsec1 the root's Id is an ID.
    std::string sign(const std::string& unsignedXml, const std::string& name, bool bySigner = true,
                     bool idAttribute = false) const {
        const std::string in = directory_.file(name + ".tmpl.xml");
        const std::string out = directory_.file(name + ".xml");
        writeFile(in, unsignedXml);
        const std::string key = bySigner ? "signer" : "other";
        const std::string command = "xmlsec1 --sign " + (idAttribute ? kIdAttributes : std::string()) +
                                    "--privkey-pem " +
                                    quote(directory_.file(key + ".key") + "," + directory_.file(key + ".pem")) +
                                    " --output " + quote(out) + " " + quote(in) + " 2>&1";
        const auto result = runCommand(command);
        INFO(result.output);
        REQUIRE(result.exitCode == 0);
        return readFile(out);
    }

    /// The independent check: xmlsec1 --verify, trusting only the given signer's certificate.
    bool xmlsecVerifies(const std::string& signedXml, const std::string& name, bool idAttribute = false) const {
        const std::string path = directory_.file(name + ".check.xml");
        writeFile(path, signedXml);
        const auto result =
            runCommand("xmlsec1 --verify " + (idAttribute ? kIdAttributes : std::string()) + "--trusted-pem " +
                       quote(directory_.file("signer.pem")) + " " + quote(path) + " 2>&1");
        return result.exitCode == 0;
    }

    const Certificate& signer() const { return signer_; }
    const Certificate& otherSigner() const { return otherSigner_; }
    const Certificate& qualifiedCa() const { return qualifiedCa_; }
    const Certificate& tsa() const { return tsa_; }
    const Certificate& withdrawnCa() const { return withdrawnCa_; }

private:
    Certificate makeCertificate(const std::string& name, const std::string& subject, const std::string& keySpec) {
        const std::string key = directory_.file(name + ".key");
        const std::string pem = directory_.file(name + ".pem");
        const std::string der = directory_.file(name + ".der");
        const auto result =
            runCommand("openssl req -x509 -newkey " + keySpec + " -nodes -keyout " + quote(key) + " -out " +
                       quote(pem) + " -days 7300 -subj " + quote(subject) + " 2>&1 && openssl x509 -in " + quote(pem) +
                       " -outform DER -out " + quote(der) + " 2>&1");
        INFO(result.output);
        REQUIRE(result.exitCode == 0);
        return Certificate{readFile(der), pemBody(readFile(pem))};
    }

    TempDir directory_{"kooperdoc-trustlist"};
    Certificate signer_, otherSigner_, qualifiedCa_, tsa_, withdrawnCa_;
};

const Fixture& fixture() {
    static const Fixture instance;
    return instance;
}

const std::string& signedList() {
    static const std::string xml = fixture().sign(fixture().listTemplate(), "list");
    return xml;
}

std::string reasonOf(const std::string& xml, const std::vector<std::string>& signers, std::int64_t now,
                     const ImportOptions& options = {}) {
    try {
        importTrustedList(xml, signers, now, options);
    } catch (const Error& error) {
        return error.reason();
    }
    return "imported";
}

} // namespace

TEST_CASE("a list signed by the configured signer imports with its services", "[trustlist]") {
    const Fixture& f = fixture();
    REQUIRE(f.xmlsecVerifies(signedList(), "list"));

    const TrustedList list = importTrustedList(signedList(), {f.otherSigner().der, f.signer().der}, kNow);
    CHECK(list.schemeTerritory == "PL");
    CHECK(list.sequenceNumber == 42);
    CHECK(list.listIssueDateTime == kIssued);
    CHECK(list.nextUpdate == kNextUpdate);
    CHECK(list.signerCertificateDer == f.signer().der);
    REQUIRE(list.services.size() == 3);
    CHECK(list.services[0].providerName == "Test Centre Ltd");
    CHECK(list.services[0].serviceName == "Test Qualified CA");
    CHECK(list.services[0].serviceType == uri::kServiceTypeQualifiedCa);
    CHECK(list.services[0].status == uri::kStatusGranted);
    CHECK(list.services[0].qualifiers == std::vector<std::string>{uri::kForESignatures});
    CHECK(list.services[0].certificatesDer == std::vector<std::string>{f.qualifiedCa().der});
    CHECK(list.services[1].serviceType == uri::kServiceTypeQualifiedTimestamp);
    CHECK(list.services[2].status == uri::kStatusWithdrawn);
    REQUIRE(list.services[2].history.size() == 1);
    CHECK(list.services[2].history[0].status == uri::kStatusGranted);

    CHECK(qualifiedCaCertificates(list, kNow) == std::vector<std::string>{f.qualifiedCa().der});
    CHECK(qualifiedTsaCertificates(list, kNow) == std::vector<std::string>{f.tsa().der});
    CHECK(isQualifiedForESignatures(list, f.qualifiedCa().der, kNow));
    CHECK_FALSE(isQualifiedForESeals(list, f.qualifiedCa().der, kNow));
    // A TSA or an unlisted certificate is no qualified CA.
    CHECK_FALSE(qualificationOf(list, f.tsa().der, kNow).qualifiedCa);
    CHECK_FALSE(qualificationOf(list, f.signer().der, kNow).qualifiedCa);
}

TEST_CASE("a list referencing its root Id imports too", "[trustlist]") {
    const Fixture& f = fixture();
    TemplateOptions options;
    options.references = documentReference("#tsl");
    const std::string xml = f.sign(f.listTemplate(options), "list-id", true, true);
    REQUIRE(f.xmlsecVerifies(xml, "list-id", true));
    CHECK(importTrustedList(xml, {f.signer().der}, kNow).services.size() == 3);
}

TEST_CASE("a XAdES-signed list with signed properties imports", "[trustlist]") {
    const Fixture& f = fixture();
    TemplateOptions options;
    options.references = documentReference() + signedPropertiesReference(true);
    options.object = kXadesObject;
    const std::string xml = f.sign(f.listTemplate(options), "list-xades", true, true);
    REQUIRE(f.xmlsecVerifies(xml, "list-xades", true));
    CHECK(importTrustedList(xml, {f.signer().der}, kNow).services.size() == 3);
}

TEST_CASE("a sound signature that does not cover the list is refused", "[trustlist]") {
    // Signature wrapping: the signature verifies, but over its own signed properties only, so
    // the services beside it are anybody's.
    const Fixture& f = fixture();
    TemplateOptions options;
    options.references = signedPropertiesReference(false);
    options.object = kXadesObject;
    const std::string xml = f.sign(f.listTemplate(options), "wrapped", true, true);
    REQUIRE(f.xmlsecVerifies(xml, "wrapped", true));
    CHECK(reasonOf(xml, {f.signer().der}, kNow) == "trustlist.malformed");

    options.references = signedPropertiesReference(true);
    const std::string typed = f.sign(f.listTemplate(options), "wrapped-typed", true, true);
    CHECK(reasonOf(typed, {f.signer().der}, kNow) == "trustlist.malformed");
}

TEST_CASE("one byte changed after signing is a broken signature", "[trustlist]") {
    const Fixture& f = fixture();
    std::string tampered = signedList();
    const std::size_t at = tampered.find("Test Qualified CA");
    REQUIRE(at != std::string::npos);
    tampered[at + std::string("Test Qualified C").size()] = 'B';
    CHECK_FALSE(f.xmlsecVerifies(tampered, "tampered"));
    CHECK(reasonOf(tampered, {f.signer().der}, kNow) == "trustlist.signature_invalid");

    // A withdrawal flipped back to granted is the attack that matters.
    std::string regranted = signedList();
    const std::size_t withdrawn = regranted.find(uri::kStatusWithdrawn);
    REQUIRE(withdrawn != std::string::npos);
    regranted.replace(withdrawn, std::string(uri::kStatusWithdrawn).size(), uri::kStatusGranted);
    CHECK(reasonOf(regranted, {f.signer().der}, kNow) == "trustlist.signature_invalid");
}

TEST_CASE("a list signed by another certificate than the configured one is untrusted", "[trustlist]") {
    const Fixture& f = fixture();
    const std::string xml = f.sign(f.listTemplate(), "by-other", false);
    CHECK(reasonOf(xml, {f.signer().der}, kNow) == "trustlist.signer_untrusted");
    CHECK(reasonOf(xml, {}, kNow) == "trustlist.signer_untrusted");
    CHECK(importTrustedList(xml, {f.otherSigner().der}, kNow).signerCertificateDer == f.otherSigner().der);
}

TEST_CASE("an expired list is refused unless asked for", "[trustlist]") {
    const Fixture& f = fixture();
    const std::int64_t afterNextUpdate = kNextUpdate + 1;
    CHECK(reasonOf(signedList(), {f.signer().der}, afterNextUpdate) == "trustlist.expired");
    ImportOptions options;
    options.acceptExpired = true;
    CHECK(reasonOf(signedList(), {f.signer().der}, afterNextUpdate, options) == "imported");
    CHECK(reasonOf(signedList(), {f.signer().der}, kNextUpdate) == "imported");
}

TEST_CASE("SHA-1 signatures are refused", "[trustlist]") {
    const Fixture& f = fixture();
    TemplateOptions options;
    options.signatureMethod = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
    options.references = documentReference("", "http://www.w3.org/2000/09/xmldsig#sha1");
    const std::string xml = f.sign(f.listTemplate(options), "sha1");
    CHECK(f.xmlsecVerifies(xml, "sha1")); // sound, only too weak
    CHECK(reasonOf(xml, {f.signer().der}, kNow) == "trustlist.signature_invalid");
}

TEST_CASE("an unsigned or doubly signed list is malformed", "[trustlist]") {
    const Fixture& f = fixture();
    std::string unsignedList = signedList();
    const std::size_t start = unsignedList.find("<ds:Signature");
    const std::size_t end = unsignedList.find("</ds:Signature>") + std::string("</ds:Signature>").size();
    const std::string signature = unsignedList.substr(start, end - start);
    unsignedList.erase(start, end - start);
    CHECK(reasonOf(unsignedList, {f.signer().der}, kNow) == "trustlist.malformed");

    std::string doubled = signedList();
    doubled.insert(doubled.find("</TrustServiceStatusList>"), signature);
    CHECK(reasonOf(doubled, {f.signer().der}, kNow) == "trustlist.malformed");
    CHECK(reasonOf("<html/>", {f.signer().der}, kNow) == "trustlist.malformed");
    CHECK(reasonOf("<TrustServiceStatusList", {f.signer().der}, kNow) == "trustlist.unreadable");
}

TEST_CASE("XXE and entity expansion are refused without expanding or fetching", "[trustlist]") {
    const Fixture& f = fixture();
    TempDir directory("kooperdoc-xxe");
    writeFile(directory.file("secret.txt"), "SECRET-CONTENT");
    const std::string externalEntity =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE TrustServiceStatusList [\n"
        "<!ENTITY secret SYSTEM \"file://" +
        directory.file("secret.txt") +
        "\">\n"
        "<!ENTITY remote SYSTEM \"http://192.0.2.1/tsl.xml\">\n]>\n"
        "<TrustServiceStatusList xmlns=\"http://uri.etsi.org/02231/v2#\">&secret;&remote;</TrustServiceStatusList>";
    try {
        importTrustedList(externalEntity, {f.signer().der}, kNow);
        FAIL("a document with a DOCTYPE was accepted");
    } catch (const Error& error) {
        CHECK(error.reason() == "trustlist.unreadable");
        CHECK(std::string(error.what()).find("SECRET") == std::string::npos);
    }

    std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
    laughs += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
    for (int level = 2; level <= 9; ++level) {
        const std::string previous = "&lol" + std::to_string(level - 1) + ";";
        std::string value;
        for (int i = 0; i < 10; ++i)
            value += previous;
        laughs += "<!ENTITY lol" + std::to_string(level) + " \"" + value + "\">\n";
    }
    laughs += "]>\n<TrustServiceStatusList xmlns=\"http://uri.etsi.org/02231/v2#\">&lol9;</TrustServiceStatusList>";
    const auto started = std::chrono::steady_clock::now();
    CHECK(reasonOf(laughs, {f.signer().der}, kNow) == "trustlist.unreadable");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));

    ImportOptions tiny;
    tiny.maxSizeBytes = 100;
    CHECK(reasonOf(signedList(), {f.signer().der}, kNow, tiny) == "trustlist.unreadable");
}

TEST_CASE("a withdrawn CA is qualified before its withdrawal only", "[trustlist]") {
    const Fixture& f = fixture();
    const TrustedList list = importTrustedList(signedList(), {f.signer().der}, kNow);

    const auto before = qualifiedCaCertificates(list, kBeforeWithdrawal);
    CHECK(before == std::vector<std::string>{f.qualifiedCa().der, f.withdrawnCa().der});
    CHECK(isQualifiedForESeals(list, f.withdrawnCa().der, kBeforeWithdrawal));
    CHECK_FALSE(isQualifiedForESignatures(list, f.withdrawnCa().der, kBeforeWithdrawal));

    CHECK(qualifiedCaCertificates(list, kNow) == std::vector<std::string>{f.qualifiedCa().der});
    CHECK_FALSE(qualificationOf(list, f.withdrawnCa().der, kNow).qualifiedCa);
    CHECK_FALSE(isQualifiedForESeals(list, f.withdrawnCa().der, kNow));
    // The withdrawal takes effect at its StatusStartingTime.
    const std::int64_t withdrawal = parseXsdDateTime("2024-06-01T00:00:00Z");
    CHECK(isQualifiedForESeals(list, f.withdrawnCa().der, withdrawal - 1));
    CHECK_FALSE(isQualifiedForESeals(list, f.withdrawnCa().der, withdrawal));

    CHECK(qualifiedCaCertificates(list, kBeforeGrant).empty());
    CHECK(qualifiedTsaCertificates(list, kBeforeGrant).empty());
}

TEST_CASE("xsd:dateTime values are read as UTC", "[trustlist]") {
    CHECK(parseXsdDateTime("1970-01-01T00:00:00Z") == 0);
    CHECK(parseXsdDateTime("2025-01-01T00:00:00Z") == kIssued);
    CHECK(parseXsdDateTime("2025-01-01T01:00:00.250+01:00") == kIssued);
    CHECK(parseXsdDateTime("2024-02-29T12:00:00Z") == 1709208000);
    CHECK_THROWS_AS(parseXsdDateTime("2025-01-01T00:00:00"), Error);
    CHECK_THROWS_AS(parseXsdDateTime("2025-13-01T00:00:00Z"), Error);
    CHECK_THROWS_AS(parseXsdDateTime("2025-01-01"), Error);
}
