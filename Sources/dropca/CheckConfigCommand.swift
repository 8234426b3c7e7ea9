import ArgumentParser
import DropCA

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration, the CA pair and the folders. Exit 0 when usable, 2 when not."
    )

    @OptionGroup var config: ConfigOption

    func run() throws {
        let report = config.invocation.checkConfiguration()
        for note in report.notes { print("ok: \(note)") }
        for warning in report.warnings { print("warning: \(warning)") }
        for error in report.errors { StandardStreams.error("error: \(error)") }
        if !report.passed { throw ExitCode(2) }
        print("configuration is usable")
    }
}
