import Foundation
import Glibc

/// A real journald for the tests, and a way to read back what was sent to it.
///
/// On a machine booted with systemd one is running already. In a container or CI
/// sandbox there is none, so the first test that needs it starts
/// `systemd-journald` standalone (as root), once per test process; it keeps running
/// after the tests, like `scripts/start-journald` leaves it. Records are read back with
/// `journalctl`, which looks in both `/run/log/journal` (where a standalone journald
/// writes, having no `systemd-journal-flush`) and `/var/log/journal`.
public enum JournaldFixture {
    public static let socketPath = "/run/systemd/journal/socket"
    private static let daemonCandidates = ["/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Started at most once per process however many tests ask at the same time: a
    /// static `let` is initialised exactly once, and every caller awaits the same task.
    private static let startup = Task<Void, any Error> { try await start() }

    public static func ensureRunning() async throws {
        try await startup.value
    }

    private static func start() async throws {
        if socketAcceptsDatagrams() { return }
        guard geteuid() == 0 else {
            throw Failure(description: "no journald answers on \(socketPath), and starting one needs root")
        }
        guard let daemon = daemonCandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "no journald answers on \(socketPath) and systemd-journald is not installed")
        }
        try FileManager.default.createDirectory(atPath: "/run/systemd/journal", withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if socketAcceptsDatagrams() { return }
            guard process.isRunning else {
                throw Failure(description: "\(daemon) exited with status \(process.terminationStatus)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "\(daemon) did not open \(socketPath) within 5 s")
    }

    /// Whether something is bound to the journal socket. A stale socket file left by a
    /// journald that died refuses the connection.
    public static func socketAcceptsDatagrams() -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return connected == 0
    }

    /// One journal entry as `journalctl -o json` prints it, each field with all its values.
    public struct Entry {
        public let fields: [String: [String]]

        public subscript(_ name: String) -> String? {
            fields[name]?.first
        }
    }

    /// The entries whose `DROPCA_TEST_RUN` is `run`, waiting up to 5 s until at least
    /// `count` have arrived: journald handles a datagram asynchronously, so a record sent
    /// a moment ago may not be readable yet.
    public static func entries(run: String, count: Int = 1) async throws -> [Entry] {
        var entries: [Entry] = []
        for _ in 0..<50 {
            entries = try readEntries(matching: "DROPCA_TEST_RUN=\(run)")
            if entries.count >= count { return entries }
            try await Task.sleep(for: .milliseconds(100))
        }
        return entries
    }

    public static func readEntries(matching match: String) throws -> [Entry] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["journalctl", "--no-pager", "--all", "-o", "json", match]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // journalctl exits 1 when it finds no journal files yet; that is "nothing yet".
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw Failure(description: "journalctl printed a line that is not a JSON object")
            }
            return Entry(fields: object.mapValues(values(of:)))
        }
    }

    /// journalctl prints a value as a string, as an array of byte values when it is not
    /// printable UTF-8, and as an array of those when the field occurs more than once.
    private static func values(of json: Any) -> [String] {
        if let string = json as? String { return [string] }
        if let array = json as? [Any] {
            if let bytes = array as? [Int] {
                return [String(decoding: bytes.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)]
            }
            return array.flatMap(values(of:))
        }
        return ["\(json)"]
    }
}
