import Foundation
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, kept in a swift-prometheus registry and written in the
/// text exposition format for node_exporter's textfile collector (``MetricsTextfile``).
///
/// Why swift-prometheus's own registry API and not swift-metrics' `Counter(label:)`: the
/// swift-metrics API has no place for HELP text, and `promtool check metrics` (what a
/// Prometheus operator lints with) wants every family to have one; mixing the two on one
/// registry is refused by swift-prometheus (a family's help must not change). The registry
/// is the same library swift-metrics' Prometheus backend uses.
///
/// Counters by profile and rejection code are made on first use and cached here, so the
/// publisher's hot path is a dictionary look-up under a lock and an atomic add.
final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static var issuedDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "dropca", metricName: "certificates_issued", unitName: "total",
        helpText: "Certificates signed and published to the outbox, by profile.") }
    private static var republishedDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "dropca", metricName: "certificates_republished", unitName: "total",
        helpText: "Certificates signed before an interruption or a failed write, published again from the ledger, by profile.") }
    private static var rejectedDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "dropca", metricName: "requests_rejected", unitName: "total",
        helpText: "Inputs moved to failed/ with a reason, by profile and rejection code.") }

    private let latency: DurationHistogram
    private let waiting: Gauge
    private let lastIssuance: Gauge
    private let caNotAfter: Gauge
    private let crlNumber: Gauge
    private let crlNextUpdate: Gauge
    private let expiring: Gauge
    private let lastWrite: Gauge

    private struct Key: Hashable {
        let profile: String
        let code: String
    }

    private let counters = Mutex<(issued: [String: Counter], republished: [String: Counter], rejected: [Key: Counter])>(([:], [:], [:]))

    /// Drop to publication: from the input's change time (when the upload finished, or was
    /// renamed in) to the rename of its certificate. Buckets from 5 ms (an idle daemon) to a
    /// minute (a burst of thousands).
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60),
    ]

    /// `profiles`: the configured profiles' names, whose counters exist from the start (at
    /// 0), so that a rate over a profile that has issued nothing yet is 0, not absent.
    init(version: String, profiles: [String] = ["default"]) {
        latency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "dropca", metricName: "publish_latency", unitName: "seconds",
                helpText: "Time from an upload's last change to its certificate in the outbox."),
            buckets: Self.latencyBuckets)
        waiting = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "inputs_waiting", unitName: "",
            helpText: "Inputs in the inbox not finished yet: ready, queued, being issued or waiting for their upload to finish."))
        lastIssuance = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "last_issuance", unitName: "timestamp_seconds",
            helpText: "Unix time of the last certificate published (0: none since start)."))
        caNotAfter = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "ca_not_after", unitName: "timestamp_seconds",
            helpText: "Unix time at which the CA certificate in use expires."))
        crlNumber = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "crl_number", unitName: "",
            helpText: "Number of the CRL last published (0: none, or no CRL configured)."))
        crlNextUpdate = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "crl_next_update", unitName: "timestamp_seconds",
            helpText: "nextUpdate of the CRL last published, Unix time (0: none)."))
        expiring = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "certificates_expiring_30d", unitName: "",
            helpText: "Valid certificates that expire within 30 days."))
        lastWrite = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "dropca", metricName: "metrics_written", unitName: "timestamp_seconds",
            helpText: "Unix time this file was written: a stale value means the daemon stopped writing it."))
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "dropca", metricName: "build", unitName: "info",
                helpText: "Always 1; the version label says which dropca runs."),
            labels: [("version", version)]
        ).set(to: 1.0)
        // The families exist (with HELP) before anything is counted.
        for profile in profiles {
            _ = issuedCounter(profile)
            _ = republishedCounter(profile)
        }
    }

    private func issuedCounter(_ profile: String) -> Counter {
        counters.withLock { state in
            if let counter = state.issued[profile] { return counter }
            let counter = registry.makeCounter(descriptor: Self.issuedDescriptor, labels: [("profile", profile)])
            state.issued[profile] = counter
            return counter
        }
    }

    private func republishedCounter(_ profile: String) -> Counter {
        counters.withLock { state in
            if let counter = state.republished[profile] { return counter }
            let counter = registry.makeCounter(descriptor: Self.republishedDescriptor, labels: [("profile", profile)])
            state.republished[profile] = counter
            return counter
        }
    }

    /// A certificate appeared in the outbox; `since` is its input's change time.
    func published(profile: String, republished: Bool, since dropped: Date?, at now: Date) {
        (republished ? republishedCounter(profile) : issuedCounter(profile)).increment()
        if let dropped {
            let seconds = max(0, now.timeIntervalSince(dropped))
            latency.record(.nanoseconds(Int64(seconds * 1e9)))
        }
        lastIssuance.set(to: now.timeIntervalSince1970)
    }

    func rejected(profile: String, code: String) {
        let counter = counters.withLock { state in
            let key = Key(profile: profile, code: code)
            if let counter = state.rejected[key] { return counter }
            let counter = registry.makeCounter(descriptor: Self.rejectedDescriptor, labels: [("profile", profile), ("code", code)])
            state.rejected[key] = counter
            return counter
        }
        counter.increment()
    }

    /// The values read when the file is written rather than counted as they happen.
    struct Snapshot: Sendable {
        var inputsWaiting: Int
        var caNotAfter: Date
        var crlNumber: Int64?
        var crlNextUpdate: Date?
        var expiringWithin30Days: Int?
    }

    /// The exposition text with `snapshot`'s gauges set.
    func render(_ snapshot: Snapshot, at now: Date) -> [UInt8] {
        waiting.set(to: Double(snapshot.inputsWaiting))
        caNotAfter.set(to: snapshot.caNotAfter.timeIntervalSince1970)
        crlNumber.set(to: Double(snapshot.crlNumber ?? 0))
        crlNextUpdate.set(to: snapshot.crlNextUpdate?.timeIntervalSince1970 ?? 0)
        if let count = snapshot.expiringWithin30Days { expiring.set(to: Double(count)) }
        lastWrite.set(to: now.timeIntervalSince1970)
        return registry.emitToBuffer()
    }
}
