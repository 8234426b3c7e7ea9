internal import COpenSSL

/// PEM armour around DER (RFC 7468), written by OpenSSL's own PEM writer: 64-character
/// base64 lines between `-----BEGIN label-----` and `-----END label-----`.
enum PEM {
    static let certificateLabel = "CERTIFICATE"

    /// The PEM text of `der` under `label`; nil only if OpenSSL cannot allocate.
    static func encode(_ der: [UInt8], label: String = certificateLabel) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard PEM_write_bio(bio, label, "", der, der.count) > 0 else { return nil }
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard length > 0, let pointer else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
