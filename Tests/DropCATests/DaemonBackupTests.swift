import Foundation
import TestSupport
import Testing

/// `dropca backup` while the daemon issues, and a restore by the README's steps.
@Suite(.serialized) struct DaemonBackupTests {
    static func count(_ file: String) throws -> [String] {
        let listed = try DropCABinary.run(["list", "--json", "--ledger", file])
        guard listed.succeeded, let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] else {
            throw HarnessError("dropca list --ledger \(file): \(listed.output)")
        }
        return rows.compactMap { $0["serial"] as? String }
    }

    @Test(.timeLimit(.minutes(10)))
    func aBackupDuringABurstIsAConsistentCopy() throws {
        let daemon = try DaemonHarness()
        let burst = DaemonLedgerLossTests.burst(3_000, prefix: "burst")
        try DaemonLedgerLossTests.drop(daemon, burst)
        try daemon.start()
        try daemon.waitFor("the burst to be under way", timeout: 60) { daemon.names(in: daemon.outbox).count >= 300 }
        let ledger = daemon.stateDirectory + "/ledger.sqlite"
        let before = try Self.count(ledger).count
        let destination = daemon.directory.path("ledger-backup.sqlite")

        let backup = try DropCABinary.run(["backup", "--config", daemon.config, destination])
        let after = try Self.count(ledger)
        #expect(backup.status == 0, "\(backup.output)")
        #expect(daemon.names(in: daemon.outbox).count < burst.all.count, "the backup must run mid-burst")
        #expect(backup.stdout.hasPrefix("\(destination): a copy of \(ledger) (ledger "), "\(backup.stdout)")

        let integrity = try ExternalTool.run("sqlite3", [destination, "PRAGMA integrity_check"])
        #expect(integrity.stdout == "ok\n", "\(integrity.output)")
        let copied = try Self.count(destination)
        #expect(copied.count >= before && copied.count <= after.count, "\(before) ≤ \(copied.count) ≤ \(after.count)")
        #expect(Set(copied).isSubset(of: Set(after)), "every row of the copy is a row of the ledger")
        #expect(backup.stdout.contains("with \(copied.count) certificates"))
        let mode = try FileManager.default.attributesOfItem(atPath: destination)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let identity = try DaemonLedgerAdmissionTests.sqlite(ledger, "SELECT id FROM ledger_identity")
        #expect(try DaemonLedgerAdmissionTests.sqlite(destination, "SELECT id FROM ledger_identity") == identity)

        // An existing copy is never replaced by surprise.
        let again = try DropCABinary.run(["backup", "--config", daemon.config, destination])
        #expect(again.status == 1 && again.stderr.contains("\(destination) exists"), "\(again.output)")
        #expect(try Self.count(destination) == copied, "the first copy is untouched")
        let replaced = try DropCABinary.run(["backup", "--config", daemon.config, "--overwrite", destination])
        #expect(replaced.status == 0, "\(replaced.output)")

        try daemon.waitFor("the whole burst", timeout: 180) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        let problems = try LedgerReconciliation(ledgers: [ledger]).problems(daemon, inputs: burst.all, rejected: burst.rejected)
        #expect(problems.isEmpty, "\(problems.prefix(10))")
    }

    /// The README's restore: stop, put the copy in place as ledger.sqlite (its -wal and
    /// -shm gone), start. The copy has the ledger's id, so the marker takes it as the
    /// ledger kept here; it holds what was issued up to the backup.
    @Test func aRestoredBackupIsTakenAsTheLedger() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        for index in 0..<5 { try daemon.drop("kept-\(index).csr", SampleRequests.p256) }
        try daemon.waitForCertificates((0..<5).map { "kept-\($0)" })
        let destination = daemon.directory.path("ledger-backup.sqlite")
        let backup = try DropCABinary.run(["backup", "--config", daemon.config, destination])
        #expect(backup.status == 0, "\(backup.output)")
        #expect(try daemon.stop() == 0)

        let ledger = daemon.stateDirectory + "/ledger.sqlite"
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: ledger + suffix) {
            try FileManager.default.removeItem(atPath: ledger + suffix)
        }
        try FileManager.default.copyItem(atPath: destination, toPath: ledger)
        try daemon.start()
        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after"])
        #expect(try daemon.stop() == 0)
        let problems = try LedgerReconciliation(ledgers: [ledger]).problems(
            daemon, inputs: (0..<5).map { "kept-\($0).csr" } + ["after.csr"])
        #expect(problems.isEmpty, "\(problems)")
    }

    /// A backup onto a filesystem without room for it: exit 1 with SQLite's own reason
    /// (not the "not an error" of a connection that had none), and nothing left behind.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aBackupOntoAFullFilesystemSaysWhyAndLeavesNothing() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        for index in 0..<40 { try daemon.drop("row-\(index).csr", SampleRequests.rsa2048) }
        try daemon.waitForCertificates((0..<40).map { "row-\($0)" }, timeout: 60)
        #expect(try daemon.stop() == 0)
        let small = daemon.directory.path("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        try DaemonFaultTests.mountTmpfs(small, size: "16k")
        defer { DaemonFaultTests.unmount(small) }
        let backup = try DropCABinary.run(["backup", "--config", daemon.config, small + "/copy.sqlite"])
        #expect(backup.status == 1, "\(backup.output)")
        #expect(backup.stderr.contains("database or disk is full") && !backup.stderr.contains("not an error"), "\(backup.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: small).isEmpty)
    }
}
