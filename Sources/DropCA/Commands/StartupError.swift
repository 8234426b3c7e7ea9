/// A reason dropca cannot start or finish a command, in one line for the operator:
/// a broken configuration, an unreadable CA, an unusable folder.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public let lines: [String]

    public init(_ line: String) { self.lines = [line] }
    public init(lines: [String]) { self.lines = lines }

    public var description: String { lines.joined(separator: "\n") }
}
