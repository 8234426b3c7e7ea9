import Issuance

extension Configuration {
    /// A complete, commented `dropca.toml`, as `dropca init` writes it, from
    /// ``ConfigurationReference`` (which dropca.toml(5) is written from too).
    ///
    /// Every key is written out with its default and its meaning above it, so the file
    /// documents itself and an operator changes values instead of looking up key names; keys
    /// whose absence means something of its own are shown commented out, with an example.
    /// Relative paths are written as given and resolve against the file's folder when it is
    /// loaded, so `parse` of the result yields exactly the values passed here. `caKey` is
    /// written as the file spells it: a key file path or `credential:NAME`.
    public static func template(
        caCertificate: String,
        caKey: String,
        inbox: String,
        outbox: String,
        failed: String,
        stateDirectory: String,
        crlDirectory: String = CRLSettings().directory ?? ""
    ) -> String {
        typealias Reference = ConfigurationReference
        let given = Reference.TemplateValues(
            caCertificate: caCertificate, caKey: caKey, inbox: inbox, outbox: outbox, failed: failed,
            stateDirectory: stateDirectory, crlDirectory: crlDirectory)
        var lines = comment(Reference.introduction + " Apart from the folders and the CA files, the values shown are the defaults.")
        for key in Reference.topLevel {
            lines += [""] + entry(key, given, commentedOut: false)
        }
        for section in Reference.sections {
            let prefix = section.commentedOut ? "# " : ""
            lines += [""]
            if section.commentedOut { lines += comment(section.meaning) }
            lines += [prefix + "[\(section.name)]"]
            for key in section.keys {
                lines += entry(key, given, commentedOut: section.commentedOut)
            }
        }
        lines += [""] + comment(Reference.profiles) + Reference.profileExample.split(separator: "\n").map { "# " + $0 }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// A key's meaning as comment lines, then the key: set, or commented out with its example.
    private static func entry(_ key: ConfigurationReference.Key, _ given: ConfigurationReference.TemplateValues, commentedOut: Bool) -> [String] {
        let line: String
        switch key.value {
        case .default(let value): line = (commentedOut ? "# " : "") + "\(key.name) = \(value)"
        case .given(let path, _): line = (commentedOut ? "# " : "") + "\(key.name) = \(quoted(given[keyPath: path]))"
        case .example(let value): line = "# \(key.name) = \(value)"
        }
        return comment(key.meaning) + [line]
    }

    /// `text` as `# ` lines of at most 100 columns, broken between words.
    static func comment(_ text: String, width: Int = 100) -> [String] {
        var lines: [String] = []
        var current = "#"
        for word in text.split(separator: " ") {
            if current.count + 1 + word.count > width && current != "#" {
                lines.append(current)
                current = "#"
            }
            current += " " + word
        }
        return lines + [current]
    }

    /// A TOML basic string. Paths may hold quotes, backslashes or control characters;
    /// escaping them keeps the file valid and the value exact.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func list(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ", ") + "]"
    }
}
