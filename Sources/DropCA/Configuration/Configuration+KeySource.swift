extension Configuration {
    /// Where the CA's private key is read from.
    ///
    /// A key handed over by systemd (`LoadCredential=` / `LoadCredentialEncrypted=`) lives in
    /// a per-run folder whose path is only known from `$CREDENTIALS_DIRECTORY` at start-up,
    /// so the config names the credential, not a path: `key = "credential:NAME"`.
    public enum KeySource: Sendable, Equatable {
        /// A key file; relative paths were already resolved against the config file's folder.
        case file(String)
        /// A systemd credential: `$CREDENTIALS_DIRECTORY/NAME`.
        case credential(String)
        /// A key on a PKCS#11 token: an RFC 7512 URI (checked when the file is read), with
        /// `ca.pkcs11_module` and `ca.pin`. Never a file dropca reads.
        case pkcs11(String)

        /// The prefix that marks a credential in the config file.
        public static let credentialPrefix = "credential:"

        /// The value as the config file writes it (`/etc/dropca/ca.key`, `credential:NAME`).
        public var configurationValue: String {
            switch self {
            case .file(let path): path
            case .credential(let name): Self.credentialPrefix + name
            case .pkcs11(let uri): uri
            }
        }

        /// The file that holds the key in this process's environment.
        ///
        /// Resolution is separate from loading on purpose: `dropca list` and friends load the
        /// config from a login shell, where systemd set no `CREDENTIALS_DIRECTORY`, and must
        /// still work; only what actually reads the key needs the credential.
        public func resolvedKeyPath(environment: [String: String]) throws(ResolutionError) -> String {
            switch self {
            case .file(let path):
                return path
            case .pkcs11(let uri):
                throw ResolutionError(code: .onAToken, message: "\(uri) is a key on a token, not a file")
            case .credential(let name):
                if let problem = Self.problemWithCredentialName(name) {
                    throw ResolutionError(code: .invalidCredentialName, message: problem)
                }
                guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                    throw ResolutionError(
                        code: .credentialsDirectoryUnset,
                        message: "\(configurationValue) needs $CREDENTIALS_DIRECTORY, which is not set: "
                            + "run dropca from its systemd unit with LoadCredential=\(name):/path/to/ca.key, "
                            + "or give ca.key a file path"
                    )
                }
                return directory.hasSuffix("/") ? directory + name : directory + "/" + name
            }
        }

        /// Why `name` cannot be a systemd credential name, or nil when it can.
        ///
        /// systemd refuses names with `/` and the names `.` and `..`; checking here too keeps
        /// a hand-made `KeySource` from reaching outside `$CREDENTIALS_DIRECTORY`.
        static func problemWithCredentialName(_ name: String) -> String? {
            if name.isEmpty {
                return "\"\(credentialPrefix)\" names no credential; write credential:NAME, "
                    + "with NAME as in the unit's LoadCredential=NAME:..."
            }
            if name.contains("/") {
                return "credential name \(String(reflecting: name)) must not contain \"/\": "
                    + "it names a file inside $CREDENTIALS_DIRECTORY"
            }
            if name == "." || name == ".." || name.contains("\0") {
                return "credential name \(String(reflecting: name)) is not a valid credential name"
            }
            return nil
        }

        /// Why the CA key could not be located.
        public struct ResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
            public enum Code: String, Sendable, Equatable {
                case credentialsDirectoryUnset
                case invalidCredentialName
                case onAToken
            }

            public let code: Code
            public let message: String

            /// One line. It does not repeat the setting's name: callers report it as
            /// `ca.key: <description>`, next to the other CA loading errors.
            public var description: String { message }
        }
    }
}
