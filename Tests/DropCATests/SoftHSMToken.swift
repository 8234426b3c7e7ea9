import Foundation
import TestSupport

/// A real SoftHSM2 token made for one test: its own token folder and configuration
/// (`SOFTHSM2_CONF`, which every process that reaches it needs), initialised with
/// `softhsm2-util --init-token`, a CA key pair generated on it by OpenSC's `pkcs11-tool`
/// (never extractable: made there, never imported), and a self-signed CA certificate made
/// with that key by `openssl req` through the pkcs11 engine: the recipe the README gives.
final class SoftHSMToken: @unchecked Sendable {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let engine = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"

    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/softhsm2-util")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/pkcs11-tool")
            && FileManager.default.fileExists(atPath: module) && FileManager.default.fileExists(atPath: engine)
    }

    /// The key types the issue asks for, as pkcs11-tool names them.
    enum KeyType: String, CaseIterable, Sendable, CustomStringConvertible {
        case p256 = "EC:prime256v1"
        case p384 = "EC:secp384r1"
        case rsa2048 = "rsa:2048"

        var description: String { rawValue }
    }

    let directory: TemporaryDirectory
    let label: String
    let pin = "4711-0815"
    var tokenStore: String { directory.path("tokens") }
    var configuration: String { directory.path("softhsm2.conf") }
    var pinFile: String { directory.path("pin") }
    var caCertificate: String { directory.path("ca.pem") }
    var uri: String { "pkcs11:token=\(label);object=ca;type=private" }
    var environment: [String: String] { ["SOFTHSM2_CONF": configuration] }
    /// What a test moves away to take the token away: "" for the whole store, "/UUID" for
    /// the token's own folder in it.
    var movedFolder = ""

    init(keyType: KeyType, label: String = "dropca") throws {
        self.label = label
        directory = try TemporaryDirectory(prefix: "dropca-softhsm")
        try FileManager.default.createDirectory(atPath: directory.path("tokens"), withIntermediateDirectories: true)
        try "directories.tokendir = \(directory.path("tokens"))\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: configuration, atomically: true, encoding: .utf8)
        try (pin + "\n").write(toFile: pinFile, atomically: true, encoding: .utf8)
        try run("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", "12345678", "--pin", pin])
        try run("pkcs11-tool", ["--module", Self.module, "--token-label", label, "--login", "--pin", pin,
                                "--keypairgen", "--key-type", keyType.rawValue, "--label", "ca", "--id", "01", "--usage-sign"])
        // The README's recipe: the CA certificate, signed by the token through OpenSSL's
        // pkcs11 engine (only for making it; dropca signs through the module itself).
        let engineConfiguration = directory.path("engine.cnf")
        try """
            openssl_conf = openssl_init
            [openssl_init]
            engines = engine_section
            [engine_section]
            pkcs11 = pkcs11_section
            [pkcs11_section]
            engine_id = pkcs11
            MODULE_PATH = \(Self.module)
            PIN = \(pin)
            init = 0

            """.write(toFile: engineConfiguration, atomically: true, encoding: .utf8)
        try run("openssl", ["req", "-new", "-x509", "-engine", "pkcs11", "-keyform", "engine", "-key", uri,
                            "-subj", "/CN=dropca token CA \(keyType.rawValue)", "-days", "3650", "-sha256",
                            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                            "-addext", "subjectKeyIdentifier=hash", "-out", caCertificate],
                environment: ["OPENSSL_CONF": engineConfiguration])
    }

    /// Points the daemon's `[ca]` at this token: its certificate, its URI, the module and the PIN file.
    func configure(_ daemon: DaemonHarness, key: String? = nil, module: String? = nil, pin: String? = nil) throws {
        var text = try String(contentsOfFile: daemon.config, encoding: .utf8)
        let lines = text.components(separatedBy: "\n").map { line -> String in
            if line.hasPrefix("certificate = ") && line.contains("ca.pem") { return "certificate = \"\(caCertificate)\"" }
            if line.hasPrefix("key = ") {
                return "key = \"\(key ?? uri)\"\npkcs11_module = \"\(module ?? Self.module)\"\npin = \"\(pin ?? pinFile)\""
            }
            return line
        }
        text = lines.joined(separator: "\n")
        try text.write(toFile: daemon.config, atomically: true, encoding: .utf8)
    }

    /// `pkcs11-tool --list-objects` as the user logs in: what the token says of its keys.
    func objects() throws -> String {
        try run("pkcs11-tool", ["--module", Self.module, "--token-label", label, "--login", "--pin", pin, "--list-objects"]).stdout
    }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> ToolResult {
        let result = try ExternalTool.run(tool, arguments, environment: environment.merging(extra) { $1 })
        guard result.succeeded else { throw HarnessError("\(tool) \(arguments.prefix(3).joined(separator: " ")): \(result.output)") }
        return result
    }
}
