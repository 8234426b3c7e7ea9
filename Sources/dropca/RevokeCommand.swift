import ArgumentParser
import DropCA

struct RevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke certificates; the running daemon publishes a CRL listing them before this returns.",
        discussion: """
        REASON: unspecified (default), keyCompromise, affiliationChanged, superseded, \
        cessationOfOperation, privilegeWithdrawn. Exit status: 0 when every named certificate is \
        (now) revoked, 1 when any serial is unknown or expired (then nothing is revoked), 2 for a \
        usage or configuration error.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .long, help: "RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn.")
    var reason: String = "unspecified"

    @Option(name: .long, help: "Revoke every currently valid certificate issued from this inbox file name.")
    var source: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --source: only certificates for requests that came in through this profile's inbox (default: every profile's).",
        valueName: "NAME"))
    var profile: String?

    @Option(name: .customLong("from"), help: "Read serials from this file, one a line (- for standard input).")
    var fromFile: String?

    func validate() throws {
        if profile != nil && source == nil { throw ValidationError("--profile goes with --source") }
    }

    @Argument(help: "Serial numbers as `dropca list` prints them (any case, colons allowed).")
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
