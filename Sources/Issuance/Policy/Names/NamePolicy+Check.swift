extension NamePolicy {
    /// Refuses the request when a name its certificate would carry is not allowed: every
    /// requested SAN entry, every subject e-mail address and every subject CN, in that
    /// order; the first one refused is the reason.
    ///
    /// The names have passed `NameSyntax` already (`CertificateNames`). Reasons are built
    /// only for the name refused: the descriptions are closures, so an allowed name costs
    /// its lookups and nothing else.
    func check(_ names: CertificateNames) throws(Rejection) {
        for name in names.subjectAltNames {
            let value = name.value[...]
            switch name.kind {
            case .dnsName:
                try checkDNSName(value.asciiLowercased(), { "DNS name \(name.shown)" })
            case .rfc822Name:
                try checkMailbox(value.asciiLowercased(), { "e-mail address \(name.shown)" })
            case .iPAddress:
                try checkAddress(value, { "IP address \(Self.describeAddress(value))" })
            case .uniformResourceIdentifier:
                try checkURI(value, { "URI \(name.shown)" })
            case .otherName, .x400Address, .directoryName, .ediPartyName, .registeredID:
                throw Rejection(.nameNotAllowed, "Subject Alternative Name \(name.kind.asn1Name) \(QuotedName.quoted(Array(name.readable.utf8))) is refused by \(profileOwner) [names], which allows only DNS names, IP addresses, e-mail addresses and URIs")
            }
        }
        for address in names.subjectEmailAddresses {
            try checkMailbox(address[...].asciiLowercased(), { "subject e-mail address \(QuotedName.quoted(address))" })
        }
        for commonName in names.commonNames {
            try checkCommonName(commonName)
        }
    }

    private func checkDNSName(_ name: ArraySlice<UInt8>, _ describe: () -> String) throws(Rejection) {
        let start = name.startIndex
        let isWildcard = name.count > 2 && name[start] == ASCII.asterisk && name[start + 1] == ASCII.dot
        if isWildcard {
            let base = name[(start + 2)...]
            if denyDNS.matchesSomeName(oneLabelBelow: base) {
                throw Rejection(.nameNotAllowed, "\(describe()) is denied by \(profileOwner) \(Self.key(.denyDNS)): it covers a name that list denies")
            }
            let dns = try allowList(dns, .dns, describe)
            guard allowWildcards else {
                throw Rejection(.nameNotAllowed, "\(describe()) is a wildcard, refused while \(profileOwner) \(Self.wildcardsKey) = false")
            }
            guard dns.matchesEveryName(oneLabelBelow: base) else {
                throw Rejection(.nameNotAllowed, "\(describe()) is outside \(profileOwner) \(Self.key(.dns)): a wildcard needs \(QuotedName.quoted([ASCII.dot] + base)) or a rule above it there")
            }
            return
        }
        if denyDNS.matches(name) {
            throw Rejection(.nameNotAllowed, "\(describe()) is denied by \(profileOwner) \(Self.key(.denyDNS))")
        }
        guard try allowList(dns, .dns, describe).matches(name) else {
            throw Rejection(.nameNotAllowed, "\(describe()) is outside \(profileOwner) \(Self.key(.dns))")
        }
    }

    private func checkMailbox(_ mailbox: ArraySlice<UInt8>, _ describe: () -> String) throws(Rejection) {
        if denyEmail.matches(mailbox) {
            throw Rejection(.nameNotAllowed, "\(describe()) is denied by \(profileOwner) \(Self.key(.denyEmail))")
        }
        guard try allowList(email, .email, describe).matches(mailbox) else {
            throw Rejection(.nameNotAllowed, "\(describe()) is outside \(profileOwner) \(Self.key(.email))")
        }
    }

    /// An IPv4-mapped IPv6 address is checked as the IPv4 address it carries; a deny rule
    /// for either form refuses it.
    private func checkAddress(_ octets: ArraySlice<UInt8>, _ describe: () -> String) throws(Rejection) {
        let mapped = IPAddressText.mappedIPv4(octets)
        let address = mapped ?? octets
        if denyIP.contains(address) || (mapped != nil && denyIP.contains(octets)) {
            throw Rejection(.nameNotAllowed, "\(describe()) is denied by \(profileOwner) \(Self.key(.denyIP))")
        }
        guard try allowList(ip, .ip, describe).contains(address) else {
            throw Rejection(.nameNotAllowed, "\(describe()) is outside \(profileOwner) \(Self.key(.ip))")
        }
    }

    private func checkURI(_ uri: ArraySlice<UInt8>, _ describe: () -> String) throws(Rejection) {
        if URIParts(uri)?.userInfo != nil {
            throw Rejection(.nameNotAllowed, "\(describe()) carries user information (before an @ in its authority), which \(profileOwner) [names] refuses")
        }
        let normalised = URIParts.normalised(uri)
        if denyURI.matches(normalised) {
            throw Rejection(.nameNotAllowed, "\(describe()) is denied by \(profileOwner) \(Self.key(.denyURI))")
        }
        guard try allowList(self.uri, .uri, describe).matches(normalised) else {
            throw Rejection(.nameNotAllowed, "\(describe()) is outside \(profileOwner) \(Self.key(.uri))")
        }
    }

    private func checkCommonName(_ value: [UInt8]?) throws(Rejection) {
        guard let value else {
            guard freeTextCN else {
                throw Rejection(.nameNotAllowed, "a subject CN that does not convert to UTF-8 is not a DNS name nor an IP address, refused while \(profileOwner) \(Self.freeTextCNKey) = false")
            }
            return
        }
        let shown = QuotedName.quoted(value)
        switch CommonNameKind(value[...]) {
        case .ipAddress(let octets):
            try checkAddress(octets[...], { "subject CN \(shown) (an IP address)" })
        case .dnsName:
            if let problem = NameSyntax.dnsNameProblem(value[...], wildcard: true) {
                throw Rejection(.malformedName, "subject CN \(shown) looks like a DNS name but is malformed: \(problem)")
            }
            try checkDNSName(value[...].asciiLowercased(), { "subject CN \(shown) (a DNS name)" })
        case .text:
            guard freeTextCN else {
                throw Rejection(.nameNotAllowed, "subject CN \(shown) is neither a DNS name nor an IP address, refused while \(profileOwner) \(Self.freeTextCNKey) = false")
            }
        }
    }

    /// The allow list of a type, or the refusal when the profile sets none.
    private func allowList<Rules>(_ rules: Rules?, _ list: List, _ describe: () -> String) throws(Rejection) -> Rules {
        guard let rules else {
            throw Rejection(.nameNotAllowed, "\(describe()) is outside \(profileOwner) \(Self.key(list)), which is not set: the profile allows no name of this type")
        }
        return rules
    }

    /// `10.20.0.1`, `2001:db8::1`, or `::ffff:10.20.0.1 (IPv4 10.20.0.1)`.
    static func describeAddress(_ octets: ArraySlice<UInt8>) -> String {
        let text = IPAddressText.text(octets)
        guard let mapped = IPAddressText.mappedIPv4(octets) else { return text }
        return "\(text) (IPv4 \(IPAddressText.text(mapped)))"
    }
}
