/// DNS names and the names below them, as `names.dns`, `names.deny_dns` and the domain
/// forms of `names.email` write them: `host.example.com` is that name exactly,
/// `.example.com` any name below example.com but not example.com itself.
///
/// Indexed so that the number of rules does not matter: an exact rule is one set lookup,
/// and a name is below a rule when one of its label suffixes (`b.example.com`,
/// `example.com`, `com` for `a.b.example.com`) is in the set of `.` rules, so a name costs
/// one lookup per label. Only whole labels are looked up, so `evilexample.com` is never
/// below `.example.com`. Every name is compared in lowercase (DNS names are
/// case-insensitive, RFC 4343); rules are stored in lowercase.
struct DomainRules: Sendable {
    /// Names matched exactly.
    private var exact: Set<ByteKey> = []
    /// `a.b` for a rule `.a.b`.
    private var below: Set<ByteKey> = []
    /// `a.b` for an exact rule `x.a.b`: what a wildcard `*.a.b` must be checked against.
    private var parentsOfExact: Set<ByteKey> = []

    var isEmpty: Bool { exact.isEmpty && below.isEmpty }

    /// Adds a rule as written (already checked: a DNS name, with or without a leading dot).
    mutating func insert(rule: ArraySlice<UInt8>) {
        let rule = rule.asciiLowercased()
        if rule.first == ASCII.dot {
            below.insert(ByteKey(ArraySlice(rule.dropFirst())))
        } else {
            exact.insert(ByteKey(ArraySlice(rule)))
            if let dot = rule.firstIndex(of: ASCII.dot) {
                parentsOfExact.insert(ByteKey(ArraySlice(rule[(dot + 1)...])))
            }
        }
    }

    /// Whether `name` (lowercase, no wildcard) is an exact rule or below a `.` rule.
    func matches(_ name: ArraySlice<UInt8>) -> Bool {
        exact.contains(ByteKey(name)) || isBelowARule(name)
    }

    /// Whether `name` is strictly below a `.` rule: one of its proper label suffixes is one.
    func isBelowARule(_ name: ArraySlice<UInt8>) -> Bool {
        guard !below.isEmpty else { return false }
        var start = name.startIndex
        while let dot = name[start...].firstIndex(of: ASCII.dot) {
            if below.contains(ByteKey(name[(dot + 1)...])) { return true }
            start = dot + 1
        }
        return false
    }

    /// Whether every name one label below `base` matches: what a wildcard `*.base` needs
    /// from an allow list (`.base`, or a `.` rule above it).
    func matchesEveryName(oneLabelBelow base: ArraySlice<UInt8>) -> Bool {
        below.contains(ByteKey(base)) || isBelowARule(base)
    }

    /// Whether some name one label below `base` matches: what makes a deny list refuse a
    /// wildcard `*.base` (it would cover that name too).
    func matchesSomeName(oneLabelBelow base: ArraySlice<UInt8>) -> Bool {
        matchesEveryName(oneLabelBelow: base) || parentsOfExact.contains(ByteKey(base))
    }
}
