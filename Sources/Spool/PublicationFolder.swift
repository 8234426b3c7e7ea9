import Glibc

/// The folder a web server serves to relying parties: the CRL and the CA certificate.
///
/// Each file is replaced atomically and durably: written to a hidden temporary (mode 0644,
/// whatever the daemon's umask), `fsync`ed, renamed over the old one relative to the held
/// folder descriptor, and the folder `fsync`ed. A reader (nginx) sees the old file or the
/// new one, never a part, and after a crash the file on disk is one that was complete.
///
/// Ownership: owns its folder descriptor. `Sendable`: immutable; one writer (the daemon's
/// CRL thread) at a time.
public final class PublicationFolder: Sendable {
    let folder: FolderHandle
    public var path: String { folder.path }

    /// Opens `path`, creating it when missing with mode 0755 (set explicitly: the service's
    /// umask of 0077 would make it 0700, which a web server could not enter).
    public init(path: String) throws {
        var created = false
        if mkdir(path, 0o755) == 0 {
            created = true
        } else if errno != EEXIST {
            throw SpoolError.system(.cannotOpenFolder, "cannot create the publication folder", path: path, errno: errno)
        }
        folder = try FolderHandle(path: path, role: "publication folder")
        if created { _ = fchmod(folder.descriptor, 0o755) }
    }

    /// Replaces `name` with `bytes`. Throws ``SpoolError`` (a full disk, a folder gone).
    public func replace(_ name: String, with bytes: [UInt8]) throws {
        let target = SpoolName(name)
        let temporary = try folder.writeTemporary(bytes, mode: 0o644)
        guard renameat(folder.descriptor, temporary.cString, folder.descriptor, target.cString) == 0 else {
            let failure = errno
            unlinkat(folder.descriptor, temporary.cString, 0)
            throw SpoolError.system(.cannotRename, "cannot put in place", path: folder.display(target), errno: failure)
        }
        try folder.sync()
    }

    /// Whether `path` still names the folder this holds: false once it was renamed away,
    /// replaced, remounted, or a symbolic link on the way points elsewhere. The holder then
    /// opens the path anew, or it would go on publishing where nobody looks.
    public var isStillAtPath: Bool {
        var held = stat()
        var named = stat()
        guard fstat(folder.descriptor, &held) == 0, stat(folder.path, &named) == 0 else { return false }
        return held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }

    /// Temporaries a crash left behind.
    public func removeStaleTemporaries() throws -> [SpoolName] {
        try folder.removeStaleTemporaries()
    }
}
