import Testing

@testable import Spool

@Suite("Spool names")
struct SpoolNameTests {
    static let candidates: [String] = [
        "a", "Z", "7", "router1.csr", "fw-01.example.com.req", "user@example.com+2.pem",
        "A_b.c-d@e+f", "x.TMP", "x.Part", "name.tmp.csr", String(repeating: "a", count: 201),
    ]

    @Test("safe names are candidates", arguments: candidates)
    func safeNamesAreCandidates(_ name: String) {
        #expect(SpoolName(name).classification == .candidate)
    }

    static let inProgress: [String] = [
        ".hidden", ".", "..", ".x.csr", "upload.csr.part", "upload.csr.filepart", "x.tmp",
        "x.csr.crdownload", "x.csr~", "with space.part", "~", ".part",
    ]

    @Test("in-progress uploads are left alone", arguments: inProgress)
    func inProgressNamesAreLeftAlone(_ name: String) {
        #expect(SpoolName(name).classification == .inProgress)
    }

    static let unsafe: [(name: [UInt8], reasonFragment: String)] = [
        (Array("my request.csr".utf8), "a space at byte 3"),
        (Array("a;rm -rf.csr".utf8), "';' at byte 2"),
        (Array("evil\nname.csr".utf8), "a newline at byte 5"),
        (Array("-rf.csr".utf8), "starts with '-'"),
        (Array("_x.csr".utf8), "starts with '_'"),
        (Array("caf\u{e9}.csr".utf8), "byte 0xC3"),
        ([0x61, 0xFF, 0x62], "byte 0xFF"),
        (Array("a$(id).csr".utf8), "'$' at byte 2"),
        (Array(String(repeating: "a", count: 202).utf8), "202 bytes long"),
        ([], "empty"),
    ]

    @Test("other names are unsafe, with a reason", arguments: unsafe)
    func unsafeNamesAreRejectedWithAReason(_ name: [UInt8], _ reasonFragment: String) {
        guard case .unsafe(let reason) = SpoolName(bytes: name).classification else {
            Issue.record("\(SpoolName(bytes: name)) was not classified unsafe")
            return
        }
        #expect(reason.contains(reasonFragment), "reason was: \(reason)")
        #expect(!reason.contains("\n"))
    }

    static let stems: [(input: String, stem: String)] = [
        ("router.csr", "router"), ("router.req", "router"), ("router.pem", "router"),
        ("router.der", "router"), ("router.p10", "router"), ("router.txt", "router"),
        ("ROUTER.CSR", "ROUTER"), ("router.Pem", "router"), ("a.pem.csr", "a.pem"),
        ("router", "router"), ("router.cer", "router.cer"), ("router.csrx", "router.csrx"),
        ("csr", "csr"), ("x.csr.bak", "x.csr.bak"),
    ]

    @Test("the output stem drops one request extension", arguments: stems)
    func outputStemDropsOneRequestExtension(_ input: String, _ stem: String) {
        #expect(SpoolName.outputStem(for: SpoolName(input)) == SpoolName(stem))
        #expect(SpoolName.certificateName(forInput: SpoolName(input)) == SpoolName(stem + ".cer"))
    }

    @Test func aBareExtensionIsNotStrippedToNothing() {
        // ".csr" is in progress anyway, but the stem rule alone must never give "".
        #expect(SpoolName.outputStem(for: ".csr") == ".csr")
    }

    @Test func safeNamesKeepTheirNameInTheFailedFolder() {
        #expect(SpoolName("router.csr").failedFolderName == "router.csr")
    }

    @Test func unsafeNamesArePercentEncodedIntoSafeNames() {
        let name = SpoolName(bytes: Array("a b;c\nd%-".utf8) + [0xFF])
        let failed = name.failedFolderName
        #expect(failed == "a%20b%3Bc%0Ad%25-%FF")
        #expect(failed.bytes.allSatisfy { SpoolName.isSafe($0) || $0 == UInt8(ascii: "%") })
    }

    @Test func aLeadingSymbolIsEncodedSoTheFailedNameCannotLookLikeAnOption() {
        #expect(SpoolName("-rf").failedFolderName == "%2Drf")
        #expect(SpoolName("_x").failedFolderName == "%5Fx")
    }

    @Test func longUnsafeNamesAreCutWithAHashSoTheyStayDistinct() {
        let first = SpoolName(String(repeating: " ", count: 250) + "1")
        let second = SpoolName(String(repeating: " ", count: 250) + "2")
        #expect(first.failedFolderName.bytes.count <= 200)
        #expect(first.failedFolderName != second.failedFolderName)
        #expect(first.failedFolderName.bytes.starts(with: Array("%20%20".utf8)))
    }

    @Test func descriptionEscapesEverythingThatIsNotPrintableASCII() {
        let name = SpoolName(bytes: Array("a\nb\\c ".utf8) + [0xC3, 0xA9])
        #expect(name.description == "a\\x0Ab\\\\c \\xC3\\xA9")
    }

    @Test func onlySingleComponentsCanBeUsedWithAtCalls() {
        #expect(SpoolName("x.csr").isSingleComponent)
        #expect(!SpoolName("../x").isSingleComponent)
        #expect(!SpoolName("..").isSingleComponent)
        #expect(!SpoolName(bytes: [0x61, 0x00]).isSingleComponent)
        #expect(!SpoolName(bytes: []).isSingleComponent)
    }
}
