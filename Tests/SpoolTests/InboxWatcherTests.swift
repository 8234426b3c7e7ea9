import Foundation
import Glibc
import Testing

@testable import Spool

@Suite("Inbox watcher (real inotify)")
struct InboxWatcherTests {
    let root: TemporaryFolder
    let inboxPath: String

    init() throws {
        root = try TemporaryFolder("watch")
        inboxPath = try root.subfolder("inbox")
    }

    /// Collects events until `done` says so or `limit` passes.
    func collect(
        _ watcher: InboxWatcher, limit: Duration = .seconds(5), until done: ([InboxEvent]) -> Bool
    ) throws -> [InboxEvent] {
        var events: [InboxEvent] = []
        let deadline = ContinuousClock.now + limit
        while !done(events) && ContinuousClock.now < deadline {
            events += try watcher.nextEvents(timeout: .milliseconds(100))
        }
        return events
    }

    @Test func aCopiedFileIsCreatedModifiedAndClosed() throws {
        let watcher = try InboxWatcher(inbox: try Inbox(path: inboxPath))
        try writeFile(inboxPath + "/cp.csr", "content")  // what cp does: open, write, close
        let events = try collect(watcher) { $0.contains(.closedWrite("cp.csr")) }
        #expect(events == [.created("cp.csr", isDirectory: false), .modified("cp.csr"), .closedWrite("cp.csr")])
    }

    @Test func aRenameIntoTheInboxIsMovedIn() throws {
        try writeFile(root.path + "/staged.csr", "content")
        let watcher = try InboxWatcher(path: inboxPath)
        #expect(rename(root.path + "/staged.csr", inboxPath + "/final.csr") == 0)
        let events = try collect(watcher) { $0.contains(.movedIn("final.csr")) }
        #expect(events == [.movedIn("final.csr")])
    }

    @Test func aRenameWithinTheInboxRemovesTheOldNameAndMovesInTheNew() throws {
        try writeFile(inboxPath + "/up.csr.part", "content")
        let watcher = try InboxWatcher(path: inboxPath)
        #expect(rename(inboxPath + "/up.csr.part", inboxPath + "/up.csr") == 0)
        let events = try collect(watcher) { $0.contains(.movedIn("up.csr")) }
        #expect(events == [.removed("up.csr.part"), .movedIn("up.csr")])
    }

    @Test func aSlowWriterIsReportedClosedOnlyWhenItCloses() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        let fd = open(inboxPath + "/slow.csr", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        #expect(write(fd, "part one", 8) == 8)
        let early = try collect(watcher, limit: .milliseconds(600)) { _ in false }
        #expect(early == [.created("slow.csr", isDirectory: false), .modified("slow.csr")])

        #expect(write(fd, "part two", 8) == 8)
        let middle = try collect(watcher, limit: .milliseconds(300)) { _ in false }
        #expect(middle == [.modified("slow.csr")])

        close(fd)
        let late = try collect(watcher) { $0.contains(.closedWrite("slow.csr")) }
        #expect(late == [.closedWrite("slow.csr")])
    }

    @Test func deletionsFoldersAndLinksAreReported() throws {
        try writeFile(inboxPath + "/del.csr", "x")
        let watcher = try InboxWatcher(path: inboxPath)
        #expect(unlink(inboxPath + "/del.csr") == 0)
        #expect(mkdir(inboxPath + "/dir", 0o755) == 0)
        #expect(symlink("/etc/passwd", inboxPath + "/link.csr") == 0)
        let events = try collect(watcher) { $0.count >= 3 }
        #expect(
            events == [
                .removed("del.csr"), .created("dir", isDirectory: true), .created("link.csr", isDirectory: false),
            ])
    }

    @Test func rawNamesArriveByteForByte() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        let raw: [UInt8] = [0x61, 0x0A, 0xFF, 0x20, 0x62]
        try writeFile(root.path + "/src", "x")
        let renamed = pathBytes(inboxPath, raw).withUnsafeBufferPointer { target in
            rename(root.path + "/src", target.baseAddress)
        }
        try #require(renamed == 0)
        let name = SpoolName(bytes: raw)
        let events = try collect(watcher) { $0.contains(.movedIn(name)) }
        #expect(events.contains(.movedIn(name)))
    }

    @Test func deletingTheInboxIsFatal() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        #expect(rmdir(inboxPath) == 0)
        let events = try collect(watcher) { $0.contains { if case .inboxLost = $0 { true } else { false } } }
        #expect(events.first == .inboxLost("the inbox folder was deleted"))
    }

    @Test func movingTheInboxAwayIsFatal() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        #expect(rename(inboxPath, root.path + "/elsewhere") == 0)
        let events = try collect(watcher) { !$0.isEmpty }
        #expect(events == [.inboxLost("the inbox folder was moved or renamed")])
    }

    @Test func theWatchFollowsTheHeldFolderNotThePath() throws {
        // The inbox is opened, then its path is swapped for another folder. The watch
        // must be on the folder the Inbox holds, or events and reads would disagree.
        let inbox = try Inbox(path: inboxPath)
        #expect(rename(inboxPath, root.path + "/held") == 0)
        _ = try root.subfolder("inbox")
        let watcher = try InboxWatcher(inbox: inbox)
        try writeFile(root.path + "/inbox/decoy.csr", "x")
        try writeFile(root.path + "/held/real.csr", "x")
        let events = try collect(watcher) { $0.contains(.closedWrite("real.csr")) }
        #expect(events.contains(.closedWrite("real.csr")))
        #expect(!events.contains(.closedWrite("decoy.csr")))
    }

    @Test func aFloodedQueueReportsOverflow() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        // Each created file queues IN_CREATE and IN_CLOSE_WRITE; the kernel's queue holds
        // fs.inotify.max_queued_events (16384 by default), so this overflows it.
        let limit = (try? readText("/proc/sys/fs/inotify/max_queued_events"))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 16384
        try #require(limit <= 100_000, "max_queued_events is too large to flood in a test")
        for index in 0..<(limit / 2 + 100) {
            let fd = open(inboxPath + "/f\(index)", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            try #require(fd >= 0)
            close(fd)
        }
        let events = try collect(watcher, limit: .seconds(10)) { $0.contains(.overflow) }
        #expect(events.contains(.overflow))
    }

    @Test func wakeEndsAWaitAtOnce() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        let waker = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            watcher.wake()
        }
        waker.start()
        let start = ContinuousClock.now
        let events = try watcher.nextEvents(timeout: .seconds(10))
        #expect(events.isEmpty)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aTimeoutReturnsNoEvents() throws {
        let watcher = try InboxWatcher(path: inboxPath)
        #expect(try watcher.nextEvents(timeout: .milliseconds(50)).isEmpty)
        #expect(InboxWatcher.milliseconds(.microseconds(1)) == 1)
        #expect(InboxWatcher.milliseconds(nil) == -1)
        #expect(InboxWatcher.milliseconds(.seconds(2)) == 2000)
    }

    @Test func watchingAFileIsRefused() throws {
        try writeFile(root.path + "/file", "x")
        #expect(throws: SpoolError(.cannotWatch, "")) {
            try InboxWatcher(path: root.path + "/file")
        }
    }

    @Test func decodingCopesWithUnalignedRecordsAndTruncation() {
        // Two records packed back to back at an odd offset, the second cut short.
        func record(wd: Int32, mask: UInt32, name: String, padTo: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: wd.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: mask.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: UInt32(0)) { bytes += $0 }
            withUnsafeBytes(of: UInt32(padTo).littleEndian) { bytes += $0 }
            bytes += Array(name.utf8) + [UInt8](repeating: 0, count: padTo - name.utf8.count)
            return bytes
        }
        let buffer: [UInt8] = [0xEE] + record(wd: 1, mask: UInt32(IN_CLOSE_WRITE), name: "a.csr", padTo: 16)
            + record(wd: 1, mask: UInt32(IN_MOVED_TO), name: "b.csr", padTo: 16).prefix(20)
        #expect(InboxWatcher.decode(buffer[1...], watch: 1) == [.closedWrite("a.csr")])
        let overflow = record(wd: -1, mask: UInt32(IN_Q_OVERFLOW), name: "", padTo: 0)
        #expect(InboxWatcher.decode(overflow[...], watch: 1) == [.overflow])
    }
}
