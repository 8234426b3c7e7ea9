internal import COpenSSL

extension IssuancePolicy {
    /// Refuses a request that asks for an Extended Key Usage outside
    /// `policy.allowed_extended_key_usage`, naming the first such usage. The entries of the
    /// list and the request's OIDs meet in the one table, `ExtendedKeyUsage`.
    func checkExtendedKeyUsage(of extensions: RequestedExtensions) throws(Rejection) {
        guard let allowedExtendedKeyUsage, let requested = extensions.extendedKeyUsage else { return }
        let allowed = Set(allowedExtendedKeyUsage.compactMap(ExtendedKeyUsage.oid(for:)))
        guard let oids = Self.oids(in: RequestedExtensions.value(of: requested)) else {
            throw Rejection(.malformedExtension, "the requested Extended Key Usage extension does not parse")
        }
        for oid in oids where !allowed.contains(oid) {
            let list = allowedExtendedKeyUsage.isEmpty ? "none allowed" : allowedExtendedKeyUsage.joined(separator: ", ")
            throw Rejection(.extendedKeyUsageNotAllowed, "the request asks for Extended Key Usage \(ExtendedKeyUsage.describe(oid: oid)), which is not in policy.allowed_extended_key_usage (\(list))")
        }
    }

    /// The dotted OIDs of an Extended Key Usage value; nil if it does not parse (it was
    /// checked to be DER already, so that would be a bug rather than a bad request).
    private static func oids(in value: [UInt8]) -> [String]? {
        value.withUnsafeBufferPointer { buffer -> [String]? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let usage = d2i_EXTENDED_KEY_USAGE(nil, &cursor, buffer.count) else { return nil }
            defer { EXTENDED_KEY_USAGE_free(usage) }
            return (0..<COpenSSL_sk_ASN1_OBJECT_num(usage)).map { OpenSSLBytes.dotted(COpenSSL_sk_ASN1_OBJECT_value(usage, $0)) }
        }
    }
}
