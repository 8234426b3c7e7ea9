import Foundation
import TOMLKit
import Testing

@testable import DropCA

/// Fuzzes ``TOMLKeyLocator`` against TOMLKit.
///
/// Each seed is a configuration used elsewhere in these tests. TOMLKit parses it into a
/// tree of tables, arrays and values; from that tree a seeded generator writes many new
/// documents that TOMLKit must read as the same keys but that spell them as differently
/// as TOML allows: sections as `[headers]`, dotted keys or inline tables, `[a.b]` before
/// `[a]`, arrays of tables, bare, "basic" and 'literal' keys, multi-line strings and
/// arrays holding text that looks like keys, headers and comments, CRLF line endings,
/// comments and blank lines everywhere.
///
/// The generator notes the line on which it writes each key and each array element, so
/// the expected lines do not come from any TOML reader. For every document TOMLKit
/// accepts, every key path TOMLKit reports must be one the generator wrote, and the
/// locator must give the first line on which it was written; every array element must be
/// found on its line; and the key-like text planted in strings and comments must not be
/// found at all.
@Suite("TOML key locator against TOMLKit")
struct TOMLKeyLocatorDifferentialTests {
    static let mutationsPerSeed = 100

    @Test func everyKeyTOMLKitReadsIsFoundOnTheLineItWasWrittenOn() throws {
        var outcome = Outcome()
        let seeds = try Corpus.seeds()
        for (seedNumber, seed) in seeds.enumerated() {
            let root: TOMLTable
            do {
                root = try TOMLTable(string: seed.text)
            } catch {
                Issue.record("seed \(seed.name) is not TOML that TOMLKit reads: \(error)")
                continue
            }
            let model = Model.entries(of: root)
            for mutation in 0..<Self.mutationsPerSeed {
                var writer = DocumentWriter(seed: UInt64(seedNumber) << 32 | UInt64(mutation))
                let document = writer.write(model)
                Self.check(document, label: "seed \(seed.name), mutation \(mutation)", outcome: &outcome)
                if mutation % 4 == 0 {
                    // Cut short, the text is no longer TOML: the locator must still not trap.
                    let bytes = Array(document.text.utf8)
                    _ = TOMLKeyLocator(source: String(decoding: bytes.prefix(writer.number(0...bytes.count)), as: UTF8.self))
                }
            }
        }
        // A generator that mostly wrote text TOMLKit refuses would test little.
        let total = outcome.accepted + outcome.refused
        #expect(outcome.refused * 100 <= total, "TOMLKit refused \(outcome.refused) of \(total) documents; the first:\n\(outcome.firstRefusal)")
        #expect(total == seeds.count * Self.mutationsPerSeed)
        #expect(outcome.failedDocuments == 0, "\(outcome.failedDocuments) of \(outcome.accepted) documents were located wrongly")
    }

    // MARK: Checking one document

    struct Outcome {
        var accepted = 0
        var refused = 0
        var firstRefusal = ""
        var failedDocuments = 0
    }

    static func check(_ document: Document, label: String, outcome: inout Outcome) {
        let parsed: TOMLTable
        do {
            parsed = try TOMLTable(string: document.text)
        } catch {
            if outcome.refused == 0 {
                outcome.firstRefusal = "\(label): \(error)\n\(numbered(document.text))"
            }
            outcome.refused += 1
            return
        }
        outcome.accepted += 1

        var reported = Reported()
        reported.walk(parsed, at: [], arraysOfTables: document.arraysOfTables)
        let locator = TOMLKeyLocator(source: document.text)
        var failures: [String] = []

        // Where each path is first written: its own line, or for a table the first line of
        // anything inside it.
        var expected: [[String]: Int] = [:]
        for (path, lines) in document.keyLines {
            for length in 1...path.count {
                let prefix = Array(path.prefix(length))
                expected[prefix] = min(expected[prefix] ?? .max, lines.min()!)
            }
        }

        for path in reported.paths {
            guard let line = expected[path] else {
                failures.append("generator: TOMLKit reads \(show(path)), which the generator did not write")
                continue
            }
            let found = locator.line(of: path)
            if found != line {
                failures.append("\(show(path)) is written on line \(line), the locator says \(found.map(String.init) ?? "nil")")
            }
        }
        for path in document.keyLines.keys where !reported.paths.contains(path) {
            failures.append("generator: wrote \(show(path)), which TOMLKit does not read")
        }

        for (path, count) in reported.arrays where !document.isUnderArrayOfTables(path) {
            let lines = document.elementLines[path] ?? []
            guard lines.count == count else {
                failures.append("generator: wrote \(lines.count) elements in \(show(path)), TOMLKit reads \(count)")
                continue
            }
            for index in 0...count {
                let line = index < count ? lines[index] : nil
                let found = locator.line(ofElement: index, in: path)
                if found != line {
                    failures.append(
                        "element \(index) of \(show(path)) is on line \(line.map(String.init) ?? "nil"), the locator says \(found.map(String.init) ?? "nil")"
                    )
                }
            }
        }

        for ghost in document.ghosts {
            for table in [[]] + reported.tables {
                let path = table + [ghost]
                if let found = locator.line(of: path) {
                    failures.append("\(show(path)) is only text in a string or comment, the locator puts it on line \(found)")
                }
            }
        }

        guard !failures.isEmpty else {
            return
        }
        outcome.failedDocuments += 1
        // The first few documents are enough to see the bug; more would flood the log.
        if outcome.failedDocuments <= 3 {
            let shown = failures.prefix(8).joined(separator: "\n  ")
            Issue.record("\(label):\n  \(shown)\n--- TOML (line numbers added, ⏎ marks CR) ---\n\(numbered(document.text))")
        }
    }

    static func show(_ path: [String]) -> String {
        path.map { String(reflecting: $0) }.joined(separator: ".")
    }

    static func numbered(_ text: String) -> String {
        var result = ""
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            var shown = String(String.UnicodeScalarView(line))
            shown = shown.replacingOccurrences(of: "\r", with: "⏎").replacingOccurrences(of: "\u{FEFF}", with: "<BOM>")
            result += "\(index + 1)".leftPadded(to: 4) + " | " + shown + "\n"
        }
        return result
    }

    /// What TOMLKit read: every table and key path, descending into arrays only where they
    /// were written as `[[arrays.of.tables]]`, and the length of every other array.
    struct Reported {
        var paths: Set<[String]> = []
        var tables: [[String]] = []
        var arrays: [[String]: Int] = [:]

        mutating func walk(_ table: TOMLTable, at path: [String], arraysOfTables: Set<[String]>) {
            for key in table.keys {
                guard let value = table[key] else {
                    continue
                }
                let child = path + [key]
                paths.insert(child)
                if let nested = value.table {
                    tables.append(child)
                    walk(nested, at: child, arraysOfTables: arraysOfTables)
                } else if let array = value.array {
                    if arraysOfTables.contains(child) {
                        tables.append(child)
                        for element in array {
                            if let nested = element.table {
                                walk(nested, at: child, arraysOfTables: arraysOfTables)
                            }
                        }
                    } else {
                        arrays[child] = array.count
                    }
                }
            }
        }
    }
}

// MARK: - The seeds

extension TOMLKeyLocatorDifferentialTests {
    enum Corpus {
        struct Seed {
            let name: String
            let text: String
        }

        static func seeds() throws -> [Seed] {
            [
                Seed(
                    name: "template",
                    text: Configuration.template(
                        caCertificate: "/etc/dropca/ca.pem", caKey: "/etc/dropca/ca.key", inbox: "/srv/sftp/inbox",
                        outbox: "/srv/sftp/outbox", failed: "/srv/sftp/failed", stateDirectory: "/var/lib/dropca"
                    )
                ),
                Seed(
                    name: "template with odd paths",
                    text: Configuration.template(
                        caCertificate: "ca.pem", caKey: "credential:dropca-ca", inbox: "/srv/\"quoted\" \\ back\tslash/ünïcode",
                        outbox: "out # not a comment", failed: "[failed] = x", stateDirectory: "state\n\"\"\"'''"
                    )
                ),
                Seed(name: "shipped example", text: try ShippedFiles.text(ShippedFiles.exampleConfiguration)),
                Seed(name: "CA section", text: ConfigurationFixture.caSection),
                Seed(name: "every key", text: everyKey),
                Seed(name: "inline and dotted sections", text: inlineAndDotted),
                Seed(name: "multi-line lists", text: multiLineLists),
                Seed(name: "multi-line string", text: multiLineString),
                Seed(name: "unknown sections and keys", text: unknownSectionsAndKeys),
                Seed(name: "locator: headers", text: locatorHeaders),
                Seed(name: "locator: quoted keys", text: locatorQuotedKeys),
                Seed(name: "locator: multi-line strings", text: locatorMultiLineStrings),
                Seed(name: "locator: arrays", text: locatorArrays),
                Seed(name: "locator: dates and arrays of tables", text: locatorDatesAndTables),
                Seed(name: "every TOML type", text: everyType),
            ]
        }

        /// From ConfigurationTests.everyKeyIsRead.
        static let everyKey = """
            [spool]
            inbox = "/data/in"
            outbox = "/data/out"
            failed = "/data/bad"
            settle_seconds = 0.5
            rescan_seconds = 0

            [state]
            directory = "/data/state"

            [ca]
            certificate = "/pki/ca.crt"
            key = "credential:dropca-ca"

            [certificate]
            validity_days = 90
            backdate_seconds = 0
            ca_issuers_url = "http://pki.corp.test/ca.cer"
            ocsp_url = "https://ocsp.corp.test"
            crl_url = "ldap://ldap.corp.test/cn=CA?certificateRevocationList"
            default_extended_key_usage = ["clientAuth", "1.3.6.1.5.5.7.3.17"]
            rsa_signature = "pss-sha256"

            [policy]
            min_rsa_bits = 3072
            allowed_curves = ["P-384", "brainpoolP256r1", "secp256k1"]
            allow_sha1_csr_signature = true
            max_csr_bytes = 4096

            [daemon]
            workers = 3
            """

        /// From ConfigurationTests and ConfigurationErrorTests.
        static let inlineAndDotted = """
            ca = { certificate = "/pki/ca.crt", key = "/pki/ca.key" }
            certificate.validity_days = 30
            [certificate.ocsp_url]
            host = "x"
            """

        /// From ConfigurationErrorTests.
        static let multiLineLists = """
            [ca]
            certificate = "/etc/dropca/ca.pem"
            key = "/etc/dropca/ca.key"

            [policy]
            allowed_curves = [
              "P-256",
              # P-384 is for the VPN concentrators
              384,
            ]
            max_csr_bytes = "big"
            [certificate]
            default_extended_key_usage = [
                "clientAuth",
                "serverAuth",   # web UI
                "clientauth",
            ]
            """

        /// From ConfigurationErrorTests.
        static let multiLineString = #"""
            [ca]
            certificate = "/etc/dropca/ca.pem"
            key = "/etc/dropca/ca.key"
            [certificate]
            ca_issuers_url = """
            [certficate]
            validity_days = "x"
            """
            validity_days = "365"
            """#

        /// From ConfigurationErrorTests.
        static let unknownSectionsAndKeys = """
            workers = 4
            daemon = 3
            sppol.inbox = "/x"
            [ca]
            certificate = "/etc/dropca/ca.pem"
            key = "/etc/dropca/ca.key"
            cert = "/etc/dropca/other.pem"
            [certficate]
            validity_days = 30
            [spool]
            # a comment
              typo_key = 1
            settle_seconds = nan
            [policy]
            max_csr_bytes = 1979-05-27
            """

        /// From TOMLKeyLocatorTests.
        static let locatorHeaders = """
            # comment = not a key
            top = 1

            [spool]
              inbox   =   "/in"   # trailing comment
            [ policy . nested ]
            deep = true
            """

        /// From TOMLKeyLocatorTests.
        static let locatorQuotedKeys = """
            certificate.validity_days = 30
            "spool"."inbox" = "/in"
            'state'.directory = "/s"
            [ca]
            "key" = "/k"
            "cert\\u0069ficate" = "/c"
            """

        /// From TOMLKeyLocatorTests.
        static let locatorMultiLineStrings = #"""
            a = """
            b = 1
            [c]
            "" \"""
            ""\"" still text
            """"
            d = '''
            e = 2 '' '
            '''
            f = "x = 1 # not a comment"
            g = 'h = 2'
            """#

        /// From TOMLKeyLocatorTests.
        static let locatorArrays = """
            x = 1
            ca = { certificate = "/c", key = { a.b = 1 } }
            [policy]
            allowed_curves = [
              "P-256", # first
              # not_a_key = 1
              "P-384",
              [1, 2], { inner = "x" },
              "]",
            ]
            max_csr_bytes = 4096
            """

        /// From TOMLKeyLocatorTests.
        static let locatorDatesAndTables = """
            when = [1979-05-27 07:32:00Z, 1979-05-28]
            next = 1
            [[hooks]]
            run = 1
            [[hooks]]
            run = 2
            """

        /// Everything else TOML has, for the generator to spell in its own ways.
        static let everyType = #"""
            "" = "empty key"
            "a.b" = "dotted name in one key"
            "x = y" = 1
            'quote"d' = 2
            "ünï" = "code"
            3 = "a number as a key"
            [types]
            integers = [42, -17, 0, 1_000, 0xDEAD_BEEF, 0o755, 0b1101]
            floats = [3.1415, -0.01, 5e+22, 1e06, -2E-2, inf, -inf, nan]
            booleans = [true, false]
            offset = 1979-05-27T00:32:00.999999-07:00
            local = 1979-05-27T07:32:00
            date = 1979-05-27
            time = 00:32:00.5
            nested = [[1, 2], ["a", ['b']], [{ c = 1 }, {}]]
            empty = {}
            [deep.er.still]
            leaf = "x"
            [deep]
            shallow = 'y'
            [[products]]
            name = "Hammer"
            sku = 738594937
            [products.dimensions]
            width = 1
            [[products]]
            [[products]]
            name = "Nail"
            color = "gray"
            """#
    }
}

// MARK: - The model

extension TOMLKeyLocatorDifferentialTests {
    /// A parsed document as plain values, for the generator to write out again.
    indirect enum Model {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case date(TOMLDate)
        case time(TOMLTime)
        case dateTime(TOMLDateTime)
        case array([Model])
        case table([(key: String, value: Model)])

        static func entries(of table: TOMLTable) -> [(key: String, value: Model)] {
            table.keys.compactMap { key in table[key].map { (key, model(of: $0)) } }
        }

        static func model(of value: any TOMLValueConvertible) -> Model {
            switch value.type {
            case .table: .table(entries(of: value.table!))
            case .array: .array(value.array!.map(model(of:)))
            case .string: .string(value.string!)
            case .int: .integer(value.int!)
            case .double: .float(value.double!)
            case .bool: .bool(value.bool!)
            case .date: .date(value.date!)
            case .time: .time(value.time!)
            case .dateTime: .dateTime(value.dateTime!)
            }
        }

        var tableEntries: [(key: String, value: Model)]? {
            if case .table(let entries) = self { entries } else { nil }
        }
    }

    /// A generated document and where its generator put things.
    struct Document {
        var text = ""
        /// Every line on which a key or header path was written (several for arrays of tables).
        var keyLines: [[String]: [Int]] = [:]
        /// The line on which each element of an array assigned to a key starts.
        var elementLines: [[String]: [Int]] = [:]
        /// Paths written as `[[path]]`.
        var arraysOfTables: Set<[String]> = []
        /// Key names that appear only inside strings and comments.
        var ghosts: [String] = []

        func isUnderArrayOfTables(_ path: [String]) -> Bool {
            (1..<max(path.count, 1)).contains { arraysOfTables.contains(Array(path.prefix($0))) }
        }
    }
}

// MARK: - The generator

extension TOMLKeyLocatorDifferentialTests {
    /// SplitMix64: small, fast and the same on every platform.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One line of `key = value` in a table's block, the key relative to the table.
    struct Assignment {
        var key: [String]
        var value: Model
    }

    /// A `[header]` or `[[header]]` and the assignments under it.
    struct Section {
        var path: [String]
        var isArrayElement: Bool
        var writesHeader: Bool
        var block: [Assignment]
    }

    /// Sections that must stay together and in order: an array of tables with the
    /// sub-tables of each element. A plain table is a group of one.
    typealias SectionGroup = [Section]

    struct DocumentWriter {
        var random: SeededRandom
        var document = Document()
        var line = 1
        var lineEnding: LineEnding
        var nameCount = 0

        enum LineEnding: CaseIterable {
            case lf, crlf, mixed
        }

        init(seed: UInt64) {
            random = SeededRandom(state: seed)
            lineEnding = .lf
            lineEnding = chance(0.25) ? pick(LineEnding.allCases) : .lf
        }

        // MARK: Randomness

        // Plain arithmetic rather than the generic standard library calls, which are slow
        // unspecialized in a debug build.

        mutating func chance(_ probability: Double) -> Bool {
            Double(random.next() >> 11) * 0x1p-53 < probability
        }

        mutating func number(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(random.next() % UInt64(range.count))
        }

        mutating func pick<T>(_ items: [T]) -> T {
            items[number(0...items.count - 1)]
        }

        mutating func shuffle<T>(_ items: inout [T]) {
            guard items.count > 1 else {
                return
            }
            for index in stride(from: items.count - 1, to: 0, by: -1) {
                items.swapAt(index, number(0...index))
            }
        }

        // MARK: Document

        mutating func write(_ model: [(key: String, value: Model)]) -> Document {
            let root = mutate(model, depth: 0)
            if chance(0.05) {
                emit("\u{FEFF}")
            }
            let (block, groups) = plan(root, at: [])
            emitBlock(block, under: [])
            var order = groups
            if chance(0.7) {
                shuffle(&order)
            }
            for section in order.joined() {
                if section.writesHeader {
                    emitHeader(section)
                }
                emitBlock(section.block, under: section.path)
            }
            if chance(0.2), document.text.hasSuffix("\n") {
                document.text.removeLast()
            }
            return document
        }

        // MARK: Changing the content

        /// Shuffles entries and adds keys that need quoting and values that are hard to skip.
        mutating func mutate(_ entries: [(key: String, value: Model)], depth: Int) -> [(key: String, value: Model)] {
            var result = entries.map { entry -> (key: String, value: Model) in
                guard let nested = entry.value.tableEntries else {
                    return entry
                }
                return (entry.key, .table(mutate(nested, depth: depth + 1)))
            }
            let extras = depth == 0 ? number(0...4) : (chance(0.3) ? number(1...2) : 0)
            for _ in 0..<extras {
                result.append((freshName(avoiding: result), randomValue(depth: depth)))
            }
            if chance(0.5) {
                shuffle(&result)
            }
            return result
        }

        mutating func freshName(avoiding entries: [(key: String, value: Model)]) -> String {
            if !entries.contains(where: { $0.key.isEmpty }), chance(0.05) {
                return ""
            }
            while true {
                nameCount += 1
                let name = Self.names[number(0...Self.names.count - 1)].replacingOccurrences(of: "N", with: String(nameCount))
                if !entries.contains(where: { $0.key == name }) {
                    return name
                }
            }
        }

        /// Key names that need quoting or look like other things; N is replaced by a number.
        static let names = [
            "extraN", "extra_N-x", "N", "odd.keyN", "odd key N", "= N", "#N", "[N]", "quo\"teN", "apos'N", "back\\slashN",
            "tab\tN", "ünïN", "\u{1F600}N", "new\nlineN", "del\u{7F}N", "1979-05-N", "trueN", "-N", "N.5", "'''N", "\"\"\"N",
        ]

        static let strings = [
            "", "plain", "x = 1 # [y]", "line one\nline two\n[not.a.table]\nkey = \"v\"", "'''", "\"\"\"", "\"\"", "\\",
            "tab\there", "ünïcödé \u{1F600}", "]}", "#", "ends with quote\"", "ends with quotes\"\"", "'ends with apostrophe'",
            "ends with apostrophes''", "\r\n", "bell\u{7}", "not\u{2028}new\u{85}lines\u{FEFF}",
        ]

        mutating func randomValue(depth: Int) -> Model {
            switch number(0...11) {
            case 0...5:
                return randomScalar()
            case 6, 7:
                return .array(
                    (0..<number(0...4)).map { _ in depth < 2 && chance(0.25) ? randomValue(depth: depth + 1) : randomScalar() }
                )
            case 8...9 where depth < 3:
                var entries: [(key: String, value: Model)] = []
                for _ in 0..<number(0...3) {
                    entries.append((freshName(avoiding: entries), randomValue(depth: depth + 1)))
                }
                return .table(entries)
            case 10...11 where depth < 2:
                return .array(
                    (0..<number(1...3)).map { _ in
                        var entries: [(key: String, value: Model)] = []
                        for _ in 0..<number(0...3) {
                            entries.append((freshName(avoiding: entries), randomValue(depth: depth + 1)))
                        }
                        return .table(entries)
                    }
                )
            default:
                return randomScalar()
            }
        }

        mutating func randomScalar() -> Model {
            switch number(0...6) {
            case 0, 1:
                return .string(pick(Self.strings))
            case 2:
                return .integer(pick([0, 1, -1, 42, 1_000_000, Int(Int32.max), -9_223_372_036_854_775_807]))
            case 3:
                return .float(pick([0.5, -0.0, 3.1415, 1e-5, 6.02e23, .infinity, -.infinity, .nan, 365.0]))
            case 4:
                return .bool(chance(0.5))
            case 5:
                return .date(TOMLDate(year: 1979, month: 5, day: 27))
            default:
                let time = TOMLTime(hour: 7, minute: 32, second: 0, nanoSecond: chance(0.5) ? 0 : 999_000_000)
                switch number(0...2) {
                case 0: return .time(time)
                case 1: return .dateTime(TOMLDateTime(date: TOMLDate(year: 1979, month: 5, day: 27), time: time))
                default:
                    return .dateTime(
                        TOMLDateTime(date: TOMLDate(year: 1979, month: 5, day: 27), time: time, offset: TOMLTimeOffset(offset: pick([0, -420, 330])))
                    )
                }
            }
        }

        // MARK: Planning the layout

        /// Decides, for every table under `path`, whether it gets a header, dotted keys or
        /// an inline table, and for arrays of tables whether they are written as `[[...]]`.
        mutating func plan(_ entries: [(key: String, value: Model)], at path: [String]) -> ([Assignment], [SectionGroup]) {
            var block: [Assignment] = []
            var groups: [SectionGroup] = []
            for (key, value) in entries {
                let childPath = path + [key]
                switch value {
                case .table(let children):
                    switch number(0...2) {
                    case 0 where !children.isEmpty:
                        block += dotted(children, under: [key])
                    case 1:
                        block.append(Assignment(key: [key], value: value))
                    default:
                        let (childBlock, childGroups) = plan(children, at: childPath)
                        let implicit = childBlock.isEmpty && !childGroups.isEmpty && chance(0.5)
                        groups.append([Section(path: childPath, isArrayElement: false, writesHeader: !implicit, block: childBlock)])
                        groups += childGroups
                    }
                case .array(let elements)
                where !elements.isEmpty && elements.allSatisfy({ $0.tableEntries != nil }) && chance(0.7):
                    document.arraysOfTables.insert(childPath)
                    var group: SectionGroup = []
                    for element in elements {
                        let (elementBlock, elementGroups) = plan(element.tableEntries!, at: childPath)
                        group.append(Section(path: childPath, isArrayElement: true, writesHeader: true, block: elementBlock))
                        var shuffled = elementGroups
                        shuffle(&shuffled)
                        group += shuffled.joined()
                    }
                    groups.append(group)
                default:
                    block.append(Assignment(key: [key], value: value))
                }
            }
            if chance(0.3) {
                shuffle(&block)
            }
            return (block, groups)
        }

        /// `a.b.c = value` lines for the entries of a table, sub-tables dotted or inline.
        mutating func dotted(_ entries: [(key: String, value: Model)], under prefix: [String]) -> [Assignment] {
            var result: [Assignment] = []
            for (key, value) in entries {
                if let nested = value.tableEntries, !nested.isEmpty, chance(0.5) {
                    result += dotted(nested, under: prefix + [key])
                } else {
                    result.append(Assignment(key: prefix + [key], value: value))
                }
            }
            return result
        }

        // MARK: Writing lines

        mutating func emit(_ text: String) {
            document.text += text
        }

        mutating func newline() {
            let crlf =
                switch lineEnding {
                case .lf: false
                case .crlf: true
                case .mixed: chance(0.5)
                }
            emit(crlf ? "\r\n" : "\n")
            line += 1
        }

        mutating func record(_ path: [String]) {
            document.keyLines[path, default: []].append(line)
        }

        mutating func spaces(_ range: ClosedRange<Int> = 0...2) -> String {
            var result = ""
            for _ in 0..<number(range) {
                result += chance(0.8) ? " " : "\t"
            }
            return result
        }

        mutating func indentation() -> String {
            chance(0.7) ? "" : spaces(1...4)
        }

        /// A name that must never be found: it is only written inside strings and comments.
        mutating func ghost() -> String {
            let name = "ghost\(document.ghosts.count)"
            document.ghosts.append(name)
            return name
        }

        /// Text that would be a key, a header or a value delimiter outside a string.
        mutating func keyLikeText() -> String {
            let name = ghost()
            return Self.keyLike[number(0...Self.keyLike.count - 1)].replacingOccurrences(of: "G", with: name)
        }

        /// G is replaced by a ghost name.
        static let keyLike = [
            "G = 1", "[G]", "[[G]]", "\"G\" = \"x\"", "'G' = '''", "G.sub = { a = 1 }", "  G = [1,", "# G = 2", "] } # = [",
            "\"\"\" G = 3", "\\ G = 4", "G=[", "}, G = '", "G = '''", "G = \"\"\"",
        ]

        mutating func blankAndCommentLines() {
            guard chance(0.35) else {
                return
            }
            for _ in 0..<number(1...3) {
                switch number(0...2) {
                case 0:
                    emit(spaces())
                case 1:
                    emit(indentation() + "#" + keyLikeText())
                default:
                    break
                }
                newline()
            }
        }

        mutating func endOfLine() {
            if chance(0.2) {
                emit(spaces(0...3) + "#" + (chance(0.7) ? keyLikeText() : ""))
            } else if chance(0.1) {
                emit(spaces(1...3))
            }
            newline()
        }

        mutating func emitHeader(_ section: Section) {
            blankAndCommentLines()
            emit(indentation())
            record(section.path)
            let (open, close) = section.isArrayElement ? ("[[", "]]") : ("[", "]")
            emit(open + spaces(0...1))
            emitKey(section.path)
            emit(spaces(0...1) + close)
            endOfLine()
        }

        mutating func emitBlock(_ block: [Assignment], under table: [String]) {
            for assignment in block {
                blankAndCommentLines()
                emit(indentation())
                let path = table + assignment.key
                record(path)
                emitKey(assignment.key)
                emit(spaces() + "=" + spaces())
                emitValue(assignment.value, at: path)
                endOfLine()
            }
            blankAndCommentLines()
        }

        mutating func emitKey(_ parts: [String]) {
            for (index, part) in parts.enumerated() {
                if index > 0 {
                    emit(spaces(0...1) + "." + spaces(0...1))
                }
                if Self.isBare(part), chance(0.7) {
                    emit(part)
                } else if Self.fitsLiteral(part), chance(0.4) {
                    emit("'" + part + "'")
                } else {
                    emit(basicString(part))
                }
            }
        }

        // MARK: Writing values

        /// `path` is where the value is assigned, nil inside arrays (whose inline tables'
        /// keys and nested elements are not configuration keys).
        mutating func emitValue(_ value: Model, at path: [String]?) {
            switch value {
            case .string(let text): emitString(text)
            case .integer(let integer): emit(spell(integer))
            case .float(let float): emit(spell(float))
            case .bool(let bool): emit(bool ? "true" : "false")
            case .date(let date): emit(spell(date))
            case .time(let time): emit(spell(time))
            case .dateTime(let dateTime):
                emit(spell(dateTime.date) + pick(["T", " "]) + spell(dateTime.time) + spell(dateTime.offset))
            case .array(let elements): emitArray(elements, at: path)
            case .table(let entries): emitInlineTable(entries, at: path)
            }
        }

        mutating func emitArray(_ elements: [Model], at path: [String]?) {
            let multiLine = chance(0.4)
            emit("[")
            for (index, element) in elements.enumerated() {
                if index > 0 {
                    if multiLine, chance(0.2) {
                        arrayGap(multiLine: true)
                    }
                    emit(",")
                }
                arrayGap(multiLine: multiLine)
                if let path {
                    document.elementLines[path, default: []].append(line)
                }
                emitValue(element, at: nil)
            }
            if !elements.isEmpty, chance(0.3) {
                emit(",")
            }
            arrayGap(multiLine: multiLine)
            emit("]")
        }

        /// Whitespace between array elements: spaces, and in a multi-line array newlines and
        /// whole comments.
        mutating func arrayGap(multiLine: Bool) {
            emit(spaces(0...1))
            guard multiLine else {
                return
            }
            for _ in 0..<number(0...2) {
                if chance(0.3) {
                    emit("#" + keyLikeText())
                }
                newline()
                emit(indentation())
            }
        }

        /// TOML 1.0 inline tables stay on one line, except inside multi-line values.
        mutating func emitInlineTable(_ entries: [(key: String, value: Model)], at path: [String]?) {
            guard !entries.isEmpty else {
                emit(pick(["{}", "{ }"]))
                return
            }
            var items = dotted(entries, under: [])
            if chance(0.3) {
                shuffle(&items)
            }
            emit("{" + spaces())
            for (index, item) in items.enumerated() {
                if index > 0 {
                    emit(spaces(0...1) + "," + spaces())
                }
                if let path {
                    record(path + item.key)
                }
                emitKey(item.key)
                emit(spaces() + "=" + spaces())
                emitValue(item.value, at: path.map { $0 + item.key })
            }
            emit(spaces() + "}")
        }

        // MARK: Strings

        mutating func emitString(_ text: String) {
            switch number(0...5) {
            case 0 where Self.fitsLiteral(text):
                emit("'" + text + "'")
            case 1:
                let junk = keyLikeText()
                let content = chance(0.5) ? junk + text : text + junk
                if Self.fitsLiteral(content) {
                    emit("'" + content + "'")
                } else {
                    emit(basicString(content))
                }
            case 2, 3:
                let content = withKeyLikeLines(text)
                if Self.fitsMultiLineLiteral(content), chance(0.4) {
                    emitMultiLineLiteral(content)
                } else {
                    emitMultiLineBasic(content)
                }
            default:
                emit(basicString(chance(0.3) ? text + keyLikeText() : text))
            }
        }

        mutating func withKeyLikeLines(_ text: String) -> String {
            var lines = [text]
            for _ in 0..<number(0...3) {
                lines.insert(keyLikeText(), at: number(0...lines.count))
            }
            return lines.joined(separator: "\n")
        }

        static func isBare(_ key: String) -> Bool {
            !key.isEmpty
                && key.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
                }
        }

        static func fitsLiteral(_ text: String) -> Bool {
            text.unicodeScalars.allSatisfy { $0 != "'" && $0 != "\u{7F}" && ($0.value >= 0x20 || $0 == "\t") }
        }

        static func fitsMultiLineLiteral(_ text: String) -> Bool {
            !text.contains("'''")
                && text.unicodeScalars.allSatisfy { $0 != "\u{7F}" && ($0.value >= 0x20 || $0 == "\t" || $0 == "\n") }
        }

        mutating func escape(_ scalar: Unicode.Scalar) -> String {
            let hex = String(scalar.value, radix: 16, uppercase: chance(0.5))
            if scalar.value <= 0xFFFF, chance(0.7) {
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
        }

        /// One scalar of a basic string's content, other than the quote and the newline.
        mutating func basicScalar(_ scalar: Unicode.Scalar) -> String {
            switch scalar {
            case "\\": return "\\\\"
            case "\t": return chance(0.5) ? "\t" : "\\t"
            case "\r": return "\\r"
            case "\u{8}": return "\\b"
            case "\u{C}": return "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: return escape(scalar)
            default: return chance(0.05) ? escape(scalar) : String(scalar)
            }
        }

        mutating func basicString(_ text: String) -> String {
            var result = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": result += "\\\""
                case "\n": result += "\\n"
                default: result += basicScalar(scalar)
                }
            }
            return result + "\""
        }

        /// Quotes are left bare where TOML allows (at most two in a row, up to two right
        /// before the closing `"""`); newlines are real ones or `\n`; some lines end in a
        /// backslash, which joins them.
        mutating func emitMultiLineBasic(_ text: String) {
            emit("\"\"\"")
            if chance(0.5) {
                newline()
            }
            var bareQuotes = 0
            for scalar in text.unicodeScalars {
                if scalar == "\"" {
                    if bareQuotes < 2, chance(0.6) {
                        emit("\"")
                        bareQuotes += 1
                    } else {
                        emit("\\\"")
                        bareQuotes = 0
                    }
                    continue
                }
                bareQuotes = 0
                if scalar == "\n" {
                    if chance(0.85) {
                        newline()
                    } else {
                        emit("\\n")
                    }
                } else {
                    emit(basicScalar(scalar))
                }
                if chance(0.03) {
                    emit("\\" + spaces(0...2))
                    newline()
                    emit(indentation())
                }
            }
            emit("\"\"\"")
        }

        mutating func emitMultiLineLiteral(_ text: String) {
            emit("'''")
            if chance(0.5) {
                newline()
            }
            for scalar in text.unicodeScalars {
                if scalar == "\n" {
                    newline()
                } else {
                    emit(String(scalar))
                }
            }
            emit("'''")
        }

        // MARK: Other values

        mutating func spell(_ integer: Int) -> String {
            if integer >= 0, chance(0.3) {
                let (prefix, radix) = pick([("0x", 16), ("0o", 8), ("0b", 2)])
                return prefix + String(integer, radix: radix, uppercase: chance(0.5))
            }
            var digits = ""
            let magnitude = String(integer.magnitude)
            for (index, digit) in magnitude.enumerated() {
                if index > 0, chance(0.15) {
                    digits += "_"
                }
                digits.append(digit)
            }
            return (integer < 0 ? "-" : chance(0.2) ? "+" : "") + digits
        }

        mutating func spell(_ float: Double) -> String {
            if float.isNaN {
                return pick(["nan", "+nan", "-nan"])
            }
            if float.isInfinite {
                return float < 0 ? "-inf" : pick(["inf", "+inf"])
            }
            let text = String(float)
            let spelled = chance(0.3) ? text.replacingOccurrences(of: "e", with: "E") : text
            return float > 0 && chance(0.2) ? "+" + spelled : spelled
        }

        func padded(_ value: Int, _ width: Int) -> String {
            String(value).leftPadded(to: width, with: "0")
        }

        func spell(_ date: TOMLDate) -> String {
            "\(padded(date.year, 4))-\(padded(date.month, 2))-\(padded(date.day, 2))"
        }

        mutating func spell(_ time: TOMLTime) -> String {
            var text = "\(padded(time.hour, 2)):\(padded(time.minute, 2)):\(padded(time.second, 2))"
            if time.nanoSecond > 0 || chance(0.1) {
                text += "." + padded(time.nanoSecond, 9)
            }
            return text
        }

        mutating func spell(_ offset: TOMLTimeOffset?) -> String {
            guard let offset else {
                return ""
            }
            if offset.offset == 0, chance(0.7) {
                return pick(["Z", "z"])
            }
            let sign = offset.offset < 0 ? "-" : "+"
            let minutes = abs(offset.offset)
            return "\(sign)\(padded(minutes / 60, 2)):\(padded(minutes % 60, 2))"
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
