/// IP address ranges in CIDR form, as `names.ip` and `names.deny_ip` write them.
///
/// Each prefix is stored masked to its length, in one table, together with the list of
/// distinct lengths in use per address family; an address is looked up once per distinct
/// length (masked to it), so a thousand ranges of a few sizes cost a few lookups, not a
/// thousand comparisons.
struct AddressPrefixes: Sendable {
    private struct Key: Equatable, Sendable {
        let high: UInt64
        let low: UInt64
        /// The prefix length, with 0x80 added for IPv6.
        let length: UInt8
    }

    /// Open addressing over `keys` (a power of two, at most half full; nil = empty): a
    /// lookup is a multiply and a compare, where a `Set` would run SipHash over the key.
    private var keys: [Key?] = []
    private var count = 0
    private var v4Lengths: [UInt8] = []
    private var v6Lengths: [UInt8] = []

    var isEmpty: Bool { count == 0 }

    /// Adds a prefix of 4 or 16 `octets` (host bits already zero) and `length` bits.
    mutating func insert(octets: [UInt8], length: Int) {
        let bits = UInt8(length)
        let (high, low) = Self.words(octets[...])
        let key = Key(high: high, low: low, length: octets.count == 4 ? bits : bits | 0x80)
        guard !contains(key) else { return }
        count += 1
        if count * 2 > keys.count {
            let old = keys
            keys = [Key?](repeating: nil, count: max(16, keys.count * 2))
            for case let kept? in old { place(kept) }
        }
        place(key)
        if octets.count == 4 {
            if !v4Lengths.contains(bits) { v4Lengths.append(bits) }
        } else if !v6Lengths.contains(bits) {
            v6Lengths.append(bits)
        }
    }

    /// Whether the 4 or 16 `octets` lie in one of the ranges.
    func contains(_ octets: UnsafeBufferPointer<UInt8>) -> Bool {
        guard count > 0 else { return false }
        let (high, low) = Self.words(octets)
        let isV4 = octets.count == 4
        let width = isV4 ? 32 : 128
        for length in isV4 ? v4Lengths : v6Lengths {
            let (maskedHigh, maskedLow) = Self.mask(high: high, low: low, keeping: Int(length), of: width)
            if contains(Key(high: maskedHigh, low: maskedLow, length: isV4 ? length : length | 0x80)) {
                return true
            }
        }
        return false
    }

    private func contains(_ key: Key) -> Bool {
        guard !keys.isEmpty else { return false }
        let mask = keys.count - 1
        var slot = Self.slot(key) & mask
        while let stored = keys[slot] {
            if stored == key { return true }
            slot = (slot + 1) & mask
        }
        return false
    }

    private mutating func place(_ key: Key) {
        let mask = keys.count - 1
        var slot = Self.slot(key) & mask
        while keys[slot] != nil { slot = (slot + 1) & mask }
        keys[slot] = key
    }

    private static func slot(_ key: Key) -> Int {
        var mixed = (key.high &* 0x9E37_79B9_7F4A_7C15) ^ key.low ^ (UInt64(key.length) << 56)
        mixed = (mixed ^ (mixed >> 31)) &* 0xFF51_AFD7_ED55_8CCD
        return Int(truncatingIfNeeded: mixed ^ (mixed >> 33))
    }

    /// IPv4 in the low 32 bits of `low`; IPv6 as two big-endian halves.
    private static func words<Octets: RandomAccessCollection<UInt8>>(_ octets: Octets) -> (UInt64, UInt64) where Octets.Index == Int {
        func word(_ bytes: Octets.SubSequence) -> UInt64 {
            var value: UInt64 = 0
            for byte in bytes { value = value << 8 | UInt64(byte) }
            return value
        }
        if octets.count == 4 { return (0, word(octets[...])) }
        let middle = octets.startIndex + 8
        return (word(octets[..<middle]), word(octets[middle...]))
    }

    /// The address with all but the first `length` of its `width` bits cleared.
    private static func mask(high: UInt64, low: UInt64, keeping length: Int, of width: Int) -> (UInt64, UInt64) {
        if width == 32 {
            let kept: UInt64 = length == 0 ? 0 : (UInt64(0xFFFF_FFFF) << (32 - length)) & 0xFFFF_FFFF
            return (0, low & kept)
        }
        func kept(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> bits) }
        return (high & kept(length), low & kept(length - 64))
    }

    /// The octets of an address with every bit after the first `length` cleared, to store a
    /// rule and to say what a rule with host bits set should have been.
    static func masked(_ octets: [UInt8], length: Int) -> [UInt8] {
        var result = octets
        for index in result.indices {
            let bitsBefore = index * 8
            if bitsBefore >= length {
                result[index] = 0
            } else if bitsBefore + 8 > length {
                result[index] &= UInt8(0xFF) << (8 - (length - bitsBefore))
            }
        }
        return result
    }
}
