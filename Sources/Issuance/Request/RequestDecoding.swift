import Foundation

/// Turns the bytes of an uploaded file into the DER of exactly one PKCS#10 request.
///
/// Appliances hand over requests in three shapes: DER, PEM (with the current
/// `CERTIFICATE REQUEST` label or the legacy `NEW CERTIFICATE REQUEST` one that Java's
/// keytool and old Windows tools still write, LF or CRLF, with text around the block), and
/// bare base64 of the DER where a web form or a firmware stripped the armour. The shape is
/// decided from the bytes themselves, never from the file name.
enum RequestDecoding {
    static let requestLabels: Set<String> = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]

    static func der(from bytes: [UInt8]) throws(Rejection) -> [UInt8] {
        if bytes.isEmpty {
            throw Rejection(.unparseable, "the file is empty")
        }
        // A DER SEQUENCE starts with 0x30 and always holds bytes outside the base64
        // alphabet, so "starts with 0x30 and is not all text" means DER.
        if bytes[0] == 0x30 && !bytes.allSatisfy(isBase64TextByte) {
            return bytes
        }
        // Real PEM files are pure ASCII; for them, searching bytes finds exactly what
        // searching the String finds, without Foundation's Unicode-aware search. Anything
        // else (a BOM, UTF-8 text around the block) takes the String path below.
        if bytes.allSatisfy({ $0 < 0x80 }) {
            if ASCIIPEM.contains(ASCIIPEM.begin, in: bytes) {
                return try ASCIIPEM.requestBlock(in: bytes)
            }
        } else if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
            return try pemBlock(in: text)
        }
        if bytes.allSatisfy(isBase64TextByte) {
            guard let der = decodeBase64(bytes), !der.isEmpty else {
                throw Rejection(.unparseable, "the file is text but not valid base64, and holds no PEM block")
            }
            return der
        }
        throw Rejection(.unparseable, "the file is neither a DER request, a PEM CERTIFICATE REQUEST block nor base64 of one")
    }

    /// The one request block of a PEM file; zero or several are refused so that an upload
    /// never yields a certificate for a request the appliance did not mean.
    private static func pemBlock(in text: String) throws(Rejection) -> [UInt8] {
        var requestBodies: [Substring] = []
        var otherLabels: [String] = []
        var rest = text[...]
        while let begin = rest.range(of: "-----BEGIN ") {
            let afterBegin = rest[begin.upperBound...]
            guard let labelEnd = afterBegin.range(of: "-----") else { break }
            let label = String(afterBegin[..<labelEnd.lowerBound])
            let bodyStart = labelEnd.upperBound
            guard let end = rest[bodyStart...].range(of: "-----END \(label)-----") else {
                throw Rejection(.unparseable, "the PEM block \"\(printable(label: label))\" has no matching END line")
            }
            if requestLabels.contains(label) {
                requestBodies.append(rest[bodyStart..<end.lowerBound])
            } else {
                otherLabels.append(printable(label: label))
            }
            rest = rest[end.upperBound...]
        }
        guard requestBodies.count == 1, let body = requestBodies.first else {
            if requestBodies.isEmpty {
                let found = otherLabels.isEmpty ? "" : " (found: \(otherLabels.joined(separator: ", ")))"
                throw Rejection(.unparseable, "the PEM file holds no CERTIFICATE REQUEST block\(found)")
            }
            throw Rejection(.unparseable, "the PEM file holds \(requestBodies.count) certificate requests; dropca takes exactly one per file")
        }
        guard let der = decodeBase64(Array(body.utf8)), !der.isEmpty else {
            throw Rejection(.unparseable, "the CERTIFICATE REQUEST block is not valid base64")
        }
        return der
    }

    /// `pemBlock(in:)` on the bytes of an all-ASCII file: the same search, the same
    /// outcome and the same reasons, on bytes instead of a String.
    private enum ASCIIPEM {
        static let begin = Array("-----BEGIN".utf8)
        static let beginLine = Array("-----BEGIN ".utf8)
        static let dashes = Array("-----".utf8)
        static let endLine = Array("-----END ".utf8)
        static let requestLabels = RequestDecoding.requestLabels.map { Array($0.utf8) }

        static func requestBlock(in bytes: [UInt8]) throws(Rejection) -> [UInt8] {
            var requestBodies: [Range<Int>] = []
            var otherLabels: [String] = []
            var rest = 0
            while let begin = firstIndex(of: beginLine, in: bytes, from: rest) {
                let labelStart = begin + beginLine.count
                guard let labelEnd = firstIndex(of: dashes, in: bytes, from: labelStart) else { break }
                let label = bytes[labelStart..<labelEnd]
                let bodyStart = labelEnd + dashes.count
                let endMarker = endLine + label + dashes
                guard let end = firstIndex(of: endMarker, in: bytes, from: bodyStart) else {
                    throw Rejection(.unparseable, "the PEM block \"\(printable(label: String(decoding: label, as: UTF8.self)))\" has no matching END line")
                }
                if requestLabels.contains(where: { $0.elementsEqual(label) }) {
                    requestBodies.append(bodyStart..<end)
                } else {
                    otherLabels.append(printable(label: String(decoding: label, as: UTF8.self)))
                }
                rest = end + endMarker.count
            }
            guard requestBodies.count == 1, let body = requestBodies.first else {
                if requestBodies.isEmpty {
                    let found = otherLabels.isEmpty ? "" : " (found: \(otherLabels.joined(separator: ", ")))"
                    throw Rejection(.unparseable, "the PEM file holds no CERTIFICATE REQUEST block\(found)")
                }
                throw Rejection(.unparseable, "the PEM file holds \(requestBodies.count) certificate requests; dropca takes exactly one per file")
            }
            guard let der = decodeBase64(bytes[body]), !der.isEmpty else {
                throw Rejection(.unparseable, "the CERTIFICATE REQUEST block is not valid base64")
            }
            return der
        }

        static func contains(_ needle: [UInt8], in bytes: [UInt8]) -> Bool {
            firstIndex(of: needle, in: bytes, from: 0) != nil
        }

        /// Where `needle` first occurs in `bytes` at or after `start`. `memchr` finds the
        /// candidates: the markers start with `-`, which the base64 body never holds, so
        /// the body is skipped a vector at a time rather than compared byte by byte.
        static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
            guard let first = needle.first, start >= 0, needle.count <= bytes.count - start else { return nil }
            return bytes.withUnsafeBufferPointer { haystack -> Int? in
                guard let base = haystack.baseAddress else { return nil }
                let last = haystack.count - needle.count
                var index = start
                while index <= last {
                    guard let found = memchr(base + index, Int32(first), last - index + 1) else { return nil }
                    let position = found.assumingMemoryBound(to: UInt8.self) - UnsafeMutablePointer(mutating: base)
                    if haystack[position..<(position + needle.count)].elementsEqual(needle) { return position }
                    index = position + 1
                }
                return nil
            }
        }
    }

    /// A PEM label as a rejection reason quotes it. The label is whatever the file holds
    /// between `-----BEGIN ` and the next `-----`, line breaks included, and a reason must
    /// stay one line in the ledger and the journal: control characters, line and paragraph
    /// separators and format characters (bidi overrides) are escaped as `\u{…}`, and a
    /// label longer than any real one is cut to its first 64 characters.
    static func printable(label: String) -> String {
        let limit = 64
        var text = ""
        for (index, character) in label.enumerated() {
            if index == limit {
                text += "…"
                break
            }
            for scalar in character.unicodeScalars {
                switch scalar.properties.generalCategory {
                case .control, .lineSeparator, .paragraphSeparator, .format:
                    text += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                default:
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        return text
    }

    private static func isBase64TextByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"),
             UInt8(ascii: "="), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " "),
             UInt8(ascii: "\t"):
            return true
        default:
            return false
        }
    }

    /// Strict base64: white space between characters is allowed, nothing else is skipped.
    private static func decodeBase64<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8]? {
        // Written into a buffer of the final size: appending byte by byte costs more than
        // the decoding itself.
        var compact = Data(count: bytes.count)
        var count = 0
        compact.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            for byte in bytes where byte != UInt8(ascii: "\r") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                buffer[count] = byte
                count += 1
            }
        }
        compact.count = count
        guard let data = Data(base64Encoded: compact) else { return nil }
        return [UInt8](data)
    }
}
