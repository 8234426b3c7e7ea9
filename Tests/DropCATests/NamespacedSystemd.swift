import Foundation
import TestSupport

/// The machine's systemd 252, started by the test as PID 1 of a new PID and mount
/// namespace (the way a container runs it), running the shipped `dropca.service` with its
/// whole sandbox: User=, the capability, LoadCredential=, the system call filter,
/// Type=notify. Only inside that namespace do `/usr/bin/dropca` (the binary under test),
/// `/etc/dropca` (the shipped example configuration and a test CA) and an empty
/// `/var/lib/dropca` appear; the spool is the machine's, and the service logs to the
/// machine's journald. Killing the namespace's PID 1 ends everything in it.
///
/// Or, `init(booting:)`, the systemd of a Debian root that the package was installed into,
/// booted there the way systemd-nspawn would boot a container: the root becomes the
/// namespace's `/`, and its systemd runs the package's own unit from
/// /lib/systemd/system, its /usr/bin/dropca and its /etc/dropca, with its own dropca user.
///
/// Only for machines not booted with systemd (CI sandboxes, containers): a second systemd
/// next to a running one would share its control groups. For the same reason the tests
/// that start one run one after the other (they are all in `SFTPEndToEndTests`, a
/// serialized suite).
final class NamespacedSystemd: @unchecked Sendable {
    static let systemd = "/lib/systemd/systemd"
    static let journalSocket = "/run/systemd/journal/socket"

    static var bootedWithSystemd: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }
    static var isAvailable: Bool {
        getuid() == 0 && !bootedWithSystemd && FileManager.default.isExecutableFile(atPath: systemd)
            && FileManager.default.fileExists(atPath: journalSocket)
    }

    let directory: TemporaryDirectory
    var caCertificate: String { directory.path("over/etc/dropca/ca.pem") }
    var logPath: String { directory.path("namespace.log") }
    private var wrapper: Process?
    private(set) var pid: pid_t = 0

    /// Runs in the new namespaces before systemd; $1 is the test's folder.
    ///
    /// This systemd must start nothing but dropca.service: the machine's own units would act
    /// on the machine (systemd-tmpfiles-setup empties /tmp, systemd-sysctl sets the kernel's
    /// parameters). So it sees no unit folder, generator or state of the machine's, only the
    /// test's units, all without default dependencies, and a /tmp of its own.
    static let setupScript = """
        #!/bin/bash
        set -euo pipefail
        lab=$1
        mount --make-rprivate /
        mount -t overlay overlay -o "lowerdir=$lab/over/bin:/usr/bin" /usr/bin
        mount -t overlay overlay -o "lowerdir=$lab/over/etc:/etc" /etc
        for folder in /etc/systemd/system /etc/systemd/system-generators /usr/local/lib/systemd/system \\
            /usr/lib/systemd/system /usr/lib/systemd/system-generators /usr/lib/systemd/system-preset \\
            /lib/systemd/system /lib/systemd/system-generators /var/lib/systemd; do
          if [ -d "$folder" ]; then mount -t tmpfs -o mode=0755 tmpfs "$folder"; fi
        done
        # An empty ledger folder: the machine's /var/lib/dropca may hold a real ledger.
        mount -t tmpfs -o mode=0700 tmpfs /var/lib/dropca
        # A /run of its own that still reaches the machine's journald.
        mkdir -p "$lab/journal"
        mount --bind /run/systemd/journal "$lab/journal"
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir -p /run/systemd/journal /run/systemd/system/dropca.service.d
        for socket in socket stdout; do
          touch /run/systemd/journal/$socket
          mount --bind "$lab/journal/$socket" /run/systemd/journal/$socket
        done
        cp "$lab/units/dropca.service" "$lab/units/dropca-test.target" /run/systemd/system/
        cp "$lab/units/"*.conf /run/systemd/system/dropca.service.d/
        # A token made by the test (init(token:)) where Debian's SoftHSM2 keeps tokens.
        if [ -f "$lab/token-store" ]; then
          mkdir -p /var/lib/softhsm/tokens
          mount --bind "$(cat "$lab/token-store")" /var/lib/softhsm/tokens
        fi
        mount -t tmpfs -o mode=1777 tmpfs /tmp
        # systemd moves the credentials mount into place through mount propagation, which
        # a booted systemd sets up on the host and skips in a container.
        mount --make-rshared /
        exec env container=dropca-test \(systemd) --unit=dropca-test.target --show-status=no --log-target=journal
        """

    /// Runs in the new namespaces before the root's systemd; $1 is the test's folder, $2
    /// the root.
    ///
    /// The root's units and their folders stay as the package left them, so that dpkg
    /// and systemctl work on the real files, and systemd starts nothing but the test's
    /// target, which wants nothing: `systemctl enable --now dropca` starts the service, as
    /// an operator does. Two things differ from a booted machine, both so that nothing acts
    /// on the machine around the namespace: dropca.service gets the same drop-in as above
    /// (no default dependencies: sysinit.target would start systemd-sysctl,
    /// systemd-modules-load and the like against this machine's kernel), and the root's
    /// generators do not run (they would read this machine's disks and consoles).
    static let bootScript = """
        #!/bin/bash
        set -euo pipefail
        lab=$1
        root=$2
        mount --make-rprivate /
        mount --bind "$root" "$root"
        mount -t proc proc "$root/proc"
        mount --rbind /sys "$root/sys"
        mount --rbind /dev "$root/dev"
        for folder in "$root/usr/lib/systemd/system-generators" "$root/etc/systemd/system-generators"; do
          if [ -d "$folder" ]; then mount -t tmpfs -o mode=0755 tmpfs "$folder"; fi
        done
        # A /run of its own that still reaches the machine's journald.
        mount -t tmpfs -o mode=0755 tmpfs "$root/run"
        mkdir -p "$root/run/systemd/journal" "$root/run/systemd/system/dropca.service.d" "$root/run/host"
        for socket in socket stdout; do
          touch "$root/run/systemd/journal/$socket"
          mount --bind /run/systemd/journal/$socket "$root/run/systemd/journal/$socket"
        done
        cp "$lab/units/dropca-test.target" "$root/run/systemd/system/"
        cp "$lab/units/test.conf" "$root/run/systemd/system/dropca.service.d/"
        mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
        cd "$root"
        pivot_root . run/host
        umount -l /run/host
        rmdir /run/host
        mount --make-rshared /
        exec env container=dropca-test /lib/systemd/systemd --unit=dropca-test.target --show-status=no --log-target=journal
        """

    /// The Debian root it boots (`init(booting:)`), or nil for the machine's own with the
    /// shipped files laid over it.
    let bootedRoot: String?

    /// The shipped unit with the shipped token drop-in (`systemd/dropca-token.conf`), and a
    /// configuration whose CA key is on `token`: its store appears as Debian's
    /// /var/lib/softhsm/tokens (group softhsm, as the softhsm2 package makes it), SoftHSM2's
    /// configuration in /etc/softhsm, the PIN in /etc/dropca/ca.pin.
    convenience init(token: SoftHSMToken) throws {
        try self.init(prepare: { directory in
            let manager = FileManager.default
            var configuration = try String(contentsOfFile: ShippedFiles.exampleConfiguration, encoding: .utf8)
            configuration = configuration.replacingOccurrences(
                of: "\nkey = \"credential:ca.key\"\n",
                with: "\nkey = \"\(token.uri)\"\npkcs11_module = \"\(SoftHSMToken.module)\"\npin = \"credential:ca.pin\"\n")
            try configuration.write(toFile: directory.path("over/etc/dropca/dropca.toml"), atomically: true, encoding: .utf8)
            try manager.removeItem(atPath: directory.path("over/etc/dropca/ca.pem"))
            try manager.copyItem(atPath: token.caCertificate, toPath: directory.path("over/etc/dropca/ca.pem"))
            try manager.removeItem(atPath: directory.path("over/etc/dropca/ca.key"))
            try (token.pin + "\n").write(toFile: directory.path("over/etc/dropca/ca.pin"), atomically: true, encoding: .utf8)
            chmod(directory.path("over/etc/dropca/ca.pin"), 0o600)
            try manager.createDirectory(atPath: directory.path("over/etc/softhsm"), withIntermediateDirectories: true)
            try "directories.tokendir = /var/lib/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
                .write(toFile: directory.path("over/etc/softhsm/softhsm2.conf"), atomically: true, encoding: .utf8)
            try manager.copyItem(atPath: ShippedFiles.path("systemd/dropca-token.conf"), toPath: directory.path("units/token.conf"))
            // As with Debian's own store: the group softhsm may read and write the tokens.
            let owned = try ExternalTool.run("sh", ["-c", "chgrp -R softhsm \"$0\" && chmod -R g+rwX \"$0\" && chmod 2770 \"$0\"", token.tokenStore])
            guard owned.succeeded else { throw HarnessError("the token store for the group softhsm: \(owned.output)") }
            try token.tokenStore.write(toFile: directory.path("token-store"), atomically: true, encoding: .utf8)
        })
    }

    convenience init() throws {
        try self.init(prepare: { _ in })
    }

    /// The machine's systemd with the shipped files; `prepare` may change them first.
    private init(prepare: (TemporaryDirectory) throws -> Void) throws {
        bootedRoot = nil
        directory = try TemporaryDirectory(prefix: "dropca-systemd")
        chmod(directory.url.path, 0o755)
        let manager = FileManager.default
        for folder in ["over/bin", "over/etc/dropca", "units"] {
            try manager.createDirectory(atPath: directory.path(folder), withIntermediateDirectories: true)
        }
        try manager.copyItem(atPath: DropCABinary.path, toPath: directory.path("over/bin/dropca"))
        try manager.copyItem(atPath: ShippedFiles.exampleConfiguration, toPath: directory.path("over/etc/dropca/dropca.toml"))
        let made = try DropCABinary.run(["init", "--dir", directory.path("dev")])
        guard made.succeeded else { throw HarnessError("dropca init: \(made.output)") }
        try manager.copyItem(atPath: directory.path("dev/ca/ca.pem"), toPath: caCertificate)
        try manager.copyItem(atPath: directory.path("dev/ca/ca.key"), toPath: directory.path("over/etc/dropca/ca.key"))
        chmod(directory.path("over/etc/dropca/ca.key"), 0o600)

        // The shipped unit as it is. The drop-in only removes the default dependencies on
        // sysinit.target and the like, which do not exist in there.
        try manager.copyItem(atPath: ShippedFiles.unit, toPath: directory.path("units/dropca.service"))
        try "[Unit]\nDescription=dropca under test\nDefaultDependencies=no\nWants=dropca.service\n"
            .write(toFile: directory.path("units/dropca-test.target"), atomically: true, encoding: .utf8)
        try "[Unit]\nDefaultDependencies=no\n".write(toFile: directory.path("units/test.conf"), atomically: true, encoding: .utf8)
        try prepare(directory)
        try start(script: Self.setupScript, arguments: [directory.url.path])
    }

    /// Boots the systemd installed in `root` (see `bootScript`). Its dropca.service is not
    /// started: that is the test's `systemctl enable --now dropca`.
    init(booting root: String) throws {
        bootedRoot = root
        directory = try TemporaryDirectory(prefix: "dropca-systemd")
        chmod(directory.url.path, 0o755)
        try FileManager.default.createDirectory(atPath: directory.path("units"), withIntermediateDirectories: true)
        try "[Unit]\nDescription=dropca under test, started by systemctl\nDefaultDependencies=no\n"
            .write(toFile: directory.path("units/dropca-test.target"), atomically: true, encoding: .utf8)
        try "[Unit]\nDefaultDependencies=no\n".write(toFile: directory.path("units/test.conf"), atomically: true, encoding: .utf8)
        try start(script: Self.bootScript, arguments: [directory.url.path, root])
    }

    private func start(script text: String, arguments: [String]) throws {
        let script = directory.path("setup")
        try text.write(toFile: script, atomically: true, encoding: .utf8)

        // --kill-child: when unshare goes, its child (systemd, PID 1) and so the whole
        // namespace get SIGKILL. `timeout` bounds its life should the test process die, and
        // holds the descriptor through which Foundation's Process learns that its child
        // ended, which systemd closes (see SFTPTestServer).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "-s", "KILL", "600",
            "/usr/bin/unshare", "--pid", "--mount", "--uts", "--ipc", "--fork", "--mount-proc", "--kill-child=SIGKILL",
            "/bin/bash", script,
        ] + arguments
        process.standardOutput = try DaemonHarness.openForAppending(logPath)
        process.standardError = try DaemonHarness.openForAppending(logPath)
        try process.run()
        wrapper = process

        let log = { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }
        try BoundedWait.until("systemd to start in its namespace", timeout: 20, details: log) {
            if !process.isRunning { throw HarnessError("unshare exited with \(process.terminationStatus): \(log())") }
            guard let unshare = BoundedWait.children(of: process.processIdentifier).first,
                  let child = BoundedWait.children(of: unshare).first
            else { return false }
            pid = child
            // The setup script has exec'ed systemd, and systemd listens for systemctl.
            let command = (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) ?? ""
            return command.hasPrefix("systemd") && FileManager.default.fileExists(atPath: "/proc/\(child)/root/run/systemd/private")
        }
    }

    /// `systemctl ARGUMENTS` against the namespace's systemd.
    func systemctl(_ arguments: [String]) throws -> ToolResult {
        try ExternalTool.run("timeout", ["-s", "KILL", "30", "nsenter", "-t", "\(pid)", "-m", "-p", "systemctl", "--no-pager"] + arguments)
    }

    /// `COMMAND` run in the namespace, as on the booted machine: its file system (for a
    /// booted root, the root's own tools), its PID namespace, a plain environment.
    func run(_ command: [String], timeout: Int = 120) throws -> ToolResult {
        try ExternalTool.run("timeout", [
            "-s", "KILL", "\(timeout)", "nsenter", "-t", "\(pid)", "-m", "-p",
            "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
        ] + command)
    }

    /// A path of the namespace's file system as this process reaches it.
    func seen(_ path: String) -> String { "/proc/\(pid)/root" + path }

    /// One property of a unit (`systemctl show -p NAME --value`).
    func property(_ name: String, of unit: String = "dropca.service") throws -> String {
        try systemctl(["show", "-p", name, "--value", unit]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What the namespace's systemd and dropca said, for failure messages.
    func diagnostics() -> String {
        let status = (try? systemctl(["status", "dropca.service"]))?.output ?? ""
        let journal = (try? ExternalTool.run("journalctl", ["--no-pager", "-n", "30", "SYSLOG_IDENTIFIER=dropca"]))?.output ?? ""
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return "systemctl status:\n\(status)\njournal:\n\(journal)\nnamespace:\n\(log)"
    }

    func stop() {
        guard let wrapper else { return }
        self.wrapper = nil
        // SIGKILL to PID 1 from outside its namespace ends the namespace; unshare and then
        // timeout exit after it. (SIGTERM would make systemd re-execute itself.)
        if pid > 0 { kill(pid, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while wrapper.isRunning, Date() < deadline { usleep(20_000) }
        if wrapper.isRunning {
            kill(wrapper.processIdentifier, SIGKILL)
            wrapper.waitUntilExit()
        }
    }

    deinit { stop() }
}
