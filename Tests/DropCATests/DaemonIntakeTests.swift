import Foundation
import TestSupport
import Testing

/// `dropca run` taking files the ways appliances deliver them (README, "How it works").
@Suite(.serialized) struct DaemonIntakeTests {
    @Test func fileWaitingAtStartIsIssued() throws {
        let daemon = try DaemonHarness()
        try daemon.drop("waiting.csr", SampleRequests.p256)
        try daemon.start()
        try daemon.waitForCertificates(["waiting"])
        let der = try #require(daemon.certificate("waiting"))
        #expect(try IndependentCheckers.problems(certificateDER: der, caCertificatePath: daemon.root + "/ca/ca.pem") == [])
        #expect(daemon.names(in: daemon.inbox).isEmpty, "the input is removed once published")
        let mode = try FileManager.default.attributesOfItem(atPath: daemon.outbox + "/waiting.cer")[.posixPermissions] as? Int
        #expect(mode == 0o644)
        #expect(try daemon.stop() == 0)
    }

    @Test func copiedAndRenamedFilesAreIssued() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        // Written in place: IN_CLOSE_WRITE.
        let copied = try ExternalTool.run("sh", ["-c", "cat > '\(daemon.inbox)/copied.pem'"], stdin: SampleRequests.p256)
        #expect(copied.succeeded)
        // Written elsewhere on the same filesystem, then renamed in: IN_MOVED_TO.
        let staging = daemon.root + "/staging.tmp"
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: staging))
        #expect(rename(staging, daemon.inbox + "/renamed.req") == 0)
        try daemon.waitForCertificates(["copied", "renamed"])
        #expect(try daemon.stop() == 0)
    }

    @Test func slowWriterIsTakenOnlyAfterClose() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        let path = daemon.inbox + "/slow.csr"
        let handle = try DaemonHarness.openForAppending(path)
        let half = SampleRequests.p256.count / 2
        try handle.write(contentsOf: Data(SampleRequests.p256[..<half]))
        // Pause well past settle_seconds (0.5 s) with the file open.
        Thread.sleep(forTimeInterval: 3)
        #expect(daemon.names(in: daemon.failed).isEmpty, "a paused upload must not be cut short")
        #expect(daemon.certificate("slow") == nil)
        try handle.write(contentsOf: Data(SampleRequests.p256[half...]))
        try handle.close()
        try daemon.waitForCertificates(["slow"])
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(try daemon.stop() == 0)
    }

    @Test func inProgressNamesAreLeftAlone() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0.2", "rescan_seconds": "1"])
        try daemon.start()
        for name in [".hidden.csr", "upload.csr.filepart", "upload.csr.part", "x.csr.tmp", "x.csr.crdownload", "x.csr~"] {
            try daemon.drop(name, SampleRequests.p256)
        }
        try daemon.drop("good.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["good"])
        Thread.sleep(forTimeInterval: 2.5)  // past a periodic rescan and the settle time
        let left = try FileManager.default.contentsOfDirectory(atPath: daemon.inbox).sorted()
        #expect(left == [".hidden.csr", "upload.csr.filepart", "upload.csr.part", "x.csr.crdownload", "x.csr.tmp", "x.csr~"])
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(try daemon.stop() == 0)
    }

    @Test func rejectedRequestGoesToFailedWithAReason() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try daemon.drop("weak.csr", SampleRequests.rsa1024)
        try daemon.waitFor("the rejection", timeout: 20) { daemon.names(in: daemon.failed).contains("weak.csr.reason") }
        #expect(daemon.names(in: daemon.failed) == ["weak.csr", "weak.csr.reason"])
        let reason = try String(contentsOfFile: daemon.failed + "/weak.csr.reason", encoding: .utf8)
        #expect(reason.split(separator: "\n").first == "RSA key of 1024 bits is below policy.min_rsa_bits = 2048")
        #expect(try Data(contentsOf: URL(fileURLWithPath: daemon.failed + "/weak.csr")) == Data(SampleRequests.rsa1024), "nothing lost")
        // The line follows the folder fsyncs that come after the reason file appears.
        try daemon.waitFor("the rejection's log line", timeout: 10) { daemon.logText.contains("rejected weak.csr: RSA key of 1024 bits") }
        #expect(try daemon.stop() == 0)
    }

    @Test func hostileEntriesGetNoCertificateAndLeakNothing() throws {
        let daemon = try DaemonHarness()
        let key = try Data(contentsOf: URL(fileURLWithPath: daemon.root + "/ca/ca.key"))
        try daemon.start()
        let inbox = daemon.inbox
        #expect(symlink(daemon.root + "/ca/ca.key", inbox + "/key-link.csr") == 0)
        let outside = daemon.root + "/outside.csr"
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: outside))
        #expect(link(outside, inbox + "/hard-link.csr") == 0)
        #expect(mkfifo(inbox + "/fifo.csr", 0o644) == 0)
        #expect(mkdir(inbox + "/folder.csr", 0o755) == 0)
        let big = try DaemonHarness.openForAppending(inbox + "/big.csr")
        try big.truncate(atOffset: 20 * 1024 * 1024)
        try big.close()
        for name in ["with space.csr", "semi;colon.csr", "new\nline.csr"] {
            try daemon.drop(name, SampleRequests.p256)
        }
        try daemon.waitFor("every hostile entry to be dealt with", timeout: 30) {
            daemon.names(in: daemon.failed).filter { $0.hasSuffix(".reason") }.count == 8
        }
        #expect(daemon.names(in: daemon.outbox).isEmpty, "no certificate for any hostile entry")
        // Not one byte of the CA key outside its folder.
        let keyBody = key.subdata(in: 40..<80)
        for folder in [daemon.outbox, daemon.failed] {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                var isDirectory: ObjCBool = false
                let path = folder + "/" + name
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
                let contents = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(contents.range(of: keyBody) == nil, "\(name) holds bytes of the CA key")
            }
        }
        let reasons = try daemon.names(in: daemon.failed).filter { $0.hasSuffix(".reason") }
            .map { try String(contentsOfFile: daemon.failed + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
        #expect(reasons.contains("symbolic link"))
        #expect(reasons.contains("hard links"))
        #expect(reasons.contains("over policy.max_csr_bytes"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: outside)) == Data(SampleRequests.p256), "the linked file outside the inbox is untouched")

        try daemon.drop("after.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["after"])
        #expect(try daemon.stop() == 0)
    }

    @Test func losingTheInboxIsFatal() throws {
        let daemon = try DaemonHarness()
        try daemon.start()
        try FileManager.default.removeItem(atPath: daemon.inbox)
        let status = try daemon.waitForExit(timeout: 20)
        #expect(status != 0)
        #expect(daemon.logText.contains("is gone"))
    }
}
