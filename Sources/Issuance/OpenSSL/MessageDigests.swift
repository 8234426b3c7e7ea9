internal import COpenSSL

/// SHA-256 and SHA-1 of byte buffers with digests fetched once per process.
///
/// OpenSSL 3's one-shot `SHA256()` and `SHA1()` fetch their implementation on every call
/// (`EVP_Q_digest`), which costs several times the hashing of a request-sized input.
///
/// Ownership: one instance per process, created lazily by the `static let` (Swift runs the
/// initializer once, thread-safely) and never released before exit; it is the one owner of
/// its two `EVP_MD`s. A fetched `EVP_MD` is immutable and may be used by many threads at
/// once, which is why it is `@unchecked Sendable`.
final class MessageDigests: @unchecked Sendable {
    static let shared = MessageDigests()

    /// nil only if the fetch failed; the one-shot functions are used then.
    private let sha256: OpaquePointer?
    private let sha1: OpaquePointer?

    private init() {
        sha256 = EVP_MD_fetch(nil, "SHA256", nil)
        sha1 = EVP_MD_fetch(nil, "SHA1", nil)
        OpenSSLError.clear()
    }

    deinit {
        if let sha256 { EVP_MD_free(sha256) }
        if let sha1 { EVP_MD_free(sha1) }
    }

    static func sha256(_ bytes: UnsafePointer<UInt8>?, count: Int) -> [UInt8] {
        digest(bytes, count: count, length: Int(SHA256_DIGEST_LENGTH), with: shared.sha256) { SHA256($0, $1, $2) }
    }

    static func sha1(_ bytes: UnsafePointer<UInt8>?, count: Int) -> [UInt8] {
        digest(bytes, count: count, length: Int(SHA_DIGEST_LENGTH), with: shared.sha1) { SHA1($0, $1, $2) }
    }

    private static func digest(
        _ bytes: UnsafePointer<UInt8>?, count: Int, length: Int, with md: OpaquePointer?,
        oneShot: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?) -> UnsafeMutablePointer<UInt8>?
    ) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var written: UInt32 = 0
            if let md, EVP_Digest(bytes, count, buffer.baseAddress, &written, md, nil) == 1, Int(written) == length {
                initialized = length
                return
            }
            OpenSSLError.clear()
            _ = oneShot(bytes, count, buffer.baseAddress)
            initialized = length
        }
    }
}
