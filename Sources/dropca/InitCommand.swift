import ArgumentParser
import DropCA

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a development CA (P-256), a configuration and the spool folders.",
        discussion: """
        For trying dropca out: DIR/ca/ca.pem and DIR/ca/ca.key (0600), DIR/dropca.toml \
        with relative paths, and DIR/spool/inbox, outbox and failed, DIR/state and \
        DIR/public (the CRL folder), then prints the next steps. An existing configuration in DIR is never replaced. The CA is not \
        meant to be trusted anywhere that matters; for the service, install the CA of your \
        PKI as /etc/dropca/ca.pem and /etc/dropca/ca.key instead (or copy this one there).

        Exit status: 0 when created; 1 when DIR already holds a configuration or cannot be \
        written.
        """
    )

    @Option(name: .long, help: ArgumentHelp("Folder to create them in.", valueName: "dir"), completion: .directory)
    var dir: String = "./dropca-dev"

    func run() throws {
        let result: DevelopmentSetup.Result
        do {
            result = try Invocation.initialise(directory: dir)
        } catch {
            throw CommandFailure(status: error.status, lines: error.lines.map { "dropca init: \($0)" }).exit()
        }
        print("""
        Created a development CA and spool folders:
          configuration  \(result.configPath)
          CA certificate \(result.caCertificate)
          inbox          \(result.inbox)
          outbox         \(result.outbox)
          failed         \(result.failed)

        Next steps:
          dropca check-config --config \(result.configPath)
          dropca run --config \(result.configPath)

        then, from another terminal, drop a request in and take the certificate out:
          openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \\
              -keyout device.key -subj /CN=device.example -out device.csr
          cp device.csr \(result.inbox)/
          openssl x509 -inform DER -in \(result.outbox)/device.cer -noout -text

        This CA is for trying dropca out; do not trust it anywhere that matters.
        """)
    }
}
