/// Whether a name is well-formed, byte for byte, as the certificate would carry it: the
/// rules every request meets, with or without a name policy (the README's "Names").
///
/// Relying parties compare names, not intentions: a dNSName with a trailing dot, raw UTF-8
/// or an empty label is matched differently, or not at all, by different clients, and a
/// CA that signs one vouches for something nobody can check. Each function returns why its
/// bytes are malformed, or nil; nothing is allocated on the way to a nil, because every
/// name of every request passes here.
enum NameSyntax {
    /// Longest DNS name in octets (RFC 1035 2.3.4: 255 on the wire, 253 as text).
    static let maximumDNSNameLength = 253
    static let maximumLabelLength = 63
    /// RFC 5321 4.5.3.1.1.
    static let maximumLocalPartLength = 64

    /// Why `name` is not a DNS name in preferred name syntax (RFC 5280 4.2.1.6, RFC 1034
    /// 3.5 as relaxed by RFC 1123 2.1): labels of letters, digits and hyphens, 1 to 63
    /// octets, neither starting nor ending with a hyphen, at most 253 octets in all, no
    /// empty label and no trailing dot, ASCII only (A-labels, `xn--…`, for internationalised
    /// names). With `wildcard`, the first label may be `*` (and only the whole label).
    static func dnsNameProblem(_ name: ArraySlice<UInt8>, wildcard: Bool) -> String? {
        // Every name of every request comes here: one pass over the bytes decides, and
        // only a malformed name takes the slower path that says why.
        if name.withUnsafeBufferPointer({ isWellFormedDNSName($0, wildcard: wildcard) }) { return nil }
        // The two agree on every name (NameSyntaxTests); should they not, refuse anyway.
        return dnsNameDiagnosis(name, wildcard: wildcard) ?? "it is not in preferred name syntax"
    }

    /// The rules of `dnsNameProblem` in one pass, without a reason.
    private static func isWellFormedDNSName(_ name: UnsafeBufferPointer<UInt8>, wildcard: Bool) -> Bool {
        let count = name.count
        guard count > 0, count <= maximumDNSNameLength else { return false }
        if count == 1 && name[0] == ASCII.asterisk { return false }
        var labelStart = 0
        var index = 0
        while true {
            if index == count || name[index] == ASCII.dot {
                let length = index - labelStart
                guard length > 0, length <= maximumLabelLength else { return false }
                if !(length == 1 && name[labelStart] == ASCII.asterisk) {
                    guard name[labelStart] != ASCII.hyphen, name[index - 1] != ASCII.hyphen else { return false }
                }
                if index == count { return true }
                labelStart = index + 1
            } else {
                let byte = name[index]
                if byte == ASCII.asterisk {
                    // Only the whole first label.
                    guard wildcard, index == 0, index + 1 < count, name[index + 1] == ASCII.dot else { return false }
                } else if !ASCII.isLetterDigitHyphen(byte) {
                    return false
                }
            }
            index += 1
        }
    }

    /// Why a name that `isWellFormedDNSName` refused is malformed, in the order an operator
    /// would fix it.
    private static func dnsNameDiagnosis(_ name: ArraySlice<UInt8>, wildcard: Bool) -> String? {
        if name.isEmpty { return "it is empty" }
        if name.contains(where: { $0 >= 0x80 }) {
            return "it is not ASCII; write an internationalised name as its A-label (xn--…)"
        }
        if name.count > maximumDNSNameLength {
            return "it is \(name.count) octets long; a DNS name has at most \(maximumDNSNameLength)"
        }
        if name.last == ASCII.dot {
            return "it ends in a dot; write it without the trailing dot"
        }
        var labelStart = name.startIndex
        var isFirst = true
        while true {
            let labelEnd = name[labelStart...].firstIndex(of: ASCII.dot) ?? name.endIndex
            if let problem = labelProblem(name[labelStart..<labelEnd], isFirst: isFirst, wildcard: wildcard) {
                return problem
            }
            guard labelEnd < name.endIndex else { break }
            labelStart = labelEnd + 1
            isFirst = false
        }
        if isFirst && name.count == 1 && name.first == ASCII.asterisk {
            return "a wildcard needs a name below it (*.example.com)"
        }
        return nil
    }

    private static func labelProblem(_ label: ArraySlice<UInt8>, isFirst: Bool, wildcard: Bool) -> String? {
        guard let first = label.first, let last = label.last else {
            return "it has an empty label (a leading dot or two dots in a row)"
        }
        if label.count == 1 && first == ASCII.asterisk {
            if wildcard && isFirst { return nil }
            return wildcard ? "a wildcard is allowed only as the whole first label (*.example.com)" : "a wildcard is not allowed here"
        }
        if label.count > maximumLabelLength {
            return "its label \(QuotedName.quoted(label)) is \(label.count) octets long; a label has at most \(maximumLabelLength)"
        }
        for byte in label where !ASCII.isLetterDigitHyphen(byte) {
            if byte == ASCII.asterisk {
                return wildcard ? "a wildcard is allowed only as the whole first label (*.example.com)" : "a wildcard is not allowed here"
            }
            return "it holds \(QuotedName.quoted([byte])), which is not a letter, digit or hyphen"
        }
        if first == ASCII.hyphen || last == ASCII.hyphen {
            return "its label \(QuotedName.quoted(label)) starts or ends with a hyphen"
        }
        return nil
    }

    /// Why `address` is not a plain mailbox, `local-part@domain` (RFC 5280 4.2.1.6 with RFC
    /// 5321 4.1.2): a dot-atom local part of at most 64 octets and a domain that is a DNS
    /// name. Quoted local parts, address literals and non-ASCII addresses are refused: no
    /// appliance needs them, and relying parties compare them in different ways.
    static func mailboxProblem(_ address: ArraySlice<UInt8>) -> String? {
        if address.isEmpty { return "it is empty" }
        if address.contains(where: { $0 >= 0x80 }) {
            return "it is not ASCII; internationalised addresses are not accepted"
        }
        guard let at = address.firstIndex(of: ASCII.at) else {
            return "it has no @; a mailbox is local-part@domain"
        }
        if address[(at + 1)...].contains(ASCII.at) {
            return "it has more than one @"
        }
        let local = address[..<at]
        let domain = address[(at + 1)...]
        if local.isEmpty { return "its local part (before the @) is empty" }
        if local.count > maximumLocalPartLength {
            return "its local part is \(local.count) octets long; at most \(maximumLocalPartLength) are allowed"
        }
        if local.first == ASCII.quote { return "a quoted local part is not accepted" }
        if local.first == ASCII.dot || local.last == ASCII.dot {
            return "its local part starts or ends with a dot"
        }
        var previous: UInt8 = 0
        for byte in local {
            if byte == ASCII.dot && previous == ASCII.dot { return "its local part has two dots in a row" }
            if byte != ASCII.dot && !ASCII.isAtomText(byte) {
                return "its local part holds \(QuotedName.quoted([byte])), which a plain mailbox may not hold"
            }
            previous = byte
        }
        if domain.first == ASCII.openBracket { return "an address literal ([…]) is not accepted as its domain" }
        if let problem = dnsNameProblem(domain, wildcard: false) {
            return "its domain \(QuotedName.quoted(domain)) is not a DNS name: \(problem)"
        }
        return nil
    }

    /// Why `octets` are not an iPAddress: 4 octets for IPv4, 16 for IPv6 (RFC 5280 4.2.1.6).
    static func ipAddressProblem(_ octets: ArraySlice<UInt8>) -> String? {
        octets.count == 4 || octets.count == 16 ? nil
            : "it has \(octets.count) octets; an iPAddress has 4 (IPv4) or 16 (IPv6)"
    }

    /// Why `uri` is not an absolute URI with a scheme (RFC 5280 4.2.1.6, RFC 3986): only the
    /// characters RFC 3986 allows, `%` followed by two hex digits, a scheme, something
    /// after it, and a host that is a DNS name or an IP address when there is an authority.
    static func uriProblem(_ uri: ArraySlice<UInt8>) -> String? {
        if uri.isEmpty { return "it is empty" }
        var index = uri.startIndex
        while index < uri.endIndex {
            let byte = uri[index]
            if byte == ASCII.percent {
                guard index + 2 < uri.endIndex, ASCII.isHexDigit(uri[index + 1]), ASCII.isHexDigit(uri[index + 2]) else {
                    return "a % in it is not followed by two hex digits"
                }
                index += 3
                continue
            }
            if byte >= 0x80 { return "it is not ASCII; percent-encode it" }
            if byte <= 0x20 || byte == 0x7F { return "it holds a space or a control character" }
            if !ASCII.isURICharacter(byte) {
                return "it holds \(QuotedName.quoted([byte])), which a URI may not hold unencoded"
            }
            index += 1
        }
        guard let parts = URIParts(uri) else {
            return "it has no scheme (such as https:); only absolute URIs are allowed"
        }
        if parts.afterScheme.isEmpty { return "it has nothing after its scheme" }
        guard let host = parts.host else { return nil }
        if host.isEmpty { return "it names no host after //" }
        if host.first == ASCII.openBracket {
            guard host.last == ASCII.closeBracket, IPAddressText.parse(host.dropFirst().dropLast(), family: .v6) != nil else {
                return "its host \(QuotedName.quoted(host)) is not an IPv6 address in brackets"
            }
        } else if IPAddressText.parse(host, family: .v4) == nil, let problem = dnsNameProblem(host, wildcard: false) {
            return "its host \(QuotedName.quoted(host)) is neither an IP address nor a DNS name: \(problem)"
        }
        if let port = parts.port, !port.allSatisfy(ASCII.isDigit) {
            return "its port \(QuotedName.quoted(port)) is not a number"
        }
        return nil
    }

    /// The check for one requested SAN entry; nil for the kinds without syntax rules here
    /// (otherName, directoryName…: OpenSSL has parsed them, and a name policy refuses them).
    static func problem(with name: GeneralName) -> String? {
        let value = name.value[...]
        switch name.kind {
        case .dnsName: return dnsNameProblem(value, wildcard: true)
        case .rfc822Name: return mailboxProblem(value)
        case .iPAddress: return ipAddressProblem(value)
        case .uniformResourceIdentifier: return uriProblem(value)
        case .otherName, .x400Address, .directoryName, .ediPartyName, .registeredID: return nil
        }
    }
}

/// The bytes the name rules turn on.
enum ASCII {
    static let dot = UInt8(ascii: ".")
    static let asterisk = UInt8(ascii: "*")
    static let hyphen = UInt8(ascii: "-")
    static let at = UInt8(ascii: "@")
    static let quote = UInt8(ascii: "\"")
    static let percent = UInt8(ascii: "%")
    static let colon = UInt8(ascii: ":")
    static let slash = UInt8(ascii: "/")
    static let question = UInt8(ascii: "?")
    static let hash = UInt8(ascii: "#")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    static func isLetterDigitHyphen(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) || byte == hyphen }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66) }
    static func isUppercase(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    static func lowercased(_ byte: UInt8) -> UInt8 { isUppercase(byte) ? byte | 0x20 : byte }

    /// RFC 5322 3.2.3 atext: what a dot-atom local part is made of.
    static func isAtomText(_ byte: UInt8) -> Bool {
        if isLetter(byte) || isDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
             UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
             UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 3986 2.2 and 2.3: unreserved and reserved characters (`%` is handled apart).
    static func isURICharacter(_ byte: UInt8) -> Bool {
        if isLetter(byte) || isDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }
}
