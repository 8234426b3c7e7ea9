import Foundation
import Issuance
import Journal

/// One run of the `dropca` command: which configuration file, in which environment.
///
/// The command-line target hands every subcommand over to an extension of this type
/// (`Invocation+Run`, `+Issue`, `+Ledger`, `+Check`, `+Init`), so that it imports nothing
/// but this module and ArgumentParser. Loading the configuration, and the configuration
/// with what it issues by, happens here and nowhere else: the daemon at start and on SIGHUP
/// through ``loadRules(now:)`` (every profile's issuer), `issue` and `check-config` through
/// ``loadConfiguration()`` and the same `AuthorityLoader`.
public struct Invocation: Sendable {
    /// The configuration file: `--config`, else `$DROPCA_CONFIG`, else the system path.
    public let configPath: String
    public let environment: [String: String]

    public init(config explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.configPath = Configuration.defaultPath(explicit: explicit, environment: environment)
    }

    /// The configuration alone, for commands that do not sign (`list`, `show`).
    func loadConfiguration() throws(StartupError) -> Configuration {
        do {
            return try Configuration.load(path: configPath, environment: environment)
        } catch {
            throw StartupError(lines: error.description.split(separator: "\n").map(String.init))
        }
    }

    /// The configuration and the issuer it describes: its CA certificate and key read and
    /// checked to belong together, to be allowed to sign, and to be in their validity.
    func loadAuthority(now: Date = Date()) throws(StartupError) -> (configuration: Configuration, issuer: Issuer) {
        let configuration = try loadConfiguration()
        let issuer = try AuthorityLoader.issuer(for: configuration, environment: environment, now: now)
        return (configuration, issuer)
    }

    /// The configuration and everything the daemon issues by: every profile's issuer over
    /// one CA, and the output encoder (``IssuanceRules``); at start and on SIGHUP.
    func loadRules(now: Date = Date()) throws(StartupError) -> (configuration: Configuration, rules: IssuanceRules) {
        let configuration = try loadConfiguration()
        return (configuration, try IssuanceRules.load(configuration, environment: environment, now: now))
    }
}

/// Where `dropca run` sends its log records (`--log-target`); the journal target's own type.
public typealias LogTarget = Journal.LogTarget

/// A command that cannot do what it was asked: the exit status it must end with and the
/// lines for standard error.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    public let status: Int32
    public let lines: [String]

    public init(status: Int32, lines: [String]) {
        self.status = status
        self.lines = lines
    }

    init(status: Int32, _ error: StartupError) {
        self.init(status: status, lines: error.lines)
    }

    public var description: String { lines.joined(separator: "\n") }
}
