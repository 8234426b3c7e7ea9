/// Certificate serial numbers: 16 bytes from the operating system's CSPRNG (Swift's
/// `SystemRandomNumberGenerator`, which is `getrandom(2)` on Linux) with the top bit
/// cleared, so the DER INTEGER is positive and at most 16 octets with well over the 64
/// random bits the CA/Browser Forum asks for. Zero is redrawn (RFC 5280: positive).
enum SerialNumber {
    /// The serial's minimal big-endian bytes.
    static func draw() -> [UInt8]? {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
            bytes[0] &= 0x7F
            if bytes.contains(where: { $0 != 0 }) {
                return Array(bytes.drop { $0 == 0 })
            }
        }
        return nil
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
