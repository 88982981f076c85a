// SPDX-License-Identifier: AGPL-3.0-or-later
#include "OpenSsl.h"

#include <openssl/err.h>

namespace kooperdoc::signing::openssl {

OpenSslErrors drainOpenSslErrors() {
    OpenSslErrors errors;
    const char* data = nullptr;
    int flags = 0;
    unsigned long code = 0;
    while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
        errors.codes.push_back(code);
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!errors.text.empty()) errors.text += "; ";
        errors.text += buffer;
        if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
            errors.text += " (";
            errors.text += data;
            errors.text += ")";
        }
    }
    return errors;
}

std::string withDetails(std::string message, const OpenSslErrors& errors) {
    if (!errors.text.empty()) message += ": " + errors.text;
    return message;
}

std::string withDetails(std::string message) {
    return withDetails(std::move(message), drainOpenSslErrors());
}

void fail(ErrorCode code, const char* reason, std::string message) {
    throw Error(code, reason, withDetails(std::move(message)));
}

int noPassword(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return -1;
}

std::string takeDer(unsigned char* der, int length, const char* what) {
    if (length <= 0 || der == nullptr) fail(ErrorCode::kInternal, "crypto.encode", std::string("cannot encode ") + what);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

std::string certificateToDer(X509* certificate) {
    unsigned char* der = nullptr;
    const int length = i2d_X509(certificate, &der);
    return takeDer(der, length, "a certificate");
}

}  // namespace kooperdoc::signing::openssl
