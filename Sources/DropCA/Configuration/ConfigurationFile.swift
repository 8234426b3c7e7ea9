/// Reads the config file through the one bounded reader (``BoundedFile``), so that a failure
/// is reported with the system's own reason ("Permission denied"), which is what an
/// operator needs to fix it, and checks that it is text.
enum ConfigurationFile {
    /// A config file is a few kilobytes; anything this large is the wrong file.
    static let maximumBytes = 1 << 20

    static func read(path: String) throws(ConfigurationError) -> String {
        func failure(_ message: String) -> ConfigurationError {
            ConfigurationError(ConfigurationError.Problem(code: .fileUnreadable, file: path, message: message))
        }
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(path, limit: maximumBytes, what: "configuration file")
        } catch {
            throw failure(error.reason)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure("is not UTF-8 text, which TOML requires")
        }
        return text
    }
}
