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
#include "CommandSupport.h"
#include "SigningCommands.h"
#include "StorageCommands.h"
#include "AuditCommands.h"
#include "AdminCommands.h"
#include "VerifyCommands.h"

namespace kooperdoc::cli {
namespace {

Poco::JSON::Object::Ptr violationJson(const Violation& v) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("pointer", v.pointer);
    o->set("code", v.code);
    o->set("message_pl", v.messagePl);
    o->set("message_en", v.messageEn);
    return o;
}

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
            writeFileAtomically(*output, sealRendered(ctx, rendered, a));
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

const CommandTable& commands();

int helpCommand(Context& ctx, const std::vector<std::string>& args) {
    if (!args.empty()) {
        const auto it = commands().find(args[0]);
        if (it == commands().end()) throw UsageError("unknown command " + args[0]);
        ctx.out << it->second.help;
        return kExitOk;
    }
    ctx.out << "Kooperdoc: documents of the Modele Kooperacji, from JSON to signed PDF/A.\n\n"
               "usage: kooperdoc [--template-dir DIR] [--config FILE] [--data-dir DIR] COMMAND [ARGS]\n\ncommands:\n";
    for (const auto& [name, command] : commands()) ctx.out << "  " << name << std::string(14 - name.size(), ' ') << command.summary << "\n";
    ctx.out << "\n`kooperdoc COMMAND --help` describes one command.\n"
               "--template-dir DIR  read templates from DIR instead of the built-in catalogue\n"
               "--config FILE       settings (signing identity, level, TSA, storage); also $KOOPERDOC_CONFIG;\n"
               "                    config/kooperdoc.properties documents every key\n"
               "--data-dir DIR      storage commands: the store in DIR instead of the configured one\n"
               "exit codes: 0 ok, 1 negative answer, 2 usage error, 3 invalid input, 4 other error\n";
    return kExitOk;
}

const CommandTable& commands() {
    static const CommandTable table = [] {
    CommandTable all = {
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
                    "  --seal                    add the signature fields and seal (see `seal --help`)\n"
                    "  --level L                 the seal's PAdES level: B-B, B-T, B-LT (default), B-LTA\n"
                    "  --identity DIR            the development identity to seal with\n"
                    "  --json                    report as JSON on stdout\n"
                    "SOURCE_DATE_EPOCH fixes the document's dates: same input and epoch, same bytes.\n"
                    "Exit 0 ok, 2 usage error, 3 validation failed (errors on stderr, or stdout with --json).\n",
                    renderCommand}},
        {"serve", {"run the HTTP service",
                   "usage: kooperdoc serve [--port N] [--config FILE] [--data-dir DIR] [--bind ADDRESS]\n\n"
                   "Starts the HTTP service (default http://localhost:8080; the /v1 API of docs/api.md).\n"
                   "--port 0 picks a free port; the service prints \"listening on http://HOST:PORT\".\n",
                   [](Context& ctx, const std::vector<std::string>&) {
                       ctx.err << "serve is started from main()\n";
                       return kExitError;
                   }}},
        {"help", {"describe the commands", "usage: kooperdoc help [COMMAND]\n", helpCommand}},
    };
    addSigningCommands(all);
    addVerifyCommands(all);
    addStorageCommands(all);
    addAuditCommands(all);
    addAdminCommands(all);
    return all;
    }();
    return table;
}

}  // namespace

int run(const std::vector<std::string>& rawArgs, std::ostream& out, std::ostream& err) {
    Context ctx{out, err, std::nullopt, ""};
    std::vector<std::string> args = rawArgs;
    try {
        std::string templateDir;
        if (const char* fromEnv = std::getenv("KOOPERDOC_TEMPLATE_DIR")) templateDir = fromEnv;
        if (const char* fromEnv = std::getenv("KOOPERDOC_CONFIG")) ctx.configPath = fromEnv;
        // Global options come before the command.
        auto takeGlobal = [&](const std::string& name, std::string& into) {
            if (args.empty()) return false;
            if (args[0] == name) {
                if (args.size() < 2) throw UsageError(name + " needs a value");
                into = args[1];
                args.erase(args.begin(), args.begin() + 2);
                return true;
            }
            if (args[0].rfind(name + "=", 0) == 0) {
                into = args[0].substr(name.size() + 1);
                args.erase(args.begin());
                return true;
            }
            return false;
        };
        std::string dataDir;
        while (takeGlobal("--template-dir", templateDir) || takeGlobal("--config", ctx.configPath) ||
               takeGlobal("--data-dir", dataDir)) {
        }
        if (args.empty() || args[0] == "--help" || args[0] == "-h") return helpCommand(ctx, {});
        if (args[0] == "--version") {
            out << pdf::kRendererVersion << "\n";
            return kExitOk;
        }
        const auto it = commands().find(args[0]);
        if (it == commands().end()) throw UsageError("unknown command " + args[0] + " (see kooperdoc --help)");
        std::vector<std::string> rest(args.begin() + 1, args.end());
        // The global --data-dir is the storage commands' own option (any other command refuses it).
        if (!dataDir.empty()) rest.insert(rest.begin(), {"--data-dir", dataDir});
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
