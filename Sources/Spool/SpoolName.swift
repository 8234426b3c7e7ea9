/// The name of one entry in a spool folder, kept as the raw bytes the kernel gave us.
///
/// Names in the inbox are chosen by untrusted uploaders: they may be invalid UTF-8,
/// contain newlines or shell metacharacters, or be long. Everything here works on bytes
/// so that no decoding step can change a name (and so that `remove`/`rename` always hit
/// exactly the entry that was listed). Use ``description`` for logs: it escapes every
/// byte that is not printable ASCII, so a name can never break a log line.
public struct SpoolName: Hashable, Sendable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The name exactly as stored in the folder (no terminating NUL).
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init<S: Sequence>(bytes: S) where S.Element == UInt8 {
        self.bytes = Array(bytes)
    }

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public static func < (lhs: SpoolName, rhs: SpoolName) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The name for logs and reason files: printable ASCII as is, a backslash as `\\`,
    /// every other byte as `\xNN`. One line, always; reversible by an operator.
    public var description: String {
        var text = ""
        text.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"):
                text += "\\\\"
            case 0x20...0x7E:
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "\\x" + SpoolName.hex(byte)
            }
        }
        return text
    }

    /// True when the bytes can be handed to `*at()` system calls as one entry of the
    /// held folder: not empty, not `.` or `..`, no `/`, no NUL.
    var isSingleComponent: Bool {
        !bytes.isEmpty && bytes != [0x2E] && bytes != [0x2E, 0x2E]
            && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
    }

    /// The name as a NUL-terminated C string for system calls.
    var cString: [CChar] {
        var result = bytes.map { CChar(bitPattern: $0) }
        result.append(0)
        return result
    }

    func appending(_ suffix: String) -> SpoolName {
        SpoolName(bytes: bytes + Array(suffix.utf8))
    }

    fileprivate static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }
}

// MARK: - Classification

extension SpoolName {
    /// What the spool does with an inbox entry of this name (README, "Names").
    public enum Classification: Hashable, Sendable {
        /// A safe name: `^[A-Za-z0-9][A-Za-z0-9._@+-]{0,200}$` and not an in-progress
        /// upload. Taken in and, when valid, answered by `outbox/STEM.cer`.
        case candidate
        /// A name that SFTP clients and browsers use while an upload is still running
        /// (hidden `.name`, `*.part`, `*.filepart`, `*.tmp`, `*.crdownload`, `*~`).
        /// Left alone, silently: the client renames it when the upload is done.
        case inProgress
        /// Anything else. Rejected into `failed/` without reading it; the associated
        /// text says, in an operator's words, which rule the name breaks.
        case unsafe(String)
    }

    /// Longest safe name: one leading character plus up to 200 more.
    public static let maximumSafeLength = 201

    /// Suffixes of in-progress uploads: WinSCP (`.filepart`), lftp/curl/Firefox
    /// (`.part`), assorted tools (`.tmp`), Chrome (`.crdownload`), editors (`~`).
    /// Matched case-sensitively, as the tools write them: `X.TMP` is not an in-progress
    /// upload but a safe name, so it is processed rather than left in the inbox forever.
    public static let inProgressSuffixes = [".part", ".filepart", ".tmp", ".crdownload", "~"]

    /// Classifies the name; in-progress rules are checked first, so `my file.part` is
    /// left alone (not rejected) until its client renames it.
    public var classification: Classification {
        guard let first = bytes.first else {
            return .unsafe("name is empty")
        }
        if first == UInt8(ascii: ".") {
            return .inProgress
        }
        for suffix in SpoolName.inProgressSuffixes where bytes.count >= suffix.utf8.count {
            if bytes.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) {
                return .inProgress
            }
        }
        if !SpoolName.isAlphanumeric(first) {
            return .unsafe(
                "name starts with \(SpoolName.describe(byte: first)); safe names start with a letter or digit"
            )
        }
        for (offset, byte) in bytes.enumerated() where !SpoolName.isSafe(byte) {
            return .unsafe(
                "name contains \(SpoolName.describe(byte: byte)) at byte \(offset + 1); safe names use only letters, digits and . _ @ + -"
            )
        }
        if bytes.count > SpoolName.maximumSafeLength {
            return .unsafe(
                "name is \(bytes.count) bytes long; safe names are at most \(SpoolName.maximumSafeLength)"
            )
        }
        return .candidate
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return false
        }
    }

    static func isSafe(_ byte: UInt8) -> Bool {
        if isAlphanumeric(byte) { return true }
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "+"),
            UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// "a space", "a newline", "';'", "byte 0xC3" — how an operator recognises a byte.
    static func describe(byte: UInt8) -> String {
        switch byte {
        case 0x20: return "a space"
        case 0x0A: return "a newline"
        case 0x0D: return "a carriage return"
        case 0x09: return "a tab"
        case 0x00..<0x20, 0x7F: return "control byte 0x\(hex(byte))"
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
        default: return "byte 0x\(hex(byte)) (not ASCII)"
        }
    }
}

// MARK: - Output and failed/ names

extension SpoolName {
    /// Extensions removed from an input name to form the certificate's stem, compared
    /// case-insensitively (ASCII): Windows tools upload `HOST.CSR`, and its answer should
    /// be `HOST.cer`, not `HOST.CSR.cer`.
    public static let requestExtensions = [".csr", ".req", ".pem", ".der", ".p10", ".txt"]

    /// NAME without one final `.csr`, `.req`, `.pem`, `.der`, `.p10` or `.txt`
    /// (ASCII case-insensitive); otherwise NAME. Only one extension is removed:
    /// `a.pem.csr` gives `a.pem`. A safe name always keeps at least its first character,
    /// so the stem of a candidate is never empty. Two inputs can share a stem
    /// (`a.csr`, `a.pem`); their certificates then share `a.cer`, the later replacing
    /// the earlier (see ``Outbox``).
    public static func outputStem(for name: SpoolName) -> SpoolName {
        for ext in requestExtensions {
            let e = Array(ext.utf8)
            guard name.bytes.count > e.count else { continue }
            let tail = name.bytes.suffix(e.count)
            if zip(tail, e).allSatisfy({ asciiLowercase($0) == $1 }) {
                return SpoolName(bytes: name.bytes.dropLast(e.count))
            }
        }
        return name
    }

    /// `STEM.cer`: the outbox file that answers input `name`.
    public static func certificateName(forInput name: SpoolName) -> SpoolName {
        outputName(forInput: name, suffix: ".cer")
    }

    /// `STEM` + `suffix` (`.cer`, `.pem`, `.chain.pem`, `.p7b`): one of the outbox files
    /// that answer input `name`.
    public static func outputName(forInput name: SpoolName, suffix: String) -> SpoolName {
        outputStem(for: name).appending(suffix)
    }

    /// The name this entry gets in `failed/`.
    ///
    /// A safe name keeps its bytes. Any other name is percent-encoded: every byte outside
    /// `[A-Za-z0-9._@+-]` — and a first byte that is not a letter or digit — becomes
    /// `%XX`, so the result is a safe, visible, one-line name that cannot start with `-`
    /// or `.`. When that would exceed 200 bytes it is cut at 180 and suffixed with
    /// `-` and 16 hex digits of a hash of the original bytes, so two long names do not
    /// collide. The original name is always written, escaped, into the reason file.
    public var failedFolderName: SpoolName {
        if case .candidate = classification {
            return self
        }
        var encoded: [UInt8] = []
        var cut = 0  // longest prefix length that ends on a whole encoded byte within 180
        for (index, byte) in bytes.enumerated() {
            if SpoolName.isSafe(byte) && (index > 0 || SpoolName.isAlphanumeric(byte)) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(contentsOf: SpoolName.hex(byte).utf8)
            }
            if encoded.count <= 180 { cut = encoded.count }
        }
        if encoded.isEmpty {
            encoded = Array("%".utf8)  // an empty name cannot come from readdir
        }
        guard encoded.count > 200 else {
            return SpoolName(bytes: encoded)
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        var suffix = ""
        for shift in stride(from: 56, through: 0, by: -8) {
            suffix += SpoolName.hex(UInt8(truncatingIfNeeded: hash >> UInt64(shift)))
        }
        return SpoolName(bytes: encoded.prefix(cut) + Array("-\(suffix)".utf8))
    }

    private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 0x20 : byte
    }
}
