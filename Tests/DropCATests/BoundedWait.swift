import Foundation

/// Polls a condition until it holds or a deadline passes: every wait in the systemd and
/// SFTP tests is bounded, so a broken service fails a test instead of hanging it.
enum BoundedWait {
    static func until(_ what: String, timeout: TimeInterval, details: () -> String = { "" }, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            if Date() > deadline {
                let more = details()
                throw HarnessError("timed out after \(Int(timeout)) s waiting for \(what)" + (more.isEmpty ? "" : "\n" + more))
            }
            usleep(50_000)
        }
    }

    /// The processes `parent` started (from /proc), for the daemons the tests start behind
    /// a wrapper.
    static func children(of parent: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
