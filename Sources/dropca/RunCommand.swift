import ArgumentParser
import DropCA

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (systemd Type=notify).",
        discussion: "SIGTERM or SIGINT: finish the files in progress and exit 0. SIGHUP: reload the configuration and CA; an invalid one is refused and the running one kept. A second instance on the same state directory exits 2 at once."
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("log-target"), help: "journal, stderr or auto (journal when stderr is connected to journald).")
    var logTarget: LogTarget = .auto

    func run() throws {
        let status = config.invocation.runDaemon(logTarget: logTarget)
        if status != 0 { throw ExitCode(status) }
    }
}

extension LogTarget: ExpressibleByArgument {}
