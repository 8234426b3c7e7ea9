/// A reason dropca cannot start or finish a command, in one line for the operator:
/// a broken configuration, an unreadable CA, an unusable folder.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public let lines: [String]
    /// The cause may go away by itself (a token not plugged in or its HSM not reachable
    /// yet): `dropca run` exits 1, which the unit restarts, rather than 2, which it does
    /// not (a configuration that a restart cannot fix).
    public let mayPass: Bool

    public init(_ line: String, mayPass: Bool = false) {
        self.lines = [line]
        self.mayPass = mayPass
    }

    public init(lines: [String]) {
        self.lines = lines
        self.mayPass = false
    }

    public var description: String { lines.joined(separator: "\n") }
}
