import Glibc

/// The outbox: where certificates appear, whole or not at all.
///
/// Each certificate is written to a hidden temporary file in the outbox itself
/// (`.dropca-<random>.tmp`, created `O_CREAT|O_EXCL`, mode set to 0644 with `fchmod` so
/// the daemon's umask does not matter), written completely, `fsync`ed, renamed to
/// `STEM.cer` relative to the held outbox descriptor, and the folder is `fsync`ed. An
/// appliance polling the outbox therefore sees either no `STEM.cer` or the complete one,
/// and after `publish` returns the certificate survives a power cut. Hidden names are
/// what SFTP clients skip, so a temporary is never fetched by mistake.
///
/// An existing `STEM.cer` is replaced, atomically, by the rename: a client that uploads
/// the same request name again gets the newest certificate; readers holding the old file
/// open keep reading the old one.
///
/// Ownership: owns its folder descriptor. `Sendable`: immutable; several workers may
/// publish at once (temporary names are random and created exclusively).
public final class Outbox: Sendable {
    public var path: String { folder.path }
    let folder: FolderHandle

    /// Mode of published certificates: world-readable, the folder's 2750 decides who
    /// can actually reach them.
    public static let certificateMode: mode_t = 0o644

    /// Opens the outbox folder; throws ``SpoolError`` (`cannotOpenFolder`).
    public init(path: String) throws {
        self.folder = try FolderHandle(path: path, role: "outbox")
    }

    /// Publishes one certificate as `STEM.cer` for input `input`; see ``publish(_:)``.
    @discardableResult
    public func publish(_ certificate: [UInt8], forInput input: SpoolName) throws -> SpoolName {
        let names = try publish([(input: input, certificate: certificate)])
        return names.first ?? SpoolName.certificateName(forInput: input)
    }

    /// Publishes a batch: writes and `fsync`s every temporary file, renames each to its
    /// `STEM.cer` (``SpoolName/certificateName(forInput:)``), then `fsync`s the folder
    /// once — the group commit of DESIGN.md section 3. Returns the published names, in
    /// order. Two items with the same stem end with the later one's content.
    ///
    /// Throws ``SpoolError``. If a write fails, no certificate of the batch is published
    /// and every temporary is removed. If a rename fails, the items before it are
    /// published (and the folder is synced), the rest are not; publishing again is safe
    /// because a rename replaces.
    @discardableResult
    public func publish(_ items: [(input: SpoolName, certificate: [UInt8])]) throws -> [SpoolName] {
        guard !items.isEmpty else { return [] }
        let finalNames = items.map { SpoolName.certificateName(forInput: $0.input) }
        for name in finalNames where !name.isSingleComponent || name.bytes.first == UInt8(ascii: ".") {
            throw SpoolError(.invalidName, "cannot publish \(folder.display(name)): not a plain visible entry name")
        }

        var temporaries: [SpoolName] = []
        do {
            for item in items {
                temporaries.append(try folder.writeTemporary(item.certificate, mode: Outbox.certificateMode))
            }
        } catch {
            for name in temporaries { unlinkat(folder.descriptor, name.cString, 0) }
            throw error
        }

        for (index, (temporary, final)) in zip(temporaries, finalNames).enumerated() {
            let renamed = renameat(folder.descriptor, temporary.cString, folder.descriptor, final.cString)
            if renamed != 0 {
                let failure = errno
                for name in temporaries[index...] { unlinkat(folder.descriptor, name.cString, 0) }
                try? folder.sync()
                throw SpoolError.system(
                    .cannotRename, "cannot publish (\(index) of \(items.count) published)",
                    path: folder.display(final), errno: failure)
            }
        }
        try folder.sync()
        return finalNames
    }

    /// Removes `.dropca-*.tmp` files left by a crash between writing and renaming. Call at
    /// startup, before any ``publish(_:)``. Returns the names removed, for the log.
    @discardableResult
    public func removeStaleTemporaries() throws -> [SpoolName] {
        let removed = try folder.removeStaleTemporaries()
        if !removed.isEmpty { try folder.sync() }
        return removed
    }

    /// The outbox entries, for tests and `check-config`.
    public func listEntries() throws -> [FolderEntry] {
        try folder.list()
    }
}
