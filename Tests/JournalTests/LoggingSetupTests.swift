import Glibc
import Logging
import Testing
import Journal

/// `LoggingSystem.bootstrap` is once per process, so each test runs in a child process
/// of its own (an exit test) and reports through its exit status.
@Suite struct LoggingSetupTests {
    @Test func firstBootstrapDecidesAndLaterOnesDoNotCrash() async {
        await #expect(processExitsWith: .success) {
            let first = LoggingSetup.bootstrap(target: .stderr, environment: [:], level: .debug)
            let second = LoggingSetup.bootstrap(target: .journal, environment: [:])
            let logger = Logger(label: "dropca.test")
            guard first == .stderr, second == .stderr else { exit(1) }
            guard logger.handler is StderrLogHandler else { exit(2) }
            guard logger.logLevel == .debug else { exit(3) }
        }
    }

    @Test func autoBootstrapsTheJournalHandlerUnderJournald() async {
        await #expect(processExitsWith: .success) {
            var status = stat()
            guard fstat(STDERR_FILENO, &status) == 0 else { exit(1) }
            let target = LoggingSetup.bootstrap(
                target: .auto,
                environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]
            )
            guard target == .journal else { exit(2) }
            guard Logger(label: "dropca.test").handler is JournalLogHandler else { exit(3) }
        }
    }

    @Test func autoBootstrapsTheStderrHandlerElsewhere() async {
        await #expect(processExitsWith: .success) {
            guard LoggingSetup.bootstrap(target: .auto, environment: [:]) == .stderr else { exit(1) }
            guard Logger(label: "dropca.test").handler is StderrLogHandler else { exit(2) }
        }
    }

    @Test func processEnvironmentReadsTheLiveEnvironment() async {
        await #expect(processExitsWith: .success) {
            setenv("DROPCA_ENVIRONMENT_TEST", "a=b c", 1)
            unsetenv("DROPCA_ENVIRONMENT_GONE")
            let environment = ProcessEnvironment.current()
            guard environment["DROPCA_ENVIRONMENT_TEST"] == "a=b c" else { exit(1) }
            guard environment["DROPCA_ENVIRONMENT_GONE"] == nil else { exit(2) }
            guard let path = getenv("PATH"), environment["PATH"] == String(cString: path) else { exit(3) }
        }
    }
}
