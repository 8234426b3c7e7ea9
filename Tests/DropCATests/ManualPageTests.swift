import Foundation
import TestSupport
import Testing

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
}
