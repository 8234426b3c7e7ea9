import Foundation

/// A strict reader for `systemd/dropca.catalog`.
///
/// Stricter than journald's own parser, which skips what it does not understand: every
/// mistake here would make `journalctl -x` show nothing, or the wrong text, for a record.
public struct MessageCatalog {
    public struct Entry {
        public let id: String
        public let headers: [String: String]
        public let body: [String]

        /// Every `@NAME@` in the subject and the body.
        public var substitutions: Set<String> {
            let text = ([headers["Subject"] ?? ""] + body).joined(separator: "\n")
            var names: Set<String> = []
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            // Text between the 1st and 2nd @, the 3rd and 4th, …
            var index = 1
            while index < parts.count - 1 {
                names.insert(String(parts[index]))
                index += 2
            }
            return names
        }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let problem: String
        public var description: String { "dropca.catalog line \(line): \(problem)" }
    }

    public static let allowedHeaders: Set<String> = ["Subject", "Defined-By", "Support", "Documentation"]

    public let entries: [Entry]

    /// `systemd/dropca.catalog` of the package this file is in (found from `#filePath`,
    /// so the tests read the repository's copy, not an installed one).
    public static var url: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .appendingPathComponent("../../systemd/dropca.catalog")
            .standardizedFileURL
    }

    public static func load() throws -> MessageCatalog {
        try MessageCatalog(parsing: String(contentsOf: url, encoding: .utf8))
    }

    public init(parsing text: String) throws {
        guard text.hasSuffix("\n") else { throw ParseError(line: 0, problem: "does not end with a newline") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        enum State { case preamble, headers, body }
        var state = State.preamble
        var entries: [Entry] = []
        var id = ""
        var headers: [String: String] = [:]
        var body: [String] = []
        var previousWasBlank = true

        func finishEntry(at number: Int) throws {
            guard state != .preamble else { return }
            guard state == .body else { throw ParseError(line: number, problem: "entry \(id) has no body") }
            while body.last?.isEmpty == true { body.removeLast() }
            guard !body.isEmpty else { throw ParseError(line: number, problem: "entry \(id) has an empty body") }
            for required in ["Subject", "Defined-By"] where headers[required] == nil {
                throw ParseError(line: number, problem: "entry \(id) has no \(required):")
            }
            guard headers["Defined-By"] == "dropca" else {
                throw ParseError(line: number, problem: "entry \(id) is not Defined-By: dropca")
            }
            entries.append(Entry(id: id, headers: headers, body: body))
        }

        for (offset, line) in lines.enumerated() {
            let number = offset + 1
            guard !line.hasSuffix(" "), !line.contains("\t"), !line.contains("\r") else {
                throw ParseError(line: number, problem: "trailing blank, tab or CR")
            }
            if line.hasPrefix("-- ") {
                guard previousWasBlank else {
                    throw ParseError(line: number, problem: "an entry must follow a blank line")
                }
                try finishEntry(at: number)
                id = String(line.dropFirst(3))
                guard id.utf8.count == 32, id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                    throw ParseError(line: number, problem: "\(id) is not 32 lowercase hex digits")
                }
                guard !entries.contains(where: { $0.id == id }) else {
                    throw ParseError(line: number, problem: "\(id) is defined twice")
                }
                headers = [:]
                body = []
                state = .headers
            } else if line.hasPrefix("#") {
                // journald drops comment lines wherever they are, so one inside an entry
                // would silently vanish from the text.
                guard state == .preamble else {
                    throw ParseError(line: number, problem: "a # line inside an entry is dropped by journald")
                }
            } else if state == .headers {
                if line.isEmpty {
                    state = .body
                } else {
                    guard let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].hasPrefix(" ") else {
                        throw ParseError(line: number, problem: "header is not `Name: value`")
                    }
                    let name = String(line[..<colon])
                    guard MessageCatalog.allowedHeaders.contains(name) else {
                        throw ParseError(line: number, problem: "unknown header \(name)")
                    }
                    guard headers[name] == nil else { throw ParseError(line: number, problem: "\(name) given twice") }
                    let value = line[line.index(colon, offsetBy: 2)...].trimmingCharacters(in: .whitespaces)
                    guard !value.isEmpty else { throw ParseError(line: number, problem: "\(name) is empty") }
                    headers[name] = value
                }
            } else if state == .body {
                body.append(line)
            } else if !line.isEmpty {
                throw ParseError(line: number, problem: "text before the first entry")
            }
            previousWasBlank = line.isEmpty
        }
        try finishEntry(at: lines.count)
        guard !entries.isEmpty else { throw ParseError(line: lines.count, problem: "no entries") }
        self.entries = entries
    }
}
