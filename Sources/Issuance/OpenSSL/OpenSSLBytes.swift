internal import COpenSSL

/// Small conversions between Swift byte arrays and OpenSSL's DER and text APIs.
///
/// OpenSSL's `i2d_*` functions allocate with `OPENSSL_malloc` when handed a NULL output
/// pointer; these helpers copy the result into Swift memory and free it at once, so no
/// OpenSSL allocation outlives the call that made it.
enum OpenSSLBytes {
    /// DER of an object through its `i2d` function; nil when OpenSSL cannot encode it.
    static func der<T>(_ object: T, _ encode: (T, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8]? {
        var der: [UInt8] = []
        return DER.append(to: &der, { encode(object, $0) }) ? der : nil
    }

    /// The contents of an ASN1_STRING (octet string, bit string, IA5String…).
    static func contents(of string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    /// Everything written into a memory BIO by `body`, as text.
    static func text(_ body: (OpaquePointer) -> Void) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        body(bio)
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard length > 0, let pointer else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// Text from a C buffer that OpenSSL filled and NUL-terminated.
    static func string(nulTerminated buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The dotted form of an object identifier ("2.5.29.17").
    static func dotted(_ object: OpaquePointer?) -> String {
        guard let object else { return "?" }
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0 else { return "?" }
        return OpenSSLBytes.string(nulTerminated: buffer)
    }

    /// A readable name for an object identifier: OpenSSL's long name when it knows one,
    /// followed by the dotted form ("subjectAltName (2.5.29.17)").
    static func describe(_ object: OpaquePointer?) -> String {
        let oid = dotted(object)
        let nid = OBJ_obj2nid(object)
        guard nid != NID_undef, let name = OBJ_nid2sn(nid) else { return oid }
        return "\(String(cString: name)) (\(oid))"
    }
}
