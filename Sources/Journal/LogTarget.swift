import Glibc

/// Where log records go: `--log-target journal|stderr|auto` (the raw values).
public enum LogTarget: String, Sendable, CaseIterable {
    /// Structured entries through `JournalLogHandler`.
    case journal
    /// One line per record on standard error through `StderrLogHandler`.
    case stderr
    /// `journal` when standard error is already connected to journald, else `stderr`.
    case auto

    /// `journal` or `stderr`: `self` unless it is `auto`, which is decided by
    /// `isJournalStream(_:descriptor:)` on `JOURNAL_STREAM` and `descriptor`.
    ///
    /// - Parameter descriptor: the stream the records would otherwise go to; standard
    ///   error unless a test passes another.
    public func resolved(environment: [String: String], descriptor: Int32 = STDERR_FILENO) -> LogTarget {
        switch self {
        case .journal, .stderr:
            return self
        case .auto:
            return LogTarget.isJournalStream(environment["JOURNAL_STREAM"], descriptor: descriptor)
                ? .journal : .stderr
        }
    }

    /// Whether `descriptor` is the journald stream systemd connected the service to.
    ///
    /// systemd sets `JOURNAL_STREAM=<device>:<inode>` (decimal) for a service whose
    /// stdout or stderr goes to the journal (systemd.exec(5)). The variable is inherited
    /// by every child, even one whose stderr was redirected to a file or a terminal, so
    /// it counts only when the pair matches `fstat(descriptor)` — the check
    /// sd_journal_stream_fd(3) recommends. Then the journal is used directly, so fields
    /// survive instead of being flattened into a stream line.
    public static func isJournalStream(_ value: String?, descriptor: Int32) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
              let device = UInt64(parts[0]),
              let inode = UInt64(parts[1])
        else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
