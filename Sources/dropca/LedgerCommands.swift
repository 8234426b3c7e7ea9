import ArgumentParser
import DropCA

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the certificates in the issuance ledger, oldest first, with their status.",
        discussion: """
        One line per certificate: serial, status, notAfter, source file and subject; with \
        --json an array of objects with serial, subject, sans, not_before, not_after, \
        source_file, csr_sha256, issued_at, published_at, status, revoked_at, \
        revocation_reason and supersedes (the serials of earlier certificates for the same \
        inbox name that this one renewed). The ledger is opened read-only; the daemon is \
        never held up.

        Exit status: 0, also when nothing was issued yet; 2 when the configuration or the \
        ledger cannot be read.
        """
    )

    @OptionGroup var config: ConfigOption

    @Flag(name: .long, help: "A JSON array, one object per certificate.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Only certificates with this status now: valid, revoked, expired or all.", valueName: "status"))
    var status: Invocation.StatusFilter = .all

    @Option(name: .customLong("expiring-within"), help: ArgumentHelp("Only valid certificates that expire within this many days.", valueName: "days"))
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
        abstract: "Show one certificate of the issuance ledger by serial (hex, any case, colons allowed).",
        discussion: """
        Prints the certificate's record (subject, SANs, validity, source file, request \
        digest, status and revocation), or with --der or --pem the certificate itself. The \
        ledger is opened read-only.

        Exit status: 0; 1 when the ledger has no certificate with that serial; 2 when the \
        configuration or the ledger cannot be read.
        """
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

    @Argument(help: ArgumentHelp("The serial number, as dropca list or openssl x509 -serial print it.", valueName: "serial"))
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
