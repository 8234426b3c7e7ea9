import ArgumentParser
import DropCA

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of the issuance ledger, also while the daemon runs.",
        discussion: """
        The copy is one SQLite file, mode 0600, fsynced before this returns; dropca list \
        --ledger DEST and the sqlite3 shell read it as it is. To restore it, stop dropca and \
        copy it into place as state.directory/ledger.sqlite (README: Backup and restore). Exit \
        status: 0 when the copy is written, 1 when it cannot be written or DEST exists, 2 for \
        a usage or configuration error or no ledger to copy.
        """
    )

    @OptionGroup var config: ConfigOption

    @Flag(name: .long, help: "Replace DEST if it exists (by default an existing file is never replaced).")
    var overwrite = false

    @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "DEST"))
    var destination: String

    func run() throws {
        do {
            print(try config.invocation.backupLedger(to: destination, overwrite: overwrite))
        } catch {
            throw error.exit()
        }
    }
}
