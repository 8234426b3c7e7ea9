import Testing

@testable import DropCA

@Suite("TOML key locator")
struct TOMLKeyLocatorTests {
    @Test func headersAndKeysAreFoundUnderTheCurrentTable() {
        let locator = TOMLKeyLocator(
            source: """
                # comment = not a key
                top = 1

                [spool]
                  inbox   =   "/in"   # trailing comment
                [ policy . nested ]
                deep = true
                """
        )
        #expect(locator.line(of: ["top"]) == 2)
        #expect(locator.line(of: ["spool"]) == 4)
        #expect(locator.line(of: ["spool", "inbox"]) == 5)
        #expect(locator.line(of: ["policy"]) == 6)
        #expect(locator.line(of: ["policy", "nested"]) == 6)
        #expect(locator.line(of: ["policy", "nested", "deep"]) == 7)
        #expect(locator.line(of: ["comment"]) == nil)
    }

    @Test func quotedAndDottedKeysAreDecoded() {
        let locator = TOMLKeyLocator(
            source: """
                certificate.validity_days = 30
                "spool"."inbox" = "/in"
                'state'.directory = "/s"
                [ca]
                "key" = "/k"
                "cert\\u0069ficate" = "/c"
                """
        )
        #expect(locator.line(of: ["certificate", "validity_days"]) == 1)
        #expect(locator.line(of: ["certificate"]) == 1)
        #expect(locator.line(of: ["spool", "inbox"]) == 2)
        #expect(locator.line(of: ["state", "directory"]) == 3)
        #expect(locator.line(of: ["ca", "key"]) == 5)
        #expect(locator.line(of: ["ca", "certificate"]) == 6)
    }

    @Test func multiLineStringsHideWhatLooksLikeKeys() {
        let locator = TOMLKeyLocator(
            source: #"""
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
        )
        #expect(locator.line(of: ["a"]) == 1)
        #expect(locator.line(of: ["b"]) == nil)
        #expect(locator.line(of: ["c"]) == nil)
        #expect(locator.line(of: ["d"]) == 7)
        #expect(locator.line(of: ["e"]) == nil)
        #expect(locator.line(of: ["f"]) == 10)
        #expect(locator.line(of: ["x"]) == nil)
        #expect(locator.line(of: ["g"]) == 11)
        #expect(locator.line(of: ["h"]) == nil)
    }

    @Test func multiLineArraysRecordEachElementsLine() {
        let locator = TOMLKeyLocator(
            source: """
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
        )
        #expect(locator.line(of: ["policy", "allowed_curves"]) == 2)
        #expect(locator.line(ofElement: 0, in: ["policy", "allowed_curves"]) == 3)
        #expect(locator.line(ofElement: 1, in: ["policy", "allowed_curves"]) == 5)
        #expect(locator.line(ofElement: 2, in: ["policy", "allowed_curves"]) == 6)
        #expect(locator.line(ofElement: 3, in: ["policy", "allowed_curves"]) == 6)
        #expect(locator.line(ofElement: 4, in: ["policy", "allowed_curves"]) == 7)
        #expect(locator.line(ofElement: 5, in: ["policy", "allowed_curves"]) == nil)
        #expect(locator.line(of: ["policy", "not_a_key"]) == nil)
        #expect(locator.line(of: ["policy", "allowed_curves", "inner"]) == nil)
        #expect(locator.line(of: ["policy", "max_csr_bytes"]) == 9)
    }

    @Test func inlineTableKeysAreConfigKeys() {
        let locator = TOMLKeyLocator(source: "x = 1\nca = { certificate = \"/c\", key = { a.b = 1 } }\n")
        #expect(locator.line(of: ["ca"]) == 2)
        #expect(locator.line(of: ["ca", "certificate"]) == 2)
        #expect(locator.line(of: ["ca", "key", "a", "b"]) == 2)
    }

    @Test func dateTimesWithASpaceCountAsOneArrayElement() {
        let locator = TOMLKeyLocator(source: "when = [1979-05-27 07:32:00Z, 1979-05-28]\nnext = 1\n")
        #expect(locator.line(ofElement: 1, in: ["when"]) == 1)
        #expect(locator.line(ofElement: 2, in: ["when"]) == nil)
        #expect(locator.line(of: ["next"]) == 2)
    }

    @Test func windowsLineEndingsAndAByteOrderMarkAreHandled() {
        let locator = TOMLKeyLocator(source: "\u{FEFF}[spool]\r\ninbox = \"/in\"\r\n\r\nfailed = \"/f\"\r\n")
        #expect(locator.line(of: ["spool"]) == 1)
        #expect(locator.line(of: ["spool", "inbox"]) == 2)
        #expect(locator.line(of: ["spool", "failed"]) == 4)
    }

    @Test func arraysOfTablesAreTablesToo() {
        let locator = TOMLKeyLocator(source: "[[hooks]]\nrun = 1\n[[hooks]]\nrun = 2\n")
        #expect(locator.line(of: ["hooks"]) == 1)
        #expect(locator.line(of: ["hooks", "run"]) == 2)
    }

    @Test(arguments: ["[", "a = \"unterminated\nb = 1", "a = [1, 2", "= 3", "[x\ny = '''", "a = { b = "])
    func malformedTextNeverTrapsOrHangs(source: String) {
        _ = TOMLKeyLocator(source: source)
    }
}
