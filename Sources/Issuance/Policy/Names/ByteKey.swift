/// A run of bytes as a set element, hashed in one call.
///
/// `ArraySlice<UInt8>` is Hashable already, but hashes byte by byte; the name rules look up
/// every label suffix of every name of a request, so the bytes go to the hasher as one
/// buffer instead. A key is a slice, so looking up part of a name allocates nothing.
struct ByteKey: Hashable, Sendable {
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        lhs.bytes.elementsEqual(rhs.bytes)
    }
}

extension ArraySlice<UInt8> {
    /// The bytes with ASCII letters in lowercase; the slice itself (no copy) when it has no
    /// uppercase letter, which is the usual case.
    func asciiLowercased() -> ArraySlice<UInt8> {
        guard contains(where: ASCII.isUppercase) else { return self }
        return ArraySlice(map(ASCII.lowercased))
    }
}
