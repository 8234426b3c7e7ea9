import Foundation
import Glibc
import Testing
@testable import Journal

@Suite struct LogTargetTests {
    /// `JOURNAL_STREAM` as systemd would write it for the file behind `descriptor`.
    static func journalStream(of descriptor: Int32) throws -> String {
        var status = stat()
        try #require(fstat(descriptor, &status) == 0)
        return "\(status.st_dev):\(status.st_ino)"
    }

    @Test func explicitTargetsStayAsTheyAre() throws {
        let matching = ["JOURNAL_STREAM": try LogTargetTests.journalStream(of: STDERR_FILENO)]
        #expect(LogTarget.journal.resolved(environment: [:]) == .journal)
        #expect(LogTarget.stderr.resolved(environment: matching) == .stderr)
    }

    @Test func autoChoosesTheJournalWhenStandardErrorIsTheJournalStream() throws {
        let environment = ["JOURNAL_STREAM": try LogTargetTests.journalStream(of: STDERR_FILENO)]
        #expect(LogTarget.auto.resolved(environment: environment) == .journal)
    }

    @Test func autoChoosesStderrWithoutJournalStream() {
        #expect(LogTarget.auto.resolved(environment: [:]) == .stderr)
    }

    /// A child of a journald-logged service inherits JOURNAL_STREAM even when its stderr
    /// was redirected elsewhere; it must not log to the journal then.
    @Test func autoChoosesStderrWhenJournalStreamNamesAnotherFile() throws {
        var status = stat()
        try #require(fstat(STDERR_FILENO, &status) == 0)
        let otherInode = ["JOURNAL_STREAM": "\(status.st_dev):\(UInt64(status.st_ino) &+ 1)"]
        let otherDevice = ["JOURNAL_STREAM": "\(UInt64(status.st_dev) &+ 1):\(status.st_ino)"]
        #expect(LogTarget.auto.resolved(environment: otherInode) == .stderr)
        #expect(LogTarget.auto.resolved(environment: otherDevice) == .stderr)
    }

    @Test func theDescriptorDecidesNotTheVariableAlone() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dropca-stream-\(UUID().uuidString)").path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor); unlink(path) }
        let environment = ["JOURNAL_STREAM": try LogTargetTests.journalStream(of: descriptor)]
        #expect(LogTarget.auto.resolved(environment: environment, descriptor: descriptor) == .journal)
        #expect(LogTarget.auto.resolved(environment: environment, descriptor: STDERR_FILENO) == .stderr)
    }

    @Test(arguments: ["", ":", "1:", ":2", "a:b", "1:2:3", "-1:2", " 1:2", "1:2 ", "0x1:2", "99999999999999999999:1"])
    func malformedJournalStreamMeansStderr(_ value: String) {
        #expect(!LogTarget.isJournalStream(value, descriptor: STDERR_FILENO))
    }

    @Test func closedDescriptorIsNotAJournalStream() throws {
        let environment = try LogTargetTests.journalStream(of: STDERR_FILENO)
        #expect(!LogTarget.isJournalStream(environment, descriptor: -1))
    }

    @Test func rawValuesAreTheCommandLineSpelling() {
        #expect(LogTarget(rawValue: "journal") == .journal)
        #expect(LogTarget(rawValue: "stderr") == .stderr)
        #expect(LogTarget(rawValue: "auto") == .auto)
        #expect(LogTarget(rawValue: "syslog") == nil)
    }
}
