/// Eight bytes of a name at a time, for `NameIndex`: loading up to eight bytes as one
/// word, lowercasing ASCII letters in all eight at once, and finding a byte in them
/// ("SWAR", SIMD within a register), so that hashing, comparing and finding the dots of a
/// name cost one step per word instead of one per byte.
///
/// Words are little-endian (byte n of the text is bits 8n…8n+7) whatever the machine, so
/// the same bytes always make the same word, however they were loaded.
enum ByteWords {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The low `count` (1…8) bytes set. Masking shifts and wrapping arithmetic here and
    /// below: these run for every word of every name, and every caller keeps `count` in
    /// 1…8, which makes the checked forms' branches useless.
    @inline(__always)
    static func mask(bytes count: Int) -> UInt64 {
        UInt64.max &>> UInt64(truncatingIfNeeded: (8 &- count) &* 8)
    }

    /// `count` (1…8) bytes of `buffer` from `start` as a word, the bytes above zero. Reads
    /// only inside `buffer`: forward when eight bytes fit after `start`, else the eight
    /// bytes ending at the end of the run, shifted down, else byte by byte.
    @inline(__always)
    static func load(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, count: Int) -> UInt64 {
        guard let base = buffer.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        if start &+ 8 <= buffer.count {
            return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)) & mask(bytes: count)
        }
        if start &+ count >= 8 {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start &+ count &- 8, as: UInt64.self))
            return count >= 8 ? word : word &>> UInt64(truncatingIfNeeded: (8 &- count) &* 8)
        }
        var word: UInt64 = 0
        for offset in 0..<count {
            word |= UInt64(base[start &+ offset]) &<< UInt64(truncatingIfNeeded: offset &* 8)
        }
        return word
    }

    /// `word` with every ASCII capital made lowercase, and every other byte as it was.
    @inline(__always)
    static func lowercased(_ word: UInt64) -> UInt64 {
        let low7 = word & ~highBits
        // High bit of each byte: at least "A", then above "Z"; bytes of 0x80 and up excluded.
        let atLeastA = low7 &+ ones &* UInt64(0x80 - 0x41)
        let aboveZ = low7 &+ ones &* UInt64(0x80 - 0x5B)
        let capitals = (atLeastA ^ aboveZ) & ~word & highBits
        return word | (capitals >> 2)
    }

    /// The high bit of each byte of `word` that is zero, exactly (no false positives).
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low7 = (word & ~highBits) &+ ~highBits
        return ~(low7 | word | ~highBits)
    }

    /// The position of the last `byte` in `buffer[..<end]`, or nil.
    @inline(__always)
    static func lastIndex(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, before end: Int) -> Int? {
        let pattern = ones &* UInt64(byte)
        var stop = end
        while stop > 0 {
            let count = min(8, stop)
            let start = stop &- count
            let found = zeroBytes(load(buffer, from: start, count: count) ^ pattern) & mask(bytes: count)
            if found != 0 {
                return start &+ (63 &- found.leadingZeroBitCount) / 8
            }
            stop = start
        }
        return nil
    }
}
