import Foundation
import TestSupport
import Testing

/// Faults from outside the daemon, each on real filesystems (small tmpfs mounts, remounted
/// read-only), real SIGKILLs and a real second process holding the ledger: nothing is lost,
/// nothing is stuck, nothing is silent, and each input still ends as exactly one
/// certificate with one ledger row, or one rejection with its reason and one row.
@Suite(.serialized) struct DaemonFaultTests {
    static let isRoot = getuid() == 0

    // MARK: helpers

    /// A tmpfs of `size` mounted on `path` (which must exist), unmounted by the caller's defer.
    static func mountTmpfs(_ path: String, size: String) throws {
        let mount = try ExternalTool.run("mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        try #require(mount.succeeded, "\(mount.output)")
    }

    static func unmount(_ path: String) {
        _ = try? ExternalTool.run("umount", ["-l", path])
    }

    /// Fills the filesystem holding `folder` with a hidden file of zeros.
    static func fill(_ folder: String) throws -> String {
        let filler = folder + "/.filler"
        _ = try ExternalTool.run("dd", ["if=/dev/zero", "of=\(filler)", "bs=4096"])
        return filler
    }

    static func sqlite(_ daemon: DaemonHarness, _ sql: String) throws -> String {
        let result = try ExternalTool.run("sqlite3", [daemon.root + "/state/ledger.sqlite", sql])
        guard result.succeeded else { throw HarnessError("sqlite3 \(sql): \(result.output)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func count(_ daemon: DaemonHarness, _ table: String) throws -> Int {
        Int(try sqlite(daemon, "SELECT count(*) FROM \(table)")) ?? -1
    }

    static func lines(_ daemon: DaemonHarness, containing text: String) -> Int {
        daemon.logText.components(separatedBy: "\n").filter { $0.contains(text) }.count
    }

    /// Every input is one certificate with one published row, or one rejection with its
    /// reason and one row; no temporaries anywhere; nothing left in the inbox.
    static func expectReconciled(_ daemon: DaemonHarness, issued: Int, rejected: Int,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outbox = daemon.names(in: daemon.outbox)
        let failed = daemon.names(in: daemon.failed)
        let reasons = failed.filter { $0.hasSuffix(".reason") }
        let entries = failed.filter { !$0.hasSuffix(".reason") }
        #expect(daemon.names(in: daemon.inbox).isEmpty, "inbox: \(daemon.names(in: daemon.inbox).prefix(5))", sourceLocation: sourceLocation)
        #expect(outbox.count == issued, "outbox holds \(outbox.count)", sourceLocation: sourceLocation)
        #expect(try count(daemon, "issuance") == issued, sourceLocation: sourceLocation)
        #expect(try count(daemon, "issuance WHERE published_at IS NULL") == 0, sourceLocation: sourceLocation)
        #expect(reasons.count == rejected && entries.count == rejected, "failed/: \(entries.count) entries, \(reasons.count) reasons", sourceLocation: sourceLocation)
        #expect(Set(entries.map { $0 + ".reason" }) == Set(reasons), "every entry has its reason", sourceLocation: sourceLocation)
        #expect(try count(daemon, "rejection") == rejected, sourceLocation: sourceLocation)
        for folder in [daemon.inbox, daemon.outbox, daemon.failed] {
            let all = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            let temporaries = all.filter { $0.hasPrefix(".dropca-") && $0.hasSuffix(".tmp") }
            #expect(temporaries.isEmpty, "temporaries left in \(folder): \(temporaries)", sourceLocation: sourceLocation)
        }
    }

    // MARK: failed/ and the ledger (finding 3)

    /// failed/ on a full filesystem: the reason cannot be written, so the entry does not
    /// move either; it waits in the inbox, one line says so, and once there is room it ends
    /// in failed/ with its reason and its row, and one line says that too.
    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func aFullFailedFolderKeepsRejectionsWaitingNotReasonless() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0"])
        try Self.mountTmpfs(daemon.failed, size: "64k")
        defer { Self.unmount(daemon.failed) }
        let filler = try Self.fill(daemon.failed)
        try daemon.start()
        for index in 0..<5 { try daemon.drop("weak-\(index).csr", SampleRequests.rsa1024) }
        try daemon.waitFor("the failed move", timeout: 15) { daemon.logText.contains("cannot move") }
        Thread.sleep(forTimeInterval: 4)  // several retries (1 s, 2 s, …)
        #expect(daemon.names(in: daemon.inbox).count == 5, "the rejections wait in the inbox")
        #expect(daemon.names(in: daemon.failed).isEmpty, "no entry without its reason")
        #expect(Self.lines(daemon, containing: "cannot move") == 1, "one line per episode")

        try FileManager.default.removeItem(atPath: filler)
        try daemon.waitFor("the rejections", timeout: 40) { daemon.names(in: daemon.inbox).isEmpty }
        try daemon.waitFor("the recovery line", timeout: 10) { daemon.logText.contains("can move rejected requests to failed/ again") }
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: 0, rejected: 5)
        let reason = try String(contentsOfFile: daemon.failed + "/weak-0.csr.reason", encoding: .utf8)
        #expect(reason.contains("code: ") && reason.contains("sha256: ") && reason.contains("kept as: failed/weak-0.csr"), "\(reason)")
    }

    /// The state a SIGKILL between the move and the ledger commit leaves (entry and reason
    /// in failed/, no row) and the one a SIGKILL between the reason and the move leaves (a
    /// reason whose entry never came, the input still in the inbox): the next start records
    /// the first from its reason file and takes the second name again, once.
    @Test(.timeLimit(.minutes(10)))
    func startUpReconcilesFailedWithTheLedger() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("lost-row.csr", SampleRequests.rsa1024)
        try daemon.drop("good.csr", SampleRequests.p256)
        try daemon.waitFor("the rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("lost-row.csr.reason") }
        try daemon.waitForCertificates(["good"])
        #expect(try daemon.stop() == 0)
        // The row a kill took away.
        _ = try Self.sqlite(daemon, "DELETE FROM rejection")
        // A rejection a kill cut short after its reason file: the input is back in the inbox.
        let stamp = ISO8601DateFormatter().string(from: Date())
        try "RSA key of 1024 bits is below policy.min_rsa_bits = 2048\ninput: again.csr\ncode: weakKey\nkept as: failed/again.csr\nrejected at: \(stamp)\n"
            .write(toFile: daemon.failed + "/again.csr.reason", atomically: true, encoding: .utf8)
        try Data(SampleRequests.rsa1024).write(to: URL(fileURLWithPath: daemon.inbox + "/again.csr"))
        // And one whose input is gone altogether.
        try "RSA key too small\ninput: gone.csr\ncode: weakKey\nkept as: failed/gone.csr\nrejected at: \(stamp)\n"
            .write(toFile: daemon.failed + "/gone.csr.reason", atomically: true, encoding: .utf8)

        try daemon.start()
        try daemon.waitFor("the reconciliation line", timeout: 10) { daemon.logText.contains("reconciled at start: 1 rejections recorded") }
        try daemon.waitFor("the second rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("again.csr") }
        #expect(try daemon.stop() == 0)
        #expect(daemon.logText.contains("2 reasons of rejections that never finished withdrawn"), "\(daemon.logText)")
        #expect(!daemon.names(in: daemon.failed).contains("again.csr.1"), "the same name is taken again")
        #expect(!daemon.names(in: daemon.failed).contains("gone.csr.reason"))
        try Self.expectReconciled(daemon, issued: 1, rejected: 2)
        #expect(try Self.sqlite(daemon, "SELECT source_file FROM rejection ORDER BY source_file") == "again.csr\nlost-row.csr")
    }

    /// Uploads that pose as reason files (a hostile uploader's `*.reason`, naming other
    /// inputs): each is rejected as the garbage it is and kept as `NAME.upload`, so no
    /// upload is ever taken for a reason file. Nothing of theirs reaches the ledger, at
    /// the rejection or at the next start, and a real rejection of the input one of them
    /// names keeps its own entry and reason.
    @Test(.timeLimit(.minutes(10)))
    func uploadsNamedLikeReasonFilesAreKeptApartAndNeverBelieved() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0"])
        try daemon.start()
        let stamp = ISO8601DateFormatter().string(from: Date())
        let forged: [(String, String)] = [
            ("evil.reason", "forged\ninput: ghost.csr\ncode: malformed\nkept as: failed/ghost.csr\nrejected at: \(stamp)\n"),
            ("evil2.reason", "forged row\ninput: printer01.csr\ncode: policy\nnot kept: forged\nrejected at: \(stamp)\n"),
            ("victim.csr.reason", "forged\ninput: victim.csr\ncode: malformed\nkept as: failed/victim.csr\nrejected at: \(stamp)\n"),
        ]
        for (name, text) in forged { try daemon.drop(name, Array(text.utf8)) }
        try daemon.waitFor("the three uploads rejected", timeout: 20) {
            daemon.names(in: daemon.failed).filter { $0.hasSuffix(".upload.reason") }.count == 3
        }
        try daemon.drop("victim.csr", Array("not a request".utf8))
        try daemon.waitFor("the victim rejected", timeout: 20) { daemon.names(in: daemon.failed).contains("victim.csr") }
        #expect(try daemon.stop() == 0)
        try daemon.start()
        #expect(try daemon.stop() == 0)

        let failed = Set(daemon.names(in: daemon.failed))
        #expect(failed == ["evil.reason.upload", "evil.reason.upload.reason", "evil2.reason.upload", "evil2.reason.upload.reason",
                           "victim.csr.reason.upload", "victim.csr.reason.upload.reason", "victim.csr", "victim.csr.reason"], "\(failed)")
        #expect(try Self.sqlite(daemon, "SELECT source_file FROM rejection ORDER BY source_file")
                    == "evil.reason\nevil2.reason\nvictim.csr\nvictim.csr.reason")
        #expect(!daemon.logText.contains("reconciled at start"), "\(daemon.logText.suffix(2000))")
        let victim = try String(contentsOfFile: daemon.failed + "/victim.csr.reason", encoding: .utf8)
        #expect(!victim.hasPrefix("forged") && victim.contains("kept as: failed/victim.csr"), "\(victim)")
        try Self.expectReconciled(daemon, issued: 0, rejected: 4)

        // What an older version left: the upload kept as failed/legacy.reason (claiming an
        // entry failed/legacy, which an operator's file of that name seems to bear out),
        // beside its own reason, whose row a crash took. Only the real one is recorded.
        try "forged\ninput: ghost2.csr\ncode: malformed\nkept as: failed/legacy\nrejected at: \(stamp)\n"
            .write(toFile: daemon.failed + "/legacy.reason", atomically: true, encoding: .utf8)
        try Data("an operator's note".utf8).write(to: URL(fileURLWithPath: daemon.failed + "/legacy"))
        try "not a request\ninput: legacy.reason\ncode: malformed\nkept as: failed/legacy.reason\nrejected at: \(stamp)\n"
            .write(toFile: daemon.failed + "/legacy.reason.reason", atomically: true, encoding: .utf8)
        try daemon.start()
        #expect(try daemon.stop() == 0)
        #expect(try Self.sqlite(daemon, "SELECT source_file FROM rejection ORDER BY source_file")
                    == "evil.reason\nevil2.reason\nlegacy.reason\nvictim.csr\nvictim.csr.reason")
    }

    /// An operator moves a rejected entry back into the inbox: it is rejected again under
    /// a new name, and the first rejection keeps its reason file.
    @Test(.timeLimit(.minutes(10)))
    func anEntryMovedBackIntoTheInboxIsRejectedAgainBesideItsFirstReason() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0"])
        try daemon.start()
        try daemon.drop("x.bad", Array("garbage".utf8))
        try daemon.waitFor("the rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("x.bad.reason") }
        let first = try String(contentsOfFile: daemon.failed + "/x.bad.reason", encoding: .utf8)
        try FileManager.default.moveItem(atPath: daemon.failed + "/x.bad", toPath: daemon.inbox + "/x.bad")
        try daemon.waitFor("the second rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("x.bad.1.reason") }
        #expect(try daemon.stop() == 0)
        #expect(try String(contentsOfFile: daemon.failed + "/x.bad.reason", encoding: .utf8) == first)
        #expect(Set(daemon.names(in: daemon.failed)) == ["x.bad.reason", "x.bad.1", "x.bad.1.reason"])
        #expect(try Self.count(daemon, "rejection") == 2)
    }

    /// A certificate recorded but not published (a crash before its mark), whose request
    /// the appliance then replaced with a new one under the same name: the new request is
    /// issued and published, and no later start puts the old certificate over it.
    @Test(.timeLimit(.minutes(10)))
    func aReplacedRequestsUndeliveredCertificateNeverOverwritesTheNewOne() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0"])
        try daemon.start()
        try daemon.drop("a.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["a"])
        #expect(try daemon.stop() == 0)
        let old = try Self.sqlite(daemon, "SELECT serial FROM issuance")
        _ = try Self.sqlite(daemon, "UPDATE issuance SET published_at = NULL")
        try FileManager.default.removeItem(atPath: daemon.outbox + "/a.cer")
        // The appliance's new key, under the same name, before the next start.
        let replacement = SampleRequests.make(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], subject: "/CN=appliance.example")
        try daemon.drop("a.csr", replacement)
        try daemon.start()
        try daemon.waitForCertificates(["a"])
        #expect(try daemon.stop() == 0)
        let new = try Self.sqlite(daemon, "SELECT serial FROM issuance WHERE serial != '\(old)'")
        try daemon.start()
        #expect(try daemon.stop() == 0)

        let published = try LedgerReconciliation.serial(ofCertificate: try #require(daemon.certificate("a")))
        #expect(published == LedgerReconciliation.significant(new), "the outbox holds the replaced request's certificate")
        #expect(daemon.logText.contains("serial \(old) for a.csr was never delivered"), "\(daemon.logText.suffix(2000))")
        #expect(try Self.count(daemon, "issuance WHERE published_at IS NULL") == 0)
    }

    /// A rejection whose row a crash took, and a ledger another process holds locked for
    /// writes at the next start: the start ends with exit 1 (a cause that passes, so the
    /// unit starts dropca again; exit 2 would leave the service stopped for good), before
    /// anything is taken from the inbox; the start after the lock is gone records the row.
    @Test(.timeLimit(.minutes(10)))
    func aLedgerLockedAtStartEndsTheStartForARestart() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0"])
        try daemon.start()
        try daemon.drop("lost-row.csr", SampleRequests.rsa1024)
        try daemon.waitFor("the rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("lost-row.csr.reason") }
        #expect(try daemon.stop() == 0)
        _ = try Self.sqlite(daemon, "DELETE FROM rejection")
        let holder = try Self.lockLedger(daemon, seconds: 30, writesOnly: true)
        defer { holder.terminate() }
        try daemon.drop("waiting.csr", SampleRequests.p256)
        try daemon.start(waitUntilReady: false)
        let status = try daemon.waitForExit(timeout: 60)
        #expect(status == 1)
        #expect(daemon.logText.contains("database is locked; exit status 1: a restart tries again"), "\(daemon.logText.suffix(2000))")
        #expect(daemon.names(in: daemon.inbox) == ["waiting.csr"])
        holder.terminate()
        holder.waitUntilExit()
        try daemon.start()
        try daemon.waitFor("the reconciliation line", timeout: 10) { daemon.logText.contains("reconciled at start: 1 rejections recorded") }
        try daemon.waitForCertificates(["waiting"])
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: 1, rejected: 1)
    }

    /// A mixed burst of good and bad requests, the daemon SIGKILLed five times in the
    /// middle: every input ends as one certificate or one rejection, each with one row.
    @Test(.timeLimit(.minutes(10)))
    func killedDuringAMixedBurstEveryRejectionHasItsReasonAndRow() throws {
        let daemon = try DaemonHarness()
        // Interleaved, so that every batch holds rejections and each kill has a fair
        // chance of landing between a move and the ledger commit.
        let good = 800, bad = 800
        for index in 0..<good {
            try daemon.drop("good-\(index).csr", SampleRequests.p256)
            try daemon.drop("bad-\(index).csr", index % 2 == 0 ? SampleRequests.rsa1024 : Array("garbage \(index)".utf8))
        }
        var handled = 0
        for round in 1...5 {
            try daemon.start()
            let target = handled + 150
            try daemon.waitFor("progress in round \(round)", timeout: 60) {
                daemon.names(in: daemon.outbox).count + daemon.names(in: daemon.failed).count / 2 >= target
            }
            try daemon.kill9()
            handled = daemon.names(in: daemon.outbox).count + daemon.names(in: daemon.failed).count / 2
            #expect(handled < good + bad, "the kill must land mid-burst")
        }
        try daemon.start()
        try daemon.waitFor("every input", timeout: 120) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: good, rejected: bad)
        let sources = try Self.sqlite(daemon, "SELECT count(DISTINCT source_file) FROM rejection")
        #expect(sources == "\(bad)")
    }

    // MARK: retries, counts and lines (findings 4 and 9)

    /// A full outbox for a burst: one line when it starts, one when it ends, every input
    /// published from its record (never signed twice), the stop line counts all of them, and
    /// no temporary is left.
    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func aFullOutboxIsOneEpisodeAndEveryCertificateIsCounted() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0"])
        // Room for the 20 certificates once the filler goes (a page each).
        try Self.mountTmpfs(daemon.outbox, size: "256k")
        defer { Self.unmount(daemon.outbox) }
        let filler = try Self.fill(daemon.outbox)
        try daemon.start()
        let count = 20
        for index in 0..<count { try daemon.drop("box-\(index).csr", SampleRequests.p256) }
        try daemon.waitFor("the failed publication", timeout: 15) { daemon.logText.contains("cannot publish") }
        Thread.sleep(forTimeInterval: 4)
        #expect(Self.lines(daemon, containing: "cannot publish") == 1, "one line per episode:\n\(daemon.logText)")
        #expect(!daemon.logText.contains("again: serial"), "nothing is said to be published before it is")

        try FileManager.default.removeItem(atPath: filler)
        try daemon.waitFor("every certificate", timeout: 40) { daemon.names(in: daemon.inbox).isEmpty }
        try daemon.waitFor("the recovery line", timeout: 10) { daemon.logText.contains("can publish certificates to the outbox again") }
        #expect(try daemon.stop() == 0)
        #expect(daemon.logText.contains("dropca stopped: issued 0, published again \(count), rejected 0"), "\(daemon.logText)")
        #expect(Self.lines(daemon, containing: "again: serial") == count)
        // Each has its one `issued` record, with its fields, though it came from the ledger.
        #expect(Self.lines(daemon, containing: "dropca: issued box-") == count, "\(daemon.logText.suffix(3000))")
        #expect(Self.lines(daemon, containing: "published from the ledger) csr_sha256=") == count)
        try Self.expectReconciled(daemon, issued: count, rejected: 0)
    }

    /// The daemon out of file descriptors (its limit lowered under it with prlimit): a
    /// request it cannot open is the machine's trouble, not the request's. It stays in the
    /// inbox, one line says so, and once descriptors are back it is issued, with a line
    /// saying that too; nothing goes to failed/.
    @Test(.timeLimit(.minutes(10)))
    func outOfDescriptorsRequestsWaitAndNoneIsRejected() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0", "rescan_seconds": "0"])
        try daemon.start()
        try daemon.drop("first.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["first"])
        let pid = try #require(daemon.pid)
        // Below what it holds when quiet (a descriptor the publisher held for a moment when
        // counted would otherwise leave room for one open now and then).
        Thread.sleep(forTimeInterval: 1)
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count - 1
        // Only the soft limit: raising it back to the hard one needs no privilege.
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let openFiles = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let (soft, hard) = try { () throws -> (String, String) in
            let fields = openFiles.dropFirst("Max open files".count).split(separator: " ")
            guard fields.count >= 2 else { throw HarnessError("limits: \(openFiles)") }
            return (String(fields[0]), String(fields[1]))
        }()
        let lowered = try ExternalTool.run("prlimit", ["--pid", "\(pid)", "--nofile=\(open):\(hard)"])
        try #require(lowered.succeeded, "\(lowered.output)")
        let count = 10
        for index in 0..<count { try daemon.drop("starved-\(index).csr", SampleRequests.p256) }
        try daemon.waitFor("the failed read", timeout: 15) { daemon.logText.contains("cannot read requests in the inbox") }
        Thread.sleep(forTimeInterval: 3)
        #expect(daemon.names(in: daemon.failed).isEmpty, "\(daemon.names(in: daemon.failed).prefix(4))")
        // One line per episode, not per file and retry. The daemon's own descriptors come
        // and go (a temporary, a CRL look), so a read may slip through now and then: an
        // episode may end and another begin, each with its pair of lines.
        #expect(Self.lines(daemon, containing: "cannot read requests in the inbox") < count, "one line per episode:\n\(daemon.logText.suffix(3000))")
        #expect(daemon.logText.contains("Too many open files"), "\(daemon.logText.suffix(3000))")

        let restored = try ExternalTool.run("prlimit", ["--pid", "\(pid)", "--nofile=\(soft):\(hard)"])
        try #require(restored.succeeded, "\(restored.output)\n\(daemon.logText.suffix(3000))")
        try daemon.waitFor("every certificate", timeout: 60) { daemon.names(in: daemon.inbox).isEmpty }
        try daemon.waitFor("a recovery line for every episode", timeout: 10) {
            Self.lines(daemon, containing: "can read requests in the inbox again") == Self.lines(daemon, containing: "cannot read requests in the inbox")
        }
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: count + 1, rejected: 0)
    }

    /// The state directory's filesystem full: no certificate can be recorded, no rejection
    /// row written. Nothing is published unrecorded, the certificate signed first is the one
    /// published once there is room (not a second signature, even across a reload with the
    /// same CA), and the rejection's row, whose files had already moved, is written then too.
    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func aFullStateFilesystemNeverReSignsAndLosesNoRow() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0", "backdate_seconds": "0"])
        let state = daemon.root + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try Self.mountTmpfs(state, size: "1m")
        defer { Self.unmount(state) }
        try daemon.start()
        try daemon.drop("warm.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["warm"])
        let filler = try Self.fill(state)
        let dropped = Date()
        try daemon.drop("held.csr", SampleRequests.p256)
        try daemon.drop("weak.csr", SampleRequests.rsa1024)
        try daemon.waitFor("the failed record", timeout: 15) { daemon.logText.contains("cannot record") }
        try daemon.waitFor("the rejection", timeout: 15) { daemon.names(in: daemon.failed).contains("weak.csr.reason") }
        Thread.sleep(forTimeInterval: 5)
        #expect(daemon.certificate("held") == nil, "nothing is published that the ledger does not hold")
        #expect(Self.lines(daemon, containing: "cannot record new certificates") == 1)
        #expect(Self.lines(daemon, containing: "cannot record publications and rejections") == 1)
        // A reload with the same CA meanwhile keeps the certificate signed first.
        daemon.signal(SIGHUP)
        try daemon.waitFor("the reload", timeout: 15) { daemon.logText.contains("configuration reloaded") }
        Thread.sleep(forTimeInterval: 2)

        try FileManager.default.removeItem(atPath: filler)
        try daemon.waitForCertificates(["held"], timeout: 40)
        try daemon.waitFor("the rejection row", timeout: 40) { daemon.logText.contains("can record publications and rejections in the ledger again") }
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: 2, rejected: 1)
        // Signed once, when it was first taken: its notBefore is from then, seconds before
        // the retry that published it.
        let dates = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-startdate", "-dateopt", "iso_8601"],
                                          stdin: daemon.certificate("held"))
        let text = dates.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "notBefore=", with: "")
        let formatter = ISO8601DateFormatter()
        let notBefore = try #require(formatter.date(from: text.replacingOccurrences(of: " ", with: "T")), "\(dates.output)")
        #expect(notBefore.timeIntervalSince(dropped) < 4, "notBefore \(notBefore) is from a later signing (dropped \(dropped))")
    }

    /// The outbox full when the daemon starts: the CA's copy (`.ca.cer`) cannot be put
    /// there, one line says so, and once there is room it is there within seconds, with no
    /// upload to wait for; a certificate issued then verifies against it.
    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func aFullOutboxAtStartGetsTheCAsCopyOnceThereIsRoom() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0", "rescan_seconds": "0"])
        try Self.mountTmpfs(daemon.outbox, size: "64k")
        defer { Self.unmount(daemon.outbox) }
        let filler = try Self.fill(daemon.outbox)
        try daemon.start()
        let copy = daemon.outbox + "/.ca.cer"
        #expect(!FileManager.default.fileExists(atPath: copy))
        #expect(Self.lines(daemon, containing: "cannot put the CA certificate in the outbox") == 1, "\(daemon.logText)")

        try FileManager.default.removeItem(atPath: filler)
        try daemon.waitFor("the CA's copy", timeout: 10) { FileManager.default.fileExists(atPath: copy) }
        #expect(daemon.logText.contains("the CA certificate is in the outbox as .ca.cer now"))
        #expect(FileManager.default.contents(atPath: copy).map { [UInt8]($0) } == (try Self.caDER(daemon)))
        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after"])
        #expect(try daemon.stop() == 0)
        let work = try TemporaryDirectory(prefix: "dropca-ca-copy")
        let verified = try ExternalTool.run("sh", ["-c", "openssl x509 -inform DER -in \"$0\" -out \"$2/ca.pem\" && openssl verify -CAfile \"$2/ca.pem\" \"$1\"",
                                                   copy, daemon.outbox + "/after.cer", work.path("")])
        #expect(verified.succeeded, "\(verified.output)")
        try Self.expectReconciled(daemon, issued: 1, rejected: 0)
    }

    /// The CA certificate of the development CA the harness uses, in DER.
    static func caDER(_ daemon: DaemonHarness) throws -> [UInt8] {
        let work = try TemporaryDirectory(prefix: "dropca-ca-der")
        let result = try ExternalTool.run("openssl", ["x509", "-in", daemon.root + "/ca/ca.pem", "-outform", "DER", "-out", work.path("ca.der")])
        guard result.succeeded, let der = FileManager.default.contents(atPath: work.path("ca.der")) else {
            throw HarnessError("openssl x509: \(result.output)")
        }
        return [UInt8](der)
    }

    /// The outbox remounted read-only while certificates wait in it: they are published
    /// once it is writable again, and at the stop no temporary of ours is left in it.
    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func aReadOnlyOutboxLeavesNoTemporaries() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0"])
        try Self.mountTmpfs(daemon.outbox, size: "1m")
        defer { Self.unmount(daemon.outbox) }
        try daemon.start()
        try daemon.drop("first.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["first"])
        let readOnly = try ExternalTool.run("mount", ["-o", "remount,ro", daemon.outbox])
        try #require(readOnly.succeeded, "\(readOnly.output)")
        for index in 0..<5 { try daemon.drop("ro-\(index).csr", SampleRequests.p256) }
        try daemon.waitFor("the failed publication", timeout: 15) { daemon.logText.contains("cannot publish") }
        Thread.sleep(forTimeInterval: 2)
        let writable = try ExternalTool.run("mount", ["-o", "remount,rw", daemon.outbox])
        try #require(writable.succeeded, "\(writable.output)")
        try daemon.waitFor("every certificate", timeout: 40) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: 6, rejected: 0)
    }

    /// An append-only failed/ (`chattr +a`): no reason file can be renamed into place, nor
    /// its temporary removed, so each try leaves one. They wait in the inbox, one line says
    /// so, and once failed/ takes writes again every one ends there with its reason, and the
    /// temporaries go at once, not only at the next start.
    @Test(.enabled(if: isRoot, "chattr needs root"), .timeLimit(.minutes(10)))
    func anAppendOnlyFailedFolderLeavesNoTemporariesOnceItRecovers() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0", "rescan_seconds": "0"])
        try daemon.start()
        let locked = try ExternalTool.run("chattr", ["+a", daemon.failed])
        try #require(locked.succeeded, "\(locked.output)")
        defer { _ = try? ExternalTool.run("chattr", ["-a", daemon.failed]) }
        for index in 0..<5 { try daemon.drop("bad-\(index).csr", Array("garbage \(index)".utf8)) }
        try daemon.waitFor("the failed rejection", timeout: 15) { daemon.logText.contains("cannot move rejected requests to failed/") }
        Thread.sleep(forTimeInterval: 3)
        func temporaries() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: daemon.failed)) ?? []).filter { $0.hasPrefix(".dropca-") && $0.hasSuffix(".tmp") }.count
        }
        #expect(temporaries() > 0, "the fault this test is about did not happen")
        #expect(daemon.names(in: daemon.inbox).count == 5)

        _ = try ExternalTool.run("chattr", ["-a", daemon.failed])
        try daemon.waitFor("every rejection", timeout: 40) { daemon.names(in: daemon.inbox).isEmpty }
        try daemon.waitFor("the recovery line", timeout: 10) { daemon.logText.contains("can move rejected requests to failed/ again") }
        #expect(temporaries() == 0, "temporaries left while running")
        #expect(try daemon.stop() == 0)
        #expect(Self.lines(daemon, containing: "cannot move rejected requests to failed/") == 1)
        try Self.expectReconciled(daemon, issued: 0, rejected: 5)
    }

    /// The outbox or failed/ moved away and a new, empty folder put at its path while the
    /// daemon runs: the held folder would go on taking certificates (or rejections) that
    /// nobody looks for there, so the run ends (exit 1) as for a lost inbox, and the next
    /// start uses the folder now at the path.
    @Test(.timeLimit(.minutes(10)), arguments: ["outbox", "failed"])
    func aSpoolFolderSwappedWhileRunningEndsTheRun(_ which: String) throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0"])
        try daemon.start()
        try daemon.drop("before.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["before"])
        let folder = which == "outbox" ? daemon.outbox : daemon.failed
        try FileManager.default.moveItem(atPath: folder, toPath: folder + ".old")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        #expect(try daemon.waitForExit(timeout: 15) == 1)
        // Seen either between the move and the new folder, or after.
        #expect(daemon.logText.contains("/spool/\(which) is gone ("), "\(daemon.logText.suffix(1500))")

        try daemon.start()
        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.drop("after.bad", Array("garbage".utf8))
        try daemon.waitForCertificates(["after"])
        try daemon.waitFor("the rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("after.bad.reason") }
        #expect(try daemon.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: daemon.outbox + "/after.cer"))
    }

    /// An inbox whose entries cannot be removed (an append-only folder, `chattr +a`, which
    /// holds for root too): the certificate is published but its input stays, and every
    /// retry republishes that same certificate rather than signing another; a hard-linked
    /// upload gets one reason file, not one more per retry. Once removal works, each input
    /// ends once.
    @Test(.enabled(if: isRoot, "chattr needs root"), .timeLimit(.minutes(10)))
    func anInboxThatKeepsItsEntriesIsNeverSignedTwice() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0"])
        try daemon.start()
        let outside = daemon.directory.path("outside.csr")
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: outside))
        let locked = try ExternalTool.run("chattr", ["+a", daemon.inbox])
        try #require(locked.succeeded, "\(locked.output)")
        defer { _ = try? ExternalTool.run("chattr", ["-a", daemon.inbox]) }
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: daemon.inbox + "/kept.csr"))
        #expect(link(outside, daemon.inbox + "/linked.csr") == 0)
        try daemon.waitForCertificates(["kept"])
        Thread.sleep(forTimeInterval: 6)  // retries at 1, 2 and 4 s
        #expect(try Self.count(daemon, "issuance") == 1, "one signature, however many retries")
        #expect(daemon.names(in: daemon.failed).filter { $0.hasSuffix(".reason") }.count <= 1)

        _ = try ExternalTool.run("chattr", ["-a", daemon.inbox])
        try daemon.waitFor("the inputs to go", timeout: 40) { daemon.names(in: daemon.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        #expect(try Self.count(daemon, "issuance") == 1)
        #expect(try Self.count(daemon, "issuance WHERE published_at IS NULL") == 0)
        #expect(daemon.names(in: daemon.failed) == ["linked.csr.reason"], "\(daemon.names(in: daemon.failed))")
        #expect(try Self.count(daemon, "rejection") == 1)
        let serial = try Self.sqlite(daemon, "SELECT serial FROM issuance")
        let published = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], stdin: daemon.certificate("kept"))
        #expect(published.stdout.lowercased().contains(serial.lowercased()), "the outbox holds the recorded certificate")
    }

    // MARK: memory (finding 8)

    /// 200 garbage files of 1 MiB with max_csr_bytes = 1 MiB arrive while another process
    /// holds the ledger (so the publisher waits and rejected inputs cannot leave memory
    /// through it): the peak RSS stays within the input budget plus the daemon's own size,
    /// and the rejections are all recorded once the lock goes.
    @Test(.timeLimit(.minutes(10)))
    func largeGarbageInputsStayWithinTheByteBudget() throws {
        let budget = 16
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.5", "rescan_seconds": "0",
                                                  "max_csr_bytes": "1048576", "input_budget_mib": "\(budget)"])
        try daemon.start()
        try daemon.drop("warm.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["warm"])
        let baseline = try Self.peakRSS(daemon)
        let holder = try Self.lockLedger(daemon, seconds: 12)
        // A DER SEQUENCE header claiming more than there is, then zeros: refused at once,
        // so the workers read these far faster than the waiting publisher lets them go.
        let garbage = [0x30, 0x84, 0xFF, 0xFF] + [UInt8](repeating: 0, count: (1 << 20) - 4)
        let count = 200
        for index in 0..<count { try daemon.drop("big-\(index).csr", garbage) }
        holder.waitUntilExit()
        try daemon.waitFor("every rejection", timeout: 120) { daemon.names(in: daemon.inbox).isEmpty }
        let peak = try Self.peakRSS(daemon)
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: 1, rejected: count)
        // The budget, plus room for the allocator and a batch of results: far below the
        // 200 MiB the inputs would take if each were held.
        let allowance = (budget + 48) << 20
        #expect(peak - baseline < allowance, "peak RSS \(peak >> 20) MiB over a baseline of \(baseline >> 20) MiB")
    }

    /// A real second process (Python's sqlite3) holding `BEGIN EXCLUSIVE` on the ledger for
    /// `seconds`; returns once the lock is held.
    static func lockLedger(_ daemon: DaemonHarness, seconds: Int, writesOnly: Bool = false) throws -> Process {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("\(writesOnly ? "BEGIN IMMEDIATE" : "BEGIN EXCLUSIVE")")
            print("locked", flush=True)
            time.sleep(\(seconds))
            db.execute("COMMIT")
            """, daemon.root + "/state/ledger.sqlite"]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        let said = output.fileHandleForReading.readData(ofLength: 7)
        guard String(decoding: said, as: UTF8.self) == "locked\n" else { throw HarnessError("the ledger could not be locked") }
        return holder
    }

    /// VmHWM of the running daemon, in bytes.
    static func peakRSS(_ daemon: DaemonHarness) throws -> Int {
        let pid = try #require(daemon.pid)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        return kilobytes << 10
    }

    // MARK: a locked ledger (finding 11)

    /// Another process holds the ledger with BEGIN EXCLUSIVE for 25 s while requests
    /// arrive: the watchdog is petted all along (the wait is bounded by the busy timeout),
    /// STATUS= says what the daemon waits for, and once the lock goes everything is issued.
    @Test(.timeLimit(.minutes(10)))
    func aLockedLedgerKeepsTheWatchdogPettedAndSaysSo() throws {
        let recorder = try DaemonSystemdTests.NotifyRecorder()
        defer { recorder.stop() }
        let daemon = try DaemonHarness()
        let watchdogMicroseconds = 8_000_000
        try daemon.start(environment: ["NOTIFY_SOCKET": recorder.socket.path, "WATCHDOG_USEC": "\(watchdogMicroseconds)"])
        try daemon.drop("before.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["before"])

        let holder = try Self.lockLedger(daemon, seconds: 25)
        let locked = Date()
        for index in 0..<10 { try daemon.drop("during-\(index).csr", SampleRequests.p256) }
        holder.waitUntilExit()
        let unlocked = Date()
        try daemon.waitForCertificates((0..<10).map { "during-\($0)" }, timeout: 60)
        #expect(recorder.messages.contains { $0.message.contains("for the ledger") }, "STATUS= says what the daemon waits for")

        let pets = recorder.messages.filter { $0.message == "WATCHDOG=1" }.map(\.at)
            .filter { $0 >= locked.addingTimeInterval(-5) && $0 <= unlocked }
        let gaps = zip(pets.dropFirst(), pets).map { $0.timeIntervalSince($1) }
        #expect(pets.count >= 6, "WATCHDOG=1 sent \(pets.count) times during the 25 s lock")
        #expect((gaps.max() ?? 99) < Double(watchdogMicroseconds) / 1_000_000 / 2, "longest gap \(gaps.max() ?? -1) s")
        #expect(try daemon.stop() == 0)
        try Self.expectReconciled(daemon, issued: 11, rejected: 0)
    }
}
