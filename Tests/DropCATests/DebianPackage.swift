import Foundation
import TestSupport

/// The Debian package under test, `dropca_VERSION_ARCH.deb`.
///
/// Building it is a release build (minutes on two cores), so the suite does it once:
/// `scripts/test` runs `scripts/build-deb` before `swift test` and passes the package's
/// path as `$DROPCA_DEB`. Without that variable (a bare `swift test`), the first test
/// that asks for the package runs `scripts/build-deb` itself, once per test process; it is
/// incremental, so a second run only rebuilds what changed.
enum DebianPackage {
    /// What a machine needs to build the package (scripts/setup installs them).
    static let buildTools = ["dpkg-buildpackage", "dh", "dpkg-deb", "lintian"]

    /// Whether this machine can provide the package: one is given, or it can be built.
    static var isAvailable: Bool {
        if let given = ProcessInfo.processInfo.environment["DROPCA_DEB"], !given.isEmpty { return true }
        return buildTools.allSatisfy(onPath)
    }

    /// The package's path, or why there is none. A `static let`: Swift initialises it
    /// once, whichever test asks first, and every other waits for that.
    static let built: Result<String, HarnessError> = {
        if let given = ProcessInfo.processInfo.environment["DROPCA_DEB"], !given.isEmpty {
            return FileManager.default.fileExists(atPath: given) ? .success(given) : .failure(HarnessError("DROPCA_DEB=\(given): no such file"))
        }
        do {
            let result = try ExternalTool.run(ShippedFiles.path("scripts/build-deb"), [])
            let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard result.succeeded, FileManager.default.fileExists(atPath: path) else {
                return .failure(HarnessError("scripts/build-deb failed (\(result.status)):\n\(result.stderr.suffix(4000))"))
            }
            return .success(path)
        } catch {
            return .failure(HarnessError("scripts/build-deb did not run: \(error)"))
        }
    }()

    static func path() throws -> String { try built.get() }

    /// The version of debian/changelog's first entry, `dropca (VERSION) bookworm; …`: the
    /// one version of the project.
    static func changelogVersion() throws -> String {
        let changelog = try ShippedFiles.text(ShippedFiles.path("debian/changelog"))
        guard let first = changelog.split(separator: "\n").first,
              let open = first.firstIndex(of: "("), let close = first.firstIndex(of: ")"), open < close
        else { throw HarnessError("debian/changelog: no version on its first line") }
        return String(first[first.index(after: open)..<close])
    }

    /// `dpkg-deb --extract` of the package into a new folder: its files as installed.
    static func extracted() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "dropca-deb")
        let result = try ExternalTool.run("dpkg-deb", ["--extract", try path(), directory.path("root")])
        guard result.succeeded else { throw HarnessError("dpkg-deb --extract: \(result.output)") }
        return directory
    }

    static func onPath(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }
}
