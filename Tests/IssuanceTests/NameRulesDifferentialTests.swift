import Foundation
import Testing

@testable import Issuance

/// The indexed rule sets and the one-pass syntax check against plain readings of the same
/// rules, on many generated names: the fast structures must answer exactly what the
/// obvious, slow code answers. The generator is seeded, so a failure repeats.
@Suite struct NameRulesDifferentialTests {
    /// A small deterministic generator (SplitMix64).
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Labels from a small pool, so that names and rules meet often; in any case.
    static func name(labels count: Int, from pool: [String], using generator: inout Generator) -> String {
        (0..<count).map { _ -> String in
            let label = pool.randomElement(using: &generator) ?? "a"
            return Bool.random(using: &generator) ? label.uppercased() : label
        }.joined(separator: ".")
    }

    static let pool = ["a", "b", "example", "corp", "printers", "x-1", "evilexample", "com", "test", "abcdefgh", "abcdefghi", "0"]

    @Test func domainRulesAnswerAsThePlainReadingDoes() {
        var generator = Generator(state: 7)
        for round in 0..<40 {
            var rules = DomainRules()
            var allowExact: Set<String> = [], allowBelow: Set<String> = [], denyExact: Set<String> = [], denyBelow: Set<String> = []
            for _ in 0..<(1 + round % 12) {
                let base = Self.name(labels: Int.random(in: 1...3, using: &generator), from: Self.pool, using: &generator)
                let below = Bool.random(using: &generator)
                let deny = Int.random(in: 0..<4, using: &generator) == 0
                let rule = below ? "." + base : base
                rules.insert(rule: Array(rule.utf8)[...], as: deny ? .deny : .allow)
                switch (deny, below) {
                case (false, false): allowExact.insert(base.lowercased())
                case (false, true): allowBelow.insert(base.lowercased())
                case (true, false): denyExact.insert(base.lowercased())
                case (true, true): denyBelow.insert(base.lowercased())
                }
            }
            func isBelow(_ name: String, _ bases: Set<String>) -> Bool { bases.contains { name.hasSuffix("." + $0) } }
            for _ in 0..<300 {
                let name = Self.name(labels: Int.random(in: 1...5, using: &generator), from: Self.pool, using: &generator)
                let lower = name.lowercased()
                let match = Array(name.utf8).withUnsafeBufferPointer { rules.match($0) }
                #expect(match.allowed == (allowExact.contains(lower) || isBelow(lower, allowBelow)), "\(name) round \(round)")
                #expect(match.denied == (denyExact.contains(lower) || isBelow(lower, denyBelow)), "\(name) round \(round)")
                // *.name covers every name one label below it.
                let wildcard = Array(name.utf8).withUnsafeBufferPointer { rules.matchWildcard(oneLabelBelow: $0) }
                #expect(wildcard.allowed == (allowBelow.contains(lower) || isBelow(lower, allowBelow)), "*.\(name) round \(round)")
                let coversDenied = denyBelow.contains(lower) || isBelow(lower, denyBelow)
                    || denyExact.contains { $0.split(separator: ".", maxSplits: 1).count == 2 && $0.split(separator: ".", maxSplits: 1)[1] == lower }
                #expect(wildcard.denied == coversDenied, "*.\(name) round \(round)")
            }
        }
    }

    @Test func mailboxRulesAnswerAsThePlainReadingDoes() {
        var generator = Generator(state: 11)
        let locals = ["ops", "OPS", "root", "a.b", "x+y"]
        for round in 0..<30 {
            var rules = MailboxRules()
            var addresses: Set<String> = [], domains: Set<String> = [], below: Set<String> = []
            for _ in 0..<(1 + round % 8) {
                let domain = Self.name(labels: Int.random(in: 1...3, using: &generator), from: Self.pool, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0:
                    let address = (locals.randomElement(using: &generator) ?? "ops") + "@" + domain
                    rules.insert(rule: Array(address.utf8)[...], as: .allow)
                    addresses.insert(address.lowercased())
                case 1:
                    rules.insert(rule: Array(domain.utf8)[...], as: .allow)
                    domains.insert(domain.lowercased())
                default:
                    rules.insert(rule: Array(("." + domain).utf8)[...], as: .allow)
                    below.insert(domain.lowercased())
                }
            }
            for _ in 0..<200 {
                let domain = Self.name(labels: Int.random(in: 1...4, using: &generator), from: Self.pool, using: &generator)
                let mailbox = (locals.randomElement(using: &generator) ?? "ops") + "@" + domain
                let lower = mailbox.lowercased(), lowerDomain = domain.lowercased()
                let expected = addresses.contains(lower) || domains.contains(lowerDomain) || below.contains { lowerDomain.hasSuffix("." + $0) }
                let match = Array(mailbox.utf8).withUnsafeBufferPointer { rules.match($0) }
                #expect(match.allowed == expected, "\(mailbox) round \(round)")
                #expect(!match.denied)
            }
        }
    }

    @Test func addressPrefixesAnswerAsBitComparisonDoes() {
        var generator = Generator(state: 13)
        func bits(_ octets: [UInt8], _ count: Int) -> [Bool] {
            (0..<count).map { octets[$0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }
        }
        for round in 0..<30 {
            var prefixes = AddressPrefixes()
            var rules: [(octets: [UInt8], length: Int)] = []
            let width = round % 2 == 0 ? 4 : 16
            for _ in 0..<(1 + round % 10) {
                let length = Int.random(in: 0...(width * 8), using: &generator)
                // Few distinct high bytes, so that addresses fall inside often.
                let octets = AddressPrefixes.masked((0..<width).map { _ in UInt8.random(in: 0...3, using: &generator) << 6 }, length: length)
                prefixes.insert(octets: octets, length: length)
                rules.append((octets, length))
            }
            for _ in 0..<300 {
                let address = (0..<width).map { _ in UInt8.random(in: 0...3, using: &generator) << 6 | UInt8.random(in: 0...1, using: &generator) }
                let expected = rules.contains { bits($0.octets, $0.length) == bits(address, $0.length) }
                #expect(address.withUnsafeBufferPointer { prefixes.contains($0) } == expected, "\(address) round \(round)")
            }
        }
    }

    @Test func uriPrefixesAnswerAsHasPrefixDoes() {
        var generator = Generator(state: 17)
        let pieces = ["https://", "a", "b", "/", "x", "ab", "/admin/"]
        func text(_ count: Int) -> String { (0..<count).map { _ in pieces.randomElement(using: &generator) ?? "a" }.joined() }
        for round in 0..<30 {
            let rules = (0..<(1 + round % 9)).map { _ in Array(text(Int.random(in: 1...4, using: &generator)).utf8) }
            let prefixes = URIPrefixes(rules: rules)
            for _ in 0..<300 {
                let uri = Array(text(Int.random(in: 0...6, using: &generator)).utf8)
                #expect(prefixes.matches(uri) == rules.contains { uri.starts(with: $0) }, "\(String(decoding: uri, as: UTF8.self)) round \(round)")
            }
        }
    }

    /// RFC 5280's preferred name syntax read plainly, label by label.
    static func isPreferredNameSyntax(_ name: String, wildcard: Bool) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253, bytes.allSatisfy({ $0 < 0x80 }) else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if label == "*" {
                guard wildcard, index == 0, labels.count > 1 else { return false }
                continue
            }
            guard (1...63).contains(label.utf8.count),
                  label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }),
                  label.first != "-", label.last != "-" else { return false }
        }
        return true
    }

    @Test func theOnePassSyntaxCheckAgreesWithThePlainReading() {
        var generator = Generator(state: 19)
        let alphabet: [String] = ["a", "Z", "0", "-", ".", "*", "_", "ü", " ", "b", "c"]
        var names = ["", ".", "*", "*.", "*.a", "a.*", "a..b", "a.", ".a", "-a", "a-", "a-b", "**.a",
                     String(repeating: "a", count: 63), String(repeating: "a", count: 64),
                     Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: "."),
                     [String(repeating: "a", count: 63), String(repeating: "b", count: 63), String(repeating: "c", count: 63), String(repeating: "d", count: 61)].joined(separator: ".")]
        for _ in 0..<5000 {
            names.append((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" }.joined())
        }
        for name in names {
            for wildcard in [false, true] {
                let problem = NameSyntax.dnsNameProblem(Array(name.utf8)[...], wildcard: wildcard)
                #expect((problem == nil) == Self.isPreferredNameSyntax(name, wildcard: wildcard), "\(String(reflecting: name)) wildcard \(wildcard): \(problem ?? "nil")")
                // A refused name always gets a reason of its own, never the fallback.
                #expect(problem != "it is not in preferred name syntax", "\(String(reflecting: name))")
            }
        }
    }
}
