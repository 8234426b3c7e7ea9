import Glibc

/// A spool operation that could not be carried out: a folder that cannot be opened or
/// watched, a certificate that cannot be written. (What is wrong with an *input* is not
/// an error but an ``Intake`` refusal.)
///
/// Equality compares the ``code`` only, so callers and tests match on the kind of
/// failure and new codes never break them; ``message`` is one line for the operator that
/// names the path and the system's own words for `errno`.
public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        /// A spool folder cannot be opened (missing, not a folder, no permission).
        public static let cannotOpenFolder = Code(name: "cannotOpenFolder")
        /// A spool folder cannot be listed.
        public static let cannotListFolder = Code(name: "cannotListFolder")
        /// inotify could not be set up on the inbox.
        public static let cannotWatch = Code(name: "cannotWatch")
        /// Waiting for or reading inotify events failed.
        public static let cannotReadEvents = Code(name: "cannotReadEvents")
        /// A file in the outbox or failed folder could not be created, written or synced.
        public static let cannotWrite = Code(name: "cannotWrite")
        /// A rename into the outbox or failed folder failed.
        public static let cannotRename = Code(name: "cannotRename")
        /// A folder could not be synced to disk.
        public static let cannotSync = Code(name: "cannotSync")
        /// An inbox entry could not be removed.
        public static let cannotRemove = Code(name: "cannotRemove")
        /// A name that cannot be used as a single folder entry.
        public static let invalidName = Code(name: "invalidName")
    }

    public let code: Code
    /// One line: what failed, on which path, and why (`strerror` text and errno name).
    public let message: String
    /// The `errno` value behind the failure, when there was one.
    public let errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// `"<what> <path>: <strerror> (<ENAME>)"`.
    static func system(_ code: Code, _ what: String, path: String, errno: Int32) -> SpoolError {
        SpoolError(code, "\(what) \(path): \(SystemCall.errnoText(errno))", errno: errno)
    }

    public var description: String { "SpoolError.\(code): \(message)" }

    public static func == (lhs: SpoolError, rhs: SpoolError) -> Bool {
        lhs.code == rhs.code
    }
}
