import Foundation
import TestSupport
import Testing

/// What `dropca run` finds in its state directory at start: a ledger that is missing,
/// empty, replaced or damaged while the state directory or the outbox shows one existed is
/// refused (exit 2, one line naming the file), and `check-config` says the same; a fresh
/// state directory just works; `--new-ledger` starts anew and keeps the old file.
@Suite(.serialized) struct DaemonLedgerAdmissionTests {
    static func ledgerPath(_ daemon: DaemonHarness) -> String { daemon.stateDirectory + "/ledger.sqlite" }
    static func markerPath(_ daemon: DaemonHarness) -> String { daemon.stateDirectory + "/ledger.id" }

    /// A daemon that issued `count` certificates and stopped cleanly.
    static func daemonThatIssued(_ count: Int, prefix: String = "early") throws -> DaemonHarness {
        let daemon = try DaemonHarness()
        try daemon.start()
        for index in 0..<count { try daemon.drop("\(prefix)-\(index).csr", SampleRequests.p256) }
        try daemon.waitForCertificates((0..<count).map { "\(prefix)-\($0)" })
        #expect(try daemon.stop() == 0)
        return daemon
    }

    /// Starts the daemon, expects it to refuse with exit 2, and returns the one-line reason,
    /// after checking that check-config refuses (exit 2) with the very same line.
    static func refusal(_ daemon: DaemonHarness) throws -> String {
        let before = daemon.logText.components(separatedBy: "cannot start: ").count
        let startsBefore = daemon.logText.components(separatedBy: "dropca started").count
        try daemon.start(waitUntilReady: false)
        let status = try daemon.waitForExit(timeout: 20)
        #expect(status == 2, "\(daemon.logText.suffix(1500))")
        let log = daemon.logText
        #expect(log.components(separatedBy: "cannot start: ").count == before + 1, "one refusal line")
        #expect(log.components(separatedBy: "dropca started").count == startsBefore, "it never started")
        let reason = try #require(DaemonLedgerLossTests.refusal(in: log))
        let check = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(check.status == 2, "\(check.output)")
        #expect(check.stderr.contains("error: \(reason)\n"), "check-config: \(check.stderr)\nrun: \(reason)")
        return reason
    }

    static func sqlite(_ file: String, _ sql: String) throws -> String {
        let result = try ExternalTool.run("sqlite3", ["-readonly", file, sql])
        guard result.succeeded else { throw HarnessError("sqlite3 \(file): \(result.output)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aFreshStateDirectoryJustWorksAndKeepsItsMarker() throws {
        let daemon = try DaemonHarness()
        #expect(!FileManager.default.fileExists(atPath: Self.markerPath(daemon)))
        let fresh = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(fresh.status == 0 && fresh.stdout.contains("ok: no ledger yet at \(Self.ledgerPath(daemon))"), "\(fresh.output)")
        try daemon.start()
        try daemon.drop("one.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["one"])
        #expect(try daemon.stop() == 0)
        let marker = try String(contentsOfFile: Self.markerPath(daemon), encoding: .utf8)
        let identity = try Self.sqlite(Self.ledgerPath(daemon), "SELECT id FROM ledger_identity")
        #expect(marker == identity + "\n" && UUID(uuidString: identity) != nil, "marker \(marker), ledger \(identity)")
        let mode = try FileManager.default.attributesOfItem(atPath: Self.markerPath(daemon))[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)

        try daemon.start()
        try daemon.drop("two.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["two"])
        #expect(try daemon.stop() == 0)
        #expect(try String(contentsOfFile: Self.markerPath(daemon), encoding: .utf8) == marker, "the same ledger, the same marker")
        let check = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(check.status == 0 && check.stdout.contains("ok: \(Self.ledgerPath(daemon)): ledger \(identity), 2 certificates, 0 rejections"), "\(check.output)")
        let problems = try LedgerReconciliation(ledgers: [Self.ledgerPath(daemon)]).problems(daemon, inputs: ["one.csr", "two.csr"])
        #expect(problems.isEmpty, "\(problems)")
    }

    /// The original failure: the ledger gone or emptied between two runs, the next start
    /// made a new one and the outbox's certificates had no record any more.
    @Test func anEmptyOrMissingLedgerBesideIssuedCertificatesIsRefused() throws {
        let daemon = try Self.daemonThatIssued(3)
        let ledger = Self.ledgerPath(daemon)
        let identity = try Self.sqlite(ledger, "SELECT id FROM ledger_identity")
        #expect(truncate(ledger, 0) == 0)

        let byMarker = try Self.refusal(daemon)
        #expect(byMarker.hasPrefix("the ledger \(ledger) is empty (0 bytes), but \(Self.markerPath(daemon)) says ledger \(identity) was kept there"), "\(byMarker)")
        // Revoking into it would give it tables and an id of its own: refused too.
        let revoke = try DropCABinary.run(["revoke", "--config", daemon.config, "00aa"])
        #expect(revoke.status == 2 && revoke.stderr.contains(byMarker), "\(revoke.output)")

        try FileManager.default.removeItem(atPath: Self.markerPath(daemon))
        let byOutbox = try Self.refusal(daemon)
        #expect(byOutbox.hasPrefix("the ledger \(ledger) is empty (0 bytes), but the outbox \(daemon.outboxPath) holds 3 certificates"), "\(byOutbox)")

        try FileManager.default.removeItem(atPath: ledger)
        let missing = try Self.refusal(daemon)
        #expect(missing.hasPrefix("the ledger \(ledger) is missing, but the outbox \(daemon.outboxPath) holds 3 certificates"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: ledger), "refusing creates nothing")
    }

    /// Another sound ledger copied over this one (a restore from the wrong machine): its id
    /// is not the marker's.
    @Test func aLedgerReplacedByAnotherIsRefused() throws {
        let daemon = try Self.daemonThatIssued(2)
        let other = try Self.daemonThatIssued(1, prefix: "other")
        let ledger = Self.ledgerPath(daemon)
        let ours = try Self.sqlite(ledger, "SELECT id FROM ledger_identity")
        let theirs = try Self.sqlite(Self.ledgerPath(other), "SELECT id FROM ledger_identity")
        #expect(ours != theirs)
        try FileManager.default.removeItem(atPath: ledger)
        try FileManager.default.copyItem(atPath: Self.ledgerPath(other), toPath: ledger)

        let reason = try Self.refusal(daemon)
        #expect(reason.hasPrefix("the ledger \(ledger) was replaced: it is ledger \(theirs), but \(Self.markerPath(daemon)) says ledger \(ours) was kept there"), "\(reason)")
        #expect(try Self.sqlite(ledger, "SELECT count(*) FROM issuance") == "1", "the replacement is left untouched")
    }

    /// A page in the middle of the ledger overwritten while dropca was stopped: refused at
    /// start with one line (not a start that then fails every batch), check-config says the
    /// same; `--new-ledger` then starts a new ledger and keeps the damaged file byte for
    /// byte, and the start after that takes the new one without being told.
    @Test(.timeLimit(.minutes(10)))
    func corruptPagesAreRefusedAtStartAndNewLedgerKeepsTheDamagedFile() throws {
        let daemon = try Self.daemonThatIssued(60)
        let ledger = Self.ledgerPath(daemon)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: ledger)[.size] as? Int)
        let pages = size / 4096
        #expect(pages >= 10, "a multi-page ledger: \(pages) pages")
        let handle = try #require(FileHandle(forWritingAtPath: ledger))
        try handle.seek(toOffset: UInt64(pages / 2 * 4096 + 100))
        try handle.write(contentsOf: Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 17) }))
        try handle.close()
        #expect(try Self.sqlite(ledger, "PRAGMA quick_check") != "ok", "the damage is real")
        let damaged = try Data(contentsOf: URL(fileURLWithPath: ledger))

        try daemon.drop("waiting.csr", SampleRequests.p256)
        let reason = try Self.refusal(daemon)
        #expect(reason.hasPrefix("the ledger \(ledger) is damaged: "), "\(reason)")
        #expect(daemon.names(in: daemon.inbox) == ["waiting.csr"], "nothing was taken")

        let oldMarker = try String(contentsOfFile: Self.markerPath(daemon), encoding: .utf8)
        try daemon.start(arguments: ["--new-ledger"])
        try daemon.waitForCertificates(["waiting"])
        let kept = try #require(daemon.names(in: daemon.stateDirectory).first { $0.hasPrefix("ledger.sqlite.old-") && !$0.contains("-wal") && !$0.contains("-shm") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: daemon.stateDirectory + "/" + kept)) == damaged, "kept byte for byte")
        #expect(daemon.logText.contains("the previous file is kept as \(daemon.stateDirectory)/\(kept)"))
        #expect(try daemon.stop() == 0)
        let identity = try Self.sqlite(ledger, "SELECT id FROM ledger_identity")
        #expect(try String(contentsOfFile: Self.markerPath(daemon), encoding: .utf8) == identity + "\n")
        #expect(oldMarker != identity + "\n")

        try daemon.start()
        try daemon.drop("later.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["later"])
        #expect(try daemon.stop() == 0)
        let problems = try LedgerReconciliation(ledgers: [ledger]).problems(
            daemon, inputs: ["waiting.csr", "later.csr"], lostWithTheLedger: Set((0..<60).map { "early-\($0).cer" }))
        #expect(problems.isEmpty, "\(problems)")
    }

    /// `--new-ledger` replaces only a ledger that would be refused; a sound one is kept.
    @Test func newLedgerKeepsASoundLedger() throws {
        let daemon = try Self.daemonThatIssued(1)
        let identity = try Self.sqlite(Self.ledgerPath(daemon), "SELECT id FROM ledger_identity")
        try daemon.start(arguments: ["--new-ledger"])
        #expect(try daemon.stop() == 0)
        #expect(daemon.logText.contains("--new-ledger given, but the ledger at \(Self.ledgerPath(daemon)) is sound: kept it"))
        #expect(try Self.sqlite(Self.ledgerPath(daemon), "SELECT id FROM ledger_identity") == identity)
        #expect(daemon.names(in: daemon.stateDirectory).allSatisfy { !$0.contains(".old-") })
    }
}

extension DaemonHarness {
    /// The state directory as dropca names it in messages: the harness's temporary folder
    /// may carry a doubled slash, which the configuration's paths do not.
    var stateDirectory: String { (root + "/state").replacingOccurrences(of: "//", with: "/") }
    /// The outbox as dropca names it.
    var outboxPath: String { outbox.replacingOccurrences(of: "//", with: "/") }
}
