internal import CSystemd
import Glibc
import Logging

/// Sends every record to journald as a structured entry through `sd_journal_sendv`.
///
/// Structured, not a line on stderr, so that operators can select records by field
/// (`journalctl DROPCA_SERIAL=…`, `journalctl MESSAGE_ID=…`) and `journalctl -x` can
/// explain them from the catalog. Each entry carries:
///
/// - `MESSAGE`, `PRIORITY` (from `Logger.Level.syslogPriority`), `SYSLOG_IDENTIFIER=dropca`;
/// - `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` of the log call;
/// - `DROPCA_LOGGER` with the swift-log label;
/// - every metadata entry under the name `JournalFieldName(metadataKey:)` gives it
///   (`file` → `DROPCA_FILE`, `message_id` → `MESSAGE_ID`), its value as text with
///   arrays joined by ", ".
///
/// Values are passed with their length, so newlines and any other bytes arrive intact;
/// nothing is escaped. When journald cannot be reached the record is written to stderr
/// as a `StderrLogHandler` line instead of being lost.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?

    /// The swift-log label, sent as `DROPCA_LOGGER`.
    public let label: String
    /// Sent as `SYSLOG_IDENTIFIER`, which `journalctl -t` selects on.
    public let syslogIdentifier: String

    public init(
        label: String,
        syslogIdentifier: String = "dropca",
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) {
        self.label = label
        self.syslogIdentifier = syslogIdentifier
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = RecordMetadata.merged(handler: metadata, provider: metadataProvider, event: event)
        let result = JournalLogHandler.send(fields(for: event, metadata: merged))
        if result < 0 {
            StderrLogHandler.writeToStandardError(
                StderrLogHandler.line(
                    time: time(nil),
                    level: event.level,
                    identifier: syslogIdentifier,
                    message: event.message.description,
                    metadata: merged + [(key: "journal_error", value: .string(String(cString: strerror(-result))))]
                )
            )
        }
    }

    /// The entry for one record, in the order it is sent.
    func fields(
        for event: LogEvent,
        metadata: [(key: String, value: Logger.MetadataValue)]
    ) -> [(name: JournalFieldName, value: String)] {
        var fields: [(name: JournalFieldName, value: String)] = [
            (JournalFieldName(journalField: "MESSAGE"), event.message.description),
            (JournalFieldName(journalField: "PRIORITY"), String(event.level.syslogPriority)),
            (JournalFieldName(journalField: "SYSLOG_IDENTIFIER"), syslogIdentifier),
            (JournalFieldName(journalField: "CODE_FILE"), event.file),
            (JournalFieldName(journalField: "CODE_LINE"), String(event.line)),
            (JournalFieldName(journalField: "CODE_FUNC"), event.function),
        ]
        if !label.isEmpty {
            fields.append((JournalFieldName(metadataKey: "logger"), label))
        }
        for (key, value) in metadata {
            fields.append((JournalFieldName(metadataKey: key), RecordMetadata.text(of: value)))
        }
        return fields
    }

    /// Writes one entry; returns `sd_journal_sendv`'s result (negative errno on failure).
    ///
    /// All `NAME=value` strings go into one buffer and the iovecs point into it, so the
    /// pointers stay valid for the whole call without one allocation per field.
    static func send(_ fields: [(name: JournalFieldName, value: String)]) -> Int32 {
        var buffer: [UInt8] = []
        var spans: [(offset: Int, count: Int)] = []
        spans.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.rawValue.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            spans.append((start, buffer.count - start))
        }
        return buffer.withUnsafeMutableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -EINVAL }
            let vectors = spans.map { iovec(iov_base: base + $0.offset, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
