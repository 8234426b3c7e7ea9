/// A name as a rejection reason quotes it: in double quotes, on one line, and short enough
/// for a journal line, whatever bytes the request put in it.
///
/// Reasons go to the journal, the ledger and the first line of a `.reason` file, and the
/// name comes from an untrusted request: control characters, line and paragraph separators
/// and format characters (bidi overrides, which could make a reason read backwards) are
/// escaped, bytes that are not UTF-8 are written as `\xNN`, and a name longer than `limit`
/// characters is cut with "…".
enum QuotedName {
    static func quoted<Bytes: Collection<UInt8>>(_ bytes: Bytes, limit: Int = 80) -> String {
        var text = "\""
        var count = 0
        func append(_ piece: String) { text += piece }
        if let decoded = String(validating: Array(bytes), as: UTF8.self) {
            for scalar in decoded.unicodeScalars {
                if count == limit { append("…"); break }
                count += 1
                switch scalar.properties.generalCategory {
                case .control, .lineSeparator, .paragraphSeparator, .format:
                    append("\\u{\(String(scalar.value, radix: 16, uppercase: true))}")
                default:
                    if scalar == "\"" || scalar == "\\" { append("\\") }
                    text.unicodeScalars.append(scalar)
                }
            }
        } else {
            for byte in bytes {
                if count == limit { append("…"); break }
                count += 1
                if byte >= 0x20 && byte < 0x7F {
                    if byte == ASCII.quote || byte == UInt8(ascii: "\\") { append("\\") }
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    let hex = String(byte, radix: 16, uppercase: true)
                    append("\\x" + (hex.count == 1 ? "0" : "") + hex)
                }
            }
        }
        return text + "\""
    }
}
