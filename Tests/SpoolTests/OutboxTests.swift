import Foundation
import Glibc
import Testing

@testable import Spool

@Suite("Outbox publishing", .serialized)
struct OutboxTests {
    let root: TemporaryFolder
    let outboxPath: String

    init() throws {
        root = try TemporaryFolder("outbox")
        outboxPath = try root.subfolder("outbox")
    }

    @Test func aCertificateAppearsAsStemDotCerWithMode0644DespiteUmask077() throws {
        let outbox = try Outbox(path: outboxPath)
        let der: [UInt8] = [0x30, 0x82, 0x01, 0x00, 0xAA, 0xBB]
        let previous = umask(0o077)
        defer { umask(previous) }
        let name = try outbox.publish(der, forInput: "router.CSR")
        #expect(name == "router.cer")
        #expect(try readFile(outboxPath + "/router.cer") == der)
        #expect((lstatPath(outboxPath + "/router.cer")?.st_mode ?? 0) & 0o7777 == 0o644)
        #expect(try nameStrings(in: outboxPath) == ["router.cer"])  // no temporary left
    }

    @Test func aBatchPublishesEveryItem() throws {
        let outbox = try Outbox(path: outboxPath)
        let names = try outbox.publish([
            (input: "a.csr", certificate: [1]), (input: "b.req", certificate: [2, 2]),
            (input: "c", certificate: [3, 3, 3]),
        ])
        #expect(names == ["a.cer", "b.cer", "c.cer"])
        #expect(try nameStrings(in: outboxPath) == ["a.cer", "b.cer", "c.cer"])
        #expect(try readFile(outboxPath + "/b.cer") == [2, 2])
        #expect(try readFile(outboxPath + "/c.cer") == [3, 3, 3])
    }

    @Test func aStagedBatchIsInvisibleUntilPublished() throws {
        let outbox = try Outbox(path: outboxPath)
        let staged = try outbox.stage([(input: "a.csr", certificate: [1]), (input: "b.csr", certificate: [2, 2])])
        #expect(staged.count == 2)
        // Only hidden temporaries so far, already holding the whole certificate.
        let hidden = try nameStrings(in: outboxPath)
        #expect(hidden.count == 2 && hidden.allSatisfy { $0.hasPrefix(".dropca-") && $0.hasSuffix(".tmp") })
        #expect(try hidden.map { try readFile(outboxPath + "/" + $0) }.sorted { $0.count < $1.count } == [[1], [2, 2]])
        var seen: [Int] = []
        let names = try outbox.publish(staged) { seen.append($0) }
        #expect(names == ["a.cer", "b.cer"])
        #expect(seen == [0, 1])
        #expect(try nameStrings(in: outboxPath) == ["a.cer", "b.cer"])
    }

    @Test func onlyIncludedItemsArePublishedAndTheOtherTemporariesGo() throws {
        let outbox = try Outbox(path: outboxPath)
        let staged = try outbox.stage([
            (input: "a.csr", certificate: [1]), (input: "b.csr", certificate: [2]), (input: "c.csr", certificate: [3]),
        ])
        var seen: [Int] = []
        let names = try outbox.publish(staged, including: [true, false, true]) { seen.append($0) }
        #expect(names == ["a.cer", "c.cer"])
        #expect(seen == [0, 2])
        #expect(try nameStrings(in: outboxPath) == ["a.cer", "c.cer"])
    }

    @Test func aDiscardedBatchLeavesNothing() throws {
        let outbox = try Outbox(path: outboxPath)
        let single = try outbox.stage([(input: "one.csr", certificate: [1])])  // fsynced on its own
        let batch = try outbox.stage([(input: "a.csr", certificate: [1]), (input: "b.csr", certificate: [2])])  // synced side by side
        outbox.discard(single)
        outbox.discard(batch)
        #expect(try nameStrings(in: outboxPath).isEmpty)
    }

    @Test func aBatchWithAnUnsafeNameStagesNothing() throws {
        let outbox = try Outbox(path: outboxPath)
        #expect(throws: SpoolError(.invalidName, "")) {
            try outbox.stage([(input: "good.csr", certificate: [1]), (input: ".hidden", certificate: [2])])
        }
        #expect(try nameStrings(in: outboxPath).isEmpty)
    }

    @Test func aLargeBatchIsSyncedSideBySideAndPublishedWhole() throws {
        let outbox = try Outbox(path: outboxPath)
        let items = (0..<100).map { (input: SpoolName("d\($0).csr"), certificate: [UInt8(truncatingIfNeeded: $0)]) }
        let names = try outbox.publish(items)
        #expect(names.count == 100)
        #expect(try nameStrings(in: outboxPath).count == 100)
        #expect(try readFile(outboxPath + "/d42.cer") == [42])
    }

    @Test func aFileThatCannotBeSyncedIsNamed() throws {
        let outbox = try Outbox(path: outboxPath)
        try writeFile(outboxPath + "/present", "x")
        #expect(throws: SpoolError(.cannotSync, "")) {
            try outbox.folder.syncTemporaries(["present", "missing"])
        }
        do {
            try outbox.folder.syncTemporaries(["present", "missing"])
        } catch let error as SpoolError {
            #expect("\(error)".contains("missing"))
        }
        try outbox.folder.syncTemporaries(["present"])
    }

    @Test func parallelCallsRunEveryIndexOnce() {
        let seen = Counts(1000)
        ParallelCalls.forEach(1000, width: 16) { seen.add($0) }
        #expect(seen.values == [Int](repeating: 1, count: 1000))
        ParallelCalls.forEach(0, width: 16) { _ in Issue.record("no index to run") }
    }

    @Test func anExistingCertificateIsReplaced() throws {
        let outbox = try Outbox(path: outboxPath)
        try outbox.publish([1, 1, 1], forInput: "x.pem")
        try outbox.publish([2], forInput: "x.csr")
        #expect(try readFile(outboxPath + "/x.cer") == [2])
        #expect(try nameStrings(in: outboxPath) == ["x.cer"])
    }

    @Test func namesThatAreNotPlainEntriesAreNotPublished() throws {
        let outbox = try Outbox(path: outboxPath)
        #expect(throws: SpoolError(.invalidName, "")) {
            try outbox.publish([1], forInput: "../escape")
        }
        #expect(throws: SpoolError(.invalidName, "")) {
            try outbox.publish([1], forInput: ".hidden")
        }
        #expect(try nameStrings(in: outboxPath).isEmpty)
        #expect(try nameStrings(in: root.path) == ["outbox"])
    }

    @Test func aReaderNeverSeesAPartialCertificate() throws {
        let outbox = try Outbox(path: outboxPath)
        let size = 4 * 1024 * 1024
        let observer = Observer(folder: outboxPath, expectedSize: size)
        let thread = Thread { observer.run() }
        thread.start()
        for round in 0..<12 {
            try outbox.publish([UInt8](repeating: UInt8(round + 1), count: size), forInput: "big.csr")
        }
        observer.stop()
        let report = observer.waitForReport()
        #expect(report.partialReads == 0)
        #expect(report.visibleTemporaries == 0)
        #expect(report.completeReads > 0, "the observer never saw the certificate; the test proved nothing")
        #expect(try readFile(outboxPath + "/big.cer") == [UInt8](repeating: 12, count: size))
    }

    @Test func staleTemporariesAreRemovedAndNothingElse() throws {
        try writeFile(outboxPath + "/.dropca-0123456789abcdef.tmp", "half a certificate")
        try writeFile(outboxPath + "/.other-hidden", "not ours")
        try writeFile(outboxPath + "/kept.cer", "a certificate")
        _ = try root.subfolder("outbox/.dropca-dir.tmp")
        let removed = try Outbox(path: outboxPath).removeStaleTemporaries()
        #expect(removed == [".dropca-0123456789abcdef.tmp"])
        #expect(try nameStrings(in: outboxPath) == [".dropca-dir.tmp", ".other-hidden", "kept.cer"])
    }

    @Test func openingAMissingOutboxFails() {
        #expect(throws: SpoolError(.cannotOpenFolder, "")) {
            try Outbox(path: root.path + "/missing")
        }
    }
}

/// Watches a folder from another thread while certificates are published: counts every
/// read of the final name that was not complete, and every visible (non-hidden) name
/// other than the final one.
final class Observer: @unchecked Sendable {
    struct Report {
        var completeReads = 0
        var partialReads = 0
        var visibleTemporaries = 0
        var hiddenNamesSeen = 0
    }

    private let folder: String
    private let expectedSize: Int
    private let lock = NSLock()
    private var stopping = false
    private var done = false
    private var report = Report()

    init(folder: String, expectedSize: Int) {
        self.folder = folder
        self.expectedSize = expectedSize
    }

    func run() {
        var local = Report()
        while !lock.withLock({ stopping }) {
            for name in (try? nameStrings(in: folder)) ?? [] {
                if name.hasPrefix(".") {
                    local.hiddenNamesSeen += 1
                } else if name != "big.cer" {
                    local.visibleTemporaries += 1
                }
            }
            // Cheap checks, so the loop runs thousands of times during one publish: the
            // size, and the first and last byte (each round writes one distinct byte value).
            let fd = open(folder + "/big.cer", O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                var info = stat()
                var first: UInt8 = 0
                var last: UInt8 = 0
                let complete = fstat(fd, &info) == 0 && info.st_size == expectedSize
                    && pread(fd, &first, 1, 0) == 1 && pread(fd, &last, 1, off_t(expectedSize - 1)) == 1
                    && first == last && first != 0
                close(fd)
                if complete { local.completeReads += 1 } else { local.partialReads += 1 }
            }
        }
        lock.withLock {
            report = local
            done = true
        }
    }

    func stop() {
        lock.withLock { stopping = true }
    }

    func waitForReport() -> Report {
        while true {
            if let finished = lock.withLock({ done ? report : nil }) { return finished }
            usleep(1000)
        }
    }
}

/// Per-index call counts from several threads. `@unchecked Sendable`: guarded by `lock`.
private final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int]
    init(_ size: Int) { counts = [Int](repeating: 0, count: size) }
    func add(_ index: Int) { lock.withLock { counts[index] += 1 } }
    var values: [Int] { lock.withLock { counts } }
}
