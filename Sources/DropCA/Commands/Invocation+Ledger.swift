import Foundation
import Ledger

extension Invocation {
    /// How `dropca show` prints a certificate.
    public enum CertificateFormat: Sendable {
        case summary, pem, der
    }

    /// Which certificates `dropca list --status` shows.
    public enum StatusFilter: String, CaseIterable, Sendable {
        case valid, revoked, expired, all
    }

    /// `dropca list`: the certificates in the ledger, oldest first, as lines or as JSON;
    /// `status` keeps those with that status now, `expiringWithinDays` the valid ones that
    /// expire within that many days, `profile` those that came in through that profile's
    /// inbox ("default" for the top level's). A state directory with no ledger yet holds no
    /// certificate: an empty list, exit 0. `ledgerFile` reads that file instead of the
    /// configured ledger (a backup, a file kept aside), read-only, without the
    /// configuration; it must exist. Throws with status 2 when the configuration or the
    /// ledger cannot be read.
    public func listLedger(json: Bool, status: StatusFilter = .all, expiringWithinDays: Double? = nil,
                           profile: String? = nil, ledgerFile: String? = nil, now: Date = Date()) throws(CommandFailure) -> String {
        guard let ledger = try openLedger(file: ledgerFile) else {
            return json ? "[]\n" : ""
        }
        var entries: [CertificateInventory.Entry]
        do {
            entries = CertificateInventory(records: try ledger.issued(), revocations: try ledger.revocations(), now: now).entries
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca list: \(error)"])
        }
        if status != .all {
            entries = entries.filter { $0.status.rawValue == status.rawValue }
        }
        if let profile {
            entries = entries.filter { $0.record.profile == profile }
        }
        if let days = expiringWithinDays {
            let limit = now.addingTimeInterval(days * 86_400)
            entries = entries.filter { $0.status == .valid && $0.record.notAfter <= limit }
        }
        if json {
            return LedgerPresentation.json(entries) + "\n"
        }
        return entries.map { LedgerPresentation.line($0) + "\n" }.joined()
    }

    /// `dropca show SERIAL`: one certificate's record (with its revocation), or the
    /// certificate itself; `ledgerFile` as for ``listLedger(json:status:expiringWithinDays:ledgerFile:now:)``.
    /// Throws with status 1 when the ledger has no such serial, 2 when it cannot be read.
    public func showCertificate(serial: String, format: CertificateFormat, ledgerFile: String? = nil,
                                now: Date = Date()) throws(CommandFailure) -> [UInt8] {
        let ledger = try openLedger(file: ledgerFile)
        let found: CertificateInventory.Entry?
        do {
            if let ledger, let record = try ledger.issuance(serial: serial) {
                // The whole inventory of that inbox name, for what this one supersedes.
                let sameSource = try ledger.issued().filter { $0.sourceFile == record.sourceFile && $0.profile == record.profile }
                found = CertificateInventory(records: sameSource, revocations: try ledger.revocations(), now: now)
                    .entries.first { $0.record.serial == record.serial }
            } else {
                found = nil
            }
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca show: \(error)"])
        }
        guard let entry = found else {
            let where_ = ledger?.path ?? "the ledger (none exists yet)"
            throw CommandFailure(status: 1, lines: ["dropca show: no certificate with serial \(serial) in \(where_)"])
        }
        switch format {
        case .der: return [UInt8](entry.record.certificate)
        case .pem: return Array(LedgerPresentation.pem(entry.record.certificate).utf8)
        case .summary: return Array((LedgerPresentation.summary(entry) + "\n").utf8)
        }
    }

    /// The ledger the configuration names, read-only so that looking never holds up a
    /// running daemon; nil when none has been made yet (nothing was ever issued). With
    /// `file`, that file instead, and no configuration is read: a file named on the command
    /// line that is not there is an error, not an empty ledger.
    private func openLedger(file: String?) throws(CommandFailure) -> Ledger? {
        if let file {
            do {
                return try Ledger(path: file, access: .readOnly)
            } catch {
                throw CommandFailure(status: 2, lines: ["dropca: \((error as? LedgerError)?.message ?? "\(error)")"])
            }
        }
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
