#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the config file with plain POSIX calls, so that a failure is reported with the
/// system's own reason ("Permission denied", "No such file or directory"), which is what
/// an operator needs to fix it.
enum ConfigurationFile {
    /// A config file is a few kilobytes; anything this large is the wrong file.
    static let maximumBytes = 1 << 20

    static func read(path: String) throws(ConfigurationError) -> String {
        func failure(_ message: String) -> ConfigurationError {
            ConfigurationError(ConfigurationError.Problem(code: .fileUnreadable, file: path, message: message))
        }

        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw failure("cannot open the configuration file: \(systemReason(errno))")
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw failure("cannot examine the configuration file: \(systemReason(errno))")
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw failure("is a folder; give the path of the .toml file")
        }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                Glue.read(descriptor, buffer.baseAddress, buffer.count)
            }
            if count < 0 {
                if errno == EINTR {
                    continue
                }
                throw failure("cannot read the configuration file: \(systemReason(errno))")
            }
            if count == 0 {
                break
            }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumBytes {
                throw failure("is larger than \(maximumBytes / 1024) KiB; is this the right file?")
            }
        }

        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure("is not UTF-8 text, which TOML requires")
        }
        return text
    }

    static func systemReason(_ code: Int32) -> String {
        guard let reason = strerror(code) else {
            return "error \(code)"
        }
        return String(cString: reason)
    }

    /// Names the C `read` unambiguously inside a type that has its own `read`.
    private enum Glue {
        static func read(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
            #if canImport(Glibc)
            Glibc.read(descriptor, buffer, count)
            #elseif canImport(Musl)
            Musl.read(descriptor, buffer, count)
            #else
            Darwin.read(descriptor, buffer, count)
            #endif
        }
    }
}
