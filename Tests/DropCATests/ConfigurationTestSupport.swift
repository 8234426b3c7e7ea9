import Foundation

@testable import DropCA

/// Shared helpers for the configuration tests: every config in them is "dropca.toml" in
/// the folder /srv/dropca, so expected messages and resolved paths read plainly.
enum ConfigurationFixture {
    static let file = "dropca.toml"
    static let folder = "/srv/dropca"

    /// The smallest valid config: only the required `[ca]` section (lines 1 to 3).
    static let caSection = """
        [ca]
        certificate = "/etc/dropca/ca.pem"
        key = "/etc/dropca/ca.key"

        """

    static func parse(_ text: String) throws(ConfigurationError) -> Configuration {
        try Configuration.parse(text: text, file: file, baseDirectory: folder)
    }

    /// The one-line reports for `text`, or an empty list when it parses.
    static func problems(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    /// The error for `text`, or nil when it parses.
    static func error(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// A fresh folder under the system temporary folder, removed by the caller.
    static func makeTemporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("dropca-config-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
