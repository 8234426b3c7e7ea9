internal import COpenSSL

/// RFC 5280 4.1.2.6: a certificate that names an e-mail address MUST carry it as an
/// rfc822Name in the Subject Alternative Name; the legacy emailAddress attribute in the
/// subject is only allowed alongside. Requests made with OpenSSL's default configuration
/// routinely put the address in the subject only, so dropca keeps the subject byte for
/// byte and adds the missing rfc822Name entries to the SAN instead of refusing them.
enum SubjectEmailAddresses {
    /// The emailAddress values of a subject, as their encoded string contents.
    static func values(in name: OpaquePointer?) -> [[UInt8]] {
        guard let name else { return [] }
        var values: [[UInt8]] = []
        var position: Int32 = -1
        while true {
            position = X509_NAME_get_index_by_NID(name, NID_pkcs9_emailAddress, position)
            guard position >= 0 else { break }
            let entry = X509_NAME_get_entry(name, position)
            values.append(OpenSSLBytes.contents(of: X509_NAME_ENTRY_get_data(entry)))
        }
        return values
    }

    /// A SAN value holding the requested names (if any) followed by `addresses` as
    /// rfc822Names; nil if OpenSSL cannot build it.
    static func subjectAltNameValue(requested: [UInt8]?, adding addresses: [[UInt8]]) -> [UInt8]? {
        let names: OpaquePointer?
        if let requested {
            names = requested.withUnsafeBufferPointer { buffer in
                var cursor = buffer.baseAddress
                return d2i_GENERAL_NAMES(nil, &cursor, buffer.count)
            }
        } else {
            names = GENERAL_NAMES_new()
        }
        guard let names else { return nil }
        defer { COpenSSL_GENERAL_NAMES_free(names) }
        for address in addresses {
            guard let name = GENERAL_NAME_new() else { return nil }
            guard let text = ASN1_IA5STRING_new() else {
                GENERAL_NAME_free(name)
                return nil
            }
            guard ASN1_STRING_set(text, address, Int32(address.count)) == 1 else {
                ASN1_IA5STRING_free(text)
                GENERAL_NAME_free(name)
                return nil
            }
            GENERAL_NAME_set0_value(name, GEN_EMAIL, UnsafeMutableRawPointer(text))
            guard COpenSSL_sk_GENERAL_NAME_push(names, name) > 0 else {
                GENERAL_NAME_free(name)
                return nil
            }
        }
        return OpenSSLBytes.der(names, i2d_GENERAL_NAMES)
    }
}
