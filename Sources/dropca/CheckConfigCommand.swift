import ArgumentParser
import DropCA
import Foundation

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration, the CA pair and the folders. Exit 0 when usable, 2 when not."
    )

    @OptionGroup var config: ConfigOption

    func run() throws {
        let report = ConfigurationCheck.run(configPath: config.path, environment: ProcessInfo.processInfo.environment)
        for note in report.notes { print("ok: \(note)") }
        for warning in report.warnings { print("warning: \(warning)") }
        for error in report.errors { printError("error: \(error)") }
        if !report.passed { throw ExitCode(2) }
        print("configuration is usable")
    }
}
