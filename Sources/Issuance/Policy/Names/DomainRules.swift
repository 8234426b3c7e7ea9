/// The DNS rules of a type, allow and deny lists together, as `names.dns`/`deny_dns` and
/// the domain forms of `names.email`/`deny_email` write them: `host.example.com` is that
/// name exactly, `.example.com` any name below example.com but not example.com itself.
///
/// Indexed so that the number of rules does not matter: a name is below a rule when one of
/// its label suffixes (`b.example.com`, `example.com`, `com` for `a.b.example.com`) is a
/// `.` rule, so a name costs one pass and one probe per label (`NameIndex`). Only whole
/// labels are looked up, so `evilexample.com` is never below `.example.com`. Names are
/// compared without regard to ASCII case (DNS names are case-insensitive, RFC 4343).
struct DomainRules: Sendable {
    enum Role {
        case allow, deny
    }

    /// What the lists say of one name.
    struct Match {
        let allowed: Bool
        let denied: Bool
    }

    private var index = NameIndex(holdsDNSNames: true)

    /// Adds a rule as written (already checked: a DNS name, with or without a leading dot).
    mutating func insert(rule: ArraySlice<UInt8>, as role: Role) {
        if rule.first == ASCII.dot {
            index.insert(rule.dropFirst(), role == .allow ? .allowBelow : .denyBelow)
            return
        }
        index.insert(rule, role == .allow ? .allowExact : .denyExact)
        if let dot = rule.firstIndex(of: ASCII.dot) {
            index.insert(rule[(dot + 1)...], role == .allow ? .allowParent : .denyParent)
        }
    }

    /// What the lists say of `name` (in any case, no wildcard): allowed when it is an exact
    /// allow rule or below a `.` allow rule; denied likewise.
    func match(_ name: UnsafeBufferPointer<UInt8>) -> Match {
        let (whole, suffixes) = index.lookup(name)
        return Match(
            allowed: whole.contains(.allowExact) || suffixes.contains(.allowBelow),
            denied: whole.contains(.denyExact) || suffixes.contains(.denyBelow)
        )
    }

    /// What the lists say of a wildcard `*.base`, which stands for every name one label
    /// below `base`: allowed when all of them are (`.base`, or a `.` rule above it),
    /// denied when any of them is (also an exact deny rule one label below `base`).
    func matchWildcard(oneLabelBelow base: UnsafeBufferPointer<UInt8>) -> Match {
        let (whole, suffixes) = index.lookup(base)
        return Match(
            allowed: whole.contains(.allowBelow) || suffixes.contains(.allowBelow),
            denied: !whole.isDisjoint(with: [.denyBelow, .denyParent]) || suffixes.contains(.denyBelow)
        )
    }
}
