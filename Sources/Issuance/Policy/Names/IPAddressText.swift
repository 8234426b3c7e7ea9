import Foundation

/// IP addresses written as text (`names.ip` rules, a subject CN) turned into the octets an
/// iPAddress holds, and back for rejection reasons.
///
/// IPv4 is read strictly as four decimal numbers from 0 to 255 without leading zeros:
/// `010.1.1.1` is octal to some parsers and decimal to others, so it is not taken as an
/// address at all. IPv6 is read by the C library's `inet_pton`, which also reads an IPv4
/// tail (`::ffff:192.0.2.1`).
enum IPAddressText {
    enum Family {
        case v4, v6
    }

    /// The 4 or 16 octets of `text`, or nil if it is not an address of `family`.
    static func parse(_ text: ArraySlice<UInt8>, family: Family) -> [UInt8]? {
        switch family {
        case .v4: return parseIPv4(text)
        case .v6: return parseIPv6(text)
        }
    }

    /// An IPv4 address if the text is one, else an IPv6 address if it is one.
    static func parse(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        parseIPv4(text) ?? (text.contains(ASCII.colon) ? parseIPv6(text) : nil)
    }

    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        // Checked before anything is made: most texts asked about are host names.
        guard text.count >= 7, text.count <= 15, text.allSatisfy({ ASCII.isDigit($0) || $0 == ASCII.dot }) else { return nil }
        var octets: [UInt8] = []
        octets.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for byte in text {
            if byte == ASCII.dot {
                guard digits > 0, octets.count < 3 else { return nil }
                octets.append(UInt8(value))
                (value, digits) = (0, 0)
                continue
            }
            if digits == 0 { leadingZero = byte == UInt8(ascii: "0") } else if leadingZero { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0, octets.count == 3 else { return nil }
        octets.append(UInt8(value))
        return octets
    }

    private static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        // INET6_ADDRSTRLEN is 46; anything longer is not an address.
        guard !text.isEmpty, text.count < 64, text.allSatisfy({ ASCII.isHexDigit($0) || $0 == ASCII.colon || $0 == ASCII.dot }) else {
            return nil
        }
        var cString = text.map { CChar(bitPattern: $0) }
        cString.append(0)
        var octets = [UInt8](repeating: 0, count: 16)
        let status = octets.withUnsafeMutableBytes { buffer in
            inet_pton(AF_INET6, cString, buffer.baseAddress)
        }
        return status == 1 ? octets : nil
    }

    /// `192.0.2.1`, `2001:db8::1` (RFC 5952 form), or the octets in hex for any other length.
    static func text(_ octets: ArraySlice<UInt8>) -> String {
        switch octets.count {
        case 4:
            return octets.map(String.init).joined(separator: ".")
        case 16:
            var buffer = [CChar](repeating: 0, count: 64)
            let written = Array(octets).withUnsafeBytes { source in
                inet_ntop(AF_INET6, source.baseAddress, &buffer, socklen_t(buffer.count))
            }
            if written != nil {
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            fallthrough
        default:
            return octets.isEmpty ? "(no octets)" : octets.map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: ":")
        }
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291
    /// 2.5.5.2), or nil for any other address.
    static func mappedIPv4(_ octets: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard octets.count == 16 else { return nil }
        let start = octets.startIndex
        guard octets[start..<(start + 10)].allSatisfy({ $0 == 0 }),
              octets[start + 10] == 0xFF, octets[start + 11] == 0xFF else { return nil }
        return octets[(start + 12)...]
    }
}
