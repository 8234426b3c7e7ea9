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

        Exit status: 0 after SIGTERM or SIGINT; 1 on a fatal error, such as a lost inbox (the \
        unit's Restart=on-failure starts it again); 2 when the configuration or the CA does \
        not load, or another dropca run already uses the same state directory.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(
        name: .customLong("log-target"),
        help: ArgumentHelp("Where log records go: journal, stderr, or auto (journal when stderr is connected to journald).", valueName: "target")
    )
    var logTarget: LogTarget = .auto

    func run() throws {
        let status = config.invocation.runDaemon(logTarget: logTarget)
        if status != 0 { throw ExitCode(status) }
    }
}

extension LogTarget: ExpressibleByArgument {}
