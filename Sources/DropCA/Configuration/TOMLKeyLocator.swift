/// Finds the line on which each key of a TOML document is written.
///
/// TOMLKit 0.6 reports a position for syntax errors only (`TOMLParseError.source`): its
/// tables, arrays and values carry none, and the source regions of the toml++ nodes
/// beneath them are not exposed. Configuration errors must still name a line, so this
/// re-reads the source just far enough to see where every `[table]` header,
/// `key = value` assignment, inline-table key and top-level array element starts.
///
/// Nothing smaller does the job: asking TOMLKit about prefixes or single lines places a
/// key whose value spans lines at the line where the value ends and cannot place the
/// elements of a multi-line list, and matching lines against a pattern takes text inside
/// multi-line strings for keys. `TOMLKeyLocatorDifferentialTests` checks this scanner
/// against TOMLKit on many rewritten versions of the test configurations.
///
/// It is a scanner, not a parser: it runs after TOMLKit has accepted the text, so it
/// checks nothing, never fails, and on text TOMLKit would refuse it only knows fewer lines.
/// What it must get right is what looks like a key but is not: lines inside multi-line
/// strings and arrays, `=` or `#` inside strings, comments.
struct TOMLKeyLocator: Sendable {
    /// First line on which each dotted path is defined (a header, an assignment, or a
    /// dotted key that implies the table).
    private let keyLines: [[String]: Int]
    /// For keys whose value is an array: the line on which each element starts.
    private let elementLines: [[String]: [Int]]

    init(source: String) {
        var scanner = Scanner(bytes: Array(source.utf8))
        scanner.scanDocument()
        keyLines = scanner.keyLines
        elementLines = scanner.elementLines
    }

    /// The line of `[a.b]` or `a.b = …` (or of `b = …` under `[a]`); nil when not written.
    func line(of path: [String]) -> Int? {
        keyLines[path]
    }

    /// The line of the element at `index` (0-based) in the array assigned to `path`;
    /// nil when there is no such element.
    func line(ofElement index: Int, in path: [String]) -> Int? {
        guard let lines = elementLines[path], lines.indices.contains(index) else {
            return nil
        }
        return lines[index]
    }
}

extension TOMLKeyLocator {
    /// A single forward pass over the UTF-8 bytes. Every byte is consumed through
    /// `advance()`, which is the only place that counts lines, so multi-line constructs
    /// cannot put the count off.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var keyLines: [[String]: Int] = [:]
        var elementLines: [[String]: [Int]] = [:]

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        // MARK: Document level

        mutating func scanDocument() {
            // A UTF-8 byte order mark is allowed before the first key.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                index = 3
            }
            // Keys are relative to the most recent `[header]`.
            var table: [String] = []
            while true {
                skipWhitespaceNewlinesAndComments()
                guard let byte = current else {
                    return
                }
                let start = index
                if byte == ASCII.openBracket {
                    // `[table]` or `[[array.of.tables]]`.
                    let headerLine = line
                    advance(by: peek(1) == ASCII.openBracket ? 2 : 1)
                    table = scanKey()
                    record(table, line: headerLine)
                } else {
                    scanAssignment(under: table)
                }
                // Whatever is left on the line is a closing bracket or a comment.
                skipRestOfLine()
                if index == start {
                    advance()
                }
            }
        }

        /// `key = value`, `"quoted key" = value`, `dotted.key = value`.
        mutating func scanAssignment(under prefix: [String]?) {
            let keyLine = line
            let key = scanKey()
            skipSpaces()
            guard !key.isEmpty, current == ASCII.equals else {
                return
            }
            advance()
            skipSpaces()
            let path = prefix.map { $0 + key }
            if let path {
                record(path, line: keyLine)
            }
            scanValue(at: path)
        }

        /// Notes where `path` and each of its parents is first defined: `a.b.c = 1`
        /// defines table `a` on that line too, which is where an unknown `[a]` is reported.
        mutating func record(_ path: [String], line: Int) {
            guard !path.isEmpty else {
                return
            }
            for length in 1...path.count {
                let prefix = Array(path.prefix(length))
                if keyLines[prefix] == nil {
                    keyLines[prefix] = line
                }
            }
        }

        // MARK: Keys

        /// A possibly dotted key, each part bare (`A-Za-z0-9_-`), "basic" or 'literal'.
        /// Returns the decoded parts; empty when there is no key here.
        mutating func scanKey() -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                guard let byte = current else {
                    break
                }
                if byte == ASCII.quote {
                    advance()
                    parts.append(scanBasicString(multiline: false))
                } else if byte == ASCII.apostrophe {
                    advance()
                    parts.append(scanLiteralString(multiline: false))
                } else if ASCII.isBareKey(byte) {
                    let start = index
                    while let next = current, ASCII.isBareKey(next) {
                        advance()
                    }
                    parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                } else {
                    break
                }
                skipSpaces()
                guard current == ASCII.dot else {
                    break
                }
                advance()
            }
            return parts
        }

        // MARK: Values

        /// Skips one value. `path` is where the value is assigned, or nil for values nested
        /// in arrays, whose keys and elements are not config keys and are not recorded.
        mutating func scanValue(at path: [String]?) {
            guard let byte = current else {
                return
            }
            switch byte {
            case ASCII.quote:
                let multiline = peek(1) == ASCII.quote && peek(2) == ASCII.quote
                advance(by: multiline ? 3 : 1)
                _ = scanBasicString(multiline: multiline)
            case ASCII.apostrophe:
                let multiline = peek(1) == ASCII.apostrophe && peek(2) == ASCII.apostrophe
                advance(by: multiline ? 3 : 1)
                _ = scanLiteralString(multiline: multiline)
            case ASCII.openBracket:
                advance()
                scanArray(at: path)
            case ASCII.openBrace:
                advance()
                scanInlineTable(at: path)
            default:
                scanBareValue()
            }
        }

        /// After `[`: elements may span lines and carry comments between them.
        mutating func scanArray(at path: [String]?) {
            while true {
                skipWhitespaceNewlinesAndComments()
                guard let byte = current else {
                    return
                }
                if byte == ASCII.closeBracket {
                    advance()
                    return
                }
                if byte == ASCII.comma {
                    advance()
                    continue
                }
                if let path {
                    elementLines[path, default: []].append(line)
                }
                let start = index
                scanValue(at: nil)
                if index == start {
                    advance()
                }
            }
        }

        /// After `{`: `key = value` pairs separated by commas. Keys of an inline table
        /// assigned to a config key are config keys too (`spool = { inbox = "…" }`).
        mutating func scanInlineTable(at path: [String]?) {
            while true {
                skipWhitespaceNewlinesAndComments()
                guard let byte = current else {
                    return
                }
                if byte == ASCII.closeBrace {
                    advance()
                    return
                }
                if byte == ASCII.comma {
                    advance()
                    continue
                }
                let start = index
                scanAssignment(under: path)
                if index == start {
                    advance()
                }
            }
        }

        /// Numbers, booleans, dates and times: everything up to a delimiter. The one
        /// delimiter that can sit inside such a value is the space TOML allows between
        /// date and time (`1979-05-27 07:32:00Z`).
        mutating func scanBareValue() {
            let start = index
            while let byte = current {
                if byte == ASCII.space, isDateSoFar(from: start), let next = peek(1), ASCII.isDigit(next) {
                    advance()
                    continue
                }
                if ASCII.endsBareValue(byte) {
                    return
                }
                advance()
            }
        }

        func isDateSoFar(from start: Int) -> Bool {
            let token = bytes[start..<index]
            guard token.count == 10 else {
                return false
            }
            return token.enumerated().allSatisfy { offset, byte in
                offset == 4 || offset == 7 ? byte == ASCII.dash : ASCII.isDigit(byte)
            }
        }

        // MARK: Strings

        /// After the opening `"` or `"""`: returns the decoded text (needed for quoted keys)
        /// and leaves the scanner after the closing quote(s). A single-line string stops at
        /// the end of the line even when unterminated, so one bad line cannot swallow the file.
        mutating func scanBasicString(multiline: Bool) -> String {
            var decoded: [UInt8] = []
            while let byte = current {
                if byte == ASCII.backslash {
                    advance()
                    decodeEscape(into: &decoded, multiline: multiline)
                    continue
                }
                if byte == ASCII.quote {
                    if !multiline {
                        advance()
                        break
                    }
                    if closeMultilineString(delimiter: ASCII.quote, into: &decoded) {
                        break
                    }
                    continue
                }
                if byte == ASCII.newline && !multiline {
                    break
                }
                decoded.append(byte)
                advance()
            }
            return String(decoding: decoded, as: UTF8.self)
        }

        /// After the opening `'` or `'''`: no escapes in literal strings.
        mutating func scanLiteralString(multiline: Bool) -> String {
            var text: [UInt8] = []
            while let byte = current {
                if byte == ASCII.apostrophe {
                    if !multiline {
                        advance()
                        break
                    }
                    if closeMultilineString(delimiter: ASCII.apostrophe, into: &text) {
                        break
                    }
                    continue
                }
                if byte == ASCII.newline && !multiline {
                    break
                }
                text.append(byte)
                advance()
            }
            return String(decoding: text, as: UTF8.self)
        }

        /// At a quote inside a multi-line string. TOML lets up to two quotes stand right
        /// before the closing `"""` (`""""x"""""` is `"x""`), so a run of three to five
        /// closes the string and all but the last three belong to the text. Fewer than
        /// three are text. Returns whether the string was closed.
        mutating func closeMultilineString(delimiter: UInt8, into text: inout [UInt8]) -> Bool {
            var run = 0
            while peek(run) == delimiter {
                run += 1
            }
            let closes = run >= 3
            let kept = closes ? min(run - 3, 2) : run
            text.append(contentsOf: repeatElement(delimiter, count: kept))
            advance(by: closes ? kept + 3 : run)
            return closes
        }

        /// After a backslash in a basic string.
        mutating func decodeEscape(into text: inout [UInt8], multiline: Bool) {
            guard let byte = current else {
                return
            }
            let simple: [UInt8: UInt8] = [
                UInt8(ascii: "b"): 0x08, UInt8(ascii: "t"): 0x09, UInt8(ascii: "n"): 0x0A,
                UInt8(ascii: "f"): 0x0C, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "e"): 0x1B,
                ASCII.quote: ASCII.quote, ASCII.backslash: ASCII.backslash,
            ]
            if let replacement = simple[byte] {
                text.append(replacement)
                advance()
                return
            }
            if byte == UInt8(ascii: "u") || byte == UInt8(ascii: "U") {
                let digits = byte == UInt8(ascii: "u") ? 4 : 8
                advance()
                var value: UInt32 = 0
                for _ in 0..<digits {
                    guard let next = current, let digit = ASCII.hexValue(next) else {
                        break
                    }
                    value = value &* 16 &+ UInt32(digit)
                    advance()
                }
                if let scalar = Unicode.Scalar(value) {
                    text.append(contentsOf: Array(String(Character(scalar)).utf8))
                }
                return
            }
            if multiline && (byte == ASCII.space || byte == ASCII.tab || byte == ASCII.carriageReturn || byte == ASCII.newline) {
                // A line-ending backslash trims the newline and the indentation after it.
                while let next = current,
                    next == ASCII.space || next == ASCII.tab || next == ASCII.carriageReturn || next == ASCII.newline
                {
                    advance()
                }
                return
            }
            // Not a valid escape; TOMLKit would have refused it. Keep the byte.
            text.append(byte)
            advance()
        }

        // MARK: Whitespace and comments

        mutating func skipSpaces() {
            while let byte = current, byte == ASCII.space || byte == ASCII.tab {
                advance()
            }
        }

        mutating func skipWhitespaceNewlinesAndComments() {
            while let byte = current {
                if byte == ASCII.hash {
                    while let next = current, next != ASCII.newline {
                        advance()
                    }
                } else if byte == ASCII.space || byte == ASCII.tab || byte == ASCII.carriageReturn || byte == ASCII.newline {
                    advance()
                } else {
                    return
                }
            }
        }

        /// Up to and including the next newline.
        mutating func skipRestOfLine() {
            while let byte = current {
                advance()
                if byte == ASCII.newline {
                    return
                }
            }
        }

        // MARK: Moving

        var current: UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        func peek(_ offset: Int) -> UInt8? {
            let position = index + offset
            return position < bytes.count ? bytes[position] : nil
        }

        mutating func advance() {
            guard index < bytes.count else {
                return
            }
            if bytes[index] == ASCII.newline {
                line += 1
            }
            index += 1
        }

        mutating func advance(by count: Int) {
            for _ in 0..<max(0, count) {
                advance()
            }
        }
    }

    /// The bytes TOML's grammar turns on.
    private enum ASCII {
        static let tab = UInt8(ascii: "\t")
        static let newline = UInt8(ascii: "\n")
        static let carriageReturn = UInt8(ascii: "\r")
        static let space = UInt8(ascii: " ")
        static let quote = UInt8(ascii: "\"")
        static let hash = UInt8(ascii: "#")
        static let apostrophe = UInt8(ascii: "'")
        static let comma = UInt8(ascii: ",")
        static let dash = UInt8(ascii: "-")
        static let dot = UInt8(ascii: ".")
        static let equals = UInt8(ascii: "=")
        static let openBracket = UInt8(ascii: "[")
        static let backslash = UInt8(ascii: "\\")
        static let closeBracket = UInt8(ascii: "]")
        static let openBrace = UInt8(ascii: "{")
        static let closeBrace = UInt8(ascii: "}")

        static func isDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }

        static func isBareKey(_ byte: UInt8) -> Bool {
            isDigit(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == dash
        }

        static func endsBareValue(_ byte: UInt8) -> Bool {
            [space, tab, newline, carriageReturn, comma, closeBracket, closeBrace, hash].contains(byte)
        }

        static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
    }
}
