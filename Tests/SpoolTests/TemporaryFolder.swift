import Foundation
import Glibc

/// A fresh folder from `mkdtemp` under the system's temporary directory, removed with
/// everything in it when released. Helpers create the kinds of entries an untrusted
/// uploader can leave in an inbox.
final class TemporaryFolder {
    let path: String

    init(_ label: String = "spool", base: String? = nil) throws {
        let root = base ?? (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
        var template = Array("\(root)/dropca-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw TestFailure("mkdtemp in \(root) failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Creates and returns `path/name` as a folder.
    func subfolder(_ name: String, mode: mode_t = 0o755) throws -> String {
        let sub = "\(path)/\(name)"
        guard mkdir(sub, mode) == 0 else { throw TestFailure("mkdir \(sub): \(errnoText())") }
        return sub
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// Writes `bytes` to `path` (created 0644, replaced if present).
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TestFailure("open \(path): \(errnoText())") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { buffer in
            write(fd, buffer.baseAddress.map { $0 + offset }, bytes.count - offset)
        }
        guard n > 0 else { throw TestFailure("write \(path): \(errnoText())") }
        offset += n
    }
}

func writeFile(_ path: String, _ text: String) throws {
    try writeFile(path, Array(text.utf8))
}

/// The bytes of a regular file, read without following a final symlink.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw TestFailure("open \(path): \(errnoText())") }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        guard n >= 0 else { throw TestFailure("read \(path): \(errnoText())") }
        if n == 0 { return result }
        result.append(contentsOf: chunk[..<n])
    }
}

func readText(_ path: String) throws -> String {
    String(decoding: try readFile(path), as: UTF8.self)
}

/// `lstat` of a path, `nil` when it does not exist.
func lstatPath(_ path: String) -> stat? {
    var info = stat()
    return lstat(path, &info) == 0 ? info : nil
}

/// Names in a folder (raw bytes), without `.` and `..`.
func names(in folder: String) throws -> [[UInt8]] {
    guard let dir = opendir(folder) else { throw TestFailure("opendir \(folder): \(errnoText())") }
    defer { closedir(dir) }
    var result: [[UInt8]] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
        if name != [0x2E] && name != [0x2E, 0x2E] { result.append(name) }
    }
    return result.sorted { $0.lexicographicallyPrecedes($1) }
}

func nameStrings(in folder: String) throws -> [String] {
    try names(in: folder).map { String(decoding: $0, as: UTF8.self) }
}

/// A path made from a folder and a raw-byte name (names may be invalid UTF-8).
func pathBytes(_ folder: String, _ name: [UInt8]) -> [CChar] {
    (Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
}

/// Every regular file's bytes under `folder`, recursively, never following links.
func regularFileContents(under folder: String) throws -> [[UInt8]] {
    var result: [[UInt8]] = []
    for name in try names(in: folder) {
        let path = folder + "/" + String(decoding: name, as: UTF8.self)
        guard let info = lstatPath(path) else { continue }
        switch info.st_mode & S_IFMT {
        case S_IFREG: result.append(try readFile(path))
        case S_IFDIR: result += try regularFileContents(under: path)
        default: break
        }
    }
    return result
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
