import Foundation
import Glibc
import Testing

@testable import Spool

/// One inotify descriptor for every profile's inbox: each event says which inbox it is
/// about, losing any of them is reported for that one, and one folder cannot be watched
/// twice under two names.
@Suite("Inbox watcher with several inboxes (real inotify)")
struct InboxWatcherInboxesTests {
    let root: TemporaryFolder
    let first: String
    let second: String

    init() throws {
        root = try TemporaryFolder("watch-many")
        first = try root.subfolder("first")
        second = try root.subfolder("second")
    }

    func collect(_ watcher: InboxWatcher, until done: ([InboxWatcher.WatchedEvent]) -> Bool) throws -> [InboxWatcher.WatchedEvent] {
        var events: [InboxWatcher.WatchedEvent] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while !done(events) && ContinuousClock.now < deadline {
            events += try watcher.nextWatchedEvents(timeout: .milliseconds(100))
        }
        return events
    }

    @Test func eachEventNamesItsInbox() throws {
        let watcher = try InboxWatcher(inboxes: [try Inbox(path: first), try Inbox(path: second)])
        #expect(watcher.paths == [first, second])
        try writeFile(second + "/b.csr", "content")
        try writeFile(first + "/a.csr", "content")
        let events = try collect(watcher) { $0.filter { if case .closedWrite = $0.event { true } else { false } }.count == 2 }
        let closes = events.filter { if case .closedWrite = $0.event { true } else { false } }
        #expect(closes == [.init(inbox: 1, event: .closedWrite("b.csr")), .init(inbox: 0, event: .closedWrite("a.csr"))])
    }

    @Test func losingOneInboxIsReportedForThatOne() throws {
        let watcher = try InboxWatcher(inboxes: [try Inbox(path: first), try Inbox(path: second)])
        #expect(rmdir(second) == 0)
        let events = try collect(watcher) { $0.contains { if case .inboxLost = $0.event { true } else { false } } }
        let lost = events.first { if case .inboxLost = $0.event { true } else { false } }
        #expect(lost?.inbox == 1, "\(events)")
    }

    @Test func oneFolderUnderTwoNamesIsRefused() throws {
        let link = root.path + "/alias"
        #expect(symlink(first, link) == 0)
        #expect(throws: SpoolError.self) {
            try InboxWatcher(inboxes: [try Inbox(path: first), try Inbox(path: link)])
        }
    }
}
