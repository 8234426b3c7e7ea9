import Foundation

/// The `dropca` executable that `swift build` put next to the test bundle, so that tests
/// exercise the real command line: argument parsing, exit codes and all.
public enum DropCABinary {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["DROPCA_BINARY"] { return explicit }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // On Linux the test bundle is `<products>/dropcaPackageTests.xctest`; elsewhere it
        // may be nested deeper, so walk up until a `dropca` executable appears.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("dropca").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "dropca"
    }

    /// Runs `dropca ARGUMENTS` to completion.
    public static func run(_ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil) throws -> ToolResult {
        var environment = environment
        if environment["DROPCA_CONFIG"] == nil { environment["DROPCA_CONFIG"] = "/nonexistent/dropca.toml" }
        return try ExternalTool.run(path, arguments, stdin: stdin, environment: environment)
    }
}
