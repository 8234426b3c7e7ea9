import Dispatch
import Glibc

/// SIGTERM and SIGINT stop the daemon, SIGHUP reloads it, SIGUSR1 (from `dropca revoke`)
/// publishes a new CRL. The signals are ignored for
/// the process and delivered through dispatch sources on one serial queue, so a handler
/// runs as ordinary code (it may log and take locks) and two reloads never overlap.
///
/// `@unchecked Sendable`: the sources are set once in `init` and only cancelled later;
/// dispatch sources are thread-safe objects, though Dispatch does not mark the protocol so.
final class SignalRouting: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(stop: @escaping @Sendable () -> Void, reload: @escaping @Sendable () -> Void, revoked: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "dropca.signals")
        var sources: [any DispatchSourceSignal] = []
        for (number, handler) in [(SIGTERM, stop), (SIGINT, stop), (SIGHUP, reload), (SIGUSR1, revoked)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
