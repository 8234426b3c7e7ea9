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
}
