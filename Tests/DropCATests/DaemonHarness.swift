import Foundation
import TestSupport
import Testing

/// A real `dropca run` on a development setup made by `dropca init`, with its log on
/// stderr captured to a file, and helpers to drop files and wait for outcomes.
final class DaemonHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    var root: String { directory.path("dev") }
    var config: String { root + "/dropca.toml" }
    var inbox: String { root + "/spool/inbox" }
    var outbox: String { root + "/spool/outbox" }
    var failed: String { root + "/spool/failed" }
    var logPath: String { directory.path("daemon.log") }
    private(set) var process: Process?
    var pid: Int32? { process.map(\.processIdentifier) }

    /// - Parameter settings: lines replacing `key = …` lines of the generated config.
    init(settings: [String: String] = ["settle_seconds": "0.5", "rescan_seconds": "0"]) throws {
        directory = try TemporaryDirectory(prefix: "dropca-daemon")
        let made = try DropCABinary.run(["init", "--dir", root])
        guard made.succeeded else { throw HarnessError("dropca init: \(made.output)") }
        try configure(settings)
    }

    func configure(_ settings: [String: String]) throws {
        var lines = try String(contentsOfFile: config, encoding: .utf8).components(separatedBy: "\n")
        for (key, value) in settings {
            guard let index = lines.firstIndex(where: { $0.hasPrefix(key + " =") }) else { throw HarnessError("no \(key) in config") }
            lines[index] = "\(key) = \(value)"
        }
        try lines.joined(separator: "\n").write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// - Parameter arguments: more for `dropca run` (`--new-ledger`).
    func start(waitUntilReady: Bool = true, logTarget: String = "stderr", environment extra: [String: String] = [:],
               arguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DropCABinary.path)
        process.arguments = ["run", "--config", config, "--log-target", logTarget] + arguments
        let log = try Self.openForAppending(logPath)
        process.standardError = log
        process.standardOutput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        environment.removeValue(forKey: "JOURNAL_STREAM")
        environment.merge(extra) { $1 }
        process.environment = environment
        let startsBefore = logText.components(separatedBy: "dropca started").count
        try process.run()
        self.process = process
        if waitUntilReady {
            try waitFor("the daemon to start", timeout: 20) { self.logText.components(separatedBy: "dropca started").count > startsBefore }
        }
    }

    var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) {
        guard let process else { return }
        kill(process.processIdentifier, number)
    }

    /// Sends SIGTERM and returns the exit status.
    @discardableResult
    func stop(timeout: TimeInterval = 30) throws -> Int32 {
        signal(SIGTERM)
        return try waitForExit(timeout: timeout)
    }

    func waitForExit(timeout: TimeInterval = 30) throws -> Int32 {
        guard let process else { return -1 }
        try waitFor("dropca to exit", timeout: timeout) { !process.isRunning }
        self.process = nil
        return process.terminationStatus
    }

    func kill9() throws {
        signal(SIGKILL)
        _ = try waitForExit(timeout: 10)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    // MARK: Files

    /// A new or existing file, open for writing at its end.
    static func openForAppending(_ path: String) throws -> FileHandle {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw HarnessError("cannot open \(path): errno \(errno)") }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    func drop(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: inbox + "/" + name))
    }

    func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func certificate(_ stem: String) -> [UInt8]? {
        FileManager.default.contents(atPath: outbox + "/" + stem + ".cer").map { [UInt8]($0) }
    }

    func waitForCertificates(_ stems: [String], timeout: TimeInterval = 20) throws {
        try waitFor("certificates \(stems.prefix(5))…", timeout: timeout) {
            stems.allSatisfy { FileManager.default.fileExists(atPath: self.outbox + "/" + $0 + ".cer") }
        }
    }

    func waitFor(_ what: String, timeout: TimeInterval, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw HarnessError("timed out waiting for \(what); log:\n\(logText.suffix(3000))") }
            usleep(20_000)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Requests made once per test process with `openssl req`.
enum SampleRequests {
    static let p256: [UInt8] = make(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], subject: "/CN=appliance.example")
    static let rsa1024: [UInt8] = make(["-newkey", "rsa:1024"], subject: "/CN=weak.example")
    static let rsa2048: [UInt8] = make(["-newkey", "rsa:2048"], subject: "/CN=rsa.example")

    static func make(_ key: [String], subject: String) -> [UInt8] {
        guard let directory = try? TemporaryDirectory(),
              let result = try? ExternalTool.run("openssl", ["req", "-new"] + key + ["-nodes", "-keyout", directory.path("k"), "-subj", subject, "-out", directory.path("r.csr")]),
              result.succeeded,
              let data = FileManager.default.contents(atPath: directory.path("r.csr")) else { return [] }
        return [UInt8](data)
    }
}
