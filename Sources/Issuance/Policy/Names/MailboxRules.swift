/// E-mail rules as `names.email` and `names.deny_email` write them: `example.com` for any
/// mailbox at that domain, `.example.com` for any mailbox at a domain below it, and
/// `ops@example.org` for that one address.
///
/// The domain forms are a `DomainRules`; single addresses are a set. Addresses are compared
/// without regard to ASCII case, the local part too: RFC 5321 lets a server tell `Ops@`
/// from `ops@`, but none that an appliance uses does, and a deny rule must not be dodged
/// by capitals.
struct MailboxRules: Sendable {
    private var domains = DomainRules()
    private var addresses: Set<ByteKey> = []

    var isEmpty: Bool { domains.isEmpty && addresses.isEmpty }

    /// Adds a rule as written (already checked).
    mutating func insert(rule: ArraySlice<UInt8>) {
        if rule.contains(ASCII.at) {
            addresses.insert(ByteKey(rule.asciiLowercased()))
        } else {
            domains.insert(rule: rule)
        }
    }

    /// Whether `mailbox` (well-formed, lowercase) matches a rule.
    func matches(_ mailbox: ArraySlice<UInt8>) -> Bool {
        if addresses.contains(ByteKey(mailbox)) { return true }
        guard let at = mailbox.firstIndex(of: ASCII.at) else { return false }
        return domains.matches(mailbox[(at + 1)...])
    }
}
