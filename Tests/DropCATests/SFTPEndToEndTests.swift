import Foundation
import TestSupport
import Testing

/// An appliance's view of a deployment on this machine: the shipped sysusers and tmpfiles
/// files applied for real, an appliance account in dropca-drop, a real sshd with the
/// shipped drop-in, and dropca with exactly the service's identity and capability. The
/// appliance uploads a request over SFTP and fetches its certificate the same way.
///
/// The first two use the machine's /var/spool/dropca, so they run one after the other; each
/// removes the files it made there (names starting with its own prefix). The third
/// (`theDebianPackageInstallsServesAndRemovesAsTheREADMESays`, in
/// SFTPEndToEndTests+DebianPackage.swift) does the same with the Debian package in a
/// Debian root of its own; it is in this serialized suite because it, too, starts a
/// systemd, and only one may run at a time.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: applies the shipped sysusers and tmpfiles files, creates an appliance account, runs sshd and switches to the dropca user"))
struct SFTPEndToEndTests {
    static let appliance = InstalledLayout.applianceName
    /// MESSAGE_IDs from systemd/dropca.catalog.
    static let certificateIssued = "4cbe923a30624cc0979b0ce90edbc964"
    static let configurationReloaded = "298bd22a6c0348588931a2f0dde9f97d"
    static let certificateRevoked = "b01d882072d34306b492f29b723a7b34"

    @Test func applianceUploadsOverSFTPAndFetchesItsCertificate() throws {
        let layout = try InstalledLayout.apply()
        let prefix = Self.uniquePrefix()
        defer { InstalledLayout.removeSpoolFiles(startingWith: prefix) }
        let server = try SFTPTestServer(appliance: Self.appliance)
        defer { server.stop() }
        let daemon = try ServiceUserDaemon(layout: layout)
        let work = try TemporaryDirectory(prefix: "dropca-appliance")

        // Uploaded before dropca runs, so it can be looked at: owner-only, as an appliance
        // that keeps its files private sends it (`put -p` keeps the local 0600).
        let early = prefix + "early"
        try Self.makeRequest(in: work, stem: early)
        let upload = try server.sftp(["put -p \(work.path(early + ".csr")) /inbox/\(early).csr"], user: Self.appliance)
        try #require(upload.succeeded, "\(upload.output)\n\(server.log.suffix(2000))")
        let uploaded = InstalledLayout.inbox + "/" + early + ".csr"
        var info = stat()
        try #require(lstat(uploaded, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(info.st_uid == layout.applianceUID, "owned by the appliance's user")
        #expect(info.st_gid == layout.dropGID, "the inbox's setgid bit gives it dropca-drop")
        // The dropca user and its groups alone cannot read it: that is the capability's job.
        let blind = try ExternalTool.run("setpriv", ServiceUserDaemon.withoutCapability + ["head", "-c", "1", uploaded])
        #expect(!blind.succeeded && blind.stderr.contains("Permission denied"), "\(blind.output)")

        try daemon.start()
        // And one while it runs: announced by inotify rather than found by the startup scan.
        let live = prefix + "live"
        try Self.makeRequest(in: work, stem: live)
        let second = try server.sftp(["put -p \(work.path(live + ".csr")) /inbox/\(live).csr"], user: Self.appliance)
        #expect(second.succeeded, "\(second.output)")
        try BoundedWait.until("both certificates in the outbox", timeout: 30, details: { daemon.log }) {
            [early, live].allSatisfy { FileManager.default.fileExists(atPath: InstalledLayout.outbox + "/" + $0 + ".cer") }
        }

        let fetch = try server.sftp([early, live].map { "get /outbox/\($0).cer \(work.path($0 + ".cer"))" }, user: Self.appliance)
        #expect(fetch.succeeded, "\(fetch.output)")
        for stem in [early, live] {
            #expect(try Self.verify(work.path(stem + ".cer"), caCertificate: daemon.caCertificate) == "", "\(stem)")
        }
        #expect(Self.names(in: InstalledLayout.inbox, startingWith: prefix) == [])
        #expect(Self.names(in: InstalledLayout.failed, startingWith: prefix) == [], "\(daemon.log)")

        // The server refuses links (`-P symlink,hardlink`): with hardlink@openssh.com not
        // offered, sftp does not even send the request.
        let symlink = try server.sftp(["ln -s /outbox/\(live).cer /inbox/\(prefix)symlink.csr"], user: Self.appliance)
        #expect(!symlink.succeeded && symlink.output.contains("Permission denied"), "\(symlink.output)")
        let hardlink = try server.sftp(["ln /outbox/\(live).cer /inbox/\(prefix)hardlink.csr"], user: Self.appliance)
        #expect(!hardlink.succeeded, "\(hardlink.output)")
        // Nor may an appliance put anything in the outbox.
        let forged = try server.sftp(["put \(work.path(live + ".cer")) /outbox/\(prefix)forged.cer"], user: Self.appliance)
        #expect(!forged.succeeded, "\(forged.output)")
        for folder in [InstalledLayout.inbox, InstalledLayout.outbox, InstalledLayout.failed] {
            let unexpected = Self.names(in: folder, startingWith: prefix).filter { !$0.hasPrefix(early) && !$0.hasPrefix(live) }
            #expect(unexpected == [], "\(folder)")
        }

        #expect(try daemon.stop() == 0, "\(daemon.log)")
    }

    /// The shipped unit itself, under the machine's systemd 252: it starts (Type=notify),
    /// dropca reads an owner-only upload within the sandbox, logs it to the journal with
    /// its fields and only its one capability, reloads on `systemctl reload` and stops
    /// cleanly.
    @Test(.enabled(if: NamespacedSystemd.isAvailable, "needs a machine not booted with systemd (it starts its own in a namespace) and a running journald (scripts/start-journald)"))
    func theShippedUnitServesAnApplianceUnderSystemd() throws {
        let layout = try InstalledLayout.apply()
        let prefix = Self.uniquePrefix()
        defer { InstalledLayout.removeSpoolFiles(startingWith: prefix) }
        let server = try SFTPTestServer(appliance: Self.appliance)
        defer { server.stop() }
        let systemd = try NamespacedSystemd()
        defer { systemd.stop() }

        try BoundedWait.until("dropca.service to become active", timeout: 30, details: systemd.diagnostics) {
            let state = try systemd.property("ActiveState")
            if state == "failed" { throw HarnessError("dropca.service failed:\n\(systemd.diagnostics())") }
            return state == "active"
        }
        #expect(try systemd.property("StatusText").hasPrefix("issued 0"), "STATUS= from the daemon")
        // Nothing but dropca can run in there (the machine's units would act on the
        // machine): the units the sandbox orders itself after are not even found.
        let services = try systemd.systemctl(["list-units", "--type=service", "--all", "--plain", "--no-legend"])
        let others = services.stdout.split(separator: "\n").filter { !$0.hasPrefix("dropca.service ") && !$0.isEmpty }
        #expect(others.allSatisfy { $0.contains(" not-found ") }, "\(services.output)")
        let mainPID = try systemd.property("MainPID")

        let work = try TemporaryDirectory(prefix: "dropca-appliance")
        let stem = prefix + "unit"
        try Self.roundTrip(stem, server: server, work: work, caCertificate: systemd.caCertificate, details: systemd.diagnostics)

        let issued = try Self.journalRecord(["DROPCA_FILE=\(stem).csr", "MESSAGE_ID=\(Self.certificateIssued)"], details: systemd.diagnostics)
        #expect(issued["_SYSTEMD_UNIT"] == "dropca.service")
        #expect(issued["_UID"] == "\(layout.dropcaUID)")
        #expect(issued["_CAP_EFFECTIVE"] == "4", "CAP_DAC_READ_SEARCH (bit 2) and nothing else")
        #expect(issued["DROPCA_SUBJECT"] == "CN=\(stem).example")
        let serial = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", work.path(stem + ".cer"), "-noout", "-serial"])
        #expect(serial.stdout.lowercased().contains("serial=" + (issued["DROPCA_SERIAL"] ?? "-").lowercased()), "\(serial.stdout) vs \(issued)")

        // `dropca revoke` as root reaches the running service: the CRL appears in the
        // published folder, and nothing in the state directory belongs to root.
        let issuedSerial = try #require(issued["DROPCA_SERIAL"])
        let revoke = try ExternalTool.run("timeout", [
            "-s", "KILL", "60", "nsenter", "-t", "\(systemd.pid)", "-m", "-p",
            "dropca", "revoke", "--config", "/etc/dropca/dropca.toml", "--reason", "keyCompromise", issuedSerial,
        ])
        #expect(revoke.status == 0, "\(revoke.output)\n\(systemd.diagnostics())")
        #expect(revoke.stderr.contains("published in CRL number"), "\(revoke.output)")
        let state = "/proc/\(systemd.pid)/root/var/lib/dropca"
        let crl = try #require(FileManager.default.contents(atPath: state + "/public/ca.crl"), "no CRL in \(state)/public")
        let refused = try CRLCheckers.verify(certificateDER: [UInt8](try Data(contentsOf: URL(fileURLWithPath: work.path(stem + ".cer")))),
                                            caCertificatePath: systemd.caCertificate, crlDER: [UInt8](crl))
        #expect(!refused.succeeded && refused.output.contains("certificate revoked"), "\(refused.output)")
        let foreign = try ExternalTool.run("find", [state, "-not", "-user", "\(layout.dropcaUID)"])
        #expect(foreign.succeeded && foreign.stdout.isEmpty, "files in the state directory not owned by dropca: \(foreign.output)")
        let revokedRecord = try Self.journalRecord(["DROPCA_SERIAL=\(issuedSerial)", "MESSAGE_ID=\(Self.certificateRevoked)"], details: systemd.diagnostics)
        #expect(revokedRecord["_SYSTEMD_UNIT"] == "dropca.service")
        #expect(revokedRecord["DROPCA_REVOKED_BY_UID"] == "0")
        // STATUS= is sent every two seconds.
        try BoundedWait.until("STATUS= to show the CRL", timeout: 15, details: systemd.diagnostics) {
            try systemd.property("StatusText").contains("; CRL ")
        }

        // journald names the process by its PID outside the namespace.
        let reload = try systemd.systemctl(["reload", "dropca.service"])
        #expect(reload.succeeded, "\(reload.output)")
        let hostPID = try #require(issued["_PID"])
        _ = try Self.journalRecord(["_PID=\(hostPID)", "MESSAGE_ID=\(Self.configurationReloaded)"], details: systemd.diagnostics)
        #expect(try systemd.property("MainPID") == mainPID, "a reload, not a restart")
        #expect(try systemd.property("ActiveState") == "active")

        let stop = try systemd.systemctl(["stop", "dropca.service"])
        #expect(stop.succeeded, "\(stop.output)")
        #expect(try systemd.property("Result") == "success", "\(systemd.diagnostics())")
        #expect(try systemd.property("ExecMainStatus") == "0")
    }

    // MARK: Helpers

    /// Names this test's files start with, so that it can tell them from anybody else's.
    static func uniquePrefix() -> String { "e2e-" + UUID().uuidString.prefix(8).lowercased() + "-" }

    /// An appliance's round trip through the installed spool: `STEM.csr` made in `work`
    /// and uploaded with `put -p`, its certificate awaited in the outbox and fetched back
    /// over SFTP into `work`, where it must verify against `caCertificate`.
    static func roundTrip(_ stem: String, server: SFTPTestServer, work: TemporaryDirectory, caCertificate: String,
                          details: @escaping () -> String) throws {
        try makeRequest(in: work, stem: stem, subject: "/CN=\(stem).example")
        let upload = try server.sftp(["put -p \(work.path(stem + ".csr")) /inbox/\(stem).csr"], user: appliance)
        try #require(upload.succeeded, "\(upload.output)")
        try BoundedWait.until("the certificate in the outbox", timeout: 30, details: details) {
            FileManager.default.fileExists(atPath: InstalledLayout.outbox + "/" + stem + ".cer")
        }
        let fetch = try server.sftp(["get /outbox/\(stem).cer \(work.path(stem + ".cer"))"], user: appliance)
        #expect(fetch.succeeded, "\(fetch.output)")
        #expect(try verify(work.path(stem + ".cer"), caCertificate: caCertificate) == "")
    }

    /// `STEM.csr` in `directory`: a P-256 request, mode 0600.
    static func makeRequest(in directory: TemporaryDirectory, stem: String, subject: String? = nil) throws {
        let path = directory.path(stem + ".csr")
        let result = try ExternalTool.run("openssl", [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", directory.path(stem + ".key"), "-subj", subject ?? "/CN=\(stem).appliance.example", "-out", path,
        ])
        guard result.succeeded else { throw HarnessError("openssl req: \(result.output)") }
        chmod(path, 0o600)
    }

    /// "" when `openssl verify` accepts the DER certificate at `path`, else what it said.
    static func verify(_ path: String, caCertificate: String) throws -> String {
        let pem = path + ".pem"
        let convert = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", path, "-out", pem])
        guard convert.succeeded else { return "not a DER certificate: \(convert.output)" }
        let verify = try ExternalTool.run("openssl", ["verify", "-CAfile", caCertificate, pem])
        return verify.succeeded && verify.stdout.contains(": OK") ? "" : verify.output
    }

    static func names(in folder: String, startingWith prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The newest dropca journal record matching every `FIELD=value`, waiting for journald.
    static func journalRecord(_ matches: [String], details: @escaping () -> String) throws -> [String: String] {
        var found: [String: String]?
        try BoundedWait.until("a journal record with \(matches)", timeout: 15, details: details) {
            let result = try ExternalTool.run("journalctl", ["--no-pager", "-o", "json", "-n", "1", "SYSLOG_IDENTIFIER=dropca"] + matches)
            guard let line = result.stdout.split(separator: "\n").last,
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { return false }
            found = object.compactMapValues { $0 as? String }
            return true
        }
        return found ?? [:]
    }
}
