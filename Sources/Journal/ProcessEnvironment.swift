import Glibc

/// The process environment as a dictionary, read from `environ` without Foundation.
///
/// `LogTarget` and `LoggingSetup` take the environment as a parameter rather than calling
/// `getenv` themselves, so tests can pass any environment without changing the process's
/// own — which would race with every other thread reading it.
public enum ProcessEnvironment {
    /// A snapshot of the current environment. A variable listed twice keeps its first
    /// value, as `getenv` does.
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        // NULL after clearenv(3), though Swift imports it as non-optional.
        let start: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        guard var entry = start else { return result }
        while let pointer = entry.pointee {
            let assignment = String(cString: pointer)
            if let equals = assignment.firstIndex(of: "=") {
                let name = String(assignment[..<equals])
                if result[name] == nil {
                    result[name] = String(assignment[assignment.index(after: equals)...])
                }
            }
            entry += 1
        }
        return result
    }
}
