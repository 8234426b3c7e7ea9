import ArgumentParser
import DropCA

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (systemd Type=notify).",
        discussion: """
        The daemon watches the inbox with inotify and handles every file in it exactly once: \
        a certificate, DER-encoded, appears as outbox/STEM.cer (STEM is the file name without \
        .csr, .req, .pem, .der, .p10 or .txt), a refused request moves to failed/ next to \
        NAME.reason. Every certificate is recorded in the ledger, state.directory/ledger.sqlite, \
        before it is published; every issuance and rejection is one journal record. It tells \
        systemd when it is ready (Type=notify), reports its counts in STATUS= and pets the \
        watchdog.

        Signals: SIGTERM or SIGINT finish the files in progress and exit; SIGHUP reloads the \
        configuration and the CA certificate (an invalid one is refused and the running one \
        kept); SIGUSR1, sent by dropca revoke, publishes a new CRL.

        The ledger is held like the inbox: one that is missing, empty, replaced or damaged \
        while the state directory or the outbox shows that one existed is refused at start \
        (see --new-ledger), and one deleted, replaced or truncated while dropca runs ends it.

        Exit status: 0 after SIGTERM or SIGINT; 1 on a fatal error, such as a lost inbox or \
        ledger (the unit's Restart=on-failure starts it again); 2 when the configuration or \
        the CA does not load, another dropca run already uses the same state directory, or \
        the ledger is refused.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(
        name: .customLong("log-target"),
        help: ArgumentHelp("Where log records go: journal, stderr, or auto (journal when stderr is connected to journald).", valueName: "target")
    )
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
