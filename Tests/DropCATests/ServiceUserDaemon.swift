import Foundation
import TestSupport

/// `dropca run` as the service runs it, without systemd: as the dropca user with the
/// groups sysusers gave it and CAP_DAC_READ_SEARCH as its only capability — setpriv from
/// util-linux does what the unit's User=, SupplementaryGroups=, AmbientCapabilities= and
/// CapabilityBoundingSet= do — on the shipped example configuration, with the CA key in a
/// `$CREDENTIALS_DIRECTORY` made like LoadCredential= makes it. The spool is the real one;
/// the CA and the ledger are the test's own.
final class ServiceUserDaemon: @unchecked Sendable {
    let directory: TemporaryDirectory
    var caCertificate: String { directory.path("dev/ca/ca.pem") }
    var config: String { directory.path("dropca.toml") }
    var credentials: String { directory.path("credentials") }
    var logPath: String { directory.path("daemon.log") }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    private var process: Process?

    /// `appending`: more of the configuration (a `[profiles.NAME]` table), after the
    /// shipped example's own text.
    init(layout: InstalledLayout, appending extra: String = "") throws {
        directory = try TemporaryDirectory(prefix: "dropca-service")
        let made = try DropCABinary.run(["init", "--dir", directory.path("dev")])
        guard made.succeeded else { throw HarnessError("dropca init: \(made.output)") }
        // The dropca user reads the configuration and the CA certificate here.
        for folder in ["", "dev", "dev/ca"] { chmod(directory.path(folder), 0o755) }

        let manager = FileManager.default
        try manager.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try manager.copyItem(atPath: directory.path("dev/ca/ca.key"), toPath: credentials + "/ca.key")
        let state = directory.path("state")
        try manager.createDirectory(atPath: state, withIntermediateDirectories: true)
        for (path, mode) in [(credentials + "/ca.key", 0o400), (credentials, 0o500), (state, 0o700)] {
            guard chown(path, layout.dropcaUID, layout.dropcaGID) == 0, chmod(path, mode_t(mode)) == 0 else {
                throw HarnessError("cannot hand \(path) to dropca: errno \(errno)")
            }
        }

        // The CRL folder first: its line also starts like the state directory's.
        let shipped = try ShippedFiles.text(ShippedFiles.exampleConfiguration)
            .replacingOccurrences(of: "directory = \"/var/lib/dropca/public\"", with: "directory = \"\(state)/public\"")
        let text = try ShippedFiles.replacingLines(in: shipped, [
            "certificate = ": "certificate = \"\(caCertificate)\"",
            "directory = \"/var/lib/dropca\"": "directory = \"\(state)\"",
            "settle_seconds = ": "settle_seconds = 0.5",
        ])
        try (text + extra).write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
    }

    /// The setpriv arguments that leave exactly the unit's identity and capability.
    static let serviceIdentity = [
        "--reuid=dropca", "--regid=dropca", "--init-groups",
        "--bounding-set=-all,+dac_read_search", "--inh-caps=-all,+dac_read_search",
        "--ambient-caps=-all,+dac_read_search", "--no-new-privs",
    ]

    /// The same user and groups with no capability at all.
    static let withoutCapability = [
        "--reuid=dropca", "--regid=dropca", "--init-groups",
        "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--no-new-privs",
    ]

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = Self.serviceIdentity + [DropCABinary.path, "run", "--config", config, "--log-target", "stderr"]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        environment.removeValue(forKey: "JOURNAL_STREAM")
        environment["CREDENTIALS_DIRECTORY"] = credentials
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try DaemonHarness.openForAppending(logPath)
        try process.run()
        self.process = process
        try BoundedWait.until("dropca to start", timeout: 20, details: { self.log }) {
            if !process.isRunning { throw HarnessError("dropca exited with \(process.terminationStatus): \(self.log)") }
            return self.log.contains("dropca started")
        }
    }

    /// SIGTERM, then the exit status (bounded).
    @discardableResult
    func stop() throws -> Int32 {
        guard let process else { return -1 }
        self.process = nil
        kill(process.processIdentifier, SIGTERM)
        try BoundedWait.until("dropca to exit", timeout: 30, details: { self.log }) { !process.isRunning }
        return process.terminationStatus
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
