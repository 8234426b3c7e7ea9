/// The e-mail rules, allow and deny lists together, as `names.email` and
/// `names.deny_email` write them: `example.com` for any mailbox at that domain,
/// `.example.com` for any mailbox at a domain below it, `ops@example.org` for that one
/// address.
///
/// The domain forms are a `DomainRules`; single addresses are a `NameIndex` of their own.
/// Addresses are compared without regard to ASCII case, the local part too: RFC 5321 lets
/// a server tell `Ops@` from `ops@`, but none that an appliance uses does, and a deny rule
/// must not be dodged by capitals.
struct MailboxRules: Sendable {
    private var domains = DomainRules()
    private var addresses = NameIndex(holdsDNSNames: false)

    /// Adds a rule as written (already checked).
    mutating func insert(rule: ArraySlice<UInt8>, as role: DomainRules.Role) {
        if rule.contains(ASCII.at) {
            addresses.insert(rule, role == .allow ? .allowExact : .denyExact)
        } else {
            domains.insert(rule: rule, as: role)
        }
    }

    /// What the lists say of `mailbox` (well-formed, in any case).
    func match(_ mailbox: UnsafeBufferPointer<UInt8>) -> DomainRules.Match {
        let address = addresses.isEmpty ? [] : addresses.flags(of: mailbox, hash: NameIndex.hash(mailbox))
        guard let at = mailbox.firstIndex(of: ASCII.at) else {
            return DomainRules.Match(allowed: address.contains(.allowExact), denied: address.contains(.denyExact))
        }
        let domain = domains.match(UnsafeBufferPointer(rebasing: mailbox[(at + 1)...]))
        return DomainRules.Match(
            allowed: address.contains(.allowExact) || domain.allowed,
            denied: address.contains(.denyExact) || domain.denied
        )
    }
}
