import ArgumentParser
import DropCA

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the certificates in the issuance ledger, oldest first, with their status."
    )

    @OptionGroup var config: ConfigOption

    @Flag(name: .long, help: "A JSON array, one object per certificate.")
    var json = false

    @Option(name: .long, help: "valid, revoked, expired or all.")
    var status: Invocation.StatusFilter = .all

    @Option(name: .customLong("expiring-within"), help: "Only valid certificates that expire within this many days.")
    var expiringWithin: Double?

    @Option(name: .long, help: ArgumentHelp(
        "Only certificates for requests that came in through this profile's inbox (default: the top-level one).",
        valueName: "NAME"))
    var profile: String?

    @Option(name: .customLong("ledger"), help: ArgumentHelp(
        "Read this ledger file instead of the configured one, read-only: a copy made by dropca backup, or a file kept aside.",
        valueName: "FILE"))
    var ledgerFile: String?

    func validate() throws {
        if let days = expiringWithin, !(days >= 0) { throw ValidationError("--expiring-within takes a number of days, 0 or more") }
    }

    func run() throws {
        do {
            print(try config.invocation.listLedger(json: json, status: status, expiringWithinDays: expiringWithin,
                                                   profile: profile, ledgerFile: ledgerFile), terminator: "")
        } catch {
            throw error.exit()
        }
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one certificate of the issuance ledger by serial (hex, any case, colons allowed)."
    )

    @OptionGroup var config: ConfigOption

    @Flag(name: .long, help: "Write the certificate as DER to standard output.")
    var der = false

    @Flag(name: .long, help: "Write the certificate as PEM to standard output.")
    var pem = false

    @Option(name: .customLong("ledger"), help: ArgumentHelp(
        "Read this ledger file instead of the configured one, read-only: a copy made by dropca backup, or a file kept aside.",
        valueName: "FILE"))
    var ledgerFile: String?

    @Argument(help: "The serial number.")
    var serial: String

    func validate() throws {
        if der && pem { throw ValidationError("--der and --pem cannot be used together") }
    }

    func run() throws {
        let format: Invocation.CertificateFormat = der ? .der : pem ? .pem : .summary
        do {
            StandardStreams.write(try config.invocation.showCertificate(serial: serial, format: format, ledgerFile: ledgerFile))
        } catch {
            throw error.exit()
        }
    }
}

extension Invocation.StatusFilter: ExpressibleByArgument {}
