import ArgumentParser
import DropCA
import Foundation
import Issuance
import Journal
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (systemd Type=notify).",
        discussion: "SIGTERM or SIGINT: finish the files in progress and exit 0. SIGHUP: reload the configuration and CA; an invalid one is refused and the running one kept."
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("log-target"), help: "journal, stderr or auto (journal when stderr is connected to journald).")
    var logTarget: LogTarget = .auto

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        LoggingSetup.bootstrap(target: logTarget, environment: environment)
        let logger = Logger(label: "dropca")
        let path = config.path
        let configuration: Configuration
        let issuer: Issuer
        do {
            configuration = try Configuration.load(path: path, environment: environment)
            issuer = try AuthorityLoader.issuer(for: configuration, environment: environment)
        } catch {
            for line in "\(error)".split(separator: "\n") {
                logger.log(level: DropCAEvent.startupFailed.level, "cannot start: \(line)",
                           metadata: DropCAEvent.startupFailed.metadata(["reason": "\(line)"]))
            }
            throw ExitCode(2)
        }
        let daemon = Daemon(configPath: path, configuration: configuration, issuer: issuer,
                            environment: environment, logger: logger, notifier: Notifier())
        let status = daemon.run()
        if status != 0 { throw ExitCode(status) }
    }
}

extension LogTarget: ExpressibleByArgument {}
