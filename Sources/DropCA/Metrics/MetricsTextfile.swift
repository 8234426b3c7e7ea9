import Foundation
import SystemPackage
import Synchronization

/// Writes ``DaemonMetrics`` to `metrics.textfile` every 15 s and once more at stop, for
/// node_exporter's textfile collector.
///
/// Each write goes to a hidden temporary beside the file (node_exporter reads only `*.prom`,
/// so it never sees a half-written one) and is renamed over it: a reader gets the old file
/// or the new one, whole. No fsync: the file is rewritten every 15 s and means nothing
/// after a crash. A failure (the folder missing or not writable) is logged once until a
/// write works again; it never stops the daemon.
///
/// A ``PeriodicThread`` of its own; `stop()` wakes it for the last write and waits for it.
final class MetricsTextfile: Sendable {
    private let path: String
    private let metrics: DaemonMetrics
    private let snapshot: @Sendable () -> DaemonMetrics.Snapshot
    private let log: DaemonLog

    /// Whether the last write failed, so that a failure is logged once until one works.
    private let failing = Mutex(false)
    private let thread = PeriodicThread(name: "dropca-metrics")

    init(path: String, metrics: DaemonMetrics, log: DaemonLog, snapshot: @escaping @Sendable () -> DaemonMetrics.Snapshot) {
        self.path = path
        self.metrics = metrics
        self.snapshot = snapshot
        self.log = log
    }

    func start() {
        thread.start(
            turn: { [self] _ in
                write()
                return TimeInterval(Configuration.MetricsSettings.interval.components.seconds)
            },
            final: { [self] in write() })
    }

    /// Wakes the thread for a last write and waits until it is done.
    func stop() {
        thread.stop()
    }

    /// One atomic rewrite of the file.
    func write() {
        let bytes = metrics.render(snapshot(), at: Date())
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        do {
            let descriptor = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try descriptor.closeAfter { _ = try descriptor.writeAll(bytes) }
            // The umask must not decide who may read it: node_exporter runs as another user.
            guard chmod(temporary, 0o644) == 0, rename(temporary, path) == 0 else {
                let failure = Errno(rawValue: errno)
                unlink(temporary)
                throw failure
            }
            let recovered = failing.withLock { failing -> Bool in
                defer { failing = false }
                return failing
            }
            if recovered { log.failure("metrics are written to \(path) again") }
        } catch {
            unlink(temporary)
            let first = failing.withLock { failing -> Bool in
                defer { failing = true }
                return !failing
            }
            if first { log.failure("cannot write metrics to \(path): \(error); trying again every 15 s") }
        }
    }
}
