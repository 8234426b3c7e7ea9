import Logging
import Synchronization

/// Installs dropca's log handler for the whole process.
public enum LoggingSetup {
    /// The target chosen by the first `bootstrap`, nil before it.
    ///
    /// swift-log's `LoggingSystem.bootstrap` stops the process when called twice, and both
    /// the CLI and tests may reach `bootstrap` more than once, so the first call decides
    /// and later ones only report what was decided.
    private static let chosen = Mutex<LogTarget?>(nil)

    /// Sends every `Logger` made from now on to the journal or to stderr.
    ///
    /// - Parameters:
    ///   - target: `auto` resolves through `LogTarget.resolved(environment:descriptor:)`.
    ///   - environment: the environment `auto` reads `JOURNAL_STREAM` from.
    ///   - level: the level new loggers start at.
    /// - Returns: the target in force — `journal` or `stderr`, from the first call.
    @discardableResult
    public static func bootstrap(
        target: LogTarget = .auto,
        environment: [String: String] = ProcessEnvironment.current(),
        level: Logger.Level = .info
    ) -> LogTarget {
        chosen.withLock { chosen in
            if let chosen { return chosen }
            let resolved = target.resolved(environment: environment)
            switch resolved {
            case .journal:
                LoggingSystem.bootstrap { label in
                    var handler = JournalLogHandler(label: label)
                    handler.logLevel = level
                    return handler
                }
            case .stderr, .auto:
                LoggingSystem.bootstrap { label in
                    var handler = StderrLogHandler(label: label)
                    handler.logLevel = level
                    return handler
                }
            }
            chosen = resolved
            return resolved
        }
    }
}
