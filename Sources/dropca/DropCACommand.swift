import ArgumentParser
import DropCA

@main
struct DropCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dropca",
        abstract: "A certificate authority behind a folder: drop a CSR in, take a certificate out.",
        subcommands: [RunCommand.self, IssueCommand.self, RevokeCommand.self, InitCommand.self, CheckConfigCommand.self, ListCommand.self, ShowCommand.self, BackupCommand.self]
    )

    /// Like ArgumentParser's own entry point, except that usage errors exit with 2, the
    /// status the README gives them, rather than EX_USAGE (64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                StandardStreams.error(fullMessage(for: error))
                StandardStreams.error("See 'dropca help'.")
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}

/// `--config PATH`, shared by every command that reads the configuration.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $DROPCA_CONFIG, else /etc/dropca/dropca.toml).")
    var config: String?

    var invocation: Invocation { Invocation(config: config) }
}

extension CommandFailure {
    /// Prints the failure's lines to standard error and ends with its status.
    func exit() -> ExitCode {
        for line in lines { StandardStreams.error(line) }
        return ExitCode(status)
    }
}
