import Foundation
import TestSupport
import Testing

@testable import DropCA

/// The man pages and shell completions are generated from the command line
/// (scripts/generate-man, scripts/install), so they are only as good as its help texts and
/// only as complete as what gets packaged. These tests hold both: every command, option
/// and argument has help text, and the package has a page for every command that
/// describes every one of its options, and completions that know them.
@Suite struct ManualPageTests {
    static var tree: CommandTree { get throws { try CommandTree.of(DropCABinary.path) } }

    /// The help texts the pages are made of. A new subcommand without an abstract, or
    /// without a discussion that gives its exit statuses, or a new option without help,
    /// fails here before it reaches a man page.
    @Test func everyCommandOptionAndArgumentHasHelpText() throws {
        let root = try Self.tree.command
        #expect(root.discussion?.contains("/etc/dropca/dropca.toml") == true, "dropca(1) names the files")
        for command in root.all where !command.isBuiltInHelp {
            #expect(!(command.abstract ?? "").isEmpty, "\(command.manualPage) has no abstract")
            if command.commandName != "dropca" {
                #expect(command.discussion?.contains("Exit status:") == true, "\(command.manualPage): its discussion gives no exit status")
            }
            for argument in command.arguments ?? [] where argument.shouldDisplay {
                #expect(!(argument.abstract ?? "").isEmpty, "\(command.manualPage): \(argument.spellings) has no help text")
            }
        }
    }

    /// One version, written once: debian/changelog's first entry, which the build turns
    /// into `dropcaVersion` (Plugins/ChangelogVersion).
    @Test func versionIsTheChangelogsFirstEntry() throws {
        let result = try DropCABinary.run(["--version"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (try DebianPackage.changelogVersion()))
    }

    /// Every command of the packaged executable has its page in the package, and every
    /// option and argument of it appears there; groff has nothing to say about any page.
    /// The packaged command line must also be the one of these sources: a package older
    /// than a new option fails here rather than passing with old pages.
    @Test(.enabled(if: DebianPackage.isAvailable, "needs the package: DROPCA_DEB, or dpkg-buildpackage, debhelper and lintian to build it (scripts/setup)"))
    func thePackageHasAManualPageForEveryCommandAndOption() throws {
        let package = try DebianPackage.extracted()
        let root = package.path("root")
        let packaged = try CommandTree.of(root + "/usr/bin/dropca")
        #expect(packaged.signature == (try Self.tree).signature, "the package's command line differs from these sources': rebuild it (scripts/build-deb)")

        for command in packaged.command.all {
            let page = root + "/usr/share/man/man1/\(command.manualPage).1.gz"
            let source = try ExternalTool.run("zcat", [page])
            try #require(source.succeeded, "no page \(command.manualPage)(1) in the package: \(source.output)")
            let text = source.stdout
            #expect(text.contains(".Dt \(command.manualPage.uppercased()) 1"), "\(command.manualPage): its title")
            if let abstract = command.abstract { #expect(text.contains(abstract), "\(command.manualPage): its abstract") }
            for argument in command.arguments ?? [] where argument.shouldDisplay {
                for spelling in argument.spellings {
                    let macro = argument.kind == "positional" ? "Ar \(spelling)" : "Fl \(spelling)"
                    #expect(text.contains(macro) || text.contains(", \(spelling)"), "\(command.manualPage)(1) does not describe \(spelling)")
                }
                if let abstract = argument.abstract { #expect(text.contains(abstract), "\(command.manualPage)(1): the help of \(argument.spellings)") }
            }
            for subcommand in command.subcommands ?? [] {
                #expect(text.contains(".Xr \(subcommand.manualPage) 1"), "\(command.manualPage)(1) does not refer to \(subcommand.manualPage)(1)")
            }
            // What lintian runs on every page.
            let rendered = try ExternalTool.run("man", ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page], environment: ["MANWIDTH": "80", "LC_ALL": "C.UTF-8"])
            #expect(rendered.succeeded && rendered.stderr.isEmpty, "\(command.manualPage)(1): \(rendered.stderr)")
        }
        let pages = try FileManager.default.contentsOfDirectory(atPath: root + "/usr/share/man/man1").sorted()
        #expect(pages == packaged.command.all.map { $0.manualPage + ".1.gz" }.sorted(), "pages for commands that do not exist")
    }

    /// The bash, zsh and fish completions in the package know every subcommand and option.
    @Test(.enabled(if: DebianPackage.isAvailable, "needs the package: DROPCA_DEB, or dpkg-buildpackage, debhelper and lintian to build it (scripts/setup)"))
    func thePackagesCompletionsKnowEveryCommandAndOption() throws {
        let package = try DebianPackage.extracted()
        let root = package.path("root")
        let tree = try CommandTree.of(root + "/usr/bin/dropca")
        let scripts = [
            "usr/share/bash-completion/completions/dropca",
            "usr/share/zsh/vendor-completions/_dropca",
            "usr/share/fish/vendor_completions.d/dropca.fish",
        ]
        for script in scripts {
            let text = try ShippedFiles.text(root + "/" + script)
            for command in tree.command.all where !command.isBuiltInHelp {
                #expect(text.contains(command.commandName), "\(script): \(command.commandName)")
                for argument in command.arguments ?? [] where argument.shouldDisplay && argument.kind != "positional" {
                    let long = argument.names?.first { $0.kind == "long" }?.name
                    if let long { #expect(text.contains(long), "\(script): --\(long) of \(command.manualPage)") }
                }
            }
        }
        #expect(try ShippedFiles.text(root + "/" + scripts[1]).hasPrefix("#compdef dropca"))
    }

    /// `[section].key` for every key the parser knows (its key enums), and the top-level `outputs`.
    static var everyKey: [String] {
        ["outputs"] + Configuration.Section.allCases.flatMap { section in section.keys.map { "[\(section.rawValue)].\($0)" } }
    }

    /// The keys dropca.toml(5) describes, as `[section].key`, each with the text of its item.
    static func describedKeys(_ page: String) -> [String: String] {
        var described: [String: String] = [:]
        var section: String?
        var current: String?
        for line in page.split(separator: "\n").map(String.init) {
            if line.hasPrefix(".Sh ") { section = nil; current = nil }
            if line.hasPrefix(".Ss ") { section = String(line.dropFirst(4)); current = nil }
            if line.hasPrefix(".It Ic ") {
                let key = String(line.dropFirst(7))
                let name = section.map { "\($0).\(key)" } ?? key
                described[name] = ""
                current = name
            } else if let key = current, !line.hasPrefix(".") {
                described[key, default: ""] += line + " "
            }
        }
        return described
    }

    /// dropca.toml(5) describes every key the parser reads, no key it does not, and gives each
    /// the value the commented configuration `dropca init` writes: both come from one table.
    /// groff has nothing to say about it.
    @Test func theConfigurationPageDescribesEveryKeyWithTheTemplatesDefault() throws {
        let result = try DropCABinary.run(["--dump-configuration-manual", "2026-12-01"])
        try #require(result.status == 0, "\(result.output)")
        let page = result.stdout
        #expect(page.hasPrefix(".Dd 2026-12-01\n.Dt DROPCA.TOML 5\n"))
        let described = Self.describedKeys(page)
        #expect(Set(described.keys) == Set(Self.everyKey), "keys the page and the parser disagree on")

        // Every value the template writes set (not commented out) is the page's default.
        let template = Configuration.template(caCertificate: "ca.pem", caKey: "ca.key", inbox: "i", outbox: "o", failed: "f", stateDirectory: "s")
        var section = ""
        var checked = 0
        for line in template.split(separator: "\n").map(String.init) {
            if line.hasPrefix("[") { section = line; continue }
            guard !line.hasPrefix("#"), let equals = line.range(of: " = ") else { continue }
            let key = "\(section).\(line[..<equals.lowerBound])"
            let value = String(line[equals.upperBound...])
            if ["ca.pem", "ca.key", "i", "o", "f", "s"].map(Configuration.quoted).contains(value) { continue }
            #expect(described[key]?.contains("Default: \(value).") == true, "\(key): the template writes \(value), the page says \(described[key] ?? "nothing")")
            checked += 1
        }
        let setByDefault = ConfigurationReference.sections.flatMap(\.keys).filter { if case .default = $0.value { true } else { false } }
        #expect(checked >= setByDefault.count, "the template wrote fewer keys with their default than the table has")

        let file = try TemporaryDirectory()
        try page.write(toFile: file.path("dropca.toml.5"), atomically: true, encoding: .utf8)
        let rendered = try ExternalTool.run("man", ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", file.path("dropca.toml.5")], environment: ["MANWIDTH": "80", "LC_ALL": "C.UTF-8"])
        #expect(rendered.succeeded && rendered.stderr.isEmpty, "dropca.toml(5): \(rendered.stderr)")
    }

    /// The package carries dropca.toml(5), with every key.
    @Test(.enabled(if: DebianPackage.isAvailable, "needs the package: DROPCA_DEB, or dpkg-buildpackage, debhelper and lintian to build it (scripts/setup)"))
    func thePackageHasTheConfigurationPage() throws {
        let package = try DebianPackage.extracted()
        let page = try ExternalTool.run("zcat", [package.path("root") + "/usr/share/man/man5/dropca.toml.5.gz"])
        try #require(page.succeeded, "no dropca.toml(5) in the package: \(page.output)")
        #expect(page.stdout.contains(".Dt DROPCA.TOML 5"))
        #expect(Set(Self.describedKeys(page.stdout).keys) == Set(Self.everyKey))
    }
}
