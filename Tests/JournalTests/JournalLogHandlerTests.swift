import TestSupport
import Foundation
import Logging
import Testing
@testable import Journal

/// Records sent through `JournalLogHandler` to a real journald and read back with
/// `journalctl`. Each test tags its records with a `DROPCA_TEST_RUN` of its own.
@Suite struct JournalLogHandlerTests {
    private func journalLogger() -> Logger {
        var logger = Logger(label: "dropca.test") { JournalLogHandler(label: $0, metadataProvider: nil) }
        logger.logLevel = .trace
        return logger
    }

    private func newRun() -> String {
        UUID().uuidString.lowercased()
    }

    @Test func issuedRecordArrivesWithItsFields() async throws {
        try await JournaldFixture.ensureRunning()
        let run = newRun()
        let line: UInt = #line + 1
        journalLogger().info("issued 0A1B for a.csr", metadata: DropCAEvent.certificateIssued.metadata([
            "test_run": "\(run)",
            "file": "a.csr",
            "dropca.serial": "0A1B",
            "sans": ["DNS:a.example", "IP:192.0.2.1"],
            "not_after": "2027-11-29T00:44:07Z",
        ]))

        let entry = try #require(try await JournaldFixture.entries(run: run).first)
        #expect(entry["MESSAGE"] == "issued 0A1B for a.csr")
        #expect(entry["PRIORITY"] == "6")
        #expect(entry["SYSLOG_IDENTIFIER"] == "dropca")
        #expect(entry["DROPCA_FILE"] == "a.csr")
        #expect(entry["DROPCA_SERIAL"] == "0A1B")
        #expect(entry["DROPCA_SANS"] == "DNS:a.example, IP:192.0.2.1")
        #expect(entry["DROPCA_NOT_AFTER"] == "2027-11-29T00:44:07Z")
        #expect(entry["DROPCA_LOGGER"] == "dropca.test")
        #expect(entry["CODE_FILE"]?.hasSuffix("JournalLogHandlerTests.swift") == true)
        #expect(entry["CODE_LINE"] == String(line))
        #expect(entry["CODE_FUNC"]?.hasPrefix("issuedRecordArrivesWithItsFields") == true)

        let messageID = try #require(entry["MESSAGE_ID"])
        #expect(messageID == DropCAEvent.certificateIssued.messageID.hex)
        let catalog = try MessageCatalog.load()
        #expect(catalog.entries.contains { $0.id == messageID })
    }

    @Test func rejectedRecordIsAWarningWithItsReason() async throws {
        try await JournaldFixture.ensureRunning()
        let run = newRun()
        journalLogger().warning("rejected b.csr", metadata: DropCAEvent.requestRejected.metadata([
            "test_run": "\(run)",
            "file": "b.csr",
            "reason": "RSA key of 1024 bits is below policy.min_rsa_bits (2048)",
        ]))

        let entry = try #require(try await JournaldFixture.entries(run: run).first)
        #expect(entry["PRIORITY"] == "4")
        #expect(entry["DROPCA_REASON"] == "RSA key of 1024 bits is below policy.min_rsa_bits (2048)")
        #expect(entry["MESSAGE_ID"] == "8a5a91583f89410389afd5ffebbf8db4")
    }

    @Test(arguments: Logger.Level.allCases)
    func priorityFollowsTheLevel(_ level: Logger.Level) async throws {
        try await JournaldFixture.ensureRunning()
        let run = newRun()
        journalLogger().log(level: level, "level \(level)", metadata: ["test_run": "\(run)"])

        let entry = try #require(try await JournaldFixture.entries(run: run).first)
        let expected = ["trace": "7", "debug": "7", "info": "6", "notice": "5", "warning": "4", "error": "3", "critical": "2"]
        #expect(entry["PRIORITY"] == expected["\(level)"])
    }

    @Test func multiLineMessagesAndValuesArriveIntact() async throws {
        try await JournaldFixture.ensureRunning()
        let run = newRun()
        let message = "first line\nsecond line\n\ttabbed = \"quoted\" ünïcödé"
        let subject = "CN=two\nlines"
        journalLogger().notice("\(message)", metadata: ["test_run": "\(run)", "subject": "\(subject)"])

        let entry = try #require(try await JournaldFixture.entries(run: run).first)
        #expect(entry["MESSAGE"] == message)
        #expect(entry["DROPCA_SUBJECT"] == subject)
    }

    @Test func handlerMetadataAndCallMetadataAreMerged() async throws {
        try await JournaldFixture.ensureRunning()
        let run = newRun()
        var logger = journalLogger()
        logger[metadataKey: "test_run"] = "\(run)"
        logger[metadataKey: "file"] = "from-handler.csr"
        logger[metadataKey: "worker"] = "2"
        logger.info("merged", metadata: ["file": "from-call.csr", "9lives": "yes", "_hidden": "shown"])

        let entry = try #require(try await JournaldFixture.entries(run: run).first)
        #expect(entry["DROPCA_FILE"] == "from-call.csr")
        #expect(entry["DROPCA_WORKER"] == "2")
        #expect(entry["DROPCA_9LIVES"] == "yes")
        #expect(entry["DROPCA__HIDDEN"] == "shown")
    }

    @Test func everyRecordIsOneEntry() async throws {
        try await JournaldFixture.ensureRunning()
        let run = newRun()
        let logger = journalLogger()
        for index in 0..<20 {
            logger.info("record \(index)", metadata: ["test_run": "\(run)", "index": "\(index)"])
        }
        let entries = try await JournaldFixture.entries(run: run, count: 20)
        #expect(entries.count == 20)
        #expect(Set(entries.compactMap { $0["DROPCA_INDEX"] }) == Set((0..<20).map(String.init)))
    }

    @Test func fieldsUseOnlyValidNames() {
        let handler = JournalLogHandler(label: "dropca.test", metadataProvider: nil)
        let event = LogEvent(
            level: .info, message: "x", metadata: nil, source: nil, file: "F.swift", function: "f()", line: 1
        )
        let fields = handler.fields(for: event, metadata: [("x-y", "1"), ("", "2"), ("message_id", "3"), ("é", "4")])
        for field in fields {
            #expect(JournalFieldName.isValid(field.name.rawValue), "\(field.name)")
        }
        #expect(fields.prefix(6).map(\.name.rawValue) == ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC"])
    }

    @Test func levelAndMetadataAreValuesPerLogger() {
        var first = Logger(label: "first") { JournalLogHandler(label: $0, metadataProvider: nil) }
        first.logLevel = .debug
        first[metadataKey: "only-on"] = "first"
        var second = first
        second.logLevel = .error
        second[metadataKey: "only-on"] = "second"
        #expect(first.logLevel == .debug)
        #expect(second.logLevel == .error)
        #expect(first[metadataKey: "only-on"] == "first")
        #expect(second[metadataKey: "only-on"] == "second")
    }
}
