internal import COpenSSL

/// The extensions a request asks for, and what the policy makes of them.
///
/// Owns the extension stack that `X509_REQ_get_extensions` returns; the extension
/// pointers handed out below borrow from it and live as long as this object.
final class RequestedExtensions {
    private let stack: OpaquePointer?

    /// Subject Alternative Name as requested (criticality is decided later), if any.
    private(set) var subjectAltName: OpaquePointer?
    /// The SAN entries as requested, in order: the names `CertificateNames` judges.
    private(set) var generalNames: [GeneralName] = []
    /// The SAN entries in readable form ("DNS:host.example", "IP:192.0.2.1").
    var subjectAltNames: [String] { generalNames.map(\.readable) }
    /// Key Usage as requested, if any.
    private(set) var keyUsage: OpaquePointer?
    /// Extended Key Usage as requested, if any.
    private(set) var extendedKeyUsage: OpaquePointer?
    /// Requested extensions the certificate will not carry, described for the log.
    private(set) var discarded: [String] = []

    init(of request: SigningRequest) throws(Rejection) {
        OpenSSLError.clear()
        let stack = X509_REQ_get_extensions(request.pointer)
        if stack == nil && request.hasExtensionRequestAttribute {
            let error = OpenSSLError.drain("reading the extension request")
            throw Rejection(.malformedExtension, "the request's extensionRequest attribute does not parse", details: error.reasons)
        }
        self.stack = stack
        try classify()
    }

    deinit {
        if let stack { COpenSSL_sk_X509_EXTENSION_pop_free(stack) }
    }

    private func classify() throws(Rejection) {
        guard let stack else { return }
        // A handful of extensions at most: comparing with each one before is cheaper than
        // turning every OID into text for a set.
        var seen: [OpaquePointer] = []
        for index in 0..<COpenSSL_sk_X509_EXTENSION_num(stack) {
            guard let ext = COpenSSL_sk_X509_EXTENSION_value(stack, index),
                  let object = X509_EXTENSION_get_object(ext) else { continue }
            defer { seen.append(object) }
            guard !seen.contains(where: { OBJ_cmp($0, object) == 0 }) else {
                throw Rejection(.duplicateExtension, "the request asks for extension \(OpenSSLBytes.describe(object)) more than once")
            }
            switch OBJ_obj2nid(object) {
            case NID_subject_alt_name:
                generalNames = try Self.subjectAltNames(in: ext)
                subjectAltName = ext
            case NID_key_usage:
                try Self.requireDER(ext, name: "Key Usage", decode: { cursor, length in
                    d2i_ASN1_BIT_STRING(nil, cursor, length).map { value in
                        defer { ASN1_BIT_STRING_free(value) }
                        return OpenSSLBytes.der(value, i2d_ASN1_BIT_STRING)
                    }
                })
                keyUsage = ext
            case NID_ext_key_usage:
                try Self.requireDER(ext, name: "Extended Key Usage", decode: { cursor, length in
                    d2i_EXTENDED_KEY_USAGE(nil, cursor, length).map { value in
                        defer { EXTENDED_KEY_USAGE_free(value) }
                        guard COpenSSL_sk_ASN1_OBJECT_num(value) > 0 else { return nil }
                        return OpenSSLBytes.der(value, i2d_EXTENDED_KEY_USAGE)
                    }
                })
                extendedKeyUsage = ext
            default:
                discarded.append(OpenSSLBytes.describe(object))
            }
        }
    }

    /// The value bytes of an extension (the contents of its OCTET STRING).
    static func value(of ext: OpaquePointer) -> [UInt8] {
        OpenSSLBytes.contents(of: X509_EXTENSION_get_data(ext))
    }

    /// Requires the extension value to decode and to be exactly the DER of what it decodes
    /// to: the certificate carries these bytes unchanged, so they must already be right.
    private static func requireDER(
        _ ext: OpaquePointer,
        name: String,
        decode: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> [UInt8]??
    ) throws(Rejection) {
        let bytes = value(of: ext)
        let reencoded: [UInt8]?? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return decode(&cursor, buffer.count)
        }
        guard case .some(.some(let der)) = reencoded else {
            throw Rejection(.malformedExtension, "the requested \(name) extension does not parse")
        }
        guard der == bytes else {
            throw Rejection(.malformedExtension, "the requested \(name) extension is not DER-encoded (or has bytes after its value)")
        }
    }

    private static func subjectAltNames(in ext: OpaquePointer) throws(Rejection) -> [GeneralName] {
        var names: [GeneralName] = []
        var failure: Rejection? = nil
        do {
            try requireDER(ext, name: "Subject Alternative Name", decode: { cursor, length in
            guard let generalNames = d2i_GENERAL_NAMES(nil, cursor, length) else { return nil }
            defer { COpenSSL_GENERAL_NAMES_free(generalNames) }
            let count = COpenSSL_sk_GENERAL_NAME_num(generalNames)
            if count == 0 {
                failure = Rejection(.malformedExtension, "the requested Subject Alternative Name extension is empty")
                return nil
            }
            names.reserveCapacity(Int(count))
            for index in 0..<count {
                guard let name = COpenSSL_sk_GENERAL_NAME_value(generalNames, index) else { continue }
                names.append(GeneralName(name))
            }
            return OpenSSLBytes.der(generalNames, i2d_GENERAL_NAMES)
            })
        } catch {
            throw failure ?? error
        }
        return names
    }
}
