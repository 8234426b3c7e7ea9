import Foundation
import Issuance
import Testing

@testable import DropCA

/// The one key table (`ConfigurationKeys.swift`) against what documents it: the template
/// `dropca init` writes and the shipped `etc/dropca/dropca.toml` name every key, and the
/// examples they give commented out are valid configurations once uncommented.
@Suite("Configuration key table")
struct ConfigurationKeysTests {
    typealias Fixture = ConfigurationFixture

    static let template = Configuration.template(
        caCertificate: "ca.pem", caKey: "ca.key", inbox: "inbox", outbox: "outbox", failed: "failed", stateDirectory: "state"
    )

    /// Every key, as `section.key`, plus the document's own keys.
    static var everyKey: [(section: String, key: String)] {
        Configuration.Section.allCases.flatMap { section in section.keys.map { (section.rawValue, $0) } }
            + [("", Configuration.TopLevelKey.outputs.rawValue)]
    }

    /// The lines of `text` with the `# ` of commented-out keys and headers taken away: what
    /// an operator gets by uncommenting every example.
    static func uncommented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("# ") else { return String(line) }
            let rest = line.dropFirst(2)
            let isKey = rest.range(of: #"^[a-z0-9_]+ = "#, options: .regularExpression) != nil
            return isKey || rest.hasPrefix("[") ? String(rest) : String(line)
        }.joined(separator: "\n")
    }

    @Test(arguments: [("template", template), ("etc/dropca/dropca.toml", (try? ShippedFiles.text(ShippedFiles.exampleConfiguration)) ?? "")])
    func everyKeyIsWrittenOutWithACommentAbove(_ name: String, _ text: String) {
        let lines = Self.uncommented(text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var section = ""
        var seen: Set<String> = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("[") {
                section = String(line.dropFirst().prefix { $0 != "]" })
                continue
            }
            guard let equals = line.range(of: " = "), !line.hasPrefix("#") else { continue }
            let key = String(line[..<equals.lowerBound])
            seen.insert(section.isEmpty ? key : "\(section).\(key)")
            // The profile example is one block; everything else says what it is.
            if !section.hasPrefix("profiles.") {
                #expect(index > 0 && (lines[index - 1].hasPrefix("#") || lines[index - 1].hasPrefix("[")), "\(name): no comment above \(section).\(key)")
            }
        }
        for (section, key) in Self.everyKey {
            let dotted = section.isEmpty ? key : "\(section).\(key)"
            #expect(seen.contains(dotted), "\(name) does not name \(dotted)")
        }
        #expect(seen.contains { $0.hasPrefix("profiles.") }, "\(name) shows no [profiles.NAME] example")
    }

    @Test func theTemplatesExamplesParseOnceUncommented() throws {
        let configuration = try Fixture.parse(Self.uncommented(Self.template))
        #expect(configuration.outputs == [.der, .pemChain])
        #expect(configuration.ca.chain == "/srv/dropca/ca-chain.pem")
        #expect(configuration.policy.allowedKeyTypes == ["RSA", "P-256", "P-384", "Ed25519"])
        #expect(configuration.policy.allowedExtendedKeyUsage == ["serverAuth", "clientAuth"])
        #expect(configuration.names?.lists.count == NamePolicy.List.allCases.count)
        #expect(configuration.profiles.map(\.name) == ["default", "printers"])
        #expect(configuration.profile(named: "printers")?.certificate.validityDays == 90)
        #expect(configuration.profile(named: "printers")?.names?.lists[.dns] == [".printers.corp.example"])
        // Without them, the template is what it was: defaults only.
        #expect(try Fixture.parse(Self.template).profiles.count == 1)
        #expect(try Fixture.parse(Self.template).names == nil)
    }

    @Test func theShippedExamplesParseOnceUncommented() throws {
        let configuration = try Fixture.parse(Self.uncommented(try ShippedFiles.text(ShippedFiles.exampleConfiguration)))
        #expect(configuration.outputs == [.der, .pemChain])
        #expect(configuration.profiles.map(\.name) == ["default", "printers"])
        #expect(configuration.names?.lists[.dns] == ["printers.example.com", ".printers.example.com"])
    }

    /// The shipped example is written by hand for the service (it says where the chroot is),
    /// but it holds the defaults of the key table: read, it is the template `dropca init`
    /// writes for its folders, and so what dropca.toml(5) gives as defaults.
    @Test func theShippedExampleHoldsTheTablesDefaults() throws {
        let shipped = try Fixture.parse(try ShippedFiles.text(ShippedFiles.exampleConfiguration))
        let template = Configuration.template(
            caCertificate: shipped.ca.certificate, caKey: shipped.ca.key.configurationValue,
            inbox: shipped.spool.inbox, outbox: shipped.spool.outbox, failed: shipped.spool.failed,
            stateDirectory: shipped.state.directory, crlDirectory: shipped.crl.directory ?? "")
        #expect(try Fixture.parse(template) == shipped)
        #expect(shipped.spool.inbox == Configuration.SpoolSettings().inbox, "the service's folders are the defaults")
        #expect(shipped.state.directory == Configuration.State().directory)
        #expect(shipped.crl.directory == Configuration.CRLSettings().directory)
    }
}
