import Foundation
import Issuance

extension Configuration {
    /// The EC curves a policy may allow: every curve the issuance engine knows by name.
    public static var supportedCurveNames: [String] { NamedCurve.known.map(\.name) }

    /// OpenSSL and SEC names operators often have at hand for the NIST curves.
    static let curveAliases = ["prime256v1": "P-256", "secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"]
}

extension Configuration {
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
