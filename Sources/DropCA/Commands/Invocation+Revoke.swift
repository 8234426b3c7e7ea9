import Foundation
import Issuance
import Ledger

extension Invocation {
    /// What `dropca revoke` was asked to revoke.
    public struct RevocationRequest: Sendable {
        public var serials: [String]
        /// `--from FILE` (`-` = standard input): one serial a line.
        public var fromFile: String?
        /// `--source NAME`: every currently valid certificate issued from this inbox name.
        public var source: String?
        /// `--profile NAME` with `--source`: only from that profile's inbox (without it, from
        /// every profile's inbox of that name).
        public var profile: String?
        public var reason: String

        public init(serials: [String], fromFile: String?, source: String?, profile: String? = nil, reason: String) {
            self.serials = serials
            self.fromFile = fromFile
            self.source = source
            self.profile = profile
            self.reason = reason
        }
    }

    /// What `dropca revoke` did: one line per certificate, and how it ends.
    public struct RevocationReport: Sendable {
        /// For standard output, one per certificate.
        public var lines: [String]
        /// For standard error: where the revocation went (CRL number, or why none yet).
        public var notes: [String]
        /// 0 every named certificate is (now) revoked; 1 any is unknown or expired (then
        /// nothing was revoked).
        public var status: Int32
    }

    /// How long `dropca revoke` waits for the running daemon's CRL: past one retry of a
    /// failed publication (a minute), so that a passing problem does not end the wait.
    static let crlWait: TimeInterval = 75

    /// `dropca revoke`: records the revocations in the ledger, all or none, and, when the
    /// daemon runs, wakes it (SIGUSR1) and waits until a CRL listing them is published.
    /// The CA key is never touched here: the daemon signs. Run as root, it first becomes the
    /// owner of the state directory (``ServiceIdentity``). Throws with status 2 for usage and
    /// configuration errors.
    public func revoke(_ request: RevocationRequest) throws(CommandFailure) -> RevocationReport {
        func usage(_ line: String) -> CommandFailure { CommandFailure(status: 2, lines: ["dropca revoke: \(line)"]) }
        guard let reason = RevocationReason(rawValue: request.reason) else {
            throw usage("unknown reason \(String(reflecting: request.reason)); use one of \(RevocationReason.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var serials = request.serials
        if serials.isEmpty && request.source == nil && request.fromFile == nil {
            throw usage("name at least one serial, --from FILE or --source NAME")
        }
        for serial in serials where !Self.isSerial(serial) {
            throw usage("\(String(reflecting: serial)) is not a serial number (hexadecimal digits, colons allowed)")
        }
        // Read before becoming the service user, so that root may name any file; a bad line
        // is named by its number only, never echoed, since the file may be one only root reads.
        if let file = request.fromFile {
            let lines = try Self.serialLines(from: file)
            if let bad = lines.first(where: { !Self.isSerial($0.text) }) {
                throw usage("line \(bad.number) of \(file == "-" ? "standard input" : file) is not a serial number (hexadecimal digits, colons allowed)")
            }
            serials += lines.map(\.text)
            if serials.isEmpty && request.source == nil {
                throw usage("\(file == "-" ? "standard input" : file) names no serial; nothing was revoked")
            }
        }
        // One line per certificate, however often a serial was typed.
        var seen: Set<String> = []
        serials = serials.filter { seen.insert($0.lowercased().filter { $0 != ":" }).inserted }

        let configuration: Configuration
        do {
            configuration = try loadConfiguration()
        } catch {
            throw CommandFailure(status: 2, lines: error.lines.map { "dropca revoke: \($0)" })
        }
        let state = configuration.state.directory
        let uid = ServiceIdentity.invokingUser(environment: environment)
        do {
            try ServiceIdentity.becomeOwner(of: state, ledger: state + "/" + Ledger.fileName)
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca revoke: \(error)"])
        }
        // Only into the ledger the daemon would take: a revocation written into an empty or
        // replaced file (which opening it read-write would also give tables and a new id)
        // would be lost with it. The integrity check is the daemon's and check-config's.
        switch LedgerAdmission.judge(stateDirectory: state, outboxes: configuration.profiles.map(\.spool.outbox), checkIntegrity: false).verdict {
        case .refuse(let reason):
            throw CommandFailure(status: 2, lines: ["dropca revoke: \(reason)"])
        case .create:
            let named = serials + (request.source.map { ["--source \($0)"] } ?? [])
            return RevocationReport(
                lines: named.map { "\($0): no such certificate (nothing has been issued yet)" },
                notes: ["nothing was revoked"], status: 1)
        case .open:
            break
        }
        let ledger: Ledger
        do {
            ledger = try Ledger(directory: state)
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca revoke: \(error)"])
        }

        let now = Date()
        if let source = request.source {
            do {
                let valid = try ledger.unexpiredSerials(sourceFile: source, profile: request.profile, at: now)
                if valid.isEmpty {
                    let which = request.profile.map { " in profile \($0)" } ?? ""
                    return RevocationReport(lines: ["--source \(source): no unexpired certificate was issued from this name\(which)"],
                                            notes: ["nothing was revoked"], status: 1)
                }
                serials += valid
            } catch {
                throw CommandFailure(status: 2, lines: ["dropca revoke: \(error)"])
            }
        }

        let outcomes: [RevocationOutcome]
        do {
            outcomes = try ledger.revoke(serials, reason: reason.rawValue, at: now, byUID: uid)
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca revoke: \(error)"])
        }
        let refused = outcomes.contains {
            switch $0 {
            case .unknown, .expired: true
            case .revoked, .alreadyRevoked: false
            }
        }
        let lines = outcomes.map { Self.line(for: $0, reason: reason, refused: refused) }
        if refused {
            return RevocationReport(lines: lines, notes: ["nothing was revoked: fix or leave out the serials above and run it again"], status: 1)
        }
        let newest = outcomes.reduce(Int64(0)) { newest, outcome in
            if case .revoked(_, let revocation) = outcome { return max(newest, revocation.id) }
            return newest
        }
        return RevocationReport(lines: lines, notes: publicationNotes(newest: newest, ledger: ledger, configuration: configuration), status: 0)
    }

    /// Wakes the running daemon and waits for its CRL, or says what will happen instead.
    private func publicationNotes(newest: Int64, ledger: Ledger, configuration: Configuration) -> [String] {
        guard newest > 0 else { return [] }
        guard configuration.crl.directory != nil else {
            return ["recorded in the ledger; no CRL is published (crl.directory is empty)"]
        }
        switch InstanceLock.holder(of: configuration.state.directory) {
        case .nobody:
            return ["dropca is not running: the revocation is recorded, and the first CRL it publishes when it starts lists it"]
        case .running(let pid):
            if let pid { _ = kill(pid, SIGUSR1) }
            let deadline = Date().addingTimeInterval(Self.crlWait)
            while Date() < deadline {
                if let crl = try? ledger.lastPublishedCRL(), crl.revocationsThrough >= newest {
                    return ["published in CRL number \(crl.number) (next update \(LedgerTimeText.format(crl.nextUpdate)))"]
                }
                usleep(20_000)
            }
            return ["recorded, but the running dropca has published no CRL listing it within \(Int(Self.crlWait)) s; `journalctl -u dropca` says why (it retries every minute)"]
        }
    }

    /// The one line for one certificate. When any serial was refused nothing was revoked,
    /// and the valid ones say so on their own lines, which scripts read.
    private static func line(for outcome: RevocationOutcome, reason: RevocationReason, refused: Bool) -> String {
        switch outcome {
        case .revoked(let certificate, _):
            return refused
                ? "\(certificate.serial): not revoked (nothing is, because of the serials below)"
                : "\(certificate.serial): revoked (\(reason.rawValue)) \(who(certificate))"
        case .alreadyRevoked(let certificate, let revocation):
            return "\(certificate.serial): already revoked on \(LedgerTimeText.format(revocation.revokedAt)) (\(revocation.reason)); unchanged"
        case .unknown(let serial):
            return "\(serial): no such certificate in the ledger"
        case .expired(let certificate):
            return "\(certificate.serial): expired on \(LedgerTimeText.format(certificate.notAfter)); an expired certificate is not revoked"
        }
    }

    private static func who(_ certificate: IssuanceRecord) -> String {
        let name = certificate.subject.isEmpty ? certificate.sans.joined(separator: ", ") : certificate.subject
        return "\(name), from \(certificate.sourceFile)"
    }

    /// Hexadecimal digits with optional colons, as `dropca list` and `openssl` print serials.
    static func isSerial(_ text: String) -> Bool {
        let digits = text.utf8.filter { $0 != UInt8(ascii: ":") }
        return !digits.isEmpty && digits.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0)
        }
    }

    /// One serial a line from `path` (`-` for standard input); blank lines and `#` comments
    /// are skipped.
    static func serialLines(from path: String) throws(CommandFailure) -> [(number: Int, text: String)] {
        let limit = 64 << 20
        let bytes: [UInt8]
        do {
            bytes = path == "-"
                ? try BoundedFile.readStandardInput(limit: limit, what: "serial list")
                : try BoundedFile.read(path, limit: limit, what: "serial list")
        } catch {
            throw CommandFailure(status: 2, lines: ["dropca revoke: \(error)"])
        }
        // Split on bytes: Swift takes "\r\n" for one character, which a split on "\n" misses,
        // and lists exported on other systems end lines so. A leading byte-order mark goes.
        var content = bytes[...]
        if content.starts(with: [0xEF, 0xBB, 0xBF]) { content = content.dropFirst(3) }
        return content.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty || text.hasPrefix("#") ? nil : (index + 1, text)
        }
    }
}
