/// A journal field name, and the rule that turns a swift-log metadata key into one.
///
/// journald silently drops fields whose names it does not accept (see
/// `journal_field_valid()` in systemd): only `A-Z`, `0-9` and `_`, not starting with a
/// digit, at most 64 characters; a leading `_` marks the trusted fields journald adds
/// itself and is refused from clients. Metadata keys are free-form (`dropca.file`,
/// `csr-sha256`), so every key is mapped:
///
/// 1. ASCII letters are uppercased, digits kept, every other character becomes `_`;
/// 2. `DROPCA_` is put in front unless the result already starts with it — so `file`
///    and `dropca.file` both become `DROPCA_FILE`, and no metadata can pose as one of
///    the journal's own fields (`MESSAGE`, `PRIORITY`, `_PID`);
/// 3. the result is cut to 64 characters.
///
/// The one exception is `message_id` (`MessageID.metadataKey`), which is the journal's
/// own `MESSAGE_ID`.
public struct JournalFieldName: Hashable, Sendable, CustomStringConvertible {
    /// journald refuses longer names (`journal_field_valid()`).
    public static let maximumLength = 64

    /// The namespace every metadata-derived field lives in.
    public static let prefix = "DROPCA_"

    public let rawValue: String

    public var description: String { rawValue }

    /// The field a metadata key is written to; always valid (`isValid` holds).
    public init(metadataKey key: String) {
        if key == MessageID.metadataKey {
            rawValue = "MESSAGE_ID"
            return
        }
        var mapped = ""
        mapped.reserveCapacity(key.utf8.count + JournalFieldName.prefix.utf8.count)
        for scalar in key.unicodeScalars {
            switch scalar.value {
            case 0x61...0x7A: // a-z
                mapped.unicodeScalars.append(Unicode.Scalar(UInt8(scalar.value - 0x20)))
            case 0x41...0x5A, 0x30...0x39: // A-Z 0-9
                mapped.unicodeScalars.append(scalar)
            default:
                mapped.append("_")
            }
        }
        if !mapped.hasPrefix(JournalFieldName.prefix) {
            mapped = JournalFieldName.prefix + mapped
        }
        // Only ASCII remains, so a character is a byte and the cut cannot split one.
        rawValue = String(mapped.prefix(JournalFieldName.maximumLength))
    }

    /// A name the journal's own fields use as it is (`MESSAGE`, `CODE_LINE`).
    init(journalField name: String) {
        rawValue = name
    }

    /// Whether journald accepts `name` from a client: non-empty, at most 64 characters,
    /// only `A-Z 0-9 _`, not starting with a digit or `_`.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        guard !(0x30...0x39).contains(first), first != 0x5F else { return false }
        return bytes.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }
}
