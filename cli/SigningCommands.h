// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <ostream>
#include <string>

#include "CommandSupport.h"
#include "kooperdoc/pdf/Renderer.h"

namespace kooperdoc::cli {

/// render --seal: adds the ready-to-sign fields over the rendered signature blocks, then seals
/// with the configured identity (a DocMDP P=2 certification) at the requested or configured
/// level. Understands --identity DIR and --level L in \p args.
std::string sealRendered(const Context& ctx, const pdf::RenderedPdf& rendered, const Arguments& args);

/// seal, sign, prepare, complete, finalize, timestamp, check-upload, dev-identity.
void addSigningCommands(CommandTable& table);

}  // namespace kooperdoc::cli
