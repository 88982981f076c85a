// SPDX-License-Identifier: AGPL-3.0-or-later
// What every OpenSSL-facing file of signing/ shares: owning pointers, the error queue, DER.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::signing::openssl {

/// A deleter that calls an OpenSSL free function: unique_ptr<X509, Free<X509_free>>.
template <auto Fn> struct Free {
    template <class T> void operator()(T* pointer) const noexcept { Fn(pointer); }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Free<CMS_ContentInfo_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;

/// A stack that owns its certificates.
struct X509StackOwner {
    void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackOwner>;

struct OpenSslErrors {
    std::vector<unsigned long> codes;
    std::string text;
};

/// Empties this thread's OpenSSL error queue, so a later failure does not report stale errors.
OpenSslErrors drainOpenSslErrors();

/// \p message, then ": " and the errors' text when there are any.
std::string withDetails(std::string message, const OpenSslErrors& errors);
/// The same with the errors drained from the queue now.
std::string withDetails(std::string message);

/// Throws Error{code, reason, message with the queued OpenSSL errors}.
[[noreturn]] void fail(ErrorCode code, const char* reason, std::string message);

/// A PEM password callback that refuses: an encrypted key is an error, never a prompt on a tty.
int noPassword(char* buffer, int size, int rwflag, void* userdata);

/// Takes ownership of an i2d_* result. Error{kInternal, "crypto.encode"} when encoding failed.
std::string takeDer(unsigned char* der, int length, const char* what);
std::string certificateToDer(X509* certificate);

}  // namespace kooperdoc::signing::openssl
