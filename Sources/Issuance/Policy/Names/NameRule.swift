/// One entry of a `[names]` list, read: what `NamePolicy` indexes.
///
/// Rules are held to the same syntax as the names they match (`NameSyntax`), so a rule that
/// could never match, or that would match more than it says, is an error in the
/// configuration rather than a surprise at issuance.
enum NameRule {
    /// `names.dns`, or the domain forms of `names.email`: lowercase, a leading dot kept.
    case domain([UInt8])
    /// `names.ip`: the network's octets (host bits zero) and the prefix length.
    case prefix(octets: [UInt8], length: Int)
    /// One address of `names.email`, lowercase.
    case mailbox([UInt8])
    /// `names.uri`, normalised (scheme and host lowercase).
    case uri([UInt8])

    struct Problem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// What two entries must share to be the same rule.
    var key: [UInt8] {
        switch self {
        case .domain(let bytes), .mailbox(let bytes), .uri(let bytes): bytes
        case .prefix(let octets, let length): octets + [UInt8(length)]
        }
    }

    static func parse(_ entry: String, for list: NamePolicy.List) -> Result<NameRule, Problem> {
        let bytes = Array(entry.utf8)[...]
        switch list {
        case .dns, .denyDNS: return domain(bytes)
        case .ip, .denyIP: return prefix(bytes)
        case .email, .denyEmail:
            if bytes.contains(ASCII.at) {
                if let problem = NameSyntax.mailboxProblem(bytes) { return .failure(Problem(problem)) }
                return .success(.mailbox(Array(bytes.asciiLowercased())))
            }
            return domain(bytes)
        case .uri, .denyURI: return uri(bytes)
        }
    }

    private static func domain(_ bytes: ArraySlice<UInt8>) -> Result<NameRule, Problem> {
        if bytes.contains(ASCII.asterisk) {
            return .failure(Problem("write .example.com for the names below example.com; wildcards are not rules"))
        }
        let name = bytes.first == ASCII.dot ? bytes.dropFirst() : bytes
        if let problem = NameSyntax.dnsNameProblem(name, wildcard: false) {
            return .failure(Problem(problem))
        }
        return .success(.domain(Array(bytes.asciiLowercased())))
    }

    private static func prefix(_ bytes: ArraySlice<UInt8>) -> Result<NameRule, Problem> {
        let slash = bytes.firstIndex(of: ASCII.slash)
        let addressText = slash.map { bytes[..<$0] } ?? bytes
        guard var octets = IPAddressText.parse(addressText) else {
            return .failure(Problem("\(QuotedName.quoted(addressText)) is not an IPv4 or IPv6 address"))
        }
        let width = octets.count * 8
        var length = width
        if let slash {
            let lengthText = bytes[(slash + 1)...]
            guard !lengthText.isEmpty, lengthText.count <= 3, lengthText.allSatisfy(ASCII.isDigit),
                  let parsed = Int(String(decoding: lengthText, as: UTF8.self)), parsed <= width else {
                return .failure(Problem("the prefix length after / must be a number from 0 to \(width)"))
            }
            length = parsed
        }
        let network = AddressPrefixes.masked(octets, length: length)
        guard network == octets else {
            let suggestion = IPAddressText.text(network[...]) + "/\(length)"
            return .failure(Problem("it has bits set after its first \(length); did you mean \(suggestion)?"))
        }
        // A rule inside ::ffff:0:0/96 speaks of IPv4 addresses, and mapped addresses in
        // requests are checked as IPv4: store it as the IPv4 range it is.
        if length >= 96, let mapped = IPAddressText.mappedIPv4(octets[...]) {
            octets = Array(mapped)
            length -= 96
        }
        return .success(.prefix(octets: octets, length: length))
    }

    private static func uri(_ bytes: ArraySlice<UInt8>) -> Result<NameRule, Problem> {
        if let problem = NameSyntax.uriProblem(bytes) { return .failure(Problem(problem)) }
        guard let parts = URIParts(bytes) else { return .failure(Problem("it has no scheme")) }
        if parts.userInfo != nil {
            return .failure(Problem("it holds user information (before an @), which no allowed URI may carry"))
        }
        // Without the / after the host, https://printers.example.com would also be a
        // prefix of https://printers.example.com.attacker.test/.
        if let host = parts.host, (parts.port?.endIndex ?? host.endIndex) == bytes.endIndex {
            return .failure(Problem("end it with / after the host (or port), so that it cannot match a longer host name"))
        }
        return .success(.uri(URIParts.normalised(bytes)))
    }
}
