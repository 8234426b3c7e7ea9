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
        if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
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
                throw Rejection(.unparseable, "the PEM block \"\(label)\" has no matching END line")
            }
            if requestLabels.contains(label) {
                requestBodies.append(rest[bodyStart..<end.lowerBound])
            } else {
                otherLabels.append(label)
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
    private static func decodeBase64(_ bytes: [UInt8]) -> [UInt8]? {
        let compact = bytes.filter { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        guard let data = Data(base64Encoded: Data(compact)) else { return nil }
        return [UInt8](data)
    }
}
