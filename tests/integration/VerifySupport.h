// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What the verify, attack and certificate tests share: a development identity made through the
// CLI, documents sealed and signed at a PAdES level, pdfsig with the dev CA, and JSON matching.
#include <catch2/catch.hpp>

#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>

#include "CliSupport.h"

namespace kooperdoc::testing {

inline int countMatches(const std::string& text, const std::string& pattern) {
    const std::regex re(pattern);
    return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

/// `"key" : "value"` as Poco's stringifier writes it (with or without spaces).
inline std::string jsonPair(const std::string& key, const std::string& value) {
    return "\"" + key + "\" ?: ?\"" + value + "\"";
}

/// The JSON of one signature: from its "field" key to the next signature's (or the end).
inline std::string signatureBlock(const std::string& json, const std::string& field) {
    std::smatch start;
    if (!std::regex_search(json, start, std::regex(jsonPair("field", field)))) return {};
    const auto begin = static_cast<std::size_t>(start.position(0));
    std::smatch next;
    const std::string rest = json.substr(begin + 1);
    const auto end = std::regex_search(rest, next, std::regex("\"field\" ?:")) ? begin + 1 + static_cast<std::size_t>(next.position(0))
                                                                                 : json.size();
    return json.substr(begin, end - begin);
}

/// A development identity (dev CA, seal, person, TSA) and a PKCS#12 for the person, plus an NSS
/// database with the dev CA for pdfsig.
class VerifyLab {
public:
    VerifyLab() : dir_(scratchDir("verify")) {
        REQUIRE(run(quote(cli()) + " dev-identity --out " + quote(identity())).exitCode == 0);
        REQUIRE(run("openssl pkcs12 -export -passout pass:tajne -inkey " + quote(identity() + "/person.key.pem") + " -in " +
                    quote(identity() + "/person.pem") + " -out " + quote(file("jan.p12"))).exitCode == 0);
        writeFile(file("password"), "tajne\n");
        std::filesystem::create_directories(file("nss"));
        REQUIRE(run("certutil -N -d sql:" + quote(file("nss")) + " --empty-password").exitCode == 0);
        REQUIRE(run("certutil -A -d sql:" + quote(file("nss")) + " -n kooperdoc-dev-ca -t CT,C,C -i " +
                    quote(identity() + "/ca.pem")).exitCode == 0);
    }
    ~VerifyLab() { std::filesystem::remove_all(dir_); }

    std::string file(const std::string& name) const { return dir_ + "/" + name; }
    std::string identity() const { return dir_ + "/identity"; }
    std::string ca() const { return identity() + "/ca.pem"; }

    static CommandResult run(const std::string& command) {
        auto result = runCommand(command + " 2>&1");
        UNSCOPED_INFO(command << "\n" << result.output);
        return result;
    }

    /// Sealed at \p level, then osoba-1 signed by Jan Kowalski at the same level.
    std::string sealedAndSigned(const std::string& level) const {
        const auto sealed = file("sealed-" + level + ".pdf");
        REQUIRE(run("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " render m1-oswiadczenie-zgoda " +
                    quote(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json") + " -o " +
                    quote(sealed) + " --seal --level " + level + " --identity " + quote(identity()))
                    .exitCode == 0);
        const auto signedPdf = file("signed-" + level + ".pdf");
        REQUIRE(run(quote(cli()) + " sign " + quote(sealed) + " --field osoba-1 --p12 " + quote(file("jan.p12")) +
                    " --password-file " + quote(file("password")) + " --level " + level + " --identity " +
                    quote(identity()) + " -o " + quote(signedPdf))
                    .exitCode == 0);
        return signedPdf;
    }

    static CommandResult verify(const std::string& pdf, const std::string& extra = "") {
        return run(quote(cli()) + " verify " + quote(pdf) + " --json " + extra);
    }

    std::string pdfsig(const std::string& pdf) const {
        // pdfsig exits 0 even on a digest mismatch, so its report is read line by line.
        return runCommand("pdfsig -nssdir sql:" + quote(file("nss")) + " " + quote(pdf) + " 2>&1").output;
    }

    /// PDFBox + BouncyCastle (tests/tools/SignatureCheck.java): one "VALID <field> …" or
    /// "INVALID <field> <reason>" line per signed field; it checks the CMS over the byte range,
    /// not trust and not later revisions.
    static CommandResult pdfbox(const std::string& pdf) {
        return runCommand(std::string(KOOPERDOC_SIGNATURE_CHECK) + " " + quote(pdf) + " 2>&1");
    }

private:
    std::string dir_;
};

inline std::string trailerEntry(const std::string& pdf, const std::string& key) {
    const auto trailer = pdf.rfind("trailer");
    REQUIRE(trailer != std::string::npos);
    const std::string text = pdf.substr(trailer, pdf.rfind("startxref") - trailer);
    std::smatch match;
    if (!std::regex_search(text, match, std::regex(key + "\\s+(\\d+ \\d+ R|\\d+)"))) return {};
    return match[1].str();
}

inline int nextObjectNumber(const std::string& pdf) {
    return std::stoi(trailerEntry(pdf, "/Size"));
}

/// An incremental update writing each of \p objects (number → value): a new xref section and a
/// trailer that keeps /Root and /Info and chains /Prev to the previous xref.
inline std::string appendObjects(const std::string& pdf, const std::map<int, std::string>& objects) {
    const auto startxref = pdf.rfind("startxref");
    REQUIRE(startxref != std::string::npos);
    const auto previous = std::stoll(pdf.substr(startxref + 9));
    int size = nextObjectNumber(pdf);
    std::string out = pdf;
    if (out.back() != '\n') out += '\n';
    std::map<int, std::size_t> offsets;
    for (const auto& [number, body] : objects) {
        offsets[number] = out.size();
        out += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
        size = std::max(size, number + 1);
    }
    const auto xref = out.size();
    out += "xref\n";
    for (const auto& [number, offset] : offsets) {
        char entry[32];
        std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
        out += std::to_string(number) + " 1\n" + entry;
    }
    const auto info = trailerEntry(pdf, "/Info");
    out += "trailer\n<< /Size " + std::to_string(size) + " /Root " + trailerEntry(pdf, "/Root") +
           (info.empty() ? "" : " /Info " + info) + " /Prev " + std::to_string(previous) + " >>\nstartxref\n" +
           std::to_string(xref) + "\n%%EOF\n";
    return out;
}

/// Appends an incremental update that replaces object \p number with \p body (the classic
/// incremental saving attack, by hand).
inline std::string appendUpdate(const std::string& pdf, int number, const std::string& body) {
    return appendObjects(pdf, {{number, body}});
}

}  // namespace kooperdoc::testing
