import Foundation
import TestSupport
import Testing

/// Every journal record of an input says its profile (`DROPCA_PROFILE`), so that
/// `journalctl DROPCA_PROFILE=printers` follows one profile's appliances.
@Suite struct DaemonProfileJournalTests {
    @Test func recordsOfAnInputCarryItsProfile() async throws {
        try await JournaldFixture.ensureRunning()
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon)
        let printers = ProfileFixtures.folder(daemon, "printers", "inbox")
        let run = UUID().uuidString.prefix(8).lowercased()
        try daemon.start(waitUntilReady: false, logTarget: "journal")
        try daemon.drop("good-\(run).csr", SampleRequests.p256)
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: printers + "/laser-\(run).csr"))
        try Data(SampleRequests.rsa1024).write(to: URL(fileURLWithPath: printers + "/weak-\(run).csr"))
        try daemon.waitForCertificates(["good-\(run)"])
        try daemon.waitFor("the printers' outcomes", timeout: 20) {
            FileManager.default.fileExists(atPath: ProfileFixtures.folder(daemon, "printers", "outbox") + "/laser-\(run).cer")
                && FileManager.default.fileExists(atPath: ProfileFixtures.folder(daemon, "printers", "failed") + "/weak-\(run).csr.reason")
        }
        #expect(try daemon.stop() == 0)

        var found: [String: JournaldFixture.Entry] = [:]
        for _ in 0..<50 {
            for file in ["good", "laser", "weak"] {
                found[file] = try JournaldFixture.readEntries(matching: "DROPCA_FILE=\(file)-\(run).csr").first
            }
            if found.count == 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(found["good"]?["DROPCA_PROFILE"] == "default")
        #expect(found["good"]?["MESSAGE"]?.hasPrefix("issued good-\(run).csr: serial") == true, "the default profile's line as before")
        #expect(found["laser"]?["DROPCA_PROFILE"] == "printers")
        #expect(found["laser"]?["MESSAGE"]?.hasPrefix("issued laser-\(run).csr (profile printers): serial") == true, "\(String(describing: found["laser"]))")
        #expect(found["weak"]?["DROPCA_PROFILE"] == "printers")
        #expect(found["weak"]?["DROPCA_REASON"] == "RSA key of 1024 bits is below policy.min_rsa_bits = 2048 (profile printers)")
        let byProfile = try JournaldFixture.readEntries(matching: "DROPCA_PROFILE=printers").filter { $0["DROPCA_FILE"]?.hasSuffix("-\(run).csr") == true }
        #expect(byProfile.count == 2, "\(byProfile)")
    }
}
