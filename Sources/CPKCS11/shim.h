// The PKCS#11 (Cryptoki) interface, from p11-kit's copy of the OASIS header. Only the
// header: dropca loads the token's module itself (dlopen, the ca.pkcs11_module setting)
// and calls it through the function list the module returns, so nothing is linked here.
#ifndef DROPCA_CPKCS11_SHIM_H
#define DROPCA_CPKCS11_SHIM_H

#include <dlfcn.h>
#include <p11-kit-1/p11-kit/pkcs11.h>

/// RTLD_NOW | RTLD_LOCAL, which Swift sees as separate Int32 macros on some libcs.
static inline int CPKCS11_dlopen_flags(void) { return RTLD_NOW | RTLD_LOCAL; }

#endif
