import SystemPackage

/// Reads a whole file that an operator named — the configuration, the CA certificate, the
/// CA key, a request for `dropca issue` — and never more of it than `limit` bytes.
///
/// The one reader for such files, so that each is refused the same way when it is missing,
/// a folder, unreadable or far too large, with the system's own reason ("Permission
/// denied") and the file named: what an operator needs to fix it. Inbox entries are not
/// read here: the spool reads those relative to its folder descriptor, with rules of its
/// own (`Spool.Inbox`).
enum BoundedFile {
    /// Why a file could not be read, in one line that names the file.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let path: String
        /// Without the path, e.g. "cannot be opened: Permission denied".
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    /// All of standard input, at most `limit` bytes (whatever it is: a pipe, a socket, a file).
    static func readStandardInput(limit: Int, what: String) throws(Failure) -> [UInt8] {
        try readAll(FileDescriptor.standardInput, path: "standard input", limit: limit, what: what, over: "larger than \(limit) bytes")
    }

    /// The whole of `path`, at most `limit` bytes; `what` names the file in messages
    /// ("CA private key (ca.key)"), `limitName` the setting that sets the limit, if any.
    static func read(_ path: String, limit: Int, what: String, limitName: String? = nil) throws(Failure) -> [UInt8] {
        func failure(_ reason: String) -> Failure { Failure(path: path, reason: "the \(what) \(reason)") }
        let over = limitName.map { "over \($0)" } ?? "larger than the \(limit) bytes such a file may have; is it the right file?"
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw failure((error as? Errno) == .noSuchFileOrDirectory ? "does not exist" : "cannot be opened: \(error)")
        }
        defer { try? descriptor.close() }
        let status: Stat
        do {
            status = try descriptor.stat()
        } catch {
            throw failure("cannot be examined: \(error)")
        }
        if status.type == .directory {
            throw failure("is a folder, not a file")
        }
        if status.type == .regular, status.size > Int64(limit) {
            throw failure("is \(status.size) bytes, \(over)")
        }
        return try readAll(descriptor, path: path, limit: limit, what: what, over: over)
    }

    /// Reads one byte past the limit: a file that grows after `stat`, or a pipe or device
    /// whose size `stat` does not know, is caught here rather than read without end.
    private static func readAll(_ descriptor: FileDescriptor, path: String, limit: Int, what: String, over: String) throws(Failure) -> [UInt8] {
        func failure(_ reason: String) -> Failure { Failure(path: path, reason: "the \(what) \(reason)") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { buffer in
                    try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(buffer.count, limit + 1 - bytes.count)]))
                }
            } catch {
                throw failure("cannot be read: \(error)")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
        }
        throw failure("has more than \(limit) bytes, \(over)")
    }
}
