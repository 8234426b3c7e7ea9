import ArgumentParser
import DropCA

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (systemd Type=notify).",
        discussion: """
        SIGTERM or SIGINT: finish the files in progress and exit 0. SIGHUP: reload the \
        configuration and CA; an invalid one is refused and the running one kept. A second \
        instance on the same state directory exits 2 at once. A ledger that is missing, \
        empty, replaced or damaged while the state directory or the outbox shows that one \
        existed is refused (exit 2); a ledger deleted, replaced or truncated while dropca runs \
        ends it (exit 1). Exit status: 0 after a stop, 1 on a fatal error, 2 when dropca \
        refuses to start.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("log-target"), help: "journal, stderr or auto (journal when stderr is connected to journald).")
    var logTarget: LogTarget = .auto

    @Flag(name: .customLong("new-ledger"), help: ArgumentHelp(
        "Start a new, empty ledger if the one in state.directory would be refused (missing, empty, replaced or damaged); the old files are kept aside as ledger.sqlite.old-TIME, never deleted.",
        discussion: "A sound ledger is kept whatever this says. Certificates issued before stay recorded only in the old file and in backups."))
    var newLedger = false

    func run() throws {
        let status = config.invocation.runDaemon(logTarget: logTarget, newLedger: newLedger,
                                                 version: DropCACommand.configuration.version)
        if status != 0 { throw ExitCode(status) }
    }
}

extension LogTarget: ExpressibleByArgument {}
