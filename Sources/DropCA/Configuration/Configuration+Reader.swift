import TOMLKit

extension Configuration {
    /// Reads typed values out of a parsed document and keeps a list of everything wrong.
    ///
    /// Every accessor returns nil when the key is absent *or* unusable and records why in
    /// the latter case, so the section readers can fall back to the default and carry on:
    /// one bad key must not hide the next one from the operator.
    struct Reader {
        let file: String
        let baseDirectory: String
        let locator: TOMLKeyLocator
        private(set) var problems: [ConfigurationError.Problem] = []

        init(file: String, baseDirectory: String, source: String) {
            self.file = file
            self.baseDirectory = baseDirectory
            self.locator = TOMLKeyLocator(source: source)
        }

        /// One section of the file; `table` is nil when the section is not written.
        struct SectionTable {
            let table: TOMLTable?
            /// Where it is written: `["spool"]`, `["profiles", "printers", "spool"]`, or
            /// `[]` for the document's own keys.
            let prefix: [String]
            /// The keys it may hold.
            let keys: [String]

            init(section: Section, table: TOMLTable?, under parent: [String] = []) {
                self.table = table
                self.prefix = parent + [section.rawValue]
                self.keys = section.keys
            }

            /// The document's own keys (`outputs`), or those of a `[profiles.NAME]` table.
            init(table: TOMLTable?, prefix: [String], keys: [String]) {
                self.table = table
                self.prefix = prefix
                self.keys = keys
            }

            func path(_ key: String) -> [String] { prefix + [key] }

            /// `spool`, `profiles.printers.spool`: as a header names it.
            var name: String { prefix.joined(separator: ".") }
        }

        /// The document split into what dropca reads: the known sections, the document's
        /// own `outputs`, and each `[profiles.NAME]` table, in file order.
        struct Document {
            var sections: [Section: TOMLTable] = [:]
            var root: SectionTable
            var profiles: [(name: String, table: TOMLTable)] = []
        }

        // MARK: Reporting

        mutating func report(_ code: ConfigurationError.Code, at path: [String], line: Int?, _ message: String) {
            problems.append(
                ConfigurationError.Problem(
                    code: code, file: file, line: line, key: path.joined(separator: "."), message: message
                )
            )
        }

        /// A problem with the value written for `key`, reported on the key's line.
        mutating func report(_ code: ConfigurationError.Code, _ key: String, in section: SectionTable, _ message: String) {
            let path = section.path(key)
            report(code, at: path, line: locator.line(of: path), message)
        }

        /// A problem with one element of a list, reported on the element's own line, which
        /// in a multi-line list is not the key's.
        mutating func report(
            _ code: ConfigurationError.Code, _ key: String, element: Int, in section: SectionTable, _ message: String
        ) {
            let path = section.path(key)
            let line = locator.line(ofElement: element, in: path) ?? locator.line(of: path)
            report(code, at: path, line: line, message)
        }

        // MARK: Structure

        /// Splits the document into known sections, its own keys and the profiles,
        /// reporting everything else.
        mutating func document(of root: TOMLTable) -> Document {
            var document = Document(root: SectionTable(table: root, prefix: [], keys: TopLevelKey.allCases.map(\.rawValue)))
            let known = Self.knownSectionsText
            for name in root.keys {
                guard let value = root[name] else {
                    continue
                }
                let line = locator.line(of: [name])
                if let section = Section(rawValue: name) {
                    if let table = value.table {
                        document.sections[section] = table
                    } else {
                        report(.wrongType, at: [name], line: line, "expected a table ([\(name)]), found \(Self.describe(value))")
                    }
                } else if name == TopLevelKey.profiles.rawValue {
                    guard let table = value.table else {
                        report(.wrongType, at: [name], line: line, "expected tables ([profiles.NAME]), found \(Self.describe(value))")
                        continue
                    }
                    for profile in table.keys {
                        guard let entry = table[profile] else { continue }
                        guard let profileTable = entry.table else {
                            report(.wrongType, at: [name, profile], line: locator.line(of: [name, profile]),
                                   "expected a table ([profiles.\(profile)]), found \(Self.describe(entry))")
                            continue
                        }
                        document.profiles.append((profile, profileTable))
                    }
                } else if TopLevelKey(rawValue: name) != nil {
                    continue
                } else if value.type == .table {
                    problems.append(
                        ConfigurationError.Problem(
                            code: .unknownSection, file: file, line: line, key: name,
                            message: "unknown section (known sections: \(known))"
                        )
                    )
                } else {
                    report(.unknownKey, at: [name], line: line, "unknown key outside any section (known sections: \(known); known keys before the first section: outputs)")
                }
            }
            // TOMLKit lists keys in its own order; operators think in the file's.
            document.profiles.sort { (locator.line(of: ["profiles", $0.name]) ?? .max) < (locator.line(of: ["profiles", $1.name]) ?? .max) }
            return document
        }

        /// The sections for messages: the fixed ones, then the profiles.
        static var knownSectionsText: String {
            (Section.allCases.map(\.rawValue) + ["profiles.NAME"]).joined(separator: ", ")
        }

        /// Typos are the usual reason for an unknown key; listing the valid ones fixes them.
        mutating func rejectUnknownKeys(in section: SectionTable) {
            guard let table = section.table else {
                return
            }
            let known = section.keys
            for key in table.keys where !known.contains(key) {
                report(
                    .unknownKey, key, in: section,
                    "unknown key (known keys in [\(section.name)]: \(known.joined(separator: ", ")))"
                )
            }
        }

        // MARK: Typed values

        mutating func string(_ key: String, in section: SectionTable) -> String? {
            guard let value = section.table?[key] else {
                return nil
            }
            guard let string = value.string else {
                report(.wrongType, key, in: section, "expected a string, found \(Self.describe(value))")
                return nil
            }
            return string
        }

        /// A folder or file name; relative ones are taken from the config file's folder, so
        /// a config made by `dropca init` keeps working when its folder is moved.
        mutating func path(_ key: String, in section: SectionTable) -> String? {
            guard let text = string(key, in: section) else {
                return nil
            }
            guard !text.isEmpty else {
                report(.invalidValue, key, in: section, "must not be empty; give a path")
                return nil
            }
            return ConfigurationPath.resolve(text, against: baseDirectory)
        }

        mutating func bool(_ key: String, in section: SectionTable) -> Bool? {
            guard let value = section.table?[key] else {
                return nil
            }
            guard let bool = value.bool else {
                report(.wrongType, key, in: section, "expected true or false, found \(Self.describe(value))")
                return nil
            }
            return bool
        }

        /// A whole number within `range`; the bounds keep arithmetic downstream (dates,
        /// durations, buffer sizes) far from overflow.
        mutating func integer(_ key: String, in section: SectionTable, range: ClosedRange<Int>, unit: String = "") -> Int? {
            guard let value = section.table?[key] else {
                return nil
            }
            guard let integer = value.int else {
                report(.wrongType, key, in: section, "expected a whole number, found \(Self.describe(value))")
                return nil
            }
            guard range.contains(integer) else {
                report(.invalidValue, key, in: section, "must be \(Self.describe(range, unit: unit)), found \(integer)")
                return nil
            }
            return integer
        }

        /// A number of seconds and the like: integers are fine (`settle_seconds = 2`).
        mutating func number(_ key: String, in section: SectionTable, range: ClosedRange<Double>, unit: String = "") -> Double? {
            guard let value = section.table?[key] else {
                return nil
            }
            let number: Double
            if let integer = value.int {
                number = Double(integer)
            } else if let double = value.double {
                number = double
            } else {
                report(.wrongType, key, in: section, "expected a number, found \(Self.describe(value))")
                return nil
            }
            guard number.isFinite, range.contains(number) else {
                let bounds = "between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound))"
                let suffix = unit.isEmpty ? "" : " \(unit)"
                report(.invalidValue, key, in: section, "must be \(bounds)\(suffix), found \(Self.format(number))")
                return nil
            }
            return number
        }

        /// A list of strings, each with its position so that a bad element can be reported
        /// on its own line. Nil when absent or when any element is not a string.
        mutating func strings(_ key: String, in section: SectionTable) -> [String]? {
            guard let value = section.table?[key] else {
                return nil
            }
            guard let array = value.array else {
                report(.wrongType, key, in: section, "expected a list of strings, found \(Self.describe(value))")
                return nil
            }
            var result: [String] = []
            var allStrings = true
            for (position, element) in array.enumerated() {
                if let string = element.string {
                    result.append(string)
                } else {
                    allStrings = false
                    report(
                        .wrongType, key, element: position, in: section,
                        "expected a list of strings, found \(Self.describe(element)) as item \(position + 1)"
                    )
                }
            }
            return allStrings ? result : nil
        }

        // MARK: Wording

        /// How a value appears in a message: its type in words, and the value when short.
        static func describe(_ value: any TOMLValueConvertible) -> String {
            switch value.type {
            case .string:
                let text = value.string ?? ""
                let shown = text.count > 60 ? String(text.prefix(57)) + "..." : text
                return "a string (\(String(reflecting: shown)))"
            case .int:
                return "an integer (\(value.int.map(String.init) ?? "?"))"
            case .double:
                return "a floating-point number (\(value.double.map { String($0) } ?? "?"))"
            case .bool:
                return "a boolean (\(value.bool.map(String.init) ?? "?"))"
            case .array:
                return "a list"
            case .table:
                return "a table"
            case .date:
                return "a date"
            case .time:
                return "a time"
            case .dateTime:
                return "a date-time"
            }
        }

        static func describe(_ range: ClosedRange<Int>, unit: String) -> String {
            let suffix = unit.isEmpty ? "" : " \(unit)"
            return "between \(range.lowerBound) and \(range.upperBound)\(suffix)"
        }

        /// `2` rather than `2.0` for whole values, as an operator would write them.
        static func format(_ number: Double) -> String {
            if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
                return String(Int(number))
            }
            return String(number)
        }
    }
}
