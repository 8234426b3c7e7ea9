import Glibc
import Logging

/// Writes one human-readable line per record to standard error, for when dropca does not
/// run under journald (a terminal, `dropca issue` in a script, a container):
///
///     2026-11-29T00:44:07Z warning dropca: request rejected file=a.csr reason="key too small"
///
/// Time in UTC so that lines from different machines sort together; metadata sorted by
/// key as `key=value`, quoted when the value has spaces. A record is always exactly one
/// line: values come from untrusted requests (a subject can hold a newline or a terminal
/// escape sequence), so control characters are written as escapes (`\n`, `\x1B`) and
/// can neither forge a second record nor drive the operator's terminal.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?

    /// The swift-log label; kept for callers, not printed (every line says `dropca`).
    public let label: String
    /// The name after the level, like syslog's identifier.
    public let identifier: String
    private let output: @Sendable (String) -> Void

    /// - Parameter output: receives each finished line, newline included; by default it
    ///   goes to file descriptor 2 in a single `write`, so concurrent records do not
    ///   interleave mid-line.
    public init(
        label: String,
        identifier: String = "dropca",
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        output: @escaping @Sendable (String) -> Void = StderrLogHandler.writeToStandardError
    ) {
        self.label = label
        self.identifier = identifier
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = RecordMetadata.merged(handler: metadata, provider: metadataProvider, event: event)
        output(
            StderrLogHandler.line(
                time: time(nil),
                level: event.level,
                identifier: identifier,
                message: event.message.description,
                metadata: merged
            )
        )
    }

    /// Writes `line` to standard error, retrying short writes and EINTR. Errors are
    /// dropped: there is nowhere left to report them.
    public static func writeToStandardError(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            guard var next = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = write(STDERR_FILENO, next, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                remaining -= written
                next += written
            }
        }
    }

    /// One record as one line, ending in "\n".
    static func line(
        time: time_t,
        level: Logger.Level,
        identifier: String,
        message: String,
        metadata: [(key: String, value: Logger.MetadataValue)]
    ) -> String {
        var line = "\(timestamp(time)) \(level) \(identifier): \(escapingControlCharacters(message))"
        for (key, value) in metadata {
            line += " \(escapingKey(key))=\(quotedIfNeeded(RecordMetadata.text(of: value)))"
        }
        line += "\n"
        return line
    }

    /// RFC 3339 in UTC to the second, e.g. `2026-11-29T00:44:07Z`; also how the daemon
    /// writes dates inside its messages, where Foundation's ISO 8601 style would cost a
    /// calendar computation per certificate.
    public static func timestamp(_ seconds: time_t) -> String {
        var seconds = seconds
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(seconds)" }
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))"
            + "T\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))Z"
    }

    /// The message with every character that could break the line or reach the terminal
    /// as a control written out as an escape; everything else as it is.
    static func escapingControlCharacters(_ text: String) -> String {
        // Printable ASCII, what almost every line is, needs no look at Unicode properties.
        if text.utf8.allSatisfy({ 0x20...0x7E ~= $0 }) { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let escape = escape(scalar) {
                escaped += escape
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A value bare when it cannot be misread (`file=a.csr`), otherwise in double quotes
    /// with `"` and `\` escaped, so `key=value` pairs always split unambiguously.
    static func quotedIfNeeded(_ value: String) -> String {
        if !value.isEmpty && value.utf8.allSatisfy(isBareASCII) { return value }
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar == " " || scalar == "\"" || scalar == "=" || scalar == "\\"
                || scalar.properties.isWhitespace || escape(scalar) != nil
        }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default:
                if let escape = escape(scalar) {
                    quoted += escape
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        quoted += "\""
        return quoted
    }

    /// Keys come from code, but a key with a space or `=` would still make the line
    /// ambiguous; such characters become `_`.
    static func escapingKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        if key.utf8.allSatisfy(isBareASCII) { return key }
        var escaped = ""
        for scalar in key.unicodeScalars {
            if scalar == "=" || scalar == "\"" || scalar.properties.isWhitespace || escape(scalar) != nil {
                escaped += "_"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Printable ASCII other than space, `"`, `=` and `\`: what a value or key may hold and
    /// still be written bare. The Unicode checks below decide the rest.
    private static func isBareASCII(_ byte: UInt8) -> Bool {
        0x21...0x7E ~= byte && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "=") && byte != UInt8(ascii: "\\")
    }

    /// The escape for a character that must not be written as it is: C0 and C1 controls,
    /// DEL, and the Unicode line and paragraph separators; nil for every other character.
    private static func escape(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x00...0x1F, 0x7F:
            return "\\x" + hex(scalar.value, width: 2)
        case 0x80...0x9F, 0x2028, 0x2029:
            return "\\u{" + hex(scalar.value, width: 4) + "}"
        default:
            return nil
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
