import ArgumentParser
import DropCA

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration, the CA pair and the folders.",
        discussion: """
        Checks that the configuration file is valid (errors name the file, the line and \
        the key), that the CA key matches the CA certificate and may sign, and that the spool \
        and state folders are usable, and warns about settings worth a look (no AIA URL, a \
        CRL that certificates do not point at). A key given as credential:NAME is read from \
        $CREDENTIALS_DIRECTORY/NAME, which only the service has: for the service's own \
        configuration run CREDENTIALS_DIRECTORY=/etc/dropca dropca check-config as root.

        Exit status: 0 when dropca can start with this configuration, 2 when not.
        """
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
