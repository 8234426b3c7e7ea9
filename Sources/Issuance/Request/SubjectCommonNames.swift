internal import COpenSSL

/// The commonName values of a subject, as UTF-8: what a name policy judges a CN by.
///
/// A CN may be a UTF8String, PrintableString, BMPString, TeletexString or UniversalString;
/// OpenSSL converts each to UTF-8 (`ASN1_STRING_to_UTF8`), so `printer.example.com` is the
/// same name whichever string type the request chose.
enum SubjectCommonNames {
    /// Each CN in subject order; nil for one OpenSSL cannot convert (it is then judged as
    /// text that is no name).
    static func values(in name: OpaquePointer?) -> [[UInt8]?] {
        guard let name else { return [] }
        var values: [[UInt8]?] = []
        var position: Int32 = -1
        while true {
            position = X509_NAME_get_index_by_NID(name, NID_commonName, position)
            guard position >= 0 else { break }
            let entry = X509_NAME_get_entry(name, position)
            var utf8: UnsafeMutablePointer<UInt8>? = nil
            let length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry))
            if length >= 0, let utf8 {
                values.append(Array(UnsafeBufferPointer(start: utf8, count: Int(length))))
                COpenSSL_OPENSSL_free(utf8)
            } else {
                OpenSSLError.clear()
                values.append(nil)
            }
        }
        return values
    }
}
