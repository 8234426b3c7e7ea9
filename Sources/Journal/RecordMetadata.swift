import Logging

/// What both handlers do with metadata before writing a record, so that the journal and
/// stderr show the same keys and values.
enum RecordMetadata {
    /// The metadata of one record: the handler's own, then the metadata provider's, then
    /// the log call's, later ones winning on equal keys (the order swift-log's
    /// `StreamLogHandler` uses), plus `error.message`/`error.type` when the call passed
    /// an error. Sorted by key so that records are reproducible.
    static func merged(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        event: LogEvent
    ) -> [(key: String, value: Logger.MetadataValue)] {
        var metadata = handler
        if let provided = provider?.get(), !provided.isEmpty {
            metadata.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            metadata.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            metadata["error.message"] = .string("\(error)")
            metadata["error.type"] = .string(String(reflecting: type(of: error)))
        }
        return metadata.sorted { $0.key < $1.key }
    }

    /// A value as text. Arrays are joined with ", " (`DROPCA_SANS=DNS:a, DNS:b`), which
    /// reads well in `journalctl` and needs no second level of quoting; dictionaries
    /// become `key=value` pairs joined the same way.
    static func text(of value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string):
            return string
        case .stringConvertible(let convertible):
            return convertible.description
        case .array(let values):
            return values.map(text(of:)).joined(separator: ", ")
        case .dictionary(let dictionary):
            return dictionary.sorted { $0.key < $1.key }
                .map { "\($0.key)=\(text(of: $0.value))" }
                .joined(separator: ", ")
        }
    }
}
