import ArgumentParser
import DropCA

struct RevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke certificates; the running daemon publishes a CRL listing them before this returns.",
        discussion: """
        Every serial is checked first: if any is unknown or its certificate has expired, \
        nothing is revoked. The revocations are recorded in the ledger (the CA key is never \
        read). When dropca run is running it is woken with SIGUSR1, and the command returns \
        once a CRL listing the revocations is published, with its number; otherwise the \
        first CRL the daemon publishes at its start lists them. Run as root, it takes the \
        identity of the state directory's owner, so that the ledger's files stay the \
        service's. One line per certificate goes to standard output.

        Reasons: unspecified (the default; the CRL entry then carries no reasonCode), \
        keyCompromise, affiliationChanged, superseded, cessationOfOperation, \
        privilegeWithdrawn (RFC 5280 5.3.1).

        Exit status: 0 when every named certificate is (now) revoked, 1 when any serial is \
        unknown or expired (then nothing is revoked), 2 for a usage or configuration error.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .long, help: ArgumentHelp("RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn.", valueName: "reason"))
    var reason: String = "unspecified"

    @Option(name: .long, help: ArgumentHelp("Revoke every currently valid certificate issued from this inbox file name.", valueName: "name"))
    var source: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --source: only certificates for requests that came in through this profile's inbox (default: every profile's).",
        valueName: "NAME"))
    var profile: String?

    @Option(
        name: .customLong("from"),
        help: ArgumentHelp("Read serials from this file, one a line; blank lines and # comments are skipped (- for standard input).", valueName: "file"),
        completion: .file()
    )
    var fromFile: String?

    func validate() throws {
        if profile != nil && source == nil { throw ValidationError("--profile goes with --source") }
    }

    @Argument(help: ArgumentHelp("Serial numbers as dropca list prints them (any case, colons allowed).", valueName: "serial"))
    var serials: [String] = []

    func run() throws {
        let report: Invocation.RevocationReport
        do {
            report = try config.invocation.revoke(.init(serials: serials, fromFile: fromFile, source: source, profile: profile, reason: reason))
        } catch {
            throw error.exit()
        }
        for line in report.lines { print(line) }
        for note in report.notes { StandardStreams.error("dropca revoke: \(note)") }
        if report.status != 0 { throw ExitCode(report.status) }
    }
}
