import ArgumentParser
import DropCA

@main
struct DropCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dropca",
        abstract: "A certificate authority behind a folder: drop a CSR in, take a certificate out.",
        discussion: """
        Appliances upload PKCS#10 certificate requests into an inbox folder, typically over \
        SFTP; dropca run, the systemd service dropca.service, issues a DER certificate for \
        each into the outbox and moves a refused request to the failed folder, next to a \
        NAME.reason file that says why. The other subcommands issue certificates for request \
        files by hand, revoke certificates, read the issuance ledger and back it up.

        Files: /etc/dropca/dropca.toml, the configuration (--config, else $DROPCA_CONFIG); \
        /etc/dropca/ca.pem and /etc/dropca/ca.key, the CA certificate and key, which the \
        service receives as the systemd credential ca.key; /var/spool/dropca/inbox, outbox \
        and failed, the spool; /var/lib/dropca/ledger.sqlite, the issuance ledger; \
        /var/lib/dropca/public, the CRL and the CA certificate for a web server; \
        /usr/share/doc/dropca/README.md, the operator's guide, and \
        /usr/share/doc/dropca/examples, the sshd drop-in for appliances and an nginx site \
        for the CRL.
        """,
        version: dropcaVersion,
        subcommands: [RunCommand.self, IssueCommand.self, RevokeCommand.self, InitCommand.self, CheckConfigCommand.self, ListCommand.self, ShowCommand.self, BackupCommand.self]
    )

    /// Like ArgumentParser's own entry point, except that usage errors exit with 2, the
    /// status the README gives them, rather than EX_USAGE (64).
    ///
    /// `dropca --dump-configuration-manual DATE` prints dropca.toml(5), for
    /// scripts/generate-man, the way ArgumentParser's own `--experimental-dump-help` prints
    /// the command line for generate-manual: taken before parsing, in no help, page or
    /// completion, since it is a build step and not something an operator runs.
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "--dump-configuration-manual", arguments.count == 2, let date = arguments.last {
            print(ConfigurationReference.manualPage(date: date), terminator: "")
            return
        }
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
    @Option(
        name: .long,
        help: ArgumentHelp("Configuration file (default: $DROPCA_CONFIG, else /etc/dropca/dropca.toml).", valueName: "path"),
        completion: .file(extensions: ["toml"])
    )
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
