/// Why the spool refused an inbox entry before a byte of it was parsed: its name, its type,
/// its links, its size or a read error. The issuance engine never sees such an entry.
///
/// The raw values are the codes the ledger's `rejection` table and the journal's
/// `DROPCA_REJECTION_CODE` carry; they never change meaning. They share that namespace
/// with the issuance engine's `Rejection.Code` (`tooLarge` is the same condition in both:
/// the spool finds it from `fstat`, the engine from the byte count).
public struct SpoolRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case unsafeName
        case symlink
        case notRegularFile
        case multipleLinks
        case tooLarge
        case unreadable
    }

    public let code: Code
    /// One line, in an operator's words, without the entry's name.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The refusal for what ``Inbox/take(_:maxBytes:)`` found.
    public init(_ refusal: IntakeRefusal, reason: String) {
        switch refusal {
        case .symlink: self.init(.symlink, reason)
        case .notRegularFile: self.init(.notRegularFile, reason)
        case .multipleLinks: self.init(.multipleLinks, reason)
        case .tooLarge: self.init(.tooLarge, reason)
        case .unreadable: self.init(.unreadable, reason)
        }
    }

    /// A name that ``SpoolName/classification`` calls unsafe.
    public static func unsafeName(_ why: String) -> SpoolRefusal {
        SpoolRefusal(.unsafeName, "the file name is not allowed: \(why)")
    }

    public var description: String { reason }
}
