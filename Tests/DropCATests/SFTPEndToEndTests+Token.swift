import Foundation
import TestSupport
import Testing

extension SFTPEndToEndTests {
    /// The shipped unit with the shipped token drop-in, under the machine's systemd, its
    /// sandbox whole (ProtectSystem=strict, the system call filter, one capability): the CA
    /// key on a SoftHSM2 token in Debian's token store, the PIN handed over as the credential
    /// ca.pin, and an appliance's upload issued by the token and verifying against its CA.
    @Test(.enabled(if: NamespacedSystemd.isAvailable && SoftHSMToken.isAvailable,
                   "needs a machine not booted with systemd, a running journald and softhsm2 (scripts/setup)"))
    func theShippedUnitWithTheTokenDropInSignsOnTheToken() throws {
        _ = try InstalledLayout.apply()
        let prefix = Self.uniquePrefix()
        defer { InstalledLayout.removeSpoolFiles(startingWith: prefix) }
        let token = try SoftHSMToken(keyType: .p256)
        let systemd = try NamespacedSystemd(token: token)
        defer { systemd.stop() }

        try BoundedWait.until("dropca.service to become active", timeout: 30, details: systemd.diagnostics) {
            let state = try systemd.property("ActiveState")
            if state == "failed" { throw HarnessError("dropca.service failed:\n\(systemd.diagnostics())") }
            return state == "active"
        }
        #expect(try systemd.property("SupplementaryGroups").split(separator: " ").contains("softhsm"))

        let server = try SFTPTestServer(appliance: Self.appliance)
        defer { server.stop() }
        let work = try TemporaryDirectory(prefix: "dropca-appliance")
        let stem = prefix + "token"
        try Self.roundTrip(stem, server: server, work: work, caCertificate: token.caCertificate, details: systemd.diagnostics)
        let issued = try Self.journalRecord(["DROPCA_FILE=\(stem).csr", "MESSAGE_ID=\(Self.certificateIssued)"], details: systemd.diagnostics)
        #expect(issued["_SYSTEMD_UNIT"] == "dropca.service")
        #expect(issued["_CAP_EFFECTIVE"] == "4", "CAP_DAC_READ_SEARCH (bit 2) and nothing else")
        let started = try ExternalTool.run("journalctl", ["--no-pager", "-n", "50", "SYSLOG_IDENTIFIER=dropca"])
        #expect(started.stdout.contains("on the token \(token.label)"), "\(started.stdout.suffix(1500))")
        #expect(!started.stdout.contains(token.pin))
    }

    /// The token not plugged in when the service starts (its folder away from the store):
    /// `dropca run` exits 1, not 2, and the shipped unit starts it again every 5 s, never
    /// giving up; once the token is there, the service comes up and issues, untouched.
    @Test(.enabled(if: NamespacedSystemd.isAvailable && SoftHSMToken.isAvailable,
                   "needs a machine not booted with systemd, a running journald and softhsm2 (scripts/setup)"))
    func theShippedUnitWaitsForATokenPluggedInAfterItsStart() throws {
        _ = try InstalledLayout.apply()
        let prefix = Self.uniquePrefix()
        defer { InstalledLayout.removeSpoolFiles(startingWith: prefix) }
        let token = try SoftHSMToken(keyType: .p256)
        let folders = try FileManager.default.contentsOfDirectory(atPath: token.tokenStore)
        try #require(folders.count == 1, "\(folders)")
        let away = token.directory.path("away")
        try FileManager.default.moveItem(atPath: token.tokenStore + "/" + folders[0], toPath: away)
        let systemd = try NamespacedSystemd(token: token)
        defer { systemd.stop() }

        try BoundedWait.until("two restarts of dropca.service", timeout: 40, details: systemd.diagnostics) {
            (Int(try systemd.property("NRestarts")) ?? 0) >= 2
        }
        #expect(try systemd.property("ActiveState") != "failed", "\(systemd.diagnostics())")
        let waiting = try ExternalTool.run("journalctl", ["--no-pager", "-n", "50", "SYSLOG_IDENTIFIER=dropca"])
        #expect(waiting.stdout.contains("no token matches"), "\(waiting.stdout.suffix(1500))")
        #expect(waiting.stdout.contains("the unit starts dropca again (every 5 s) until the token answers"), "\(waiting.stdout.suffix(1500))")

        // Plugged in: the token's folder back, as the softhsm group keeps it.
        let owned = try ExternalTool.run("sh", ["-c", "chgrp -R softhsm \"$0\" && chmod -R g+rwX \"$0\"", away])
        try #require(owned.succeeded, "\(owned.output)")
        try FileManager.default.moveItem(atPath: away, toPath: token.tokenStore + "/" + folders[0])
        try BoundedWait.until("dropca.service to become active", timeout: 30, details: systemd.diagnostics) {
            try systemd.property("ActiveState") == "active"
        }
        let server = try SFTPTestServer(appliance: Self.appliance)
        defer { server.stop() }
        let work = try TemporaryDirectory(prefix: "dropca-appliance")
        try Self.roundTrip(prefix + "late-token", server: server, work: work, caCertificate: token.caCertificate, details: systemd.diagnostics)
    }
}
