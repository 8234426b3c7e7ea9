import Logging
import Synchronization
import Testing
@testable import Journal

@Suite struct StderrLogHandlerTests {
    /// 2026-11-29T00:44:07Z
    static let aMoment = 1_795_913_047

    @Test func lineHasTimeLevelIdentifierMessageAndSortedMetadata() {
        let line = StderrLogHandler.line(
            time: StderrLogHandlerTests.aMoment,
            level: .warning,
            identifier: "dropca",
            message: "request rejected",
            metadata: [("file", "a.csr"), ("reason", "RSA key of 1024 bits is below policy.min_rsa_bits")]
        )
        #expect(line == "2026-11-29T00:44:07Z warning dropca: request rejected file=a.csr reason=\"RSA key of 1024 bits is below policy.min_rsa_bits\"\n")
    }

    @Test func timestampIsUTCAndZeroPadded() {
        #expect(StderrLogHandler.timestamp(0) == "1970-01-01T00:00:00Z")
        #expect(StderrLogHandler.timestamp(2_524_608_000) == "2050-01-01T00:00:00Z")
        #expect(StderrLogHandler.timestamp(StderrLogHandlerTests.aMoment) == "2026-11-29T00:44:07Z")
    }

    @Test func recordsStayOnOneLineWhateverTheInput() {
        let line = StderrLogHandler.line(
            time: 0,
            level: .info,
            identifier: "dropca",
            message: "first\nsecond\r\u{1B}[31mred\u{2028}",
            metadata: [("subject", "CN=evil\n2026-01-01T00:00:00Z info dropca: forged")]
        )
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.hasSuffix("\n"))
        #expect(line.contains("first\\nsecond\\r\\x1B[31mred\\u{2028}"))
        #expect(line.contains("subject=\"CN=evil\\n2026-01-01T00:00:00Z info dropca: forged\""))
    }

    @Test(arguments: [
        ("a.csr", "a.csr"),
        ("two words", "\"two words\""),
        ("", "\"\""),
        ("a=b", "\"a=b\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("C:\\path", "\"C:\\\\path\""),
        ("tab\there", "\"tab\\there\""),
    ])
    func valuesAreQuotedWhenTheyCouldBeMisread(_ value: String, _ written: String) {
        #expect(StderrLogHandler.quotedIfNeeded(value) == written)
    }

    @Test func handlerWritesMergedMetadataThroughALogger() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "dropca.test") { label in
            StderrLogHandler(label: label, metadataProvider: nil) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "file"] = "from-handler.csr"
        logger[metadataKey: "worker"] = "3"
        logger.warning("issued with changes", metadata: ["file": "a.csr", "sans": ["DNS:a.example", "IP:192.0.2.1"]])
        logger.debug("below the level, dropped")

        let written = lines.withLock { $0 }
        try #require(written.count == 1)
        let line = written[0]
        #expect(line.hasSuffix(" warning dropca: issued with changes file=a.csr sans=\"DNS:a.example, IP:192.0.2.1\" worker=3\n"))
        #expect(line.prefix(20).wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil)
    }

    @Test func metadataProviderSitsBetweenHandlerAndCallMetadata() throws {
        let lines = Mutex<[String]>([])
        let provider = Logger.MetadataProvider { ["request": "r-7", "file": "from-provider.csr"] }
        var logger = Logger(label: "dropca.test") { label in
            StderrLogHandler(label: label, metadataProvider: provider) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "request"] = "from-handler"
        logger.info("taken", metadata: ["file": "from-call.csr"])
        let line = try #require(lines.withLock { $0.first })
        #expect(line.hasSuffix(" info dropca: taken file=from-call.csr request=r-7\n"))
    }

    @Test func errorsAreWrittenAsMetadata() throws {
        struct SpoolFull: Error, CustomStringConvertible { var description: String { "no space left" } }
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "dropca.test") { label in
            StderrLogHandler(label: label, metadataProvider: nil) { line in lines.withLock { $0.append(line) } }
        }
        logger.error("outbox write failed", error: SpoolFull())
        let line = try #require(lines.withLock { $0.first })
        #expect(line.contains("error.message=\"no space left\""))
        #expect(line.contains("error.type="))
    }

    @Test func levelAndMetadataAreValuesPerLogger() {
        var first = Logger(label: "first") { StderrLogHandler(label: $0, metadataProvider: nil) { _ in } }
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
