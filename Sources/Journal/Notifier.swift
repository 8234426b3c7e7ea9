internal import CSystemd
import Glibc

/// Tells systemd how the service is doing (`Type=notify`, sd_notify(3)).
///
/// READY=1 once the inbox is watched, STATUS= with counts, WATCHDOG=1 from the loop that
/// does the work, RELOADING=1 … READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM.
/// Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing and says so, so the
/// daemon calls it unconditionally.
///
/// A value type holding only where to send, so it can be shared by any task.
public struct Notifier: Sendable {
    /// Where notifications go.
    public enum Destination: Sendable, Equatable {
        /// `$NOTIFY_SOCKET`, read at each call by libsystemd's `sd_notify` — what a
        /// service uses.
        case environment
        /// A datagram socket named explicitly: a path, or `@name` for the abstract
        /// namespace, as in `NOTIFY_SOCKET`. Lets a caller (and the tests, which run in
        /// parallel in one process) notify a socket without changing the environment.
        case socket(path: String)
    }

    /// What became of one notification.
    public enum Outcome: Sendable, Equatable {
        case sent
        /// Not running under a service manager that listens (`NOTIFY_SOCKET` unset).
        case notConfigured
        /// Sending failed with this errno.
        case failed(errno: Int32)
    }

    public let destination: Destination

    public init(destination: Destination = .environment) {
        self.destination = destination
    }

    /// READY=1: startup (or a reload) is complete.
    @discardableResult
    public func ready() -> Outcome {
        send("READY=1")
    }

    /// RELOADING=1 with MONOTONIC_USEC=, which systemd 253+ uses to tell this reload from
    /// an earlier one; follow it with `ready()` when the reload is done.
    @discardableResult
    public func reloading() -> Outcome {
        send("RELOADING=1\nMONOTONIC_USEC=\(Notifier.monotonicMicroseconds())")
    }

    /// STOPPING=1: shutdown has begun (in-flight files are being finished).
    @discardableResult
    public func stopping() -> Outcome {
        send("STOPPING=1")
    }

    /// STATUS=: the one line `systemctl status dropca` shows. Line breaks (and NULs)
    /// become spaces: a newline would end the assignment and let the text — which may
    /// quote a file name an uploader chose — send assignments of its own, like READY=1.
    @discardableResult
    public func status(_ text: String) -> Outcome {
        let line = String(text.map { $0.isNewline || $0 == "\0" ? " " : $0 })
        return send("STATUS=\(line)")
    }

    /// WATCHDOG=1: the work loop is alive. Send it every `watchdogInterval`.
    @discardableResult
    public func watchdog() -> Outcome {
        send("WATCHDOG=1")
    }

    /// Sends `state` (newline-separated assignments) as it is.
    @discardableResult
    public func send(_ state: String) -> Outcome {
        switch destination {
        case .environment:
            let result = sd_notify(0, state)
            if result > 0 { return .sent }
            return result == 0 ? .notConfigured : .failed(errno: -result)
        case .socket(let path):
            return NotifySocket.send(state, to: path)
        }
    }

    /// How often to send `watchdog()`: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3)
    /// advises, so one late iteration does not get the service killed; nil when systemd
    /// set no watchdog for this process (`WATCHDOG_PID`, when set, must be ours).
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(microseconds / 2)
    }

    /// CLOCK_MONOTONIC in microseconds — the clock systemd compares MONOTONIC_USEC with.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
