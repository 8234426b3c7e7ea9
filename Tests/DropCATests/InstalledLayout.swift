import Foundation
import TestSupport

/// The accounts and folders of a real installation on this machine, made by the shipped
/// sysusers and tmpfiles files exactly as `scripts/install` applies them, plus one
/// appliance account in dropca-drop. Applying them is idempotent, and they stay when the
/// tests end: they are what a deployment has anyway.
struct InstalledLayout {
    static let spool = "/var/spool/dropca"
    static let inbox = spool + "/inbox"
    static let outbox = spool + "/outbox"
    static let failed = spool + "/failed"
    static let applianceName = "dropca-e2e"

    let dropcaUID: uid_t
    let dropcaGID: gid_t
    let dropGID: gid_t
    let applianceUID: uid_t

    static func apply() throws -> InstalledLayout {
        try run("systemd-sysusers", [ShippedFiles.sysusers])
        try run("systemd-tmpfiles", ["--create", ShippedFiles.tmpfiles])
        // The password field "*" (no password) rather than useradd's "!" (locked): sshd
        // without PAM, as in these tests, refuses a locked account even its key login.
        // Debian's sshd uses PAM and takes either.
        if getpwnam(applianceName) == nil {
            try run("useradd", ["-M", "-s", "/usr/sbin/nologin", "-G", "dropca-drop", "-p", "*", applianceName])
        } else {
            try run("usermod", ["-a", "-G", "dropca-drop", "-p", "*", applianceName])
        }
        guard let dropca = getpwnam("dropca")?.pointee, let drop = getgrnam("dropca-drop")?.pointee,
              let appliance = getpwnam(applianceName)?.pointee
        else { throw HarnessError("the accounts are missing after systemd-sysusers and useradd") }
        return InstalledLayout(dropcaUID: dropca.pw_uid, dropcaGID: dropca.pw_gid, dropGID: drop.gr_gid, applianceUID: appliance.pw_uid)
    }

    /// Removes what a test left in the spool: files whose names start with `prefix`.
    static func removeSpoolFiles(startingWith prefix: String) {
        for folder in [inbox, outbox, failed] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(prefix) {
                try? FileManager.default.removeItem(atPath: folder + "/" + name)
            }
        }
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let result = try ExternalTool.run(tool, arguments)
        guard result.succeeded else { throw HarnessError("\(tool) \(arguments.joined(separator: " ")): \(result.output)") }
    }
}
