import Issuance
import Journal
import Logging

extension Invocation {
    /// `dropca run`: sends logging to `logTarget`, loads the configuration and the CA, and
    /// runs the daemon until SIGTERM/SIGINT. Returns the exit status: 0 after a stop, 1 on a
    /// fatal error (the inbox or the ledger lost, the state directory unusable), 2 when the
    /// configuration or the CA does not load, another instance holds the state directory,
    /// or the ledger is refused (missing, empty, replaced or damaged while the state
    /// directory or the outbox shows one existed; `newLedger` starts a new one instead,
    /// keeping the old file aside).
    /// `version` is what `dropca --version` prints, for the metrics' build info.
    public func runDaemon(logTarget: LogTarget, newLedger: Bool = false, version: String) -> Int32 {
        LoggingSetup.bootstrap(target: logTarget, environment: environment)
        let logger = Logger(label: "dropca")
        let log = DaemonLog(logger: logger)
        let loaded: (configuration: Configuration, rules: IssuanceRules)
        do {
            loaded = try loadRules()
        } catch {
            for line in error.lines { log.startupFailed(line) }
            if error.mayPass {
                log.startupFailed("exit status 1: the unit starts dropca again (every 5 s) until the token answers")
                return 1
            }
            return 2
        }
        let daemon = Daemon(invocation: self, configuration: loaded.configuration, rules: loaded.rules,
                            log: log, notifier: Notifier(), newLedger: newLedger, version: version)
        return daemon.run()
    }
}
