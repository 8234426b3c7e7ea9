import Ledger

extension Invocation {
    /// `dropca backup DEST`: a consistent copy of the configured ledger at `destination`,
    /// made while the daemon runs and without holding it up (``Ledger/backup(to:replacing:)``:
    /// SQLite's online backup from a read-only connection). The copy is one file, mode
    /// 0600, fsynced, that `dropca list --ledger DEST` and the `sqlite3` shell read as it
    /// is, and that is restored by copying it back into place (README: Backup and restore).
    ///
    /// An existing `destination` is replaced only with `overwrite`: a backup that silently
    /// replaced the previous one would lose it if this copy turned out bad. Returns the line
    /// for standard output. Throws with status 2 when the configuration or the ledger
    /// cannot be read (none yet included: there is nothing to back up), 1 when the copy
    /// cannot be written or kept.
    public func backupLedger(to destination: String, overwrite: Bool) throws(CommandFailure) -> String {
        let configuration: Configuration
        do {
            configuration = try loadConfiguration()
        } catch {
            throw CommandFailure(status: 2, lines: error.lines.map { "dropca backup: \($0)" })
        }
        let ledger: Ledger
        do {
            ledger = try Ledger(directory: configuration.state.directory, access: .readOnly)
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca backup: \((error as? LedgerError)?.message ?? "\(error)")"])
        }
        defer { try? ledger.close() }
        let copy: LedgerCopy
        do {
            copy = try ledger.backup(to: destination, replacing: overwrite)
        } catch {
            throw CommandFailure(status: 1, lines: ["dropca backup: \((error as? LedgerError)?.message ?? "\(error)")"])
        }
        let identity = copy.identity.map { "ledger \($0)" } ?? "a ledger without an id"
        return "\(copy.path): a copy of \(ledger.path) (\(identity)) with \(copy.certificates) certificates and \(copy.rejections) rejections, \(copy.bytes) bytes"
    }
}
