import Foundation

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
        for rule in rules.sorted(by: { Self.compare($0, $1) < 0 }) {
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
            if Self.compare(uri, sorted[middle]) < 0 {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low > 0 && Self.isPrefix(sorted[low - 1], of: uri)
    }

    private static func isPrefix(_ prefix: [UInt8], of bytes: [UInt8]) -> Bool {
        guard prefix.count <= bytes.count else { return false }
        return prefix.withUnsafeBufferPointer { head in
            bytes.withUnsafeBufferPointer { whole in
                guard let headBase = head.baseAddress, let wholeBase = whole.baseAddress else { return head.isEmpty }
                return memcmp(headBase, wholeBase, head.count) == 0
            }
        }
    }

    /// Byte order, as `memcmp` gives it, a shorter string first on a tie.
    private static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        let common = Swift.min(lhs.count, rhs.count)
        let order = lhs.withUnsafeBufferPointer { left in
            rhs.withUnsafeBufferPointer { right -> Int32 in
                guard common > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return 0 }
                return memcmp(leftBase, rightBase, common)
            }
        }
        return order != 0 ? Int(order) : lhs.count - rhs.count
    }
}
