import Foundation

/// Runs a real command-line tool and captures what it says. The tests use OpenSSL,
/// GnuTLS and pkilint as independent judges of what dropca issues.
public struct ToolResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var succeeded: Bool { status == 0 }
    public var output: String { stdout + stderr }
}

/// A bare tool name is looked up first in the package's checkers virtual environment,
/// `.build/checkers-venv/bin/` (where `scripts/setup` installs pkilint, since Debian's
/// Python takes no pip installs into the system), then on `PATH` through `/usr/bin/env`.
public enum ExternalTool {
    public static func run(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String]? = nil) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [resolved(executable)] + arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin))
            try input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errData = LockedData()
        let errReader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errReader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.isSet { usleep(1000) }
        return ToolResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.value, as: UTF8.self)
        )
    }

    /// The package's root folder: this file is `<root>/Tests/TestSupport/ExternalTool.swift`.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `bin/` folder of the virtual environment `scripts/setup` makes for the checkers.
    public static let checkersBin: URL = packageRoot.appendingPathComponent(".build/checkers-venv/bin")

    /// `executable` itself when it is a path; else the checkers venv's tool of that name when
    /// there is one, else the bare name, which `/usr/bin/env` looks up on `PATH`.
    public static func resolved(_ executable: String) -> String {
        guard !executable.contains("/") else { return executable }
        let candidate = checkersBin.appendingPathComponent(executable).path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : executable
    }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}
