import Foundation

/// Byte strings (rules, in lowercase) with flags saying what each is a rule for, looked up
/// by a hash the caller computes: what the DNS and e-mail rules are indexed in.
///
/// Why not a `Set`: a name is looked up once per label suffix, and Swift's `Hasher` would
/// hash the bytes anew each time; here the hashes of a name and of all its label suffixes
/// come from one backward pass over it, a label at a time (`combine`: the hash of a suffix
/// depends on its labels only), and the allow and deny rules of a type share one table, so a suffix
/// is one probe of an open-addressing table whatever the lists. Entries are plain values
/// over one byte buffer, so a probe copies nothing that is reference-counted. A hash match
/// is confirmed by comparing the bytes, so a collision costs a comparison, never a wrong
/// answer; the table holds only the configuration's rules and is at most half full, so no
/// name can make a probe longer.
struct NameIndex: Sendable {
    /// What an entry is a rule for; an entry may be several at once.
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        /// `name`: this name exactly.
        static let allowExact = Flags(rawValue: 1 << 0)
        /// `.name`: the names below this one.
        static let allowBelow = Flags(rawValue: 1 << 1)
        /// The parent of an exact rule (`a.b` for `x.a.b`): a wildcard `*.a.b` covers it.
        static let allowParent = Flags(rawValue: 1 << 2)
        static let denyExact = Flags(rawValue: 1 << 3)
        static let denyBelow = Flags(rawValue: 1 << 4)
        static let denyParent = Flags(rawValue: 1 << 5)
    }

    fileprivate struct Entry: Sendable {
        let hash: UInt64
        let offset: Int32
        let length: Int32
        var flags: Flags
    }

    private static let padding = 8

    init(holdsDNSNames: Bool) {
        self.holdsDNSNames = holdsDNSNames
    }

    /// Index + 1 into `entries`, 0 for an empty slot; the count is a power of two.
    private var slots: [Int32] = []
    private var entries: [Entry] = []
    private var storage: [UInt8] = []
    /// Whether every name looked up is made of letters, digits, `-` and `.` only (a DNS
    /// name that passed `NameSyntax`): then `| 0x20` lowercases exactly, and compares a
    /// word in one step; otherwise (mailboxes) bytes are lowercased exactly.
    private let holdsDNSNames: Bool

    /// Bit n set when some `.` rule has n labels (bit 63: 63 or more): a suffix of another
    /// label count cannot be one, and is not probed.
    private var belowLabelCounts: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }

    /// The hash of the empty string, where every walk starts.
    static let emptyHash: UInt64 = 0xCBF2_9CE4_8422_2325

    /// The hash of one label, `bytes[start..<end]`, eight bytes per step. Bytes are folded
    /// with `| 0x20`, which lowercases ASCII letters and leaves digits, `-` and `*` as they
    /// are, so a name hashes alike in any case; for other bytes it only makes collisions,
    /// which `equal` (exact, in lowercase) settles.
    @inline(__always)
    static func labelHash(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt64 {
        var hash = UInt64(truncatingIfNeeded: end &- start) &* 0x9E37_79B9_7F4A_7C15
        var index = start
        while index < end {
            let count = min(8, end &- index)
            let word = ByteWords.load(bytes, from: index, count: count) | (ByteWords.mask(bytes: count) & 0x2020_2020_2020_2020)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash &>> 32
            index &+= count
        }
        return hash
    }

    /// The hash of a label followed by a suffix whose hash is `suffix`.
    @inline(__always)
    static func combine(label: UInt64, suffix: UInt64) -> UInt64 {
        var hash = (suffix &* 0x0000_0100_0000_01B3) ^ label
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash &>> 29)
    }

    /// The hash of `bytes`: its labels (split at dots) from the last to the first, as
    /// `lookup` computes it for every label suffix on its way.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = emptyHash
        var end = bytes.count
        while true {
            let start = ByteWords.lastIndex(of: ASCII.dot, in: bytes, before: end).map { $0 + 1 } ?? 0
            hash = combine(label: labelHash(bytes, from: start, to: end), suffix: hash)
            if start == 0 { return hash }
            end = start - 1
        }
    }

    /// Adds `flags` to the entry for `bytes` (stored in lowercase), making it if needed.
    mutating func insert(_ original: ArraySlice<UInt8>, _ flags: Flags) {
        let bytes = ArraySlice(original.map(ASCII.lowercased))
        if !flags.isDisjoint(with: [.allowBelow, .denyBelow]) {
            let labels = bytes.reduce(1) { $1 == ASCII.dot ? $0 + 1 : $0 }
            belowLabelCounts |= 1 << UInt64(min(labels, 63))
        }
        let hash = bytes.withUnsafeBufferPointer(Self.hash)
        if let existing = bytes.withUnsafeBufferPointer({ bytes in withTable { $0.entry(of: bytes, hash: hash)?.index } }) {
            entries[existing].flags.formUnion(flags)
            return
        }
        // Eight zero bytes always end the storage, so that a word read from any entry stays inside it.
        if storage.count >= Self.padding { storage.removeLast(Self.padding) }
        entries.append(Entry(hash: hash, offset: Int32(storage.count), length: Int32(bytes.count), flags: flags))
        storage.append(contentsOf: bytes)
        storage.append(contentsOf: repeatElement(0, count: Self.padding))
        if entries.count * 2 > slots.count {
            slots = [Int32](repeating: 0, count: max(16, slots.count * 2))
            for index in entries.indices { place(index) }
        } else {
            place(entries.count - 1)
        }
    }

    /// The flags of `bytes`, whose hash is `hash`; empty when it is no rule.
    func flags(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Flags {
        withTable { $0.entry(of: bytes, hash: hash).map { $0.flags } ?? [] }
    }

    /// One backward pass over `name` (in any case), a label at a time: the flags of the
    /// whole name, and the union of the flags of those of its proper label suffixes (what
    /// follows each dot) that can be `.` rules.
    func lookup(_ name: UnsafeBufferPointer<UInt8>) -> (whole: Flags, suffixes: Flags) {
        guard !entries.isEmpty else { return ([], []) }
        let belowLabelCounts = belowLabelCounts
        return withTable { table in
            var hash = Self.emptyHash
            var suffixes: Flags = []
            var labels: UInt64 = 0
            var end = name.count
            while true {
                let start = ByteWords.lastIndex(of: ASCII.dot, in: name, before: end).map { $0 &+ 1 } ?? 0
                hash = Self.combine(label: Self.labelHash(name, from: start, to: end), suffix: hash)
                labels &+= 1
                if start == 0 { break }
                if belowLabelCounts & (1 &<< min(labels, 63)) != 0,
                   let entry = table.entry(of: UnsafeBufferPointer(rebasing: name[start...]), hash: hash) {
                    suffixes.formUnion(entry.flags)
                }
                end = start &- 1
            }
            return (table.entry(of: name, hash: hash)?.flags ?? [], suffixes)
        }
    }

    /// The arrays, borrowed as buffers once per lookup rather than once per probe.
    private struct Table {
        let slots: UnsafeBufferPointer<Int32>
        let entries: UnsafeBufferPointer<Entry>
        let storage: UnsafeBufferPointer<UInt8>
        let holdsDNSNames: Bool

        /// The entry of `bytes`, whose hash is `hash`, with its position; nil when absent.
        @inline(__always)
        func entry(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (flags: Flags, index: Int)? {
            guard !slots.isEmpty else { return nil }
            let mask = slots.count - 1
            var slot = NameIndex.slot(hash) & mask
            while true {
                let number = Int(slots[slot])
                if number == 0 { return nil }
                let entry = entries[number - 1]
                if entry.hash == hash, Int(entry.length) == bytes.count, NameIndex.equal(storage, entry, bytes, folding: holdsDNSNames) {
                    return (entry.flags, number - 1)
                }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private func withTable<Result>(_ body: (Table) -> Result) -> Result {
        slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                storage.withUnsafeBufferPointer { storage in
                    body(Table(slots: slots, entries: entries, storage: storage, holdsDNSNames: holdsDNSNames))
                }
            }
        }
    }

    /// Whether the stored (lowercase) bytes of `entry` are `bytes` in any case, a word at a
    /// time: with `folding`, by `| 0x20` (exact for letters, digits and `-`), else exactly.
    @inline(__always)
    fileprivate static func equal(_ storage: UnsafeBufferPointer<UInt8>, _ entry: Entry, _ bytes: UnsafeBufferPointer<UInt8>, folding: Bool) -> Bool {
        let offset = Int(entry.offset)
        var index = 0
        while index < bytes.count {
            let count = min(8, bytes.count &- index)
            let word = ByteWords.load(bytes, from: index, count: count)
            let lowercase = folding ? word | (ByteWords.mask(bytes: count) & 0x2020_2020_2020_2020) : ByteWords.lowercased(word)
            guard lowercase == ByteWords.load(storage, from: offset &+ index, count: count) else { return false }
            index &+= count
        }
        return true
    }

    /// The slot a hash starts at: its bits mixed down.
    @inline(__always)
    fileprivate static func slot(_ hash: UInt64) -> Int {
        var mixed = hash ^ (hash &>> 33)
        mixed = mixed &* 0xFF51_AFD7_ED55_8CCD
        return Int(truncatingIfNeeded: mixed ^ (mixed &>> 33))
    }

    private mutating func place(_ index: Int) {
        let mask = slots.count - 1
        var slot = Self.slot(entries[index].hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
    }
}

extension ArraySlice<UInt8> {
    /// The bytes with ASCII letters in lowercase; the slice itself (no copy) when it has no
    /// uppercase letter, which is the usual case.
    func asciiLowercased() -> ArraySlice<UInt8> {
        let hasUppercase = withUnsafeBufferPointer { bytes in
            for byte in bytes where ASCII.isUppercase(byte) { return true }
            return false
        }
        return hasUppercase ? ArraySlice(map(ASCII.lowercased)) : self
    }
}
