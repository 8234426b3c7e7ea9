import Testing

@testable import Spool

/// The intake timing rules of the README ("When a file is taken"), driven by a fake clock: time only
/// moves when a test says so.
@Suite("Intake tracker")
struct IntakeTrackerTests {
    /// A fixed origin; every instant in these tests is `t(seconds)` after it.
    static let origin = ContinuousClock.now
    func t(_ seconds: Double) -> IntakeTracker.Instant {
        IntakeTrackerTests.origin + .milliseconds(Int(seconds * 1000))
    }

    func regular(size: Int64 = 100, mtime: Int = 1000, inode: UInt64 = 1, links: Int = 1) -> EntryStatus {
        EntryStatus(
            kind: .regularFile, links: links,
            identity: FileIdentity(
                device: 1, inode: inode, size: size, modified: FileTime(seconds: mtime),
                changed: FileTime(seconds: mtime)))
    }

    func entry(_ kind: EntryKind) -> EntryStatus {
        EntryStatus(
            kind: kind, links: 1,
            identity: FileIdentity(device: 1, inode: 9, size: 0, modified: FileTime(seconds: 1), changed: FileTime(seconds: 1)))
    }

    func scan(_ tracker: inout IntakeTracker, _ entries: [(SpoolName, EntryStatus)], at time: Double) {
        tracker.scanned(entries.map { ScannedEntry(name: $0.0, status: $0.1) }, at: t(time))
    }

    // MARK: events

    @Test func aCloseWriteMakesANameReadyAtOnce() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.appeared("a.csr", expectsCloseEvent: true)
        tracker.modified("a.csr")
        #expect(tracker.nextReady() == nil)
        tracker.closedWrite("a.csr")
        #expect(tracker.nextReady() == "a.csr")
        #expect(tracker.nextReady() == nil)
    }

    @Test func aMovedInNameIsReadyAtOnce() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.movedIn("b.csr")
        #expect(tracker.takeAllReady() == ["b.csr"])
    }

    @Test func aWriterPausingLongerThanTheSettleTimeIsNotCutShort() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.appeared("slow.csr", expectsCloseEvent: true)
        tracker.modified("slow.csr")
        // The writer pauses for a minute; periodic scans see the file unchanged throughout.
        for second in stride(from: 0.0, through: 60.0, by: 5.0) {
            scan(&tracker, [("slow.csr", regular(size: 512))], at: second)
            #expect(tracker.nextReady() == nil, "taken at \(second) s while still open")
        }
        #expect(tracker.state(of: "slow.csr") == .beingWritten)
        #expect(tracker.pendingDeadline() == nil)  // nothing to wait for but the close
        tracker.modified("slow.csr")
        tracker.closedWrite("slow.csr")
        #expect(tracker.nextReady() == "slow.csr")
    }

    @Test func aScanFoundStableFileIsTakenAfterTheSettleTime() {
        var tracker = IntakeTracker(settle: .seconds(2))
        scan(&tracker, [("old.csr", regular())], at: 0)
        #expect(tracker.nextReady() == nil)
        #expect(tracker.state(of: "old.csr") == .settling)
        #expect(tracker.pendingDeadline() == t(2))
        #expect(tracker.namesToRecheck() == ["old.csr"])

        tracker.observed("old.csr", status: regular(), at: t(1.5))
        #expect(tracker.nextReady() == nil)
        tracker.observed("old.csr", status: regular(), at: t(2))
        #expect(tracker.nextReady() == "old.csr")
        #expect(tracker.pendingDeadline() == nil)
    }

    @Test func aFileChangingDuringSettleRestartsTheWait() {
        var tracker = IntakeTracker(settle: .seconds(2))
        scan(&tracker, [("grow.csr", regular(size: 10))], at: 0)
        tracker.observed("grow.csr", status: regular(size: 20), at: t(1.9))
        #expect(tracker.pendingDeadline() == t(3.9))
        tracker.observed("grow.csr", status: regular(size: 20), at: t(3))
        #expect(tracker.nextReady() == nil)
        tracker.observed("grow.csr", status: regular(size: 20, mtime: 1001), at: t(3.9))
        #expect(tracker.nextReady() == nil, "an mtime change must restart the wait too")
        #expect(tracker.pendingDeadline() == t(5.9))
        tracker.observed("grow.csr", status: regular(size: 20, inode: 2, links: 1), at: t(5.9))
        #expect(tracker.nextReady() == nil, "another file under the same name restarts the wait")
        tracker.observed("grow.csr", status: regular(size: 20, inode: 2), at: t(7.9))
        #expect(tracker.nextReady() == "grow.csr")
    }

    @Test func aSettleTimeOfZeroTakesScanFoundFilesAtOnce() {
        var tracker = IntakeTracker(settle: .zero)
        scan(&tracker, [("now.csr", regular())], at: 0)
        #expect(tracker.nextReady() == "now.csr")
    }

    @Test func aModificationDuringSettleMeansTheFileIsBeingWritten() {
        var tracker = IntakeTracker(settle: .seconds(2))
        scan(&tracker, [("w.csr", regular())], at: 0)
        tracker.modified("w.csr")
        tracker.observed("w.csr", status: regular(), at: t(10))
        #expect(tracker.nextReady() == nil)
        #expect(tracker.state(of: "w.csr") == .beingWritten)
        tracker.closedWrite("w.csr")
        #expect(tracker.nextReady() == "w.csr")
    }

    @Test(
        "entries that never get a close event are ready when they appear",
        arguments: [EntryKind.symbolicLink, .fifo, .socket, .directory, .characterDevice, .blockDevice])
    func entriesWithoutCloseEventsAreReadyWhenTheyAppear(kind: EntryKind) {
        var created = IntakeTracker(settle: .seconds(2))
        created.apply(.created("x", isDirectory: kind == .directory)) { _ in entry(kind) }
        #expect(created.nextReady() == "x")

        var scanned = IntakeTracker(settle: .seconds(2))
        scan(&scanned, [("x", entry(kind))], at: 0)
        #expect(scanned.nextReady() == "x")
    }

    @Test func aSecondHardLinkIsReadyWhenItAppears() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.apply(.created("hl.csr", isDirectory: false)) { _ in regular(links: 2) }
        #expect(tracker.nextReady() == "hl.csr")
    }

    @Test func aCreatedNameThatVanishedBeforeItWasLookedAtIsIgnored() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.apply(.created("gone", isDirectory: false)) { _ in nil }
        #expect(tracker.state(of: "gone") == nil)
    }

    // MARK: overflow

    @Test func anOverflowRescanDoesNotTakeAFileOpenForWriting() {
        var tracker = IntakeTracker(settle: .seconds(2), lostCloseQuiet: .seconds(600))
        tracker.apply(.created("open.csr", isDirectory: false)) { _ in regular() }
        tracker.apply(.modified("open.csr")) { _ in nil }
        tracker.apply(.overflow) { _ in nil }
        scan(&tracker, [("open.csr", regular()), ("other.csr", regular(inode: 2))], at: 0)
        scan(&tracker, [("open.csr", regular()), ("other.csr", regular(inode: 2))], at: 5)
        // The unknown file settles; the one known to be open does not.
        #expect(tracker.takeAllReady() == ["other.csr"])
        #expect(tracker.state(of: "open.csr") == .beingWritten)
        tracker.closedWrite("open.csr")
        #expect(tracker.nextReady() == "open.csr")
    }

    @Test func aCloseEventLostInAnOverflowDelaysTheUploadButDoesNotStrandIt() {
        var tracker = IntakeTracker(settle: .seconds(2), lostCloseQuiet: .seconds(600))
        tracker.modified("lost.csr")
        tracker.overflowed()
        scan(&tracker, [("lost.csr", regular())], at: 0)
        #expect(tracker.pendingDeadline() == t(600))
        tracker.observed("lost.csr", status: regular(), at: t(599))
        #expect(tracker.nextReady() == nil)
        tracker.observed("lost.csr", status: regular(), at: t(600))
        #expect(tracker.nextReady() == "lost.csr")
    }

    @Test func aNewEventAfterAnOverflowClearsTheDoubt() {
        var tracker = IntakeTracker(settle: .seconds(2), lostCloseQuiet: .seconds(600))
        tracker.modified("busy.csr")
        tracker.overflowed()
        scan(&tracker, [("busy.csr", regular())], at: 0)
        tracker.modified("busy.csr")  // the writer is alive: back to waiting for its close
        tracker.observed("busy.csr", status: regular(), at: t(10_000))
        #expect(tracker.nextReady() == nil)
        #expect(tracker.pendingDeadline() == nil)
    }

    @Test func aScanForgetsNamesThatAreGone() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.modified("deleted-while-events-were-lost.csr")
        tracker.closedWrite("also-gone.csr")
        scan(&tracker, [], at: 0)
        #expect(tracker.nextReady() == nil)
        #expect(tracker.counts.isEmpty)
    }

    // MARK: handing out

    @Test func duplicateEventsDoNotHandANameOutTwice() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.closedWrite("d.csr")
        tracker.closedWrite("d.csr")
        tracker.movedIn("d.csr")
        scan(&tracker, [("d.csr", regular())], at: 0)
        scan(&tracker, [("d.csr", regular())], at: 10)
        #expect(tracker.takeAllReady() == ["d.csr"])
        // In flight: more scans and a duplicate event must not hand it out again.
        scan(&tracker, [("d.csr", regular())], at: 20)
        #expect(tracker.nextReady() == nil)
        #expect(tracker.state(of: "d.csr") == .inFlight)
        tracker.finished("d.csr")
        #expect(tracker.nextReady() == nil)
        #expect(tracker.state(of: "d.csr") == nil)
    }

    @Test func aNameReadyAgainAfterBeingModifiedIsQueuedOnce() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.closedWrite("q.csr")
        tracker.modified("q.csr")
        tracker.closedWrite("q.csr")
        #expect(tracker.takeAllReady() == ["q.csr"])
    }

    @Test func aNewUploadDuringProcessingIsTakenAfterTheWorkerFinishes() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.closedWrite("re.csr")
        #expect(tracker.nextReady() == "re.csr")
        tracker.removed("re.csr")  // the worker removed it …
        tracker.appeared("re.csr", expectsCloseEvent: true)  // … and the client uploads again
        tracker.modified("re.csr")
        tracker.finished("re.csr")
        #expect(tracker.nextReady() == nil, "the new upload is still being written")
        tracker.closedWrite("re.csr")
        #expect(tracker.nextReady() == "re.csr")
    }

    @Test func aCompleteUploadDuringProcessingIsHandedOutAfterwards() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.closedWrite("again.csr")
        #expect(tracker.nextReady() == "again.csr")
        tracker.closedWrite("again.csr")
        #expect(tracker.nextReady() == nil)
        tracker.finished("again.csr")
        #expect(tracker.nextReady() == "again.csr")
    }

    @Test func aNameRemovedBeforeItsTurnIsNotHandedOut() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.closedWrite("x.csr")
        tracker.closedWrite("y.csr")
        tracker.removed("x.csr")
        #expect(tracker.takeAllReady() == ["y.csr"])
    }

    @Test func namesComeOutInTheOrderTheyBecameReady() {
        var tracker = IntakeTracker(settle: .seconds(2))
        for index in 0..<200 { tracker.closedWrite(SpoolName("n\(index)")) }
        #expect(tracker.takeAllReady() == (0..<200).map { SpoolName("n\($0)") })
    }

    @Test func inProgressNamesAreIgnoredEntirely() {
        var tracker = IntakeTracker(settle: .zero)
        tracker.closedWrite("upload.csr.part")
        tracker.movedIn(".hidden")
        scan(&tracker, [("x.filepart", regular()), ("y~", entry(.symbolicLink))], at: 0)
        #expect(tracker.nextReady() == nil)
        #expect(tracker.counts.isEmpty)
        // The client's final rename is what makes the upload ready.
        tracker.apply(.removed("upload.csr.part")) { _ in nil }
        tracker.apply(.movedIn("upload.csr")) { _ in nil }
        #expect(tracker.nextReady() == "upload.csr")
    }

    @Test func unsafeNamesAreTrackedLikeAnyOtherSoTheyAreRejectedOnlyWhenComplete() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.appeared("my file.csr", expectsCloseEvent: true)
        #expect(tracker.nextReady() == nil)
        tracker.closedWrite("my file.csr")
        #expect(tracker.nextReady() == "my file.csr")
    }

    @Test func theDeadlineIsTheEarliestSettlingName() {
        var tracker = IntakeTracker(settle: .seconds(2))
        scan(&tracker, [("a", regular(inode: 1))], at: 0)
        scan(&tracker, [("a", regular(inode: 1)), ("b", regular(inode: 2))], at: 1)
        #expect(tracker.pendingDeadline() == t(2))
        scan(&tracker, [("a", regular(inode: 1)), ("b", regular(inode: 2))], at: 2)
        #expect(tracker.takeAllReady() == ["a"])
        #expect(tracker.pendingDeadline() == t(3))
    }

    @Test func countsSummariseTheStates() {
        var tracker = IntakeTracker(settle: .seconds(2))
        tracker.modified("w")
        tracker.closedWrite("r1")
        tracker.closedWrite("r2")
        scan(&tracker, [("w", regular(inode: 1)), ("r1", regular(inode: 2)), ("r2", regular(inode: 3)), ("s", regular(inode: 4))], at: 0)
        _ = tracker.nextReady()
        #expect(tracker.counts == [.beingWritten: 1, .ready: 1, .inFlight: 1, .settling: 1])
    }
}
