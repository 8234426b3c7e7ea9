import TestSupport
import Glibc
import Testing
@testable import Journal

@Suite struct NotifierTests {
    @Test func explicitSocketReceivesEveryNotification() throws {
        let socket = try NotifySocketFixture()
        let notifier = Notifier(destination: .socket(path: socket.path))

        #expect(notifier.ready() == .sent)
        #expect(socket.receive() == "READY=1")
        #expect(notifier.status("12 issued, 1 rejected") == .sent)
        #expect(socket.receive() == "STATUS=12 issued, 1 rejected")
        #expect(notifier.watchdog() == .sent)
        #expect(socket.receive() == "WATCHDOG=1")
        #expect(notifier.stopping() == .sent)
        #expect(socket.receive() == "STOPPING=1")
        #expect(!socket.hasPending())
    }

    @Test func reloadingCarriesTheMonotonicClock() throws {
        let socket = try NotifySocketFixture()
        let before = Notifier.monotonicMicroseconds()
        #expect(Notifier(destination: .socket(path: socket.path)).reloading() == .sent)
        let after = Notifier.monotonicMicroseconds()

        let message = try #require(socket.receive())
        let match = try #require(message.wholeMatch(of: /RELOADING=1\nMONOTONIC_USEC=(\d+)/))
        let stamp = try #require(UInt64(match.1))
        #expect(before <= stamp && stamp <= after)
    }

    /// A file name in a status must not be able to send READY=1 or STOPPING=1 of its own.
    @Test func statusCannotSmuggleAssignments() throws {
        let socket = try NotifySocketFixture()
        Notifier(destination: .socket(path: socket.path)).status("took evil\nSTOPPING=1\r\n\0x")
        // "\r\n" is one Character, so one space for it.
        #expect(socket.receive() == "STATUS=took evil STOPPING=1  x")
    }

    @Test func abstractSocketNamesWork() throws {
        let socket = try NotifySocketFixture(abstract: true)
        #expect(socket.path.hasPrefix("@"))
        #expect(Notifier(destination: .socket(path: socket.path)).ready() == .sent)
        #expect(socket.receive() == "READY=1")
    }

    @Test func sendingToNoSocketReportsTheError() {
        let missing = Notifier(destination: .socket(path: "/nonexistent-dropca-folder/notify")).ready()
        #expect(missing == .failed(errno: ENOENT))
        let tooLong = Notifier(destination: .socket(path: "/" + String(repeating: "a", count: 200))).ready()
        #expect(tooLong == .failed(errno: ENAMETOOLONG))
    }

    /// The `.environment` destination goes through libsystemd's `sd_notify`, which reads
    /// NOTIFY_SOCKET at call time. Setting it would race with the other tests, so a child
    /// process sets it and sends; this process receives.
    @Test func environmentDestinationUsesNotifySocket() async throws {
        let socket = try NotifySocketFixture()
        await #expect(processExitsWith: .success) { [path = socket.path as String] in
            setenv("NOTIFY_SOCKET", path, 1)
            let notifier = Notifier()
            let outcomes = [
                notifier.ready(), notifier.status("1 issued"), notifier.watchdog(),
                notifier.reloading(), notifier.stopping(),
            ]
            guard outcomes.allSatisfy({ $0 == .sent }) else { exit(1) }
        }
        #expect(socket.receive() == "READY=1")
        #expect(socket.receive() == "STATUS=1 issued")
        #expect(socket.receive() == "WATCHDOG=1")
        #expect(socket.receive()?.wholeMatch(of: /RELOADING=1\nMONOTONIC_USEC=\d+/) != nil)
        #expect(socket.receive() == "STOPPING=1")
    }

    @Test func withoutNotifySocketNothingIsSent() async {
        await #expect(processExitsWith: .success) {
            unsetenv("NOTIFY_SOCKET")
            guard Notifier().ready() == .notConfigured else { exit(1) }
            guard Notifier().watchdog() == .notConfigured else { exit(2) }
        }
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "2000000", 1)
            setenv("WATCHDOG_PID", "\(getpid())", 1)
            guard Notifier().watchdogInterval == .seconds(1) else { exit(1) }
            unsetenv("WATCHDOG_PID")
            guard Notifier().watchdogInterval == .seconds(1) else { exit(2) }
        }
    }

    @Test func noWatchdogWhenUnsetOrForAnotherProcess() async {
        await #expect(processExitsWith: .success) {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
            guard Notifier().watchdogInterval == nil else { exit(1) }
            setenv("WATCHDOG_USEC", "2000000", 1)
            setenv("WATCHDOG_PID", "\(getpid() + 1)", 1)
            guard Notifier().watchdogInterval == nil else { exit(2) }
        }
    }
}
