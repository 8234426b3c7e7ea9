import Foundation
import TestSupport
import Testing

/// The files that make dropca a systemd service — `systemd/dropca.service`, `.sysusers`,
/// `.tmpfiles`, the example configuration and `scripts/install` — judged by systemd's own
/// tools (README, "Deploying"). What they do on a running machine is SFTPEndToEndTests' part;
/// the Debian package made of them is DebianPackageTests'.
@Suite struct SystemdUnitTests {
    static let isRoot = getuid() == 0

    // MARK: The unit

    /// `systemd-analyze verify` insists that ExecStart= names an existing executable, so
    /// it checks a copy of the unit that differs in that one path: the dropca built for
    /// these tests instead of /usr/bin/dropca.
    @Test func unitPassesSystemdAnalyzeVerify() throws {
        let shipped = try ShippedFiles.text(ShippedFiles.unit)
        let directory = try TemporaryDirectory(prefix: "dropca-unit")
        let copy = directory.path("dropca.service")
        let binary = URL(fileURLWithPath: DropCABinary.path).standardizedFileURL.path
        let rewritten = shipped.replacingOccurrences(of: "ExecStart=/usr/bin/dropca ", with: "ExecStart=\(binary) ")
        #expect(rewritten != shipped, "the unit's ExecStart= no longer starts with /usr/bin/dropca")
        try rewritten.write(toFile: copy, atomically: true, encoding: .utf8)

        let result = try ExternalTool.run("systemd-analyze", ["verify", copy])
        // Complaints about other units of this machine are not the unit's problem.
        let ours = result.output.split(separator: "\n").filter { $0.contains("dropca") }
        #expect(ours == [], "\(result.output)")
        #expect(result.succeeded, "\(result.output)")
    }

    @Test func unitExposureIsAtMostOnePointZero() throws {
        let result = try ExternalTool.run("systemd-analyze", ["security", "--offline=true", ShippedFiles.unit])
        #expect(result.succeeded, "\(result.output)")
        let exposure = try Self.overallExposure(result.stdout)
        #expect(exposure <= 1.0, "exposure \(exposure); the report:\n\(result.stdout)")
    }

    /// With the drop-in for a CA key on a token (shipped as an example), the sandbox is as
    /// tight: exposure still at most 1.0, the unit still valid, and the key credential
    /// replaced by the PIN's.
    @Test func theTokenDropInKeepsTheExposureAtMostOnePointZero() throws {
        let unit = try ShippedFiles.text(ShippedFiles.unit)
        let dropIn = try ShippedFiles.text(ShippedFiles.path("systemd/dropca-token.conf"))
        let serviceLines = dropIn.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("[") }
        #expect(serviceLines.contains("LoadCredential=") && serviceLines.contains("LoadCredential=ca.pin:/etc/dropca/ca.pin"))
        // systemd-analyze reads no drop-ins offline: the unit with the drop-in's settings
        // at the end of its [Service] section is what systemd would run.
        let combined = unit.replacingOccurrences(of: "\n[Install]", with: "\n" + serviceLines.joined(separator: "\n") + "\n\n[Install]")
        let directory = try TemporaryDirectory(prefix: "dropca-unit")
        try combined.write(toFile: directory.path("dropca.service"), atomically: true, encoding: .utf8)
        let result = try ExternalTool.run("systemd-analyze", ["security", "--offline=true", directory.path("dropca.service")])
        #expect(result.succeeded, "\(result.output)")
        let exposure = try Self.overallExposure(result.stdout)
        #expect(exposure <= 1.0, "exposure \(exposure) with the token drop-in; the report:\n\(result.stdout)")
        #expect(try Self.settings(combined)["ReadWritePaths"]?.contains("/var/lib/softhsm/tokens") == true)
    }

    /// The unit's sandbox must leave what dropca needs, and only that.
    @Test func unitGrantsOnlyTheReadCapabilityWithoutAUserNamespace() throws {
        let settings = try Self.settings(ShippedFiles.text(ShippedFiles.unit))
        #expect(settings["CapabilityBoundingSet"] == ["CAP_DAC_READ_SEARCH"])
        #expect(settings["AmbientCapabilities"] == ["CAP_DAC_READ_SEARCH"])
        #expect(settings["SupplementaryGroups"] == ["dropca-drop"])
        #expect(settings["LoadCredential"] == ["ca.key:/etc/dropca/ca.key"])
        #expect(settings["Type"] == ["notify"])
        // In a user namespace the capability would not reach files of the appliances'
        // users (they are not mapped into it): owner-only uploads would be unreadable.
        #expect(settings["PrivateUsers"] == nil)
    }

    // MARK: Users and folders

    @Test func sysusersCreatesTheServiceUserAndTheUploadersGroup() throws {
        let root = try TemporaryDirectory(prefix: "dropca-sysusers")
        let accounts = try Self.applySysusers(in: root)

        let user = try #require(accounts.users["dropca"], "\(accounts)")
        #expect(user.home == "/var/lib/dropca")
        #expect(user.shell == "/usr/sbin/nologin")
        #expect(user.uid < 1000, "a system user")
        let group = try #require(accounts.groups["dropca"])
        #expect(group.gid == user.gid)
        let drop = try #require(accounts.groups["dropca-drop"])
        #expect(drop.members == ["dropca"])
    }

    /// tmpfiles sets owners, so this needs root (CI runs the tests as root).
    @Test(.enabled(if: isRoot, "chown needs root")) func tmpfilesCreatesTheChrootAndTheSpool() throws {
        let root = try TemporaryDirectory(prefix: "dropca-tmpfiles")
        let accounts = try Self.applySysusers(in: root)
        let result = try ExternalTool.run("systemd-tmpfiles", ["--root=\(root.url.path)", "--create", ShippedFiles.tmpfiles])
        #expect(result.succeeded, "\(result.output)")

        let dropca = try #require(accounts.users["dropca"])
        let drop = try #require(accounts.groups["dropca-drop"])
        let expected: [(String, mode_t, uid_t, gid_t)] = [
            // sshd's ChrootDirectory: root-owned, writable by nobody else.
            ("var/spool/dropca", 0o755, 0, 0),
            ("var/spool/dropca/inbox", 0o2770, dropca.uid, drop.gid),
            ("var/spool/dropca/outbox", 0o2750, dropca.uid, drop.gid),
            ("var/spool/dropca/failed", 0o2750, dropca.uid, drop.gid),
            ("var/lib/dropca", 0o711, dropca.uid, dropca.gid),
        ]
        for (folder, mode, uid, gid) in expected {
            var info = stat()
            try #require(lstat(root.path(folder), &info) == 0, "\(folder) missing")
            #expect(info.st_mode & S_IFMT == S_IFDIR, "\(folder)")
            #expect(info.st_mode & 0o7777 == mode, "\(folder): mode \(String(info.st_mode & 0o7777, radix: 8))")
            #expect(info.st_uid == uid && info.st_gid == gid, "\(folder): owner \(info.st_uid):\(info.st_gid)")
        }
    }

    // MARK: Configuration and installation

    /// The example names the credential, so the check gets a `$CREDENTIALS_DIRECTORY` as
    /// the unit's LoadCredential= would make, and folders in a temporary place.
    @Test func exampleConfigurationPassesCheckConfig() throws {
        let directory = try TemporaryDirectory(prefix: "dropca-example")
        let made = try DropCABinary.run(["init", "--dir", directory.path("dev")])
        try #require(made.succeeded, "\(made.output)")
        let credentials = directory.path("credentials")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory.path("dev/ca/ca.key"), toPath: credentials + "/ca.key")

        let shipped = try ShippedFiles.text(ShippedFiles.exampleConfiguration)
        #expect(shipped.contains("key = \"credential:ca.key\""))
        #expect(shipped.contains("certificate = \"/etc/dropca/ca.pem\""))
        let relocated = try ShippedFiles.replacingLines(in: shipped, [
            "certificate = ": "certificate = \"\(directory.path("dev/ca/ca.pem"))\"",
        ])
        .replacingOccurrences(of: "\"/var/spool/dropca/", with: "\"\(directory.path("dev/spool"))/")
        .replacingOccurrences(of: "\"/var/lib/dropca\"", with: "\"\(directory.path("dev/state"))\"")
        .replacingOccurrences(of: "\"/var/lib/dropca/public\"", with: "\"\(directory.path("dev/public"))\"")
        let config = directory.path("dropca.toml")
        try relocated.write(toFile: config, atomically: true, encoding: .utf8)

        let check = try DropCABinary.run(["check-config", "--config", config], environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("configuration is usable"), "\(check.output)")

        // Every setting carries a note on what it does.
        let lines = shipped.components(separatedBy: "\n")
        for (index, line) in lines.enumerated() where line.contains(" = ") && !line.hasPrefix("#") {
            #expect(index > 0 && lines[index - 1].hasPrefix("#"), "no comment above \(line)")
        }
    }

    @Test func installStagesEveryFileUnderDestdirAndKeepsTheConfiguration() throws {
        let stage = try TemporaryDirectory(prefix: "dropca-install")
        let install = { try ExternalTool.run(ShippedFiles.installScript, ["--binary", DropCABinary.path], environment: ["DESTDIR": stage.url.path]) }
        let first = try install()
        try #require(first.succeeded, "\(first.output)")

        let installed: [(String, String?, Int)] = [
            ("usr/bin/dropca", nil, 0o755),
            ("usr/lib/systemd/system/dropca.service", ShippedFiles.unit, 0o644),
            ("usr/lib/sysusers.d/dropca.conf", ShippedFiles.sysusers, 0o644),
            ("usr/lib/tmpfiles.d/dropca.conf", ShippedFiles.tmpfiles, 0o644),
            ("usr/lib/systemd/catalog/dropca.catalog", ShippedFiles.catalog, 0o644),
            ("etc/ssh/sshd_config.d/dropca.conf", ShippedFiles.sshdDropIn, 0o644),
            ("etc/dropca/dropca.toml", ShippedFiles.exampleConfiguration, 0o644),
            ("usr/share/doc/dropca/README.md", ShippedFiles.path("README.md"), 0o644),
            ("usr/share/doc/dropca/examples/nginx-dropca-pki.conf", ShippedFiles.path("etc/nginx/dropca-pki.conf"), 0o644),
            // Generated from the command line (scripts/generate-man, `--generate-completion-script`).
            ("usr/share/man/man1/dropca.1", nil, 0o644),
            ("usr/share/man/man1/dropca-run.1", nil, 0o644),
            ("usr/share/bash-completion/completions/dropca", nil, 0o644),
            ("usr/share/zsh/vendor-completions/_dropca", nil, 0o644),
            ("usr/share/fish/vendor_completions.d/dropca.fish", nil, 0o644),
        ]
        for (path, source, mode) in installed {
            let attributes = try FileManager.default.attributesOfItem(atPath: stage.path(path))
            #expect(attributes[.posixPermissions] as? Int == mode, "\(path)")
            if let source {
                #expect(FileManager.default.contentsEqual(atPath: stage.path(path), andPath: source), "\(path) differs from \(source)")
            }
        }

        // An operator's configuration survives a second run; the rest is simply replaced.
        let config = stage.path("etc/dropca/dropca.toml")
        try "# the operator's own\n".write(toFile: config, atomically: true, encoding: .utf8)
        let second = try install()
        #expect(second.succeeded, "\(second.output)")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == "# the operator's own\n")
    }

    // MARK: Helpers

    /// "→ Overall exposure level for dropca.service: 0.7 SAFE 😀" → 0.7
    static func overallExposure(_ report: String) throws -> Double {
        for line in report.split(separator: "\n") where line.contains("Overall exposure level for dropca.service:") {
            let afterColon = line.split(separator: ":", maxSplits: 1).last ?? ""
            if let figure = afterColon.split(separator: " ").first, let value = Double(figure) { return value }
        }
        throw HarnessError("no overall exposure line in:\n\(report)")
    }

    /// The unit's `Key=value` lines, by key, values in order (comments and sections left out).
    static func settings(_ unit: String) -> [String: [String]] {
        var settings: [String: [String]] = [:]
        for line in unit.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("[") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
        }
        return settings
    }

    struct Accounts: CustomStringConvertible {
        struct User { let uid: uid_t, gid: gid_t, home: String, shell: String }
        struct Group { let gid: gid_t, members: [String] }
        var users: [String: User] = [:]
        var groups: [String: Group] = [:]
        var description: String { "users \(users.keys.sorted()), groups \(groups.keys.sorted())" }
    }

    /// Runs the shipped sysusers file against an empty root and reads back its passwd and group.
    static func applySysusers(in root: TemporaryDirectory) throws -> Accounts {
        try FileManager.default.createDirectory(atPath: root.path("etc"), withIntermediateDirectories: true)
        let result = try ExternalTool.run("systemd-sysusers", ["--root=\(root.url.path)", ShippedFiles.sysusers])
        guard result.succeeded else { throw HarnessError("systemd-sysusers: \(result.output)") }
        var accounts = Accounts()
        for line in try String(contentsOfFile: root.path("etc/passwd"), encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 7, let uid = uid_t(fields[2]), let gid = gid_t(fields[3]) else { continue }
            accounts.users[fields[0]] = .init(uid: uid, gid: gid, home: fields[5], shell: fields[6])
        }
        for line in try String(contentsOfFile: root.path("etc/group"), encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let gid = gid_t(fields[2]) else { continue }
            accounts.groups[fields[0]] = .init(gid: gid, members: fields[3].split(separator: ",").map(String.init))
        }
        return accounts
    }
}
