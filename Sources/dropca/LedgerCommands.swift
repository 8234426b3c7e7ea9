import ArgumentParser
import DropCA
import Foundation
import Ledger

/// Opens the ledger that the configuration names, read-only, so that looking never holds
/// up a running daemon.
private func openLedger(_ config: ConfigOption) throws -> Ledger {
    let environment = ProcessInfo.processInfo.environment
    do {
        let configuration = try Configuration.load(path: config.path, environment: environment)
        return try Ledger(directory: configuration.state.directory, access: .readOnly)
    } catch {
        printError("dropca: \(error)")
        throw ExitCode(2)
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the certificates in the issuance ledger, oldest first."
    )

    @OptionGroup var config: ConfigOption

    @Flag(name: .long, help: "A JSON array, one object per certificate.")
    var json = false

    func run() throws {
        let ledger = try openLedger(config)
        let records: [IssuanceRecord]
        do {
            records = try ledger.issued()
        } catch {
            printError("dropca list: \(error)")
            throw ExitCode(2)
        }
        if json {
            print(LedgerPresentation.json(records))
        } else {
            for record in records { print(LedgerPresentation.line(record)) }
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

    @Argument(help: "The serial number.")
    var serial: String

    func validate() throws {
        if der && pem { throw ValidationError("--der and --pem cannot be used together") }
    }

    func run() throws {
        let ledger = try openLedger(config)
        let found: IssuanceRecord?
        do {
            found = try ledger.issuance(serial: serial)
        } catch {
            printError("dropca show: \(error)")
            throw ExitCode(2)
        }
        guard let record = found else {
            printError("dropca show: no certificate with serial \(serial) in \(ledger.path)")
            throw ExitCode(1)
        }
        if der {
            FileHandle.standardOutput.write(record.certificate)
        } else if pem {
            print(LedgerPresentation.pem(record.certificate), terminator: "")
        } else {
            print(LedgerPresentation.summary(record))
        }
    }
}
