import Foundation
import TestSupport

/// A real OpenSSH sshd on 127.0.0.1 and a free high port, configured like a deployment:
/// the shipped `etc/ssh/sshd_config.d/dropca.conf` included as it is, one appliance key
/// (for one or several appliance accounts).
/// Its own host key, key file and log live in a temporary folder; the machine's sshd
/// configuration is not read.
///
/// With `root`, it is the sshd installed in that file system (a Debian root the package
/// was installed into), run chrooted there, so that its accounts, its `dropca-drop`
/// group and its /var/spool/dropca are the root's; `dropIn` is then a path inside the root.
final class SFTPTestServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let port: UInt16
    let clientKey: String
    var logPath: String { directory.path("sshd.log") }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    private var process: Process?

    convenience init(appliance: String, dropIn: String = ShippedFiles.sshdDropIn, root: String? = nil) throws {
        try self.init(appliances: [appliance], dropIn: dropIn, root: root)
    }

    /// Several appliance accounts, which log in with the same key (each is still its own
    /// user, with its own groups and so its own Match block and chroot).
    init(appliances: [String], dropIn: String = ShippedFiles.sshdDropIn, root: String? = nil) throws {
        directory = try root.map { try TemporaryDirectory(in: $0 + "/tmp", prefix: "dropca-sshd") } ?? TemporaryDirectory(prefix: "dropca-sshd")
        // What sshd, chrooted into `root`, calls a path of the test's (all of them are in there).
        let rootPath = root.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        let seen = { (path: String) -> String in
            guard let rootPath else { return path }
            return String(URL(fileURLWithPath: path).resolvingSymlinksInPath().path.dropFirst(rootPath.count))
        }
        let sshd = root.map { ["/usr/sbin/chroot", $0, "/usr/sbin/sshd"] } ?? ["/usr/sbin/sshd"]
        clientKey = directory.path("appliance_key")
        for key in ["host_key", "appliance_key"] {
            let made = try ExternalTool.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "dropca-test", "-f", directory.path(key)])
            guard made.succeeded else { throw HarnessError("ssh-keygen: \(made.output)") }
        }
        // sshd reads the key file as the appliance's user.
        let keys = directory.path("authorized_keys")
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        for appliance in appliances {
            try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: keys + "/" + appliance)
            chmod(keys + "/" + appliance, 0o644)
        }
        for (path, mode) in [(directory.url.path, 0o755), (keys, 0o755)] {
            chmod(path, mode_t(mode))
        }

        port = try Self.freePort()
        // The drop-in's Match block must come last: everything after a Match line belongs
        // to it. StrictModes would refuse the key file because /tmp, above it, is
        // world-writable. No PAM: it would want the machine's PAM stack and a login session.
        let config = """
            ListenAddress 127.0.0.1
            Port \(port)
            HostKey \(seen(directory.path("host_key")))
            PidFile none
            UsePAM no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            AuthorizedKeysFile \(seen(keys))/%u
            StrictModes no
            LogLevel VERBOSE
            Subsystem sftp internal-sftp
            Include \(dropIn)

            """
        let configPath = directory.path("sshd_config")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        // The privilege separation folder that the openssh-server package's service makes.
        try FileManager.default.createDirectory(atPath: (root ?? "") + "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])

        let check = try ExternalTool.run(sshd[0], Array(sshd.dropFirst()) + ["-t", "-f", seen(configPath)])
        guard check.succeeded else { throw HarnessError("sshd -t: \(check.output)") }

        // sshd closes every descriptor it inherits, among them the one Foundation's Process
        // watches to learn that its child ended; Foundation would then wait for sshd on
        // the thread that reaps every child of the test process, and every other Process
        // in it would hang. `timeout` keeps that descriptor, and bounds sshd's life should
        // the test process die.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-s", "KILL", "600"] + sshd + ["-D", "-e", "-f", seen(configPath)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try DaemonHarness.openForAppending(logPath)
        try process.run()
        self.process = process
        try BoundedWait.until("sshd to listen", timeout: 10, details: { self.log }) {
            if !process.isRunning { throw HarnessError("sshd exited: \(self.log)") }
            return self.log.contains("Server listening on 127.0.0.1 port \(self.port)")
        }
    }

    /// Runs `sftp` in batch mode as `user` with the appliance key. In batch mode sftp stops
    /// at the first command that fails and exits non-zero.
    func sftp(_ commands: [String], user: String) throws -> ToolResult {
        let batch = directory.path("batch-\(UUID().uuidString)")
        try (commands.joined(separator: "\n") + "\n").write(toFile: batch, atomically: true, encoding: .utf8)
        // SIGKILL: the signals timeout sends by default may be blocked (see `stop`).
        return try ExternalTool.run("timeout", [
            "-s", "KILL", "60", "sftp", "-b", batch, "-i", clientKey, "-P", "\(port)",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "\(user)@127.0.0.1",
        ])
    }

    /// SIGTERM to sshd itself: `timeout` would not pass it on, because processes started
    /// from the test's threads inherit a mask that blocks it, and timeout, unlike sshd,
    /// does not unblock it.
    func stop() {
        guard let process else { return }
        self.process = nil
        let sshd = BoundedWait.children(of: process.processIdentifier)
        for pid in sshd { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            for pid in sshd { kill(pid, SIGKILL) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// A TCP port nobody listens on now: bind port 0 and ask which one the kernel chose.
    static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else { throw HarnessError("bind/getsockname: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}
