import Foundation
import TestSupport
import Testing

/// The Debian package, installed the way the README's "Install from the Debian package"
/// says, into a fresh Debian 12 made by debootstrap: its dependencies resolved from
/// Debian by apt, its maintainer scripts run by dpkg, then the root's own systemd booted
/// in a namespace (`NamespacedSystemd(booting:)`) runs the installed unit, and an
/// appliance gets its certificate over SFTP from the root's own sshd, with the installed
/// example drop-in. Then an upgrade restarts the running service, and `dpkg -r` and
/// `dpkg -P` leave exactly what the README says.
///
/// In `SFTPEndToEndTests` because it starts a systemd too, and two must not run at once.
extension SFTPEndToEndTests {
    @Test(.enabled(if: NamespacedSystemd.isAvailable && DebianRoot.isAvailable && DebianPackage.isAvailable,
                   "needs a machine not booted with systemd, a running journald, debootstrap and the package (or the tools to build it)"))
    func theDebianPackageInstallsServesAndRemovesAsTheREADMESays() throws {
        let version = try DebianPackage.changelogVersion()
        let deb = try DebianPackage.path()
        let root = try DebianRoot()
        let name = URL(fileURLWithPath: deb).lastPathComponent
        let folder = "/var/cache/dropca-test"
        try FileManager.default.createDirectory(atPath: root.path + folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: deb, toPath: root.path + folder + "/" + name)
        chmod(root.path + folder + "/" + name, 0o644)

        // 1. `apt install ./dropca_*.deb`: what it needs comes from Debian.
        try root.must("apt-get update -q")
        let installed = try root.must("cd \(folder) && apt-get install -y -q ./\(name)")
        for dependency in ["libssl3", "libsystemd0", "libsqlite3-0", "systemd"] {
            try root.must("dpkg-query -W -f '${Status}' \(dependency) | grep -q 'install ok installed'")
        }
        #expect(try root.must("dpkg-query -W -f '${Version}' dropca").stdout == version)
        #expect(try root.must("dropca --version").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == version, "the executable runs on Debian's libraries alone")
        #expect(installed.output.contains("dropca: not started"), "the postinst says what to do next:\n\(installed.output.suffix(2000))")
        try Self.expectInstalledLayout(root)
        // The package does not enable the service; the catalog is compiled by systemd's trigger.
        #expect(try root.run("systemctl is-enabled dropca.service").stdout.contains("disabled"))
        let catalog = try root.must("journalctl --list-catalog \(Self.certificateIssued)")
        #expect(catalog.stdout.contains("dropca"), "\(catalog.output)")

        // Man pages and completions, where man and the shells look for them.
        try root.must("apt-get install -y -q --no-install-recommends man-db")
        for page in ["dropca", "dropca-run", "dropca-issue", "dropca-revoke"] {
            let found = try root.run("man -w \(page)")
            #expect(found.succeeded && found.stdout.contains("/usr/share/man/man1/\(page).1.gz"), "man -w \(page): \(found.output)")
        }
        let configurationPage = try root.run("man -w dropca.toml")
        #expect(configurationPage.succeeded && configurationPage.stdout.contains("/usr/share/man/man5/dropca.toml.5.gz"), "man -w dropca.toml: \(configurationPage.output)")
        let completion = try root.must("""
            bash -c 'source /usr/share/bash-completion/completions/dropca; COMP_WORDS=(dropca ""); COMP_CWORD=1; \
            COMP_LINE="dropca "; COMP_POINT=7; _dropca; printf "%s\\n" "${COMPREPLY[@]}"'
            """)
        #expect(Set(completion.stdout.split(separator: "\n")).isSuperset(of: ["run", "issue", "revoke", "init", "check-config", "list", "show"]), "\(completion.output)")
        for script in ["/usr/share/zsh/vendor-completions/_dropca", "/usr/share/fish/vendor_completions.d/dropca.fish"] {
            #expect(root.text(script)?.contains("check-config") == true, "\(script)")
        }

        // 2. A purge before anything was issued: the empty folders go, the accounts stay.
        let firstPurge = try root.must("dpkg -P dropca")
        for gone in ["/etc/dropca", "/var/spool/dropca", "/var/lib/dropca", "/usr/bin/dropca"] {
            #expect(!FileManager.default.fileExists(atPath: root.path + gone), "\(gone) after dpkg -P:\n\(firstPurge.output)")
        }
        #expect(Self.account("dropca", in: root) != nil)
        #expect(firstPurge.output.contains("kept the user dropca"), "\(firstPurge.output)")
        try root.must("cd \(folder) && apt-get install -y -q ./\(name)")

        // 3. The README's steps: a CA, the check, an appliance account with the example drop-in.
        try root.must("""
            dropca init --dir /root/dropca-dev >/dev/null
            install -m 0644 /root/dropca-dev/ca/ca.pem /etc/dropca/ca.pem
            install -m 0600 /root/dropca-dev/ca/ca.key /etc/dropca/ca.key
            cp /usr/share/doc/dropca/examples/sshd_config.d-dropca.conf /etc/ssh/sshd_config.d/dropca.conf
            useradd -M -s /usr/sbin/nologin -G dropca-drop -p '*' \(Self.appliance)
            """)
        let check = try root.run("CREDENTIALS_DIRECTORY=/etc/dropca dropca check-config")
        #expect(check.succeeded && check.stdout.contains("configuration is usable"), "\(check.output)")
        let dropca = try #require(Self.account("dropca", in: root))
        try root.allowServiceStarts()

        // 4. The root's systemd, and `systemctl enable --now dropca`.
        let systemd = try NamespacedSystemd(booting: root.path)
        defer { systemd.stop() }
        let enabled = try systemd.systemctl(["enable", "--now", "dropca"])
        #expect(enabled.succeeded, "\(enabled.output)\n\(systemd.diagnostics())")
        try Self.waitUntilActive(systemd)
        #expect(try systemd.property("FragmentPath").hasSuffix("lib/systemd/system/dropca.service"), "the package's unit")
        #expect(try systemd.property("UnitFileState") == "enabled")
        let services = try systemd.systemctl(["list-units", "--type=service", "--state=active", "--plain", "--no-legend"])
        #expect(services.stdout.split(separator: "\n").map { $0.split(separator: " ").first ?? "" } == ["dropca.service"], "\(services.output)")

        // 5. An appliance uploads its request over SFTP and fetches its certificate.
        let server = try SFTPTestServer(appliance: Self.appliance, dropIn: "/etc/ssh/sshd_config.d/dropca.conf", root: root.path)
        defer { server.stop() }
        let work = try TemporaryDirectory(prefix: "dropca-appliance")
        let stem = Self.uniquePrefix() + "deb"
        try Self.makeRequest(in: work, stem: stem, subject: "/CN=\(stem).example")
        let upload = try server.sftp(["put -p \(work.path(stem + ".csr")) /inbox/\(stem).csr"], user: Self.appliance)
        try #require(upload.succeeded, "\(upload.output)\n\(server.log.suffix(2000))")
        let outbox = root.path + "/var/spool/dropca/outbox/"
        try BoundedWait.until("the certificate in the outbox", timeout: 30, details: systemd.diagnostics) {
            FileManager.default.fileExists(atPath: outbox + stem + ".cer")
        }
        let fetch = try server.sftp(["get /outbox/\(stem).cer \(work.path(stem + ".cer"))"], user: Self.appliance)
        #expect(fetch.succeeded, "\(fetch.output)")
        #expect(try Self.verify(work.path(stem + ".cer"), caCertificate: root.path + "/etc/dropca/ca.pem") == "")
        let issued = try Self.journalRecord(["DROPCA_FILE=\(stem).csr", "MESSAGE_ID=\(Self.certificateIssued)"], details: systemd.diagnostics)
        #expect(issued["_SYSTEMD_UNIT"] == "dropca.service")
        #expect(issued["_UID"] == "\(dropca.uid)", "the root's own dropca user")
        #expect(issued["_CAP_EFFECTIVE"] == "4", "CAP_DAC_READ_SEARCH and nothing else")

        // 6. An upgrade restarts the running service.
        let before = try systemd.property("MainPID")
        let upgrade = try systemd.run(["dpkg", "-i", folder + "/" + name])
        #expect(upgrade.succeeded, "\(upgrade.output)")
        try BoundedWait.until("a new dropca after the upgrade", timeout: 30, details: systemd.diagnostics) {
            let now = try systemd.property("MainPID")
            let state = try systemd.property("ActiveState")
            return now != before && now != "0" && state == "active"
        }

        // 7. `dpkg -r`: the service is stopped, the program goes, configuration, CA,
        // ledger, spool and accounts stay.
        let remove = try systemd.run(["dpkg", "-r", "dropca"])
        #expect(remove.succeeded, "\(remove.output)")
        #expect(try systemd.property("ActiveState") == "inactive", "\(systemd.diagnostics())")
        // The README's table, row by row.
        let removed = ["/usr/bin/dropca", "/lib/systemd/system/dropca.service", "/usr/lib/sysusers.d/dropca.conf",
                       "/usr/lib/tmpfiles.d/dropca.conf", "/usr/lib/systemd/catalog/dropca.catalog",
                       "/usr/share/man/man1/dropca.1.gz", "/usr/share/man/man1/dropca-run.1.gz",
                       "/usr/share/bash-completion/completions/dropca", "/usr/share/zsh/vendor-completions/_dropca",
                       "/usr/share/fish/vendor_completions.d/dropca.fish", "/usr/share/doc/dropca"]
        let kept = ["/etc/dropca/dropca.toml", "/etc/dropca/ca.pem", "/etc/dropca/ca.key", "/var/lib/dropca/ledger.sqlite",
                    "/var/lib/dropca/public/ca.crl", "/var/spool/dropca/outbox/\(stem).cer", "/var/spool/dropca/inbox",
                    "/etc/ssh/sshd_config.d/dropca.conf"]
        let enablement = systemd.seen("/etc/systemd/system/multi-user.target.wants/dropca.service")
        for path in removed { #expect(!FileManager.default.fileExists(atPath: systemd.seen(path)), "\(path) after dpkg -r") }
        for path in kept { #expect(FileManager.default.fileExists(atPath: systemd.seen(path)), "\(path) after dpkg -r") }
        #expect(Self.isSymbolicLink(enablement), "the enablement after dpkg -r: a reinstall finds the service enabled")
        #expect(Self.account("dropca", in: root) != nil && Self.group("dropca-drop", in: root) != nil)

        // 8. `dpkg -P`: the configuration file goes too; the CA, the ledger, the spool
        // that still holds a certificate, and the accounts stay, and it says so.
        let purge = try systemd.run(["dpkg", "-P", "dropca"])
        #expect(purge.succeeded, "\(purge.output)")
        #expect(!FileManager.default.fileExists(atPath: systemd.seen("/etc/dropca/dropca.toml")))
        for path in kept.dropFirst() { #expect(FileManager.default.fileExists(atPath: systemd.seen(path)), "\(path) after dpkg -P") }
        for note in ["kept /var/lib/dropca", "kept /var/spool/dropca", "kept /etc/dropca/ca.key", "kept /etc/dropca/ca.pem", "kept the user dropca"] {
            #expect(purge.output.contains(note), "dpkg -P says \"\(note)\":\n\(purge.output)")
        }
        #expect(!Self.isSymbolicLink(enablement), "the enablement after dpkg -P")
        #expect(Self.account("dropca", in: root) != nil && Self.group("dropca-drop", in: root) != nil)
        #expect(Self.account(Self.appliance, in: root) != nil)
        // dpkg forgets a purged package altogether.
        let status = try systemd.run(["dpkg-query", "-W", "-f", "${db:Status-Status}", "dropca"])
        #expect(!status.succeeded || status.stdout == "not-installed", "\(status.output)")
    }

    // MARK: Helpers

    /// What the maintainer scripts made: the accounts (systemd-sysusers) and the folders
    /// (systemd-tmpfiles), as in the README's table.
    static func expectInstalledLayout(_ root: DebianRoot) throws {
        let dropca = try #require(account("dropca", in: root), "no user dropca in the root")
        let drop = try #require(group("dropca-drop", in: root), "no group dropca-drop in the root")
        let expected: [(String, mode_t, uid_t, gid_t)] = [
            ("/var/spool/dropca", 0o755, 0, 0),
            ("/var/spool/dropca/inbox", 0o2770, dropca.uid, drop),
            ("/var/spool/dropca/outbox", 0o2750, dropca.uid, drop),
            ("/var/spool/dropca/failed", 0o2750, dropca.uid, drop),
            ("/var/lib/dropca", 0o711, dropca.uid, dropca.gid),
        ]
        for (folder, mode, uid, gid) in expected {
            var info = stat()
            try #require(lstat(root.path + folder, &info) == 0, "\(folder) missing")
            #expect(info.st_mode & 0o7777 == mode && info.st_uid == uid && info.st_gid == gid,
                    "\(folder): mode \(String(info.st_mode & 0o7777, radix: 8)), owner \(info.st_uid):\(info.st_gid)")
        }
        var config = stat()
        #expect(lstat(root.path + "/etc/dropca/dropca.toml", &config) == 0 && config.st_uid == 0 && config.st_mode & 0o777 == 0o644)
    }

    /// A user of the root's /etc/passwd.
    static func account(_ name: String, in root: DebianRoot) -> (uid: uid_t, gid: gid_t)? {
        for line in (root.text("/etc/passwd") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count == 7, fields[0] == name, let uid = uid_t(fields[2]), let gid = gid_t(fields[3]) { return (uid, gid) }
        }
        return nil
    }

    /// A group of the root's /etc/group.
    static func group(_ name: String, in root: DebianRoot) -> gid_t? {
        for line in (root.text("/etc/group") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count == 4, fields[0] == name, let gid = gid_t(fields[2]) { return gid }
        }
        return nil
    }

    static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    static func waitUntilActive(_ systemd: NamespacedSystemd) throws {
        try BoundedWait.until("dropca.service to become active", timeout: 30, details: systemd.diagnostics) {
            let state = try systemd.property("ActiveState")
            if state == "failed" { throw HarnessError("dropca.service failed:\n\(systemd.diagnostics())") }
            return state == "active"
        }
    }
}
