import Foundation
import Testing

/// The targets' layers, held against every `import` line in `Sources/`.
///
/// SwiftPM lets a target import anything its dependencies import in turn, so a forbidden
/// import compiles; this test is what keeps the layers true. A violation fails with the
/// file and line of the import.
@Suite struct ImportLayeringTests {
    /// Swift's own platform modules, which every library target may use.
    static let platform: Set<String> = ["Foundation", "FoundationEssentials", "Glibc", "Musl", "Darwin", "Dispatch", "Synchronization"]

    /// What each target may import besides ``platform`` (nil: the target is C, not checked).
    static let allowed: [String: (modules: Set<String>, platform: Bool)?] = [
        "COpenSSL": nil,
        "CSystemd": nil,
        "CPKCS11": nil,
        "Issuance": (["COpenSSL", "CPKCS11"], true),
        // Nothing of ours; swift-collections for its queue.
        "Spool": (["DequeModule"], true),
        "Ledger": (["GRDB"], true),
        "Journal": (["CSystemd", "Logging"], true),
        "DropCA": (["Issuance", "Spool", "Ledger", "Journal", "Logging", "TOMLKit", "SystemPackage", "DequeModule", "Prometheus"], true),
        // The command line goes through one door: DropCA's entry points.
        "dropca": (["DropCA", "ArgumentParser"], false),
        // Tools beside the product.
        "IssuanceBenchmark": (["Issuance"], true),
        "IssuanceFuzzer": (["Issuance", "COpenSSL"], true),
    ]

    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    struct Import: Equatable {
        let module: String
        let file: String
        let line: Int
    }

    /// The module an `import` line names, or nil for any other line. Handles attributes
    /// (`@testable`, `@preconcurrency`), access levels (`internal import`) and kinds
    /// (`import struct Foundation.Date`).
    static func importedModule(_ line: Substring) -> String? {
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
        while let first = words.first, first.hasPrefix("@") { words = words.dropFirst() }
        if let first = words.first, ["public", "package", "internal", "fileprivate", "private"].contains(first) {
            words = words.dropFirst()
        }
        guard words.first == "import" else { return nil }
        words = words.dropFirst()
        if let first = words.first, ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"].contains(first) {
            words = words.dropFirst()
        }
        guard let path = words.first else { return nil }
        return path.split(separator: ".").first.map(String.init)
    }

    static func imports(ofTarget target: String) throws -> [Import] {
        let folder = sources.appendingPathComponent(target)
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        var found: [Import] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if let module = importedModule(line) {
                    found.append(Import(module: module, file: "Sources/\(target)/" + url.path.dropFirst(folder.path.count + 1), line: index + 1))
                }
            }
        }
        return found
    }

    @Test func everyTargetHasARule() throws {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { !$0.hasPrefix(".") }
        #expect(!targets.isEmpty)
        for target in targets {
            #expect(Self.allowed.keys.contains(target), "Sources/\(target) has no rule in ImportLayeringTests.allowed")
        }
    }

    @Test(arguments: allowed.keys.sorted())
    func importsStayWithinTheLayer(target: String) throws {
        guard let rule = Self.allowed[target], let rule else { return }
        let imports = try Self.imports(ofTarget: target)
        #expect(!imports.isEmpty, "Sources/\(target) has no import lines at all; is the path right?")
        let permitted = rule.modules.union(rule.platform ? Self.platform : [])
        for found in imports where !permitted.contains(found.module) {
            Issue.record("\(found.file):\(found.line): imports \(found.module); \(target) may import only \(permitted.sorted().joined(separator: ", "))")
        }
    }

    @Test(arguments: [
        ("import Foundation", "Foundation"),
        ("internal import COpenSSL", "COpenSSL"),
        ("@testable import DropCA", "DropCA"),
        ("@preconcurrency internal import Dispatch", "Dispatch"),
        ("import struct Foundation.Date", "Foundation"),
        ("  import Logging", "Logging"),
    ])
    func importLinesAreRecognised(line: String, module: String) {
        #expect(Self.importedModule(line[...]) == module)
    }

    @Test(arguments: ["// import Issuance", "let important = 1", "#if canImport(Glibc)", "/// `import Issuance` is not allowed"])
    func otherLinesAreNotImports(line: String) {
        #expect(Self.importedModule(line[...]) == nil)
    }
}
