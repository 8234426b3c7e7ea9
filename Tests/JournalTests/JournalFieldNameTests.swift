import Testing
@testable import Journal

@Suite struct JournalFieldNameTests {
    @Test(arguments: [
        ("file", "DROPCA_FILE"),
        ("dropca.file", "DROPCA_FILE"),
        ("DROPCA_SERIAL", "DROPCA_SERIAL"),
        ("dropca.csr_sha256", "DROPCA_CSR_SHA256"),
        ("csr_sha256", "DROPCA_CSR_SHA256"),
        ("discarded_extensions", "DROPCA_DISCARDED_EXTENSIONS"),
        ("9lives", "DROPCA_9LIVES"),
        ("x-y", "DROPCA_X_Y"),
        ("_hidden", "DROPCA__HIDDEN"),
        ("dropcafile", "DROPCA_DROPCAFILE"),
        ("größe", "DROPCA_GR__E"),
        ("a b=c", "DROPCA_A_B_C"),
        ("", "DROPCA_"),
        ("message", "DROPCA_MESSAGE"),
        ("PRIORITY", "DROPCA_PRIORITY"),
        ("MESSAGE_ID", "DROPCA_MESSAGE_ID"),
        ("message_id", "MESSAGE_ID"),
        ("error.message", "DROPCA_ERROR_MESSAGE"),
    ])
    func metadataKeyMapsToAFieldName(_ key: String, _ expected: String) {
        let name = JournalFieldName(metadataKey: key)
        #expect(name.rawValue == expected)
        #expect(JournalFieldName.isValid(name.rawValue))
    }

    @Test func longKeysAreCutTo64Characters() {
        let name = JournalFieldName(metadataKey: String(repeating: "a", count: 100))
        #expect(name.rawValue == "DROPCA_" + String(repeating: "A", count: 57))
        #expect(name.rawValue.utf8.count == 64)
        #expect(JournalFieldName.isValid(name.rawValue))

        let multibyte = JournalFieldName(metadataKey: String(repeating: "é", count: 100))
        #expect(multibyte.rawValue.utf8.count == 64)
        #expect(JournalFieldName.isValid(multibyte.rawValue))
    }

    @Test(arguments: ["MESSAGE", "CODE_LINE", "DROPCA_X_1", "A", String(repeating: "A", count: 64)])
    func validNamesAreAccepted(_ name: String) {
        #expect(JournalFieldName.isValid(name))
    }

    @Test(arguments: ["", "_PID", "9LIVES", "file", "X-Y", "DROPCA.FILE", "É", String(repeating: "A", count: 65)])
    func invalidNamesAreRefused(_ name: String) {
        #expect(!JournalFieldName.isValid(name))
    }
}
