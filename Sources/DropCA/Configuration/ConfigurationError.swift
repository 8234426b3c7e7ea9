/// Everything wrong with a config file, in file order.
///
/// Loading collects every problem before it gives up, so an operator fixes a file in one
/// pass instead of one restart per typo. The first problem is also exposed through `code`,
/// `file`, `line`, `key` and `message`, so a caller that only cares about one can ignore
/// the list; `description` prints one line per problem, which is how the CLI reports them.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem; stable, for tests and scripts, while messages may be reworded.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The file could not be opened or read, or is not UTF-8 text.
        case fileUnreadable
        /// The file is not valid TOML.
        case syntax
        /// A `[section]` dropca does not know (usually a typo).
        case unknownSection
        /// A key dropca does not know in a known section (usually a typo).
        case unknownKey
        /// A value of the wrong TOML type, e.g. a quoted number.
        case wrongType
        /// A value of the right type that dropca cannot use.
        case invalidValue
        /// A required key (`ca.certificate`, `ca.key`) is absent.
        case missingKey
    }

    /// One problem, reported on one line.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let code: Code
        /// The config file as the operator named it.
        public let file: String
        /// 1-based line of the offending key or value; nil when there is no such line
        /// (a missing key, an unreadable file).
        public let line: Int?
        /// 1-based column; only TOML syntax errors have one.
        public let column: Int?
        /// Dotted key (`certificate.validity_days`) or section name (`certficate`).
        public let key: String?
        /// What is wrong, in an operator's words.
        public let message: String

        public init(code: Code, file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
            self.code = code
            self.file = file
            self.line = line
            self.column = column
            self.key = key
            self.message = message
        }

        /// `FILE:LINE[:COLUMN]: KEY: MESSAGE`, the shape compilers use, so editors and
        /// terminals can jump to the spot. A section is shown as `[name]`, as it is written.
        public var description: String {
            var location = file
            if let line {
                location += ":\(line)"
                if let column {
                    location += ":\(column)"
                }
            }
            guard let key else {
                return "\(location): \(message)"
            }
            let shownKey = code == .unknownSection ? "[\(key)]" : key
            return "\(location): \(shownKey): \(message)"
        }
    }

    /// The first problem in file order; the one a single-error caller sees.
    public let first: Problem
    /// Any further problems, in file order.
    public let rest: [Problem]

    public init(_ first: Problem, _ rest: [Problem] = []) {
        self.first = first
        self.rest = rest
    }

    /// Orders `problems` by line (problems without a line last) and wraps them; nil when
    /// there is nothing to report.
    init?(collecting problems: [Problem]) {
        let ordered = problems.enumerated().sorted { lhs, rhs in
            switch (lhs.element.line, rhs.element.line) {
            case let (left?, right?) where left != right: return left < right
            case (.some, .none): return true
            case (.none, .some): return false
            default: return lhs.offset < rhs.offset
            }
        }.map(\.element)
        guard let head = ordered.first else {
            return nil
        }
        self.init(head, Array(ordered.dropFirst()))
    }

    /// Every problem, in file order; never empty.
    public var problems: [Problem] { [first] + rest }

    public var code: Code { first.code }
    public var file: String { first.file }
    public var line: Int? { first.line }
    public var key: String? { first.key }
    public var message: String { first.message }

    /// One line per problem.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
