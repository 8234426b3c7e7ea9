/// A `failed/NAME.reason` file read back: what start-up reconciliation needs to tell a
/// rejection that finished from one a crash interrupted, and to rebuild the ledger row of
/// one whose row was never written (``FailedFolder/reasons(modifiedSince:)``).
///
/// The format is the one ``FailedFolder`` writes: the reason on the first line, then
/// `key: value` lines. The keys read here are `input:`, `kept as: failed/NAME`,
/// `code:`, `sha256:` and `rejected at:`; other lines are for the operator only.
public struct ReasonFile: Sendable, Equatable {
    /// The reason file's own name in `failed/`.
    public var name: SpoolName
    /// The first line.
    public var reason: String
    /// The inbox name, as written (control characters escaped).
    public var input: String?
    /// Where the entry itself was to be kept (`failed/NAME`); nil when it was not kept
    /// (hard links, a folder or an unread entry across filesystems).
    public var keptAs: SpoolName?
    /// A `not kept:` line: the entry was deliberately not kept (hard links, a folder or
    /// an unread entry across filesystems).
    public var keptNothing = false
    public var code: String?
    public var sha256: String?
    /// `2025-01-31T12:00:00Z`, as written.
    public var rejectedAt: String?

    /// Parses the bytes of a reason file; nil when it does not look like one dropca wrote
    /// (an operator's note, an empty file).
    public static func parse(_ bytes: [UInt8], name: SpoolName) -> ReasonFile? {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, !first.isEmpty else { return nil }
        var file = ReasonFile(name: name, reason: first)
        for line in lines.dropFirst() {
            if let value = line.value(after: "input: ") {
                file.input = value
            } else if let value = line.value(after: "kept as: failed/") {
                file.keptAs = SpoolName(String(value.prefix { $0 != " " }))
            } else if line.hasPrefix("not kept: ") {
                file.keptNothing = true
            } else if let value = line.value(after: "code: ") {
                file.code = value
            } else if let value = line.value(after: "sha256: ") {
                file.sha256 = value
            } else if let value = line.value(after: "rejected at: ") {
                file.rejectedAt = value
            }
        }
        guard file.input != nil, file.rejectedAt != nil else { return nil }
        return file
    }

    /// Whether `name` ends in `.reason` (and has something before it).
    public static func hasReasonSuffix(_ name: SpoolName) -> Bool {
        name.bytes.count > 7 && name.bytes.suffix(7).elementsEqual(".reason".utf8)
    }

    init(name: SpoolName, reason: String) {
        self.name = name
        self.reason = reason
    }
}

extension String {
    fileprivate func value(after prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
