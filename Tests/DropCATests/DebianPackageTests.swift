import Foundation
import TestSupport
import Testing

/// The Debian package as built by `scripts/build-deb` (README, "Install from the Debian
/// package"), judged by Debian's own tools without installing it: lintian, dpkg-deb and
/// ldd. Installing it into a fresh Debian 12 and running it is
/// `SFTPEndToEndTests.theDebianPackageInstallsServesAndRemovesAsTheREADMESays`.
@Suite(.enabled(if: DebianPackage.isAvailable, "needs the package: DROPCA_DEB, or dpkg-buildpackage, debhelper and lintian to build it (scripts/setup)"))
struct DebianPackageTests {
    /// No lintian error, and no warning either: each one lintian had (a whatis entry, a
    /// completion's #! line, the copyright notice) was fixed where the file is made.
    /// lintian's informational tags are not looked at (see docs/ARCHITECTURE.md,
    /// "Packaging").
    @Test func lintianReportsNoErrorOrWarning() throws {
        let result = try ExternalTool.run("lintian", ["--tag-display-limit", "0", try DebianPackage.path()])
        let findings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("E: ") || $0.hasPrefix("W: ") }
        #expect(findings == [], "\(result.output)")
        // lintian exits non-zero on an error (its default --fail-on) or when it cannot run.
        #expect(result.succeeded, "\(result.output)")
    }

    /// The package's name, version and dependencies: the version of debian/changelog,
    /// and what the executable links as Debian packages, never a Swift runtime.
    @Test func versionAndDependenciesComeFromTheChangelogAndTheLinkedLibraries() throws {
        let deb = try DebianPackage.path()
        let field = { (name: String) in try ExternalTool.run("dpkg-deb", ["--field", deb, name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        let version = try DebianPackage.changelogVersion()
        #expect(try field("Version") == version)
        #expect(URL(fileURLWithPath: deb).lastPathComponent == "dropca_\(version)_amd64.deb")
        let depends = try field("Depends")
        for library in ["libssl3", "libsystemd0", "libsqlite3-0", "systemd"] {
            #expect(depends.contains(library), "Depends: \(depends)")
        }
        #expect(!depends.lowercased().contains("swift"), "Depends: \(depends)")

        let package = try DebianPackage.extracted()
        let binary = package.path("root/usr/bin/dropca")
        let linked = try ExternalTool.run("ldd", [binary])
        #expect(linked.succeeded, "\(linked.output)")
        let swiftLibraries = linked.stdout.split(separator: "\n").filter { $0.contains("libswift") || $0.contains("libFoundation") || $0.contains("lib_Foundation") || $0.contains("libdispatch") }
        #expect(swiftLibraries == [], "the Swift runtime must be linked in: \(linked.stdout)")
        let reported = try ExternalTool.run(binary, ["--version"])
        #expect(reported.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == version)
    }

    /// Where every file goes, and which is a configuration file dpkg keeps the edits of.
    @Test func filesConffilesAndMaintainerScripts() throws {
        let package = try DebianPackage.extracted()
        let root = package.path("root")
        let files: [(String, String?)] = [
            ("usr/bin/dropca", nil),
            ("lib/systemd/system/dropca.service", nil),
            ("usr/lib/sysusers.d/dropca.conf", ShippedFiles.sysusers),
            ("usr/lib/tmpfiles.d/dropca.conf", ShippedFiles.tmpfiles),
            ("usr/lib/systemd/catalog/dropca.catalog", ShippedFiles.catalog),
            ("etc/dropca/dropca.toml", ShippedFiles.exampleConfiguration),
            ("usr/share/doc/dropca/README.md", ShippedFiles.path("README.md")),
            ("usr/share/doc/dropca/copyright", nil),
            ("usr/share/doc/dropca/examples/sshd_config.d-dropca.conf", ShippedFiles.sshdDropIn),
            ("usr/share/doc/dropca/examples/nginx-dropca-pki.conf", ShippedFiles.path("etc/nginx/dropca-pki.conf")),
            ("usr/share/doc/dropca/examples/dropca.service.d-token.conf", ShippedFiles.path("systemd/dropca-token.conf")),
            ("usr/share/man/man1/dropca.1.gz", nil),
            ("usr/share/man/man1/dropca-run.1.gz", nil),
            ("usr/share/bash-completion/completions/dropca", nil),
            ("usr/share/zsh/vendor-completions/_dropca", nil),
            ("usr/share/fish/vendor_completions.d/dropca.fish", nil),
        ]
        for (path, source) in files {
            #expect(FileManager.default.fileExists(atPath: root + "/" + path), "\(path) is not in the package")
            if let source {
                #expect(FileManager.default.contentsEqual(atPath: root + "/" + path, andPath: source), "\(path) differs from \(source)")
            }
        }
        // The sshd drop-in is an example: installing the package changes no sshd setting.
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/ssh"))
        // The unit is the shipped one.
        #expect(FileManager.default.contentsEqual(atPath: root + "/lib/systemd/system/dropca.service", andPath: ShippedFiles.unit))

        let control = package.path("control")
        let unpacked = try ExternalTool.run("dpkg-deb", ["--control", try DebianPackage.path(), control])
        try #require(unpacked.succeeded, "\(unpacked.output)")
        #expect(try ShippedFiles.text(control + "/conffiles").split(separator: "\n") == ["/etc/dropca/dropca.toml"])
        let postinst = try ShippedFiles.text(control + "/postinst")
        #expect(postinst.contains("systemd-sysusers") && postinst.contains("systemd-tmpfiles"), "\(postinst)")
        // Not enabled or started on installation; restarted on upgrade only if it runs.
        #expect(postinst.contains("deb-systemd-invoke try-restart 'dropca.service'") || postinst.contains("deb-systemd-invoke try-restart dropca.service"), "\(postinst)")
        #expect(!postinst.contains("deb-systemd-invoke start") && !postinst.contains("deb-systemd-invoke $_dh_action"), "\(postinst)")
        // dh_installsystemd --no-enable: not the snippet that enables on a first installation.
        #expect(!postinst.contains("was-enabled defaults to true"), "\(postinst)")
        let prerm = try ShippedFiles.text(control + "/prerm")
        #expect(prerm.contains("deb-systemd-invoke stop dropca.service"), "\(prerm)")
    }
}
