import ArgumentParser
import DropCA

struct IssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue certificates for request files, with a profile's policy; writes its outputs (DER unless it says otherwise).",
        discussion: """
        Exit status: 0 when every request was issued, 1 when any was rejected (the reason for \
        each is on standard error), 2 for a usage or configuration error.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(name: .short, help: "Write the certificate here (one request, and a profile with one output, only; - for standard output).")
    var output: String?

    @Option(name: .customLong("out-dir"), help: "Write STEM.cer (and the profile's other outputs) for each request into this folder (default: the current folder).")
    var outDirectory: String?

    @Option(name: .long, help: ArgumentHelp(
        "Issue with this [profiles.NAME]'s policy and outputs (default: the top-level one).", valueName: "NAME"))
    var profile: String?

    @Argument(help: "Request files: DER, PEM or bare base64.")
    var requests: [String]

    func validate() throws {
        if output != nil && outDirectory != nil {
            throw ValidationError("-o and --out-dir cannot be used together")
        }
        if output != nil && requests.count != 1 {
            throw ValidationError("-o takes exactly one request; use --out-dir for several")
        }
        if requests.isEmpty {
            throw ValidationError("name at least one request file")
        }
    }

    func run() throws {
        let destination: OneShotIssuance.Destination = output.map { .file($0) } ?? .directory(outDirectory ?? ".")
        let outcomes: [OneShotIssuance.Outcome]
        do {
            outcomes = try config.invocation.issue(files: requests, destination: destination, profile: profile)
        } catch {
            throw CommandFailure(status: error.status, lines: error.lines.map { "dropca issue: \($0)" }).exit()
        }
        var anyRejected = false
        for outcome in outcomes {
            switch outcome {
            case .issued(let input, let output, let serial):
                StandardStreams.error("\(input): issued serial \(serial) -> \(output)")
            case .rejected(let input, let reason):
                anyRejected = true
                StandardStreams.error("\(input): rejected: \(reason)")
            }
        }
        if anyRejected { throw ExitCode(1) }
    }
}
