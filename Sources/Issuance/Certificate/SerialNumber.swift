#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Certificate serial numbers: 16 bytes from the operating system's CSPRNG with the top bit
/// cleared, so the DER INTEGER is positive and at most 16 octets with well over the 64
/// random bits the CA/Browser Forum asks for. Zero is redrawn (RFC 5280: positive).
///
/// `getentropy(3)` is `getrandom(2)`, one system call for all 16 bytes, where
/// `SystemRandomNumberGenerator` makes one per 8 bytes.
enum SerialNumber {
    static let length = 16

    /// The serial's minimal big-endian bytes; nil if the kernel gives no random bytes.
    static func draw() -> [UInt8]? {
        for _ in 0..<8 {
            var bytes = [UInt8](repeating: 0, count: length)
            let status = bytes.withUnsafeMutableBytes { buffer in
                getentropy(buffer.baseAddress, buffer.count)
            }
            guard status == 0 else { continue }
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
