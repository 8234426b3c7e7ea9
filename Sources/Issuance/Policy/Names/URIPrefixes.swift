/// URI prefixes as `names.uri` and `names.deny_uri` write them: a URI matches a rule when
/// the rule is a prefix of it, both with scheme and host in lowercase.
///
/// A rule that another rule is a prefix of can never decide anything the shorter one does
/// not, so only the shortest are kept, sorted. In a sorted set where no rule is a prefix of
/// another, the only rule that can be a prefix of a URI is the greatest rule not above it:
/// one binary search and one comparison per URI, however many rules there are.
struct URIPrefixes: Sendable {
    private var sorted: [[UInt8]] = []

    var isEmpty: Bool { sorted.isEmpty }

    /// Builds the set from normalised rules.
    init(rules: [[UInt8]] = []) {
        var kept: [[UInt8]] = []
        for rule in rules.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            // Sorted, a rule's prefix comes right before it or before another of its kind.
            if let last = kept.last, rule.starts(with: last) { continue }
            kept.append(rule)
        }
        sorted = kept
    }

    /// Whether a rule is a prefix of `uri` (normalised).
    func matches(_ uri: [UInt8]) -> Bool {
        var low = 0
        var high = sorted.count
        // The number of rules not above `uri`.
        while low < high {
            let middle = (low + high) / 2
            if uri.lexicographicallyPrecedes(sorted[middle]) {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low > 0 && uri.starts(with: sorted[low - 1])
    }
}
