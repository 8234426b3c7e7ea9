internal import COpenSSL

/// A parsed PKCS#10 request; the one owner of its `X509_REQ`.
///
/// Lives only for the duration of one issuance, on one thread; it is not Sendable.
final class SigningRequest {
    let pointer: OpaquePointer
    /// The DER that was parsed, exactly as uploaded (after PEM/base64 unwrapping).
    let der: [UInt8]

    /// Parses exactly one request from `der`; bytes after the request are an error, since a
    /// file that carries more than it says is not one an appliance meant to send.
    init(der: [UInt8]) throws(Rejection) {
        OpenSSLError.clear()
        var consumed = 0
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            // Structure only: the subject key is decoded later, by `checkKey`.
            let request = StructureOnlyContext.parseRequest(&cursor, length: buffer.count)
            if let cursor { consumed = cursor - base }
            return request
        }
        guard let parsed else {
            let error = OpenSSLError.drain("parsing the request")
            throw Rejection(.unparseable, "the file does not hold a valid PKCS#10 certificate request", details: error.reasons)
        }
        self.pointer = parsed
        self.der = der
        if consumed < der.count {
            throw Rejection(.trailingData, "\(der.count - consumed) bytes of trailing data follow the request's DER")
        }
    }

    deinit {
        X509_REQ_free(pointer)
    }

    var version: Int { Int(X509_REQ_get_version(pointer)) }

    var subjectName: OpaquePointer? { X509_REQ_get_subject_name(pointer) }

    var subjectIsEmpty: Bool { X509_NAME_entry_count(subjectName) == 0 }

    /// The subject as a one-line RFC 2253 string, for logs and the ledger.
    var subjectText: String { DistinguishedName.text(subjectName) }

    var publicKeyInfo: OpaquePointer? { X509_REQ_get_X509_PUBKEY(pointer) }

    var signatureAlgorithm: UnsafePointer<X509_ALGOR>? {
        var signature: UnsafePointer<ASN1_BIT_STRING>? = nil
        var algorithm: UnsafePointer<X509_ALGOR>? = nil
        X509_REQ_get0_signature(pointer, &signature, &algorithm)
        return algorithm
    }

    /// True when the request carries an extensionRequest attribute (PKCS#9 or Microsoft's
    /// legacy one), even one that does not decode.
    var hasExtensionRequestAttribute: Bool {
        X509_REQ_get_attr_by_NID(pointer, NID_ext_req, -1) >= 0
            || X509_REQ_get_attr_by_NID(pointer, NID_ms_ext_req, -1) >= 0
    }
}

/// Readable forms of X509_NAME values.
enum DistinguishedName {
    static func text(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        let flags = COpenSSL_XN_FLAG_RFC2253() & ~UInt(ASN1_STRFLGS_ESC_MSB)
        return OpenSSLBytes.text { bio in
            _ = X509_NAME_print_ex(bio, name, 0, flags)
        }
    }
}
