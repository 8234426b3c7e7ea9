import Foundation

/// The files this repository ships for a systemd installation, found from this source
/// file's place in the checkout (`Tests/DropCATests/`), so the tests judge exactly what
/// `scripts/install` puts on a machine.
enum ShippedFiles {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // DropCATests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { repository.appendingPathComponent(relative).path }

    static var unit: String { path("systemd/dropca.service") }
    static var sysusers: String { path("systemd/dropca.sysusers") }
    static var tmpfiles: String { path("systemd/dropca.tmpfiles") }
    static var catalog: String { path("systemd/dropca.catalog") }
    static var exampleConfiguration: String { path("etc/dropca/dropca.toml") }
    static var sshdDropIn: String { path("etc/ssh/sshd_config.d/dropca.conf") }
    static var installScript: String { path("scripts/install") }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// `text` with each line that starts with a key of `replacements` (`"certificate = "`)
    /// replaced by the value; every key must match exactly one line.
    static func replacingLines(in text: String, _ replacements: [String: String]) throws -> String {
        var lines = text.components(separatedBy: "\n")
        for (prefix, replacement) in replacements {
            let matches = lines.indices.filter { lines[$0].hasPrefix(prefix) }
            guard matches.count == 1 else { throw HarnessError("\(matches.count) lines start with \(String(reflecting: prefix))") }
            lines[matches[0]] = replacement
        }
        return lines.joined(separator: "\n")
    }
}
