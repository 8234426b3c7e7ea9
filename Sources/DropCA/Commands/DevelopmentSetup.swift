import Foundation
import Issuance

/// `dropca init`: a development CA, a configuration and the spool folders in one folder,
/// so that a newcomer can run the real daemon without touching /etc.
public enum DevelopmentSetup {
    public struct Result: Sendable {
        public let configPath: String
        public let inbox: String
        public let outbox: String
        public let failed: String
        public let caCertificate: String
    }

    public static func create(in directory: String, now: Date = Date()) throws(StartupError) -> Result {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let configURL = root.appendingPathComponent("dropca.toml")
        if FileManager.default.fileExists(atPath: configURL.path) {
            throw StartupError("\(configURL.path) already exists; dropca init never replaces a CA. Remove the folder or choose another with --dir")
        }
        let material: DevelopmentCA.Material
        do {
            material = try DevelopmentCA.generate(commonName: "dropca development CA (\(ProcessInfo.processInfo.hostName))", now: now)
        } catch {
            throw StartupError("generating the development CA: \(error)")
        }
        let folders = ["ca", "spool/inbox", "spool/outbox", "spool/failed", "state", "public"]
        do {
            for folder in folders {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            }
            _ = chmod(root.appendingPathComponent("ca").path, 0o700)
            _ = chmod(root.appendingPathComponent("state").path, 0o700)
            try write(material.privateKeyPEM, to: root.appendingPathComponent("ca/ca.key"), mode: 0o600)
            try write(material.certificatePEM, to: root.appendingPathComponent("ca/ca.pem"), mode: 0o644)
            // Relative paths: the configuration resolves them against its own folder, so the
            // whole development setup can be moved or copied as one.
            let text = Configuration.template(
                caCertificate: "ca/ca.pem", caKey: "ca/ca.key",
                inbox: "spool/inbox", outbox: "spool/outbox", failed: "spool/failed",
                stateDirectory: "state", crlDirectory: "public"
            )
            try write(text, to: configURL, mode: 0o644)
        } catch {
            throw StartupError("\(root.path): \(error.localizedDescription)")
        }
        return Result(
            configPath: configURL.path,
            inbox: root.appendingPathComponent("spool/inbox").path,
            outbox: root.appendingPathComponent("spool/outbox").path,
            failed: root.appendingPathComponent("spool/failed").path,
            caCertificate: root.appendingPathComponent("ca/ca.pem").path
        )
    }

    private static func write(_ text: String, to url: URL, mode: mode_t) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
        _ = fchmod(descriptor, mode)
    }
}
