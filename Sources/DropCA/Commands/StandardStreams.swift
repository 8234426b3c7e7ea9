import Foundation

/// Standard output and standard error for the command line, which imports nothing but this
/// module and ArgumentParser: text lines to either, and raw bytes (a DER certificate) to
/// standard output.
public enum StandardStreams {
    /// Writes `bytes` to standard output as they are.
    public static func write(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Writes one line to standard error.
    public static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
