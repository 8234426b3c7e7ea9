import Foundation
import Glibc
import Testing

@testable import Spool

/// A profile with several `outputs` publishes several files per input: all of one input's
/// files in the same batch, renamed back to back before its input goes, and the CA
/// certificate beside them under a name no upload can produce.
@Suite("Outbox: several files per input, and the CA", .serialized)
struct OutboxFilesTests {
    let root: TemporaryFolder
    let outboxPath: String

    init() throws {
        root = try TemporaryFolder("outbox-files")
        outboxPath = try root.subfolder("outbox")
    }

    static func files(_ seed: UInt8) -> [OutboxFile] {
        [OutboxFile(suffix: ".cer", bytes: [seed]), OutboxFile(suffix: ".pem", bytes: [seed, seed]),
         OutboxFile(suffix: ".chain.pem", bytes: [seed, 1]), OutboxFile(suffix: ".p7b", bytes: [seed, 2])]
    }

    @Test func everyFileOfAnItemAppearsBeforeItsInputIsHandedBack() throws {
        let outbox = try Outbox(path: outboxPath)
        let staged = try outbox.stage(files: [(input: "a.csr", files: Self.files(1)), (input: "b.pem", files: Self.files(2))])
        #expect(try nameStrings(in: outboxPath).allSatisfy { $0.hasPrefix(".dropca-") }, "nothing visible before the renames")
        var seenAtCallback: [[String]] = []
        let names = try outbox.publish(staged) { _ in
            seenAtCallback.append((try? nameStrings(in: outboxPath).filter { !$0.hasPrefix(".") }) ?? [])
        }
        #expect(names == ["a.cer", "a.pem", "a.chain.pem", "a.p7b", "b.cer", "b.pem", "b.chain.pem", "b.p7b"])
        #expect(seenAtCallback.first == ["a.cer", "a.chain.pem", "a.p7b", "a.pem"], "all of a's files when its input may go")
        #expect(try readFile(outboxPath + "/b.chain.pem") == [2, 1])
        #expect(try nameStrings(in: outboxPath) == ["a.cer", "a.chain.pem", "a.p7b", "a.pem", "b.cer", "b.chain.pem", "b.p7b", "b.pem"])
        for name in try nameStrings(in: outboxPath) {
            #expect((lstatPath(outboxPath + "/" + name)?.st_mode ?? 0) & 0o7777 == 0o644, "\(name)")
        }
    }

    @Test func anItemLeftOutLeavesNoneOfItsFiles() throws {
        let outbox = try Outbox(path: outboxPath)
        let staged = try outbox.stage(files: [(input: "a.csr", files: Self.files(1)), (input: "b.csr", files: Self.files(2))])
        let names = try outbox.publish(staged, including: [false, true])
        #expect(names == ["b.cer", "b.pem", "b.chain.pem", "b.p7b"])
        #expect(try nameStrings(in: outboxPath) == ["b.cer", "b.chain.pem", "b.p7b", "b.pem"], "no temporary left")
    }

    @Test func aFailedStageLeavesNoTemporary() throws {
        let outbox = try Outbox(path: outboxPath)
        #expect(throws: SpoolError.self) {
            try outbox.stage(files: [(input: "a.csr", files: Self.files(1)), (input: "b.csr", files: [OutboxFile(suffix: "/x", bytes: [1])])])
        }
        #expect(try nameStrings(in: outboxPath) == [])
    }

    /// Batches of several outboxes staged without syncing are made durable together, then
    /// published with one folder fsync each, also side by side.
    @Test func severalOutboxesBatchesAreSyncedTogether() throws {
        let otherPath = try root.subfolder("other")
        let (first, second) = (try Outbox(path: outboxPath), try Outbox(path: otherPath))
        let a = try first.stage(files: [(input: "a.csr", files: Self.files(1))], syncing: false)
        let b = try second.stage(files: [(input: "b.csr", files: Self.files(2)), (input: "c.csr", files: Self.files(3))], syncing: false)
        #expect(Outbox.synchronize([(first, a), (second, b)]).allSatisfy { $0 == nil })
        _ = try first.publish(a, syncingFolder: false)
        _ = try second.publish(b, syncingFolder: false)
        #expect(FolderSyncs.run([{ try first.synchronize() }, { try second.synchronize() }]).allSatisfy { $0 == nil })
        #expect(try nameStrings(in: outboxPath) == ["a.cer", "a.chain.pem", "a.p7b", "a.pem"])
        #expect(try nameStrings(in: otherPath).count == 8)
        // A batch whose temporaries are gone is not durable, and only it is discarded.
        let c = try first.stage(files: [(input: "d.csr", files: Self.files(4))], syncing: false)
        let d = try second.stage(files: [(input: "e.csr", files: Self.files(5))], syncing: false)
        for name in try nameStrings(in: outboxPath) where name.hasPrefix(".dropca-") { unlink(outboxPath + "/" + name) }
        let results = Outbox.synchronize([(first, c), (second, d)])
        #expect(results[0] != nil && results[1] == nil)
        _ = try second.publish(d)
        #expect(try nameStrings(in: otherPath).filter { $0.hasPrefix("e.") }.count == 4)
    }

    @Test func theCACertificateIsKeptUnderAHiddenNameAndReplacedWhenItChanges() throws {
        let outbox = try Outbox(path: outboxPath)
        try outbox.publishIssuingCA([0x30, 1, 2])
        #expect(try readFile(outboxPath + "/.ca.cer") == [0x30, 1, 2])
        #expect((lstatPath(outboxPath + "/.ca.cer")?.st_mode ?? 0) & 0o7777 == 0o644)
        // The same bytes again: the file is left as it is.
        let before = try #require(lstatPath(outboxPath + "/.ca.cer")).st_ino
        try outbox.publishIssuingCA([0x30, 1, 2])
        #expect(lstatPath(outboxPath + "/.ca.cer")?.st_ino == before)
        // A new CA replaces it.
        try outbox.publishIssuingCA([0x30, 9])
        #expect(try readFile(outboxPath + "/.ca.cer") == [0x30, 9])
        #expect(try nameStrings(in: outboxPath) == [".ca.cer"], "no temporary left")
        // Not a name an upload can answer to: inputs starting with a dot are never taken.
        #expect(SpoolName(".ca.csr").classification != .candidate)
        // And not a temporary that a start removes.
        #expect(try outbox.removeStaleTemporaries() == [])
    }
}
