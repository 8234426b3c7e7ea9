import Foundation
import Ledger

extension Invocation {
    /// How `dropca show` prints a certificate.
    public enum CertificateFormat: Sendable {
        case summary, pem, der
    }

    /// `dropca list`: every certificate in the ledger, oldest first, as lines or as JSON.
    /// A state directory with no ledger yet holds no certificate: an empty list, exit 0.
    /// Throws with status 2 when the configuration or the ledger cannot be read.
    public func listLedger(json: Bool) throws(CommandFailure) -> String {
        guard let ledger = try openLedger() else {
            return json ? LedgerPresentation.json([]) + "\n" : ""
        }
        let records: [IssuanceRecord]
        do {
            records = try ledger.issued()
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca list: \(error)"])
        }
        if json {
            return LedgerPresentation.json(records) + "\n"
        }
        return records.map { LedgerPresentation.line($0) + "\n" }.joined()
    }

    /// `dropca show SERIAL`: one certificate's record, or the certificate itself. Throws
    /// with status 1 when the ledger has no such serial, 2 when it cannot be read.
    public func showCertificate(serial: String, format: CertificateFormat) throws(CommandFailure) -> [UInt8] {
        let ledger = try openLedger()
        let found: IssuanceRecord?
        do {
            found = try ledger?.issuance(serial: serial)
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca show: \(error)"])
        }
        guard let record = found else {
            let where_ = ledger?.path ?? "the ledger (none exists yet)"
            throw CommandFailure(status: 1, lines: ["dropca show: no certificate with serial \(serial) in \(where_)"])
        }
        switch format {
        case .der: return [UInt8](record.certificate)
        case .pem: return Array(LedgerPresentation.pem(record.certificate).utf8)
        case .summary: return Array((LedgerPresentation.summary(record) + "\n").utf8)
        }
    }

    /// The ledger the configuration names, read-only so that looking never holds up a
    /// running daemon; nil when none has been made yet (nothing was ever issued).
    private func openLedger() throws(CommandFailure) -> Ledger? {
        let configuration: Configuration
        do {
            configuration = try loadConfiguration()
        } catch {
            throw CommandFailure(status: 2, lines: error.lines.map { "dropca: \($0)" })
        }
        do {
            return try Ledger(directory: configuration.state.directory, access: .readOnly)
        } catch let error as LedgerError where error.code == .missingLedger {
            return nil
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca: \(error)"])
        }
    }
}
