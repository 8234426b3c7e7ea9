import Foundation
import TestSupport

/// A fresh Debian 12 (bookworm) file system, made by `debootstrap --variant=minbase` from
/// the Debian mirror this machine's apt uses, to install the package into as an operator
/// would (`apt-get install ./dropca_*.deb`, its dependencies resolved from Debian).
///
/// The bootstrap is the slow part (downloading and configuring some 90 packages), so the
/// finished root is kept as a tarball in the git-ignored `.build-deb/debootstrap/`: the
/// first run makes it, later runs unpack it in seconds. The packages apt fetches for the
/// tests are kept in `.build-deb/apt-archives/`, so that only the first run downloads
/// them. Each root is a new copy in a temporary folder, removed at the end.
///
/// Commands run in it through `run`: chrooted, in mount and PID namespaces of their own
/// (with /proc, /dev and the apt cache mounted there only), so that nothing they mount
/// or leave running outlives them. No service starts in it while packages are installed:
/// the root has a policy-rc.d that refuses, until `allowServiceStarts()`.
final class DebianRoot: @unchecked Sendable {
    let directory: TemporaryDirectory
    var path: String { directory.path("root") }

    static let suite = "bookworm"
    static let cache = ShippedFiles.path(".build-deb/debootstrap")
    static let aptArchives = ShippedFiles.path(".build-deb/apt-archives")
    static var tarball: String { cache + "/\(suite)-minbase.tar" }

    /// Whether this machine can make one: root (debootstrap, chroot, namespaces) and the tools.
    static var isAvailable: Bool {
        getuid() == 0 && ["debootstrap", "unshare", "chroot", "tar"].allSatisfy(DebianPackage.onPath)
    }

    init() throws {
        directory = try TemporaryDirectory(prefix: "dropca-debian")
        chmod(directory.url.path, 0o755)
        if !FileManager.default.fileExists(atPath: Self.tarball) {
            try Self.bootstrap()
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let unpacked = try ExternalTool.run("tar", ["-x", "--numeric-owner", "-p", "-f", Self.tarball, "-C", path])
        guard unpacked.succeeded else { throw HarnessError("tar -x \(Self.tarball): \(unpacked.output)") }
        try FileManager.default.createDirectory(atPath: Self.aptArchives + "/partial", withIntermediateDirectories: true)
    }

    /// Runs `script` with /bin/sh inside the root, as root, and returns what it said.
    func run(_ script: String, timeout: Int = 600) throws -> ToolResult {
        let wrapper = """
            set -e
            root=$1; archives=$2; shift 2
            mount -t proc proc "$root/proc"
            mount --rbind /dev "$root/dev"
            mount --bind "$archives" "$root/var/cache/apt/archives"
            exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -c "$1"
            """
        return try ExternalTool.run("timeout", [
            "-s", "KILL", "\(timeout)",
            "unshare", "--mount", "--pid", "--fork", "--propagation", "private",
            "/bin/sh", "-c", wrapper, "debian-root", path, Self.aptArchives, script,
        ])
    }

    /// `run`, failing with what the script said when it fails.
    @discardableResult
    func must(_ script: String, timeout: Int = 600) throws -> ToolResult {
        let result = try run(script, timeout: timeout)
        guard result.succeeded else { throw HarnessError("in the Debian root, `\(script)` exited \(result.status):\n\(result.output.suffix(4000))") }
        return result
    }

    /// Takes away the policy-rc.d that keeps services from starting while packages are
    /// installed into a root with no init running, for the root's own systemd.
    func allowServiceStarts() throws {
        try FileManager.default.removeItem(atPath: path + "/usr/sbin/policy-rc.d")
    }

    /// The text of a file in the root, or nil.
    func text(_ file: String) -> String? { try? String(contentsOfFile: path + file, encoding: .utf8) }

    // MARK: Bootstrapping

    /// The apt sources of this machine's Debian 12, as deb822 stanzas: the mirror it
    /// already uses (and reaches), for debootstrap and for the root's own apt.
    static func debianSources() throws -> (mirror: String, sources: String) {
        var stanzas: [[String: String]] = []
        let manager = FileManager.default
        let folder = "/etc/apt/sources.list.d"
        let files = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".sources") }.sorted()
        for file in files {
            let text = (try? String(contentsOfFile: folder + "/" + file, encoding: .utf8)) ?? ""
            for block in text.components(separatedBy: "\n\n") {
                var fields: [String: String] = [:]
                for line in block.split(separator: "\n") where !line.hasPrefix("#") {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                if !fields.isEmpty { stanzas.append(fields) }
            }
        }
        // One-line entries: `deb [options] URI SUITE COMPONENT...`.
        let list = (try? String(contentsOfFile: "/etc/apt/sources.list", encoding: .utf8)) ?? ""
        for line in list.split(separator: "\n") where line.hasPrefix("deb ") {
            let words = line.split(separator: " ").filter { !$0.hasPrefix("[") && !$0.hasSuffix("]") }.map(String.init)
            guard words.count >= 4 else { continue }
            stanzas.append(["Types": "deb", "URIs": words[1], "Suites": words[2], "Components": words[3...].joined(separator: " ")])
        }
        let debian = stanzas.filter { stanza in
            (stanza["Types"] ?? "").split(separator: " ").contains("deb")
                && (stanza["Suites"] ?? "").split(separator: " ").contains { $0.hasPrefix(suite) }
                && (stanza["Enabled"] ?? "yes") != "no"
        }
        guard let main = debian.first(where: { ($0["Suites"] ?? "").split(separator: " ").contains { $0 == suite } }),
              let mirror = main["URIs"]?.split(separator: " ").first
        else { throw HarnessError("no Debian \(suite) mirror in /etc/apt/sources.list(.d)") }
        let sources = debian.map { stanza in
            // The root has Debian's archive keyring at the same place; other keys are not there.
            ["Types", "URIs", "Suites", "Components"].compactMap { key in stanza[key].map { "\(key): \($0)" } }.joined(separator: "\n")
                + "\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        }.joined(separator: "\n")
        return (String(mirror), sources)
    }

    /// debootstrap, then what every test root needs, then the tarball. Made in a folder
    /// next to the tarball and renamed into place, so that an interrupted run leaves no
    /// half-made cache.
    static func bootstrap() throws {
        let (mirror, sources) = try debianSources()
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let work = cache + "/work"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work + "/root", withIntermediateDirectories: true)
        let made = try ExternalTool.run("timeout", ["-s", "KILL", "1500", "debootstrap", "--variant=minbase", suite, work + "/root", mirror])
        guard made.succeeded else { throw HarnessError("debootstrap --variant=minbase \(suite) from \(mirror): \(made.output.suffix(4000))") }
        let root = work + "/root"
        try? FileManager.default.removeItem(atPath: root + "/etc/apt/sources.list")
        try sources.write(toFile: root + "/etc/apt/sources.list.d/debian.sources", atomically: true, encoding: .utf8)
        // No daemon is started by a package's maintainer scripts in here (invoke-rc.d and
        // deb-systemd-invoke ask this first): openssh-server's would listen on port 22.
        try "#!/bin/sh\n# Installed by the dropca tests: no service starts while packages are installed.\nexit 101\n"
            .write(toFile: root + "/usr/sbin/policy-rc.d", atomically: true, encoding: .utf8)
        chmod(root + "/usr/sbin/policy-rc.d", 0o755)
        if let resolver = try? Data(contentsOf: URL(fileURLWithPath: "/etc/resolv.conf")) {
            try? FileManager.default.removeItem(atPath: root + "/etc/resolv.conf")
            try resolver.write(to: URL(fileURLWithPath: root + "/etc/resolv.conf"))
        }
        let packed = try ExternalTool.run("tar", ["-c", "--numeric-owner", "-f", work + "/root.tar", "-C", root, "."])
        guard packed.succeeded else { throw HarnessError("tar -c: \(packed.output)") }
        try? FileManager.default.removeItem(atPath: tarball)
        try FileManager.default.moveItem(atPath: work + "/root.tar", toPath: tarball)
        try? FileManager.default.removeItem(atPath: work)
    }
}
