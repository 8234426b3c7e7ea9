/// The Extended Key Usage names `certificate.default_extended_key_usage` accepts, the
/// same short names SCEPman's DefaultEkus and OpenSSL use, with their OIDs (RFC 5280
/// 4.2.1.12), in the order messages list them; and the one check of a dotted OID.
///
/// The configuration validates entries with ``problemWithOID(_:)`` and the certificate builder
/// maps them with ``oid(for:)``: both read this table, so a name or an OID the
/// configuration accepts is always one the builder can encode.
public enum ExtendedKeyUsage {
    public static let names: [(name: String, oid: String)] = [
        ("serverAuth", "1.3.6.1.5.5.7.3.1"),
        ("clientAuth", "1.3.6.1.5.5.7.3.2"),
        ("codeSigning", "1.3.6.1.5.5.7.3.3"),
        ("emailProtection", "1.3.6.1.5.5.7.3.4"),
        ("timeStamping", "1.3.6.1.5.5.7.3.8"),
        ("OCSPSigning", "1.3.6.1.5.5.7.3.9"),
    ]

    /// The dotted OID for a name, or the entry itself when it is a valid dotted OID.
    public static func oid(for entry: String) -> String? {
        if let known = names.first(where: { $0.name == entry }) { return known.oid }
        return problemWithOID(entry) == nil ? entry : nil
    }

    /// "codeSigning (1.3.6.1.5.5.7.3.3)" for a usage of the table, the OID alone otherwise.
    public static func describe(oid: String) -> String {
        guard let known = names.first(where: { $0.oid == oid }) else { return oid }
        return "\(known.name) (\(oid))"
    }

    /// Why `text` is not a dotted OID that DER can encode (X.660: first arc 0–2, second
    /// arc at most 39 under 0 and 1, no leading zeros), or nil when it is one.
    public static func problemWithOID(_ text: String) -> String? {
        let arcs = text.split(separator: ".", omittingEmptySubsequences: false)
        guard arcs.count >= 2 else {
            return "a dotted OID needs at least two arcs, like 1.3.6.1.5.5.7.3.17"
        }
        var values: [UInt64] = []
        for arc in arcs {
            guard !arc.isEmpty, arc.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                return "an OID is made of numbers separated by single dots"
            }
            guard arc == "0" || !arc.hasPrefix("0") else {
                return "OID arcs are written without leading zeros"
            }
            guard let value = UInt64(arc) else {
                return "OID arc \(arc) is too large"
            }
            values.append(value)
        }
        guard values[0] <= 2 else {
            return "the first arc of an OID is 0, 1 or 2"
        }
        if values[0] < 2, values[1] > 39 {
            return "under arc \(values[0]) the second arc is at most 39"
        }
        return nil
    }
}
