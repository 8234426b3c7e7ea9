import Glibc
import Synchronization

/// The outbox: where certificates appear, whole or not at all.
///
/// Each certificate is written to a hidden temporary file in the outbox itself
/// (`.dropca-<random>.tmp`, created `O_CREAT|O_EXCL`, mode set to 0644 with `fchmod` so
/// the daemon's umask does not matter), written completely, `fsync`ed (a batch's side by
/// side: see ``stage(_:)``), renamed to
/// `STEM.cer` relative to the held outbox descriptor, and the folder is `fsync`ed. An
/// appliance polling the outbox therefore sees either no `STEM.cer` or the complete one,
/// and after `publish` returns the certificate survives a power cut. Hidden names are
/// what SFTP clients skip, so a temporary is never fetched by mistake.
///
/// An existing `STEM.cer` is replaced, atomically, by the rename: a client that uploads
/// the same request name again gets the newest certificate; readers holding the old file
/// open keep reading the old one.
///
/// A profile may publish several files per certificate (`STEM.cer`, `STEM.pem`,
/// `STEM.chain.pem`, `STEM.p7b`: ``OutboxFile``). They are one item of a batch: every file
/// of every item is written and made durable before the first rename, an item's files are
/// renamed one right after the other, and only then is its input removed (the caller's
/// `afterEach`); one folder `fsync` covers them all. A crash or a failed rename between
/// two files of an item leaves its input in the inbox and its record unmarked, so the
/// next look publishes every file of it again.
///
/// The outbox also holds the issuing CA certificate as ``issuingCAName`` (DER), for
/// appliances to fetch: ``publishIssuingCA(_:)``.
///
/// Ownership: owns its folder descriptor. `Sendable`: immutable; several workers may
/// publish at once (temporary names are random and created exclusively).
public final class Outbox: Sendable {
    public var path: String { folder.path }

    /// Why the held folder is no longer the one at its path (deleted, moved, replaced), or
    /// nil; the daemon treats that as it treats a lost inbox.
    public func lossReason() -> String? {
        folder.lossReason()
    }
    let folder: FolderHandle

    /// Mode of published certificates: world-readable, the folder's 2750 decides who
    /// can actually reach them.
    public static let certificateMode: mode_t = 0o644

    /// Empty temporaries made ahead of time (``keepSpares()``), used first by ``stage(_:)``.
    private let spares = SpareTemporaries()

    /// How many empty temporaries ``keepSpares()`` keeps ready: enough for an upload or two
    /// arriving at an idle daemon, which is where the time to create a file counts.
    public static let spareCount = 2

    /// Opens the outbox folder; throws ``SpoolError`` (`cannotOpenFolder`).
    public init(path: String) throws {
        self.folder = try FolderHandle(path: path, role: "outbox")
    }

    /// Creates empty hidden temporaries (`.dropca-<random>.tmp`, mode 0600) until
    /// ``spareCount`` are ready, so that the next certificates are written into an existing
    /// file instead of waiting for a new one to be created (see
    /// ``FolderHandle/createEmptyTemporary()`` for why that matters). The daemon calls it
    /// after each batch, when the time it takes no longer delays anyone. A failure just
    /// leaves fewer spares. Spares left by a crash are removed with the other temporaries
    /// at the next start; ``removeSpares()`` removes them on a clean stop.
    public func keepSpares() {
        while spares.count < Outbox.spareCount, let name = try? folder.createEmptyTemporary() {
            spares.put(name)
        }
    }

    /// Removes the spare temporaries (for a clean stop).
    public func removeSpares() {
        while let name = spares.take() {
            unlinkat(folder.descriptor, name.cString, 0)
        }
    }

    /// Where the issuing CA certificate is kept (DER): a name no upload can produce, since
    /// an input whose name starts with a dot is an upload in progress and is never taken,
    /// and hidden, so that fetching `outbox/*` fetches certificates only.
    public static let issuingCAName = SpoolName(".ca.cer")

    /// Puts the issuing CA certificate `der` in the outbox as ``issuingCAName``, atomically
    /// and durably (temporary, `fsync`, rename, folder `fsync`); does nothing when the file
    /// already holds exactly these bytes, so a start or a reload without a new CA writes
    /// nothing. Throws ``SpoolError``.
    public func publishIssuingCA(_ der: [UInt8]) throws {
        let name = Outbox.issuingCAName
        if let existing = folder.status(of: name), existing.kind == .regularFile, existing.identity.size == der.count,
           folder.read(name, limit: der.count + 1) == der {
            return
        }
        let temporary = try folder.writeTemporary(der, mode: Outbox.certificateMode, sync: true, reusing: nil)
        guard renameat(folder.descriptor, temporary.cString, folder.descriptor, name.cString) == 0 else {
            let failure = errno
            unlinkat(folder.descriptor, temporary.cString, 0)
            throw SpoolError.system(.cannotRename, "cannot publish the CA certificate as", path: folder.display(name), errno: failure)
        }
        try folder.sync()
    }

    /// Publishes one certificate as `STEM.cer` for input `input`; see ``publish(_:)``.
    @discardableResult
    public func publish(_ certificate: [UInt8], forInput input: SpoolName) throws -> SpoolName {
        let names = try publish([(input: input, certificate: certificate)])
        return names.first ?? SpoolName.certificateName(forInput: input)
    }

    /// Publishes a batch: ``stage(_:)`` then ``publish(_:including:)``. Returns the
    /// published names, in order. Two items with the same stem end with the later one's
    /// content.
    ///
    /// Throws ``SpoolError``. If a write or the sync fails, no certificate of the batch is
    /// published and every temporary is removed. If a rename fails, the items before it
    /// are published (and the folder is synced), the rest are not; publishing again is
    /// safe because a rename replaces.
    @discardableResult
    public func publish(_ items: [(input: SpoolName, certificate: [UInt8])]) throws -> [SpoolName] {
        try publish(try stage(items))
    }

    /// Publishes a batch whose items have several files each: ``stage(files:)`` then
    /// ``publish(_:including:afterEach:)``. Returns every published name, in order.
    @discardableResult
    public func publish(files items: [(input: SpoolName, files: [OutboxFile])]) throws -> [SpoolName] {
        try publish(try stage(files: items))
    }

    /// A batch written to hidden temporaries and made durable, but not yet visible: the
    /// first half of ``publish(_:)``. Finish it with ``publish(_:including:)`` or
    /// ``discard(_:)``; a crash in between leaves only temporaries, which
    /// ``removeStaleTemporaries()`` clears at the next start.
    ///
    /// The daemon stages a batch while the ledger records the same certificates, on two
    /// threads, so that the two syncs overlap instead of adding up; the certificates become
    /// visible only once both are done (``Publisher``).
    public struct StagedBatch: Sendable {
        /// How many items the batch has; ``publish(_:including:)`` takes a mask this long.
        public var count: Int { finalNames.count }
        /// Per item, its files' temporaries and the names they take, in the same order.
        let temporaries: [[SpoolName]]
        let finalNames: [[SpoolName]]
    }

    /// Writes every certificate of the batch to a hidden temporary and makes all of them
    /// durable; nothing is visible yet.
    ///
    /// Durability before visibility, a batch at a time: the temporaries are all written
    /// first, then `fsync`ed side by side, 16 at once (``FolderHandle/syncTemporaries(_:)``),
    /// and only a batch whose every temporary is durable goes on to the renames. On the
    /// benchmark machine that is 78–92 µs a certificate against 231 µs for an `fsync` each
    /// in turn (see ``FolderHandle/parallelSyncs``, and ``FolderHandle/syncTemporaries(_:)``
    /// for why not one `syncfs`). A single certificate (the idle case) is `fsync`ed as it
    /// is written, without a thread.
    ///
    /// Throws ``SpoolError``; then no temporary of the batch is left.
    public func stage(_ items: [(input: SpoolName, certificate: [UInt8])]) throws -> StagedBatch {
        try stage(files: items.map { (input: $0.input, files: [OutboxFile(suffix: ".cer", bytes: $0.certificate)]) })
    }

    /// ``stage(_:)`` for items with several files each (`STEM` + each file's suffix): all
    /// of the batch's files are written and made durable together.
    ///
    /// With `syncing: false` the temporaries are written but not made durable: the caller
    /// must pass the batch to ``synchronize(_:)`` (with other outboxes' batches, so that
    /// the fsyncs of several profiles' outboxes run side by side) before publishing it.
    public func stage(files items: [(input: SpoolName, files: [OutboxFile])], syncing: Bool = true) throws -> StagedBatch {
        let finalNames = items.map { item in item.files.map { SpoolName.outputName(forInput: item.input, suffix: $0.suffix) } }
        for name in finalNames.joined() where !name.isSingleComponent || name.bytes.first == UInt8(ascii: ".") {
            throw SpoolError(.invalidName, "cannot publish \(folder.display(name)): not a plain visible entry name")
        }
        let fileCount = items.reduce(0) { $0 + $1.files.count }
        let syncEach = syncing && fileCount == 1
        var temporaries: [[SpoolName]] = []
        do {
            for item in items {
                var names: [SpoolName] = []
                temporaries.append([])
                for file in item.files {
                    names.append(try folder.writeTemporary(
                        file.bytes, mode: Outbox.certificateMode, sync: syncEach, reusing: spares.take()))
                    temporaries[temporaries.count - 1] = names
                }
            }
            if syncing && !syncEach {
                try folder.syncTemporaries(Array(temporaries.joined()))
            }
        } catch {
            for name in temporaries.joined() { unlinkat(folder.descriptor, name.cString, 0) }
            throw error
        }
        return StagedBatch(temporaries: temporaries, finalNames: finalNames)
    }

    /// Makes a staged batch visible: renames each temporary to its `STEM.cer` (or, for an
    /// item of several files, each of its files to `STEM` + its suffix, back to back),
    /// then `fsync`s the folder once — the group commit described in docs/ARCHITECTURE.md.
    /// With `including`, only the items whose flag is true are published and the other
    /// temporaries are removed (the daemon drops the certificates the ledger could not
    /// record). `afterEach` is called with an item's index right after its last rename (the
    /// daemon removes the input there, so that an input leaves the inbox as its
    /// certificate appears, not a whole batch later, and never before all its files are
    /// there). Returns the published names, in order.
    ///
    /// Throws ``SpoolError``. If a rename fails, the items before it are published (and
    /// the folder is synced), the rest are not and their temporaries are removed; files of
    /// the failing item renamed before it stay, and its input (for which `afterEach` was
    /// not called) brings them all back at the next attempt.
    @discardableResult
    public func publish(_ staged: StagedBatch, including: [Bool]? = nil, syncingFolder: Bool = true,
                        afterEach: (Int) -> Void = { _ in }) throws -> [SpoolName] {
        guard staged.count > 0 else { return [] }
        var published: [SpoolName] = []
        var publishedItems = 0
        for index in 0..<staged.count {
            let temporaries = staged.temporaries[index], finals = staged.finalNames[index]
            guard including.map({ index < $0.count && $0[index] }) ?? true else {
                for temporary in temporaries { unlinkat(folder.descriptor, temporary.cString, 0) }
                continue
            }
            for (position, (temporary, final)) in zip(temporaries, finals).enumerated()
            where renameat(folder.descriptor, temporary.cString, folder.descriptor, final.cString) != 0 {
                let failure = errno
                for name in temporaries[position...] { unlinkat(folder.descriptor, name.cString, 0) }
                for name in staged.temporaries[(index + 1)...].joined() { unlinkat(folder.descriptor, name.cString, 0) }
                try? folder.sync()
                throw SpoolError.system(
                    .cannotRename, "cannot publish (\(publishedItems) of \(staged.count) published)",
                    path: folder.display(final), errno: failure)
            }
            published += finals
            publishedItems += 1
            afterEach(index)
        }
        if syncingFolder && !published.isEmpty { try folder.sync() }
        return published
    }

    /// Makes the temporaries of batches staged with `syncing: false` durable, all of them
    /// side by side (``FolderHandle/parallelSyncs`` at once, whatever outbox each is in),
    /// and returns, per batch, nil or why it is not durable; a batch that is not is
    /// discarded (its temporaries removed), as ``stage(files:syncing:)`` would have.
    ///
    /// Why across outboxes: a batch that spans ten profiles would otherwise pay ten rounds
    /// of parallel fsyncs of a few files each, one outbox after the other, where one
    /// profile pays one round for as many files.
    public static func synchronize(_ batches: [(outbox: Outbox, staged: StagedBatch)]) -> [SpoolError?] {
        var listed: [(batch: Int, folder: FolderHandle, name: SpoolName)] = []
        for (index, batch) in batches.enumerated() {
            for name in batch.staged.temporaries.joined() { listed.append((index, batch.outbox.folder, name)) }
        }
        let files = listed
        let failures = FirstFailures(count: batches.count)
        ParallelCalls.forEach(files.count, width: FolderHandle.parallelSyncs) { index in
            let file = files[index]
            if let code = file.folder.syncFile(file.name) {
                failures.record(file.batch, SpoolError.system(.cannotSync, "cannot sync", path: file.folder.display(file.name), errno: code))
            }
        }
        let results = failures.all
        for (index, failure) in results.enumerated() where failure != nil {
            batches[index].outbox.discard(batches[index].staged)
        }
        return results
    }

    /// `fsync` of the outbox folder, for batches published with `syncingFolder: false`.
    public func synchronize() throws {
        try folder.sync()
    }

    /// Removes a staged batch's temporaries without publishing any of them.
    public func discard(_ staged: StagedBatch) {
        for name in staged.temporaries.joined() { unlinkat(folder.descriptor, name.cString, 0) }
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

/// One file of the outbox's answer to an input: `STEM` + `suffix`, holding `bytes`
/// (the DER certificate as `.cer`, its PEM as `.pem`, and so on).
public struct OutboxFile: Sendable, Equatable {
    public let suffix: String
    public let bytes: [UInt8]

    public init(suffix: String, bytes: [UInt8]) {
        self.suffix = suffix
        self.bytes = bytes
    }
}

/// The first failure of each of several batches, recorded from several threads.
final class FirstFailures: Sendable {
    private let failures: Mutex<[SpoolError?]>

    init(count: Int) { failures = Mutex(Array(repeating: nil, count: count)) }

    func record(_ batch: Int, _ error: SpoolError) {
        failures.withLock { if $0[batch] == nil { $0[batch] = error } }
    }

    var all: [SpoolError?] { failures.withLock { $0 } }
}

/// The outbox's spare temporaries.
final class SpareTemporaries: Sendable {
    private let names = Mutex<[SpoolName]>([])

    var count: Int { names.withLock { $0.count } }

    func put(_ name: SpoolName) { names.withLock { $0.append(name) } }

    func take() -> SpoolName? { names.withLock { $0.popLast() } }
}
