// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Commands.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/Engine.h"
#include "kooperdoc/templates/TenantProfiles.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/signing/SigningIdentity.h"
#include "SigningCommands.h"

namespace kooperdoc::cli {
namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A command's arguments: positionals, --flags and --options with values.
class Arguments {
public:
    Arguments(const std::vector<std::string>& args, const std::vector<std::string>& valueOptions,
              const std::vector<std::string>& flags) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const auto& a = args[i];
            if (a.size() > 1 && a[0] == '-' && a != "-") {
                std::string name = a;
                std::optional<std::string> inlineValue;
                if (const auto eq = a.find('='); eq != std::string::npos) {
                    name = a.substr(0, eq);
                    inlineValue = a.substr(eq + 1);
                }
                if (contains(flags, name)) {
                    if (inlineValue) throw UsageError(name + " takes no value");
                    flags_.push_back(name);
                } else if (contains(valueOptions, name)) {
                    if (inlineValue) values_[name] = *inlineValue;
                    else if (i + 1 < args.size()) values_[name] = args[++i];
                    else throw UsageError(name + " needs a value");
                } else {
                    throw UsageError("unknown option " + name);
                }
            } else {
                positionals_.push_back(a);
            }
        }
    }

    bool flag(const std::string& name) const { return contains(flags_, name); }
    std::optional<std::string> value(const std::string& name) const {
        const auto it = values_.find(name);
        return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    const std::vector<std::string>& positionals() const { return positionals_; }
    void expectPositionals(std::size_t count, const char* usage) const {
        if (positionals_.size() != count) throw UsageError(std::string("usage: ") + usage);
    }

private:
    static bool contains(const std::vector<std::string>& list, const std::string& item) {
        for (const auto& x : list) {
            if (x == item) return true;
        }
        return false;
    }
    std::vector<std::string> positionals_;
    std::vector<std::string> flags_;
    std::map<std::string, std::string> values_;
};

std::string readInput(const std::string& path) {
    std::ostringstream buffer;
    if (path == "-") {
        buffer << std::cin.rdbuf();
        return buffer.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read " + path);
    buffer << in.rdbuf();
    return buffer.str();
}

void writeFileAtomically(const std::string& path, const std::string& bytes) {
    // A unique temporary beside the target, fsync, rename, fsync the directory: a reader never
    // sees half a PDF, and once we report success the file survives a crash.
    std::string temporary = path + ".XXXXXX";
    const int fd = mkstemp(temporary.data());
    if (fd < 0) throw Error(ErrorCode::kUnavailable, "file.unwritable", "cannot write " + path);
    std::size_t written = 0;
    while (written < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
    }
    const bool ok = written == bytes.size() && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    ::close(fd);
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw Error(ErrorCode::kUnavailable, "file.unwritable", "cannot write " + path);
    }
    const auto slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (const int dirFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY); dirFd >= 0) {
        fsync(dirFd);
        ::close(dirFd);
    }
}

std::int64_t creationTime() {
    // Reproducible builds' convention: a fixed SOURCE_DATE_EPOCH gives byte-identical output.
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
        char* end = nullptr;
        const long long value = std::strtoll(epoch, &end, 10);
        if (*end != '\0' || value < 0) {
            throw UsageError("SOURCE_DATE_EPOCH must be a non-negative whole number of seconds");
        }
        return value;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// A signature records when it was made, so it takes the wall clock even when SOURCE_DATE_EPOCH
/// pins the document's own dates (a certificate issued today cannot sign "last January").
std::int64_t signingTime() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Context {
    std::ostream& out;
    std::ostream& err;
    std::optional<templates::Catalog> ownCatalog;

    const templates::Catalog& catalog() const {
        return ownCatalog ? *ownCatalog : templates::Catalog::builtIn();
    }
};

Poco::JSON::Object::Ptr violationJson(const Violation& v) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("pointer", v.pointer);
    o->set("code", v.code);
    o->set("message_pl", v.messagePl);
    o->set("message_en", v.messageEn);
    return o;
}

/// Only PAdES B-B is implemented so far; asking for more must fail loudly, not quietly seal less.
void requireLevelBB(const Arguments& a);

void reportViolations(const Context& ctx, const std::vector<Violation>& violations, bool json) {
    if (json) {
        Poco::JSON::Object result;
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        for (const auto& v : violations) list->add(violationJson(v));
        result.set("code", "request.invalid");
        result.set("violations", list);
        Poco::JSON::Stringifier::stringify(result, ctx.out, 2);
        ctx.out << "\n";
        return;
    }
    ctx.err << "kooperdoc: " << violations.size() << " validation error(s):\n";
    for (const auto& v : violations) {
        ctx.err << "  " << (v.pointer.empty() ? "/" : v.pointer) << "  [" << v.code << "]  " << v.messagePl
                << "\n      " << v.messageEn << "\n";
    }
}

struct Command {
    const char* summary;
    const char* help;
    std::function<int(Context&, const std::vector<std::string>&)> run;
};

int templatesCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {}, {"--json"});
    a.expectPositionals(0, "kooperdoc templates [--json]");
    const auto list = ctx.catalog().list();
    if (a.flag("--json")) {
        Poco::JSON::Array array;
        for (const auto* t : list) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            const auto& m = t->metadata();
            o->set("id", m.id);
            o->set("version", m.version);
            o->set("kind", m.kind);
            o->set("model", m.model);
            o->set("title", m.title);
            o->set("sha256", t->sha256());
            array.add(o);
        }
        Poco::JSON::Stringifier::stringify(array, ctx.out, 2);
        ctx.out << "\n";
    } else {
        for (const auto* t : list) {
            const auto& m = t->metadata();
            ctx.out << m.id << "\t" << m.version << "\t" << m.kind << "\t" << m.title << "\n";
        }
    }
    return kExitOk;
}

int schemaCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {}, {});
    a.expectPositionals(1, "kooperdoc schema ID");
    ctx.out << ctx.catalog().get(a.positionals()[0]).schemaText();
    return kExitOk;
}

int sampleCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--name"}, {});
    a.expectPositionals(1, "kooperdoc sample ID [--name NAME]");
    const auto& tmpl = ctx.catalog().get(a.positionals()[0]);
    const auto name = a.value("--name").value_or("sample");
    const auto it = tmpl.samples().find(name);
    if (it == tmpl.samples().end()) throw UsageError("template " + tmpl.metadata().id + " has no sample " + name);
    ctx.out << it->second;
    return kExitOk;
}

void requireLevelBB(const Arguments& a) {
    const auto level = a.value("--level").value_or("B-B");
    if (level != "B-B") {
        throw Error(ErrorCode::kFailedPrecondition, "signing.level_unsupported",
                    "level " + level + " is not implemented yet; only B-B");
    }
}

TenantProfile loadTenant(const Arguments& a) {
    if (const auto path = a.value("--tenant")) return templates::parseTenantProfile(readInput(*path));
    return templates::exampleTenant();
}

int validateCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {}, {"--json"});
    a.expectPositionals(2, "kooperdoc validate ID INPUT.json [--json]");
    const auto& tmpl = ctx.catalog().get(a.positionals()[0]);
    const auto violations = templates::validateInput(tmpl, parseJson(readInput(a.positionals()[1])));
    if (!violations.empty()) {
        reportViolations(ctx, violations, a.flag("--json"));
        return kExitInvalid;
    }
    if (a.flag("--json")) ctx.out << "{\"code\": \"ok\", \"violations\": []}\n";
    return kExitOk;
}

int renderCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--tenant", "--section", "--document-id", "--pdfa", "--template-version",
                       "--identity", "--level"},
                {"--json", "--markup", "--seal"});
    a.expectPositionals(2, "kooperdoc render ID INPUT.json -o OUT.pdf");
    const auto output = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!output && !a.flag("--markup")) throw UsageError("render needs -o OUT.pdf");
    const auto& tmpl = ctx.catalog().get(a.positionals()[0], a.value("--template-version").value_or(""));
    const auto input = parseJson(readInput(a.positionals()[1]));
    const auto tenant = loadTenant(a);
    if (a.flag("--markup")) {
        const auto violations = templates::validateInput(tmpl, input);
        if (!violations.empty()) {
            reportViolations(ctx, violations, a.flag("--json"));
            return kExitInvalid;
        }
        ctx.out << templates::expandMarkup(tmpl, input, tenant);
        return kExitOk;
    }
    templates::RenderOptions options;
    options.documentId = a.value("--document-id").value_or("");
    options.section = a.value("--section").value_or("");
    options.createdEpochSeconds = creationTime();
    pdf::RenderSettings settings;
    const auto pdfa = a.value("--pdfa").value_or("3b");
    if (pdfa == "1b") settings.conformance = pdf::PdfaConformance::kPdfA1b;
    else if (pdfa != "3b") throw UsageError("--pdfa must be 3b (default) or 1b");
    try {
        const auto document = templates::renderDocument(tmpl, input, tenant, options);
        const auto rendered = pdf::renderPdf(document, settings);
        if (a.flag("--seal")) {
            requireLevelBB(a);
            writeFileAtomically(*output, sealRendered(rendered, a.value("--identity").value_or(kDefaultIdentityDir),
                                                      signingTime(), ctx.err));
        } else {
            writeFileAtomically(*output, rendered.bytes);
        }
        if (a.flag("--json")) {
            ctx.out << "{\"code\": \"ok\", \"document_id\": \"" << document.provenance.documentId
                    << "\", \"pages\": " << rendered.pageCount << ", \"input_sha256\": \""
                    << document.provenance.inputSha256 << "\"}\n";
        }
    } catch (const ValidationError& e) {
        reportViolations(ctx, e.violations(), a.flag("--json"));
        return kExitInvalid;
    }
    return kExitOk;
}

int sealCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--identity", "--level"}, {});
    a.expectPositionals(1, "kooperdoc seal IN.pdf -o OUT.pdf [--identity DIR]");
    const auto output = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!output) throw UsageError("seal needs -o OUT.pdf");
    requireLevelBB(a);
    writeFileAtomically(*output, sealPdf(readInput(a.positionals()[0]), a.value("--identity").value_or(kDefaultIdentityDir),
                                         signingTime(), ctx.err));
    return kExitOk;
}

int signCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"-o", "--output", "--field", "--p12", "--password-file", "--reason", "--location"}, {});
    a.expectPositionals(1, "kooperdoc sign IN.pdf --field NAME --p12 FILE --password-file F -o OUT.pdf");
    const auto output = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!output || !a.value("--field") || !a.value("--p12") || !a.value("--password-file")) {
        throw UsageError("sign needs --field, --p12, --password-file and -o");
    }
    auto password = readInput(*a.value("--password-file"));
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    const auto identity = signing::SigningIdentity::fromPkcs12(readInput(*a.value("--p12")), password);
    const auto now = signingTime();
    signing::SignatureOptions options;
    options.fieldName = *a.value("--field");
    options.reason = a.value("--reason").value_or("");
    options.location = a.value("--location").value_or("");
    options.signingTimeEpoch = now;
    writeFileAtomically(*output, signing::signPdf(readInput(a.positionals()[0]), options, [&](std::string_view bytes) {
        return identity.signCadesDetached(bytes, now);
    }));
    (void)ctx;
    return kExitOk;
}

int devIdentityCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--out"}, {});
    a.expectPositionals(0, "kooperdoc dev-identity --out DIR");
    const auto dir = a.value("--out");
    if (!dir) throw UsageError("dev-identity needs --out DIR");
    signing::writeDevelopmentIdentity(*dir, signingTime());
    ctx.out << "development identity written to " << *dir << " (ca.pem, seal.pem, seal.p12, person.pem, tsa.pem, ca.crl.pem)\n";
    return kExitOk;
}

const std::map<std::string, Command>& commands();

int helpCommand(Context& ctx, const std::vector<std::string>& args) {
    if (!args.empty()) {
        const auto it = commands().find(args[0]);
        if (it == commands().end()) throw UsageError("unknown command " + args[0]);
        ctx.out << it->second.help;
        return kExitOk;
    }
    ctx.out << "Kooperdoc: documents of the Modele Kooperacji, from JSON to signed PDF/A.\n\n"
               "usage: kooperdoc [--template-dir DIR] COMMAND [ARGS]\n\ncommands:\n";
    for (const auto& [name, command] : commands()) ctx.out << "  " << name << std::string(14 - name.size(), ' ') << command.summary << "\n";
    ctx.out << "\n`kooperdoc COMMAND --help` describes one command.\n"
               "--template-dir DIR  read templates from DIR instead of the built-in catalogue\n"
               "exit codes: 0 ok, 1 negative answer, 2 usage error, 3 invalid input, 4 other error\n";
    return kExitOk;
}

const std::map<std::string, Command>& commands() {
    static const std::map<std::string, Command> table = {
        {"templates", {"list the templates (id, version, kind, title)",
                       "usage: kooperdoc templates [--json]\n\n"
                       "Lists every template: id, version, kind and Polish title, one per line, or as a\n"
                       "JSON array (also with the template's SHA-256) with --json.\n",
                       templatesCommand}},
        {"schema", {"print a template's JSON Schema",
                    "usage: kooperdoc schema ID\n\nPrints the JSON Schema (draft 2020-12) of template ID's input.\n",
                    schemaCommand}},
        {"sample", {"print a valid sample input of a template",
                    "usage: kooperdoc sample ID [--name NAME]\n\nPrints a realistic, valid input for template ID.\n",
                    sampleCommand}},
        {"validate", {"check an input against a template without rendering",
                      "usage: kooperdoc validate ID INPUT.json [--json]\n\n"
                      "Checks INPUT.json (- for stdin) against template ID. Exit 0 when valid, 3 with every\n"
                      "violation (JSON pointer, code, Polish and English message) otherwise.\n",
                      validateCommand}},
        {"render", {"render a template's input to PDF/A",
                    "usage: kooperdoc render ID INPUT.json -o OUT.pdf [options]\n\n"
                    "Validates INPUT.json (- for stdin) against template ID and renders a PDF/A-3b.\n"
                    "  -o, --output FILE         where to write the PDF (written atomically)\n"
                    "  --tenant FILE             tenant profile JSON (RODO controller data);\n"
                    "                            default: the built-in example tenant\n"
                    "  --section ID              render one section (e.g. one audience's part) alone\n"
                    "  --document-id ID          id for the footer and QR code (default: derived)\n"
                    "  --template-version V      fail unless the template has version V\n"
                    "  --pdfa 3b|1b              conformance level (1b only for PDF/A-1 validators)\n"
                    "  --markup                  print the filled markup instead of rendering\n"
                    "  --seal                    add the signature fields and seal (PAdES B-B)\n"
                    "  --identity DIR            the seal's identity (default .kooperdoc/identity)\n"
                    "  --json                    report as JSON on stdout\n"
                    "SOURCE_DATE_EPOCH fixes the document's dates: same input and epoch, same bytes.\n"
                    "Exit 0 ok, 2 usage error, 3 validation failed (errors on stderr, or stdout with --json).\n",
                    renderCommand}},
        {"seal", {"seal a PDF with the service's electronic seal (PAdES B-B, DocMDP certification)",
                  "usage: kooperdoc seal IN.pdf -o OUT.pdf [--identity DIR] [--level B-B]\n\n"
                  "Adds a certification signature (DocMDP P=2: filling signature fields stays allowed)\n"
                  "made with the seal in DIR (default .kooperdoc/identity, created on first use).\n",
                  sealCommand}},
        {"sign", {"sign a field of a PDF with a person's PKCS#12",
                  "usage: kooperdoc sign IN.pdf --field NAME --p12 FILE --password-file F -o OUT.pdf\n"
                  "                      [--reason TEXT] [--location TEXT]\n\n"
                  "Fills the empty signature field NAME in a new incremental update (PAdES B-B).\n",
                  signCommand}},
        {"dev-identity", {"create a development CA, seal, person and TSA certificates",
                          "usage: kooperdoc dev-identity --out DIR\n\n"
                          "Writes a development PKI (ca.pem, seal.pem, seal.key.pem, seal.p12, person.pem,\n"
                          "tsa.pem, ca.crl.pem). For development and tests only.\n",
                          devIdentityCommand}},
        {"serve", {"run the HTTP service",
                   "usage: kooperdoc serve [--port N] [--config FILE]\n\n"
                   "Starts the HTTP service (default http://localhost:8080).\n",
                   [](Context& ctx, const std::vector<std::string>&) {
                       ctx.err << "serve is started from main()\n";
                       return kExitError;
                   }}},
        {"help", {"describe the commands", "usage: kooperdoc help [COMMAND]\n", helpCommand}},
    };
    return table;
}

}  // namespace

int run(const std::vector<std::string>& rawArgs, std::ostream& out, std::ostream& err) {
    Context ctx{out, err, std::nullopt};
    std::vector<std::string> args = rawArgs;
    try {
        std::string templateDir;
        if (const char* fromEnv = std::getenv("KOOPERDOC_TEMPLATE_DIR")) templateDir = fromEnv;
        while (!args.empty() && (args[0] == "--template-dir" || args[0].rfind("--template-dir=", 0) == 0)) {
            if (args[0] == "--template-dir") {
                if (args.size() < 2) throw UsageError("--template-dir needs a value");
                templateDir = args[1];
                args.erase(args.begin(), args.begin() + 2);
            } else {
                templateDir = args[0].substr(15);
                args.erase(args.begin());
            }
        }
        if (args.empty() || args[0] == "--help" || args[0] == "-h") return helpCommand(ctx, {});
        if (args[0] == "--version") {
            out << pdf::kRendererVersion << "\n";
            return kExitOk;
        }
        const auto it = commands().find(args[0]);
        if (it == commands().end()) throw UsageError("unknown command " + args[0] + " (see kooperdoc --help)");
        std::vector<std::string> rest(args.begin() + 1, args.end());
        for (const auto& a : rest) {
            if (a == "--help" || a == "-h") {
                out << it->second.help;
                return kExitOk;
            }
        }
        if (!templateDir.empty()) ctx.ownCatalog = templates::Catalog::fromDirectory(templateDir);
        return it->second.run(ctx, rest);
    } catch (const UsageError& e) {
        err << "kooperdoc: " << e.what() << "\n";
        return kExitUsage;
    } catch (const ValidationError& e) {
        reportViolations(ctx, e.violations(), false);
        return kExitInvalid;
    } catch (const Error& e) {
        if (e.reason().rfind("json.", 0) == 0) {
            // Malformed JSON is bad input like a schema violation, and is reported the same way.
            reportViolations(ctx, {{"", e.reason(), "Dane wejściowe nie są poprawnym JSON-em: " + std::string(e.what()),
                                    std::string("The input is not valid JSON: ") + e.what()}},
                             false);
            return kExitInvalid;
        }
        err << "kooperdoc: " << e.what() << " [" << e.reason() << "]\n";
        if (e.code() == ErrorCode::kNotFound && e.reason().rfind("template.", 0) == 0) return kExitUsage;
        if (e.code() == ErrorCode::kInvalidArgument) return kExitUsage;
        return kExitError;
    } catch (const std::exception& e) {
        err << "kooperdoc: internal error: " << e.what() << "\n";
        return kExitError;
    }
}

}  // namespace kooperdoc::cli
