import TestSupport
import Foundation
import Testing
@testable import Journal

@Suite struct MessageCatalogTests {
    @Test func catalogHasExactlyTheIdsOfTheSwiftList() throws {
        let catalog = try MessageCatalog.load()
        let catalogIDs = catalog.entries.map(\.id)
        let swiftIDs = DropCAEvent.allCases.map(\.messageID.hex)
        #expect(Set(catalogIDs) == Set(swiftIDs))
        #expect(catalogIDs.count == swiftIDs.count)
    }

    @Test func everyEventHasItsOwnWellFormedID() {
        let ids = DropCAEvent.allCases.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        for event in DropCAEvent.allCases {
            #expect(MessageID.isWellFormed(event.messageID.hex), "\(event)")
            #expect(MessageID(event.messageID.hex) == event.messageID)
            #expect(!event.summary.isEmpty)
        }
    }

    @Test(arguments: DropCAEvent.allCases)
    func catalogEntrySubstitutesWhatTheEventCarries(_ event: DropCAEvent) throws {
        let catalog = try MessageCatalog.load()
        let entry = try #require(catalog.entries.first { $0.id == event.messageID.hex })
        let expected = Set(event.metadataKeys.map { JournalFieldName(metadataKey: $0).rawValue })
        #expect(entry.substitutions == expected)
        for name in entry.substitutions {
            #expect(JournalFieldName.isValid(name), "@\(name)@ is not a field journald accepts")
        }
    }

    @Test func messageIDRefusesAnythingButLowercaseHex() {
        #expect(MessageID("4cbe923a30624cc0979b0ce90edbc964") != nil)
        #expect(MessageID("4CBE923A30624CC0979B0CE90EDBC964") == nil)
        #expect(MessageID("4cbe923a-3062-4cc0-979b-0ce90edbc964") == nil)
        #expect(MessageID("4cbe923a30624cc0979b0ce90edbc96") == nil)
        #expect(MessageID("4cbe923a30624cc0979b0ce90edbc964a") == nil)
        #expect(MessageID("gcbe923a30624cc0979b0ce90edbc964") == nil)
    }

    @Test func eventMetadataAddsTheMessageIDAndKeepsTheRest() {
        let metadata = DropCAEvent.requestRejected.metadata(["file": "a.csr"])
        #expect(metadata["file"] == "a.csr")
        #expect(metadata[MessageID.metadataKey] == .string("8a5a91583f89410389afd5ffebbf8db4"))
    }

    /// A catalog text for the strict reader, named so test output stays one line.
    struct CatalogCase: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let valid: Bool
        var testDescription: String { name }

        static let header = "-- 4cbe923a30624cc0979b0ce90edbc964\nSubject: x\nDefined-By: dropca\n"
        static let all: [CatalogCase] = [
            CatalogCase(name: "well formed", text: header + "\nbody\n", valid: true),
            CatalogCase(name: "no final newline", text: header + "\nbody", valid: false),
            CatalogCase(
                name: "uppercase id",
                text: header.replacingOccurrences(of: "4cbe923a30624cc0979b0ce90edbc964", with: "4CBE923A30624CC0979B0CE90EDBC964") + "\nbody\n",
                valid: false),
            CatalogCase(
                name: "no Subject",
                text: "-- 4cbe923a30624cc0979b0ce90edbc964\nDefined-By: dropca\n\nbody\n", valid: false),
            CatalogCase(
                name: "defined by another",
                text: "-- 4cbe923a30624cc0979b0ce90edbc964\nSubject: x\nDefined-By: systemd\n\nbody\n", valid: false),
            CatalogCase(name: "empty body", text: header + "\n\n", valid: false),
            CatalogCase(name: "header without colon", text: header + "Oops\n\nbody\n", valid: false),
            CatalogCase(name: "comment in body", text: header + "\nbody\n# gone\n", valid: false),
            CatalogCase(
                name: "entry without blank line before",
                text: header + "\nbody\n-- 8a5a91583f89410389afd5ffebbf8db4\nSubject: y\nDefined-By: dropca\n\nbody\n",
                valid: false),
            CatalogCase(name: "duplicate id", text: header + "\nbody\n\n" + header + "\nbody\n", valid: false),
        ]
    }

    /// The strict reader must itself refuse broken catalogs, or the tests above prove nothing.
    @Test(arguments: CatalogCase.all)
    func strictReaderRefusesBrokenCatalogs(_ catalogCase: CatalogCase) {
        let parsed = (try? MessageCatalog(parsing: catalogCase.text)) != nil
        #expect(parsed == catalogCase.valid)
    }

    /// journald's own catalog compiler, pointed at a private root so the machine's
    /// catalog database is left alone, must list every id with its subject.
    @Test func journalctlCompilesTheCatalog() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dropca-catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let catalogFolder = root.appendingPathComponent("usr/lib/systemd/catalog")
        try FileManager.default.createDirectory(at: catalogFolder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: MessageCatalog.url, to: catalogFolder.appendingPathComponent("dropca.catalog"))

        _ = try journalctl(["--root=\(root.path)", "--update-catalog"])
        let listing = try journalctl(["--root=\(root.path)", "--list-catalog"])

        let catalog = try MessageCatalog.load()
        let expected = Set(catalog.entries.map { "\($0.id) dropca: \($0.headers["Subject"] ?? "")" })
        let listed = Set(listing.split(separator: "\n").map(String.init))
        #expect(listed == expected)
    }

    private func journalctl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["journalctl", "--no-pager"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "journalctl \(arguments.joined(separator: " "))")
        return String(decoding: data, as: UTF8.self)
    }
}
