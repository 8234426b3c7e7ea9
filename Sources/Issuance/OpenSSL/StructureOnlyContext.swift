internal import COpenSSL

/// The OpenSSL library context in which requests are parsed: one that holds only the
/// "null" provider, so it has no algorithms at all.
///
/// Why: in OpenSSL 3.0, parsing a subjectPublicKeyInfo (inside `d2i_X509_REQ`) also tries
/// to decode the key, through an `OSSL_DECODER` context that it builds anew on every
/// parse (openssl/openssl#17950); that was about half the cost of an issuance. In this
/// context no decoder exists, so the parse only reads the ASN.1 structure and leaves the
/// `X509_PUBKEY` with its algorithm and key bits but without an `EVP_PKEY` (the failed
/// attempt is popped from the error queue by OpenSSL itself). dropca then builds the key
/// in the default context from those fields (`SubjectPublicKey`), and verifies the
/// request's signature there too.
///
/// Ownership: exactly one instance per process, created lazily on first use by the
/// `static let` below (Swift runs that initializer once, thread-safely) and never released
/// before exit. It owns the `OSSL_LIB_CTX` and the loaded provider; nothing else frees
/// them. A context made without a config file does not read `openssl.cnf`, and because a
/// provider is loaded explicitly OpenSSL never falls back to loading the default one into
/// it. After `init` it is only read: OpenSSL library contexts are safe to use from many
/// threads at once, which is why it is `@unchecked Sendable`.
final class StructureOnlyContext: @unchecked Sendable {
    /// nil only if OpenSSL could not set the context up (out of memory); requests are then
    /// parsed in the default context, with the same outcome, only more slowly.
    static let shared: StructureOnlyContext? = StructureOnlyContext()

    let context: OpaquePointer
    private let provider: OpaquePointer

    private init?() {
        guard let context = OSSL_LIB_CTX_new() else {
            OpenSSLError.clear()
            return nil
        }
        guard let provider = OSSL_PROVIDER_load(context, "null") else {
            OSSL_LIB_CTX_free(context)
            OpenSSLError.clear()
            return nil
        }
        self.context = context
        self.provider = provider
    }

    deinit {
        OSSL_PROVIDER_unload(provider)
        OSSL_LIB_CTX_free(context)
    }

    /// Parses one `X509_REQ` from `length` bytes at `cursor`, advancing it like `d2i_X509_REQ`;
    /// the result's `X509_PUBKEY` holds no decoded key when the structure-only context is used.
    static func parseRequest(_ cursor: UnsafeMutablePointer<UnsafePointer<UInt8>?>, length: Int) -> OpaquePointer? {
        guard let shared else { return d2i_X509_REQ(nil, cursor, length) }
        return ASN1_item_d2i_ex(nil, cursor, length, X509_REQ_it(), shared.context, nil)
    }
}
