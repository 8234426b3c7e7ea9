import ArgumentParser
import DropCA

struct IssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue certificates for request files, with a profile's policy; writes its outputs (DER unless it says otherwise).",
        discussion: """
        For requests that arrive by mail or ticket rather than through the inbox: each file \
        (DER, PEM or bare base64, up to policy.max_csr_bytes; symbolic links are followed) is \
        judged by the same policy as the daemon's (the top-level one, or --profile's) and signed with the configured CA. Nothing \
        is recorded in the ledger, which belongs to the service; keep the output. One line per \
        request goes to standard error: the serial issued, or why the request was refused.

        Exit status: 0 when every request was issued, 1 when any was rejected (the others \
        are still issued), 2 for a usage or configuration error.
        """
    )

    @OptionGroup var config: ConfigOption

    @Option(
        name: .short,
        help: ArgumentHelp("Write the certificate here (one request, and a profile with one output, only; - for standard output).", valueName: "out"),
        completion: .file()
    )
    var output: String?

    @Option(
        name: .customLong("out-dir"),
        help: ArgumentHelp("Write STEM.cer (and the profile's other outputs) for each request into this folder (default: the current folder).", valueName: "dir"),
        completion: .directory
    )
    var outDirectory: String?

    @Option(name: .long, help: ArgumentHelp(
        "Issue with this [profiles.NAME]'s policy and outputs (default: the top-level one).", valueName: "NAME"))
    var profile: String?

    @Argument(help: ArgumentHelp("Request files: DER, PEM or bare base64.", valueName: "csr"), completion: .file())
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
