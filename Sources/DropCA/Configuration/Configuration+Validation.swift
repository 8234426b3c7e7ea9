import Foundation
import Issuance

extension Configuration {
    /// The extended key usage names the config accepts: the issuance engine's list.
    public static var extendedKeyUsageNames: [(name: String, oid: String)] { ExtendedKeyUsageName.all }

    /// The EC curves a policy may allow: every curve the issuance engine knows by name.
    public static var supportedCurveNames: [String] { NamedCurve.known.map(\.name) }

    /// OpenSSL and SEC names operators often have at hand for the NIST curves.
    static let curveAliases = ["prime256v1": "P-256", "secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"]
}

extension Configuration.Certificate {
    /// `defaultExtendedKeyUsage` with names replaced by their dotted OIDs, which is what a
    /// certificate carries. Entries are validated at load time, so all of them map.
    public var defaultExtendedKeyUsageOIDs: [String] {
        defaultExtendedKeyUsage.map { Configuration.extendedKeyUsageOID(for: $0) ?? $0 }
    }
}

extension Configuration {
    /// The OID for an EKU entry (a name or a dotted OID), or nil when it is neither.
    static func extendedKeyUsageOID(for entry: String) -> String? {
        if let known = extendedKeyUsageNames.first(where: { $0.name == entry }) {
            return known.oid
        }
        return problemWithOID(entry) == nil ? entry : nil
    }

    /// Why `text` is not a dotted OID that can be DER-encoded, or nil when it is one.
    static func problemWithOID(_ text: String) -> String? {
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

    /// Why `text` cannot go into a certificate as a URL, or nil when it can.
    ///
    /// Certificates carry URLs as IA5String, and clients fetch them without a user to ask,
    /// so only plain-ASCII absolute URLs with a host and one of `schemes` are accepted.
    static func problemWithURL(_ text: String, schemes: [String]) -> String? {
        let allowed = schemes.map { "\($0)://" }
        let expected = allowed.count > 1
            ? allowed.dropLast().joined(separator: ", ") + " or " + (allowed.last ?? "")
            : allowed.joined()
        let quoted = String(reflecting: text)
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return "\(quoted) contains a space or a character that is not plain ASCII; percent-encode it"
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            return "\(quoted) is not a URL; expected an \(expected) URL"
        }
        guard schemes.contains(scheme.lowercased()) else {
            return "\(quoted) must be an \(expected) URL"
        }
        guard let host = components.host, !host.isEmpty else {
            return "\(quoted) has no host name"
        }
        return nil
    }

    /// A suggestion for a near miss (`serverauth`, `p256`, `SHA256`): the known value that
    /// matches when case and punctuation are ignored, or an alias's proper name.
    static func suggestion(for text: String, among known: [String], aliases: [String: String] = [:]) -> String? {
        func folded(_ value: String) -> String {
            value.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " }
        }
        let key = folded(text)
        if let match = known.first(where: { folded($0) == key }) {
            return match
        }
        return aliases.first(where: { folded($0.key) == key })?.value
    }
}
