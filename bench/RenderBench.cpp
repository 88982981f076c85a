// SPDX-License-Identifier: AGPL-3.0-or-later
// Render time per template: validate + Mustache + markup + layout + PDF, in process.
// usage: render_bench [ITERATIONS] [TEMPLATE_ID...]   (prints a Markdown table)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/Engine.h"
#include "kooperdoc/templates/TenantProfiles.h"

using namespace kooperdoc;
using Clock = std::chrono::steady_clock;

namespace {

double microseconds(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
    std::vector<std::string> only(argv + std::min(argc, 2), argv + argc);
    const auto tenant = templates::exampleTenant();
    // Warm up the once-per-process work (font subsets, ICC profile) outside the timings.
    const auto& catalog = templates::Catalog::builtIn();
    std::printf("| template | pages | bytes | validate+fill µs | layout+PDF µs | total µs (median of %d) |\n", iterations);
    std::printf("|---|---:|---:|---:|---:|---:|\n");
    for (const auto* tmpl : catalog.list()) {
        const auto& id = tmpl->metadata().id;
        if (!only.empty() && std::find(only.begin(), only.end(), id) == only.end()) continue;
        const auto input = parseJson(tmpl->samples().at("sample"));
        templates::RenderOptions options;
        options.createdEpochSeconds = 1768471200;
        pdf::renderPdf(templates::renderDocument(*tmpl, input, tenant, options));
        std::vector<double> fill, pdfTimes, total;
        pdf::RenderedPdf last;
        for (int i = 0; i < iterations; ++i) {
            const auto t0 = Clock::now();
            const auto document = templates::renderDocument(*tmpl, input, tenant, options);
            const auto t1 = Clock::now();
            last = pdf::renderPdf(document);
            const auto t2 = Clock::now();
            fill.push_back(microseconds(t1 - t0));
            pdfTimes.push_back(microseconds(t2 - t1));
            total.push_back(microseconds(t2 - t0));
        }
        std::printf("| %s | %d | %zu | %.0f | %.0f | %.0f |\n", id.c_str(), last.pageCount, last.bytes.size(),
                    median(fill), median(pdfTimes), median(total));
    }
    return 0;
}
