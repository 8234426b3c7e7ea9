// The OpenSSL headers dropca uses, plus static inline wrappers for what the Swift importer
// cannot see: function-like macros (sk_*, OPENSSL_free) and type-generic stack helpers.
// Each wrapper is prefixed with the module name so its origin is obvious at the call site.
#ifndef DROPCA_COPENSSL_SHIM_H
#define DROPCA_COPENSSL_SHIM_H

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline void COpenSSL_OPENSSL_free(void *p) { OPENSSL_free(p); }

static inline int COpenSSL_sk_X509_EXTENSION_num(const STACK_OF(X509_EXTENSION) *sk) {
    return sk_X509_EXTENSION_num(sk);
}
static inline X509_EXTENSION *COpenSSL_sk_X509_EXTENSION_value(const STACK_OF(X509_EXTENSION) *sk, int i) {
    return sk_X509_EXTENSION_value(sk, i);
}
static inline void COpenSSL_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *sk) {
    sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
}

static inline int COpenSSL_sk_GENERAL_NAME_num(const GENERAL_NAMES *sk) {
    return sk_GENERAL_NAME_num(sk);
}
static inline GENERAL_NAME *COpenSSL_sk_GENERAL_NAME_value(const GENERAL_NAMES *sk, int i) {
    return sk_GENERAL_NAME_value(sk, i);
}
static inline int COpenSSL_sk_GENERAL_NAME_push(GENERAL_NAMES *sk, GENERAL_NAME *name) {
    return sk_GENERAL_NAME_push(sk, name);
}
static inline void COpenSSL_GENERAL_NAMES_free(GENERAL_NAMES *sk) { GENERAL_NAMES_free(sk); }

static inline int COpenSSL_sk_ASN1_OBJECT_num(const EXTENDED_KEY_USAGE *sk) {
    return sk_ASN1_OBJECT_num(sk);
}
static inline ASN1_OBJECT *COpenSSL_sk_ASN1_OBJECT_value(const EXTENDED_KEY_USAGE *sk, int i) {
    return sk_ASN1_OBJECT_value(sk, i);
}

static inline int COpenSSL_sk_ASN1_OBJECT_push(EXTENDED_KEY_USAGE *sk, ASN1_OBJECT *object) {
    return sk_ASN1_OBJECT_push(sk, object);
}
static inline int COpenSSL_sk_ACCESS_DESCRIPTION_push(AUTHORITY_INFO_ACCESS *sk, ACCESS_DESCRIPTION *description) {
    return sk_ACCESS_DESCRIPTION_push(sk, description);
}
static inline int COpenSSL_sk_DIST_POINT_push(CRL_DIST_POINTS *sk, DIST_POINT *point) {
    return sk_DIST_POINT_push(sk, point);
}

/// A PKCS#7 SignedData that carries certificates only, as `openssl crl2pkcs7 -nocrl` makes
/// it (RFC 2315 9.1, "degenerate" signed-data): version 1, no digest algorithms, content
/// type data with no content, no signers. PKCS7_set_type leaves the type of the inner
/// content unset, and only a field access through the union sets it.
static inline PKCS7 *COpenSSL_PKCS7_new_certificates_only(void) {
    PKCS7 *p7 = PKCS7_new();
    if (p7 == NULL)
        return NULL;
    if (PKCS7_set_type(p7, NID_pkcs7_signed) != 1 || p7->d.sign == NULL || p7->d.sign->contents == NULL) {
        PKCS7_free(p7);
        return NULL;
    }
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    return p7;
}

/// Whether an error code is PEM's "no start line": what PEM_read_bio leaves when no
/// further block follows. ERR_GET_LIB/ERR_GET_REASON are macros in some OpenSSL versions.
static inline int COpenSSL_ERR_is_pem_no_start_line(unsigned long code) {
    return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

/// XN_FLAG_RFC2253 is a macro built from other macros, which Swift does not import.
static inline unsigned long COpenSSL_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }

/// The ASN.1 type tag of a GENERAL_NAME, which Swift sees only through an anonymous union.
static inline int COpenSSL_GENERAL_NAME_type(const GENERAL_NAME *name) { return name->type; }

/// EVP_PKEY_fromdata for an EC key on a named group: with `point` NULL, the domain
/// parameters only (EVP_PKEY_KEY_PARAMETERS); otherwise the public key at that encoded point
/// (EVP_PKEY_PUBLIC_KEY). Both selections are macros Swift does not import, and the
/// OSSL_PARAM names are string macros that Swift would pass as temporary C strings, which
/// OSSL_PARAM_construct_* must not keep; here they are static.
static inline int COpenSSL_EVP_PKEY_fromdata_EC(EVP_PKEY_CTX *ctx, EVP_PKEY **key, const char *group,
                                                const unsigned char *point, size_t length) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    if (point == NULL) {
        params[1] = OSSL_PARAM_construct_end();
        return EVP_PKEY_fromdata(ctx, key, EVP_PKEY_KEY_PARAMETERS, params);
    }
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, length);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params);
}

/// EVP_PKEY_fromdata for an RSA public key from its modulus and public exponent; the
/// parameter names are string macros, kept static here for the same reason as above.
static inline int COpenSSL_EVP_PKEY_fromdata_RSA(EVP_PKEY_CTX *ctx, EVP_PKEY **key, const BIGNUM *n, const BIGNUM *e) {
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    if (builder == NULL)
        return 0;
    int status = 0;
    OSSL_PARAM *params = NULL;
    if (OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, n) == 1
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, e) == 1
        && (params = OSSL_PARAM_BLD_to_param(builder)) != NULL)
        status = EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    return status;
}

/// The AlgorithmIdentifier (DER) a signature context set up with EVP_DigestSignInit or
/// EVP_DigestVerifyInit writes into certificates: OSSL_SIGNATURE_PARAM_ALGORITHM_ID. Read
/// from a verify context on the CA certificate's public key when the private key is on a
/// token, where OpenSSL cannot sign. 1 on success, with the length in *length.
static inline int COpenSSL_signature_algorithm_id(EVP_PKEY_CTX *ctx, unsigned char *buffer, size_t capacity, size_t *length) {
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, buffer, capacity);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_CTX_get_params(ctx, params) != 1 || !OSSL_PARAM_modified(&params[0]))
        return 0;
    *length = params[0].return_size;
    return 1;
}

#endif
