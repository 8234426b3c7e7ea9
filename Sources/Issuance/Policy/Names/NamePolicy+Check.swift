extension NamePolicy {
    /// Why one name is refused, decided without building any text: the reason is written
    /// only for the name refused (`rejection`), so an allowed name costs its lookups and
    /// nothing else.
    enum Refusal {
        case denied(List)
        /// A wildcard that would cover a name `deny_dns` denies.
        case deniedByWildcard
        case outside(List)
        /// The profile sets no allow list of the type.
        case notSet(List)
        case wildcardsNotAllowed
        /// A wildcard whose base is not below an allowed `.` rule.
        case wildcardOutside
        case userInfo
    }

    /// Refuses the request when a name its certificate would carry is not allowed: every
    /// requested SAN entry, every subject e-mail address and every subject CN, in that
    /// order; the first one refused is the reason. The names have passed `NameSyntax`
    /// already (`CertificateNames`).
    func check(_ names: CertificateNames) throws(Rejection) {
        // Borrowed through a buffer: copying each entry out of the array would retain and
        // release its value and its text, which costs more than the lookups themselves.
        if let (position, refusal) = names.subjectAltNames.withUnsafeBufferPointer({ firstRefusal(in: $0) }) {
            let name = names.subjectAltNames[position]
            guard let refusal else {
                throw Rejection(.nameNotAllowed, "Subject Alternative Name \(name.kind.asn1Name) \(QuotedName.quoted(Array(name.readable.utf8))) is refused by \(profileOwner) [names], which allows only DNS names, IP addresses, e-mail addresses and URIs")
            }
            let shown = name.kind == .iPAddress ? Self.describeAddress(name.value[...]) : name.shown
            throw rejection(refusal, "\(name.kind.nameDescription) \(shown)", name: name.value)
        }
        for address in names.subjectEmailAddresses {
            if let refusal = address.withUnsafeBufferPointer({ mailboxRefusal($0) }) {
                throw rejection(refusal, "subject e-mail address \(QuotedName.quoted(address))", name: address)
            }
        }
        for commonName in names.commonNames {
            try checkCommonName(commonName)
        }
    }

    /// The first SAN entry refused, with why; nil for the refusal of an entry of a type no
    /// policy allows (otherName, directoryName…).
    private func firstRefusal(in names: UnsafeBufferPointer<GeneralName>) -> (Int, Refusal?)? {
        for position in names.indices {
            let refusal: Refusal?
            switch names[position].kind {
            case .dnsName:
                refusal = names[position].value.withUnsafeBufferPointer { dnsRefusal($0) }
            case .rfc822Name:
                refusal = names[position].value.withUnsafeBufferPointer { mailboxRefusal($0) }
            case .iPAddress:
                refusal = names[position].value.withUnsafeBufferPointer { addressRefusal($0) }
            case .uniformResourceIdentifier:
                refusal = uriRefusal(names[position].value[...])
            case .otherName, .x400Address, .directoryName, .ediPartyName, .registeredID:
                return (position, nil)
            }
            if let refusal { return (position, refusal) }
        }
        return nil
    }

    /// A DNS name, in any case; `*.base` for a wildcard.
    private func dnsRefusal(_ name: UnsafeBufferPointer<UInt8>) -> Refusal? {
        let isWildcard = name.count > 2 && name[0] == ASCII.asterisk && name[1] == ASCII.dot
        if isWildcard {
            let match = dns.matchWildcard(oneLabelBelow: UnsafeBufferPointer(rebasing: name[2...]))
            if match.denied { return .deniedByWildcard }
            if !isSet(.dns) { return .notSet(.dns) }
            if !allowWildcards { return .wildcardsNotAllowed }
            return match.allowed ? nil : .wildcardOutside
        }
        let match = dns.match(name)
        if match.denied { return .denied(.denyDNS) }
        if !isSet(.dns) { return .notSet(.dns) }
        return match.allowed ? nil : .outside(.dns)
    }

    private func mailboxRefusal(_ mailbox: UnsafeBufferPointer<UInt8>) -> Refusal? {
        let match = email.match(mailbox)
        if match.denied { return .denied(.denyEmail) }
        if !isSet(.email) { return .notSet(.email) }
        return match.allowed ? nil : .outside(.email)
    }

    /// An IPv4-mapped IPv6 address is checked as the IPv4 address it carries; a deny rule
    /// for either form refuses it.
    private func addressRefusal(_ octets: UnsafeBufferPointer<UInt8>) -> Refusal? {
        let isMapped = octets.count == 16 && octets[0..<10].allSatisfy { $0 == 0 } && octets[10] == 0xFF && octets[11] == 0xFF
        let address = isMapped ? UnsafeBufferPointer(rebasing: octets[12...]) : octets
        if denyIP.contains(address) || (isMapped && denyIP.contains(octets)) { return .denied(.denyIP) }
        if !isSet(.ip) { return .notSet(.ip) }
        return ip.contains(address) ? nil : .outside(.ip)
    }

    private func uriRefusal(_ uri: ArraySlice<UInt8>) -> Refusal? {
        // NameSyntax made sure there is a scheme; without one, nothing could match.
        guard let parts = URIParts(uri) else { return isSet(.uri) ? .outside(.uri) : .notSet(.uri) }
        if parts.userInfo != nil { return .userInfo }
        let normalised = URIParts.normalised(uri, parts)
        if denyURI.matches(normalised) { return .denied(.denyURI) }
        if !isSet(.uri) { return .notSet(.uri) }
        return self.uri.matches(normalised) ? nil : .outside(.uri)
    }

    private func checkCommonName(_ value: [UInt8]?) throws(Rejection) {
        guard let value else {
            guard freeTextCN else {
                throw Rejection(.nameNotAllowed, "a subject CN that does not convert to UTF-8 is not a DNS name nor an IP address, refused while \(profileOwner) \(Self.freeTextCNKey) = false")
            }
            return
        }
        switch CommonNameKind(value[...]) {
        case .ipAddress(let octets):
            if let refusal = octets.withUnsafeBufferPointer({ addressRefusal($0) }) {
                throw rejection(refusal, "subject CN \(QuotedName.quoted(value)) (an IP address)", name: octets)
            }
        case .dnsName:
            if let problem = NameSyntax.dnsNameProblem(value[...], wildcard: true) {
                throw Rejection(.malformedName, "subject CN \(QuotedName.quoted(value)) looks like a DNS name but is malformed: \(problem)")
            }
            if let refusal = value.withUnsafeBufferPointer({ dnsRefusal($0) }) {
                throw rejection(refusal, "subject CN \(QuotedName.quoted(value)) (a DNS name)", name: value)
            }
        case .text:
            guard freeTextCN else {
                throw Rejection(.nameNotAllowed, "subject CN \(QuotedName.quoted(value)) is neither a DNS name nor an IP address, refused while \(profileOwner) \(Self.freeTextCNKey) = false")
            }
        }
    }

    /// The reason for a refused name: `what` names it ("DNS name \"vpn.example.com\""),
    /// then the rule and the profile. `name` is the value, for a wildcard's base.
    private func rejection(_ refusal: Refusal, _ what: String, name: [UInt8]) -> Rejection {
        let reason: String
        switch refusal {
        case .denied(let list):
            reason = "\(what) is denied by \(profileOwner) \(Self.key(list))"
        case .deniedByWildcard:
            reason = "\(what) is denied by \(profileOwner) \(Self.key(.denyDNS)): it covers a name that list denies"
        case .outside(let list):
            reason = "\(what) is outside \(profileOwner) \(Self.key(list))"
        case .notSet(let list):
            reason = "\(what) is outside \(profileOwner) \(Self.key(list)), which is not set: the profile allows no name of this type"
        case .wildcardsNotAllowed:
            reason = "\(what) is a wildcard, refused while \(profileOwner) \(Self.wildcardsKey) = false"
        case .wildcardOutside:
            reason = "\(what) is outside \(profileOwner) \(Self.key(.dns)): a wildcard needs \(QuotedName.quoted(name.dropFirst())) or a rule above it there"
        case .userInfo:
            reason = "\(what) carries user information (before an @ in its authority), which \(profileOwner) [names] refuses"
        }
        return Rejection(.nameNotAllowed, reason)
    }

    /// `10.20.0.1`, `2001:db8::1`, or `::ffff:10.20.0.1 (IPv4 10.20.0.1)`.
    static func describeAddress(_ octets: ArraySlice<UInt8>) -> String {
        let text = IPAddressText.text(octets)
        guard let mapped = IPAddressText.mappedIPv4(octets) else { return text }
        return "\(text) (IPv4 \(IPAddressText.text(mapped)))"
    }
}
