import Foundation
import TestSupport

/// dropca's command line as swift-argument-parser describes it to its own tools
/// (`dropca --experimental-dump-help`, the ToolInfoV0 JSON that `generate-manual` reads to
/// write the man pages): every command, with its help texts and arguments. Only the fields
/// the tests look at are decoded.
struct CommandTree: Decodable {
    struct Command: Decodable {
        let commandName: String
        let superCommands: [String]?
        let abstract: String?
        let discussion: String?
        let arguments: [Argument]?
        let subcommands: [Command]?

        /// `dropca`, `dropca-run`, `dropca-check-config`: the page scripts/generate-man
        /// writes for it (section 1).
        var manualPage: String { ((superCommands ?? []) + [commandName]).joined(separator: "-") }

        /// swift-argument-parser's own `help` subcommand, which is not ours to document.
        var isBuiltInHelp: Bool { commandName == "help" && superCommands?.isEmpty == false }

        /// This command and every command below it, depth first.
        var all: [Command] { [self] + (subcommands ?? []).flatMap(\.all) }
    }

    struct Argument: Decodable {
        struct Name: Decodable {
            let kind: String  // long, short, longWithSingleDash
            let name: String
        }

        let kind: String  // positional, option, flag
        let names: [Name]?
        let valueName: String?
        let abstract: String?
        let shouldDisplay: Bool

        /// How the man page writes it: `-config` after `Fl` for `--config`, `o` for `-o`,
        /// the value name after `Ar` for a positional argument.
        var spellings: [String] {
            guard kind != "positional" else { return [valueName ?? "?"] }
            return (names ?? []).map { $0.kind == "short" ? $0.name : "-" + $0.name }
        }

        /// `--config`, `-o`: as a user types it.
        var typed: [String] { (names ?? []).map { ($0.kind == "long" ? "--" : "-") + $0.name } }
    }

    let command: Command

    /// The tree of the dropca executable at `binary`.
    static func of(_ binary: String) throws -> CommandTree {
        let result = try ExternalTool.run(binary, ["--experimental-dump-help"])
        guard result.succeeded else { throw HarnessError("\(binary) --experimental-dump-help: \(result.output)") }
        return try JSONDecoder().decode(CommandTree.self, from: Data(result.stdout.utf8))
    }

    /// Each page with the options and arguments it must describe, for comparing two builds.
    var signature: [String: [String]] {
        var pages: [String: [String]] = [:]
        for command in command.all {
            pages[command.manualPage] = (command.arguments ?? []).filter(\.shouldDisplay).flatMap(\.spellings).sorted()
        }
        return pages
    }
}
