/// Which names a profile's certificates may carry: the `[names]` table of the
/// configuration (or of `[profiles.NAME]`).
///
/// With no name policy (the table absent) every well-formed name is allowed. Once a profile
/// has one, a name of a type without an allow list is refused, and so are otherName,
/// directoryName, registeredID, x400Address and ediPartyName entries; the `deny_*` lists
/// win over the allow lists. The subject counts: a CN that is a DNS name or an IP address
/// is checked as one, any other CN is refused unless `free_text_cn`, and an emailAddress
/// is checked as an e-mail name. `NamePolicy+Check.swift` applies it to a request.
///
/// The rules are parsed and indexed once, here, so that a request's cost does not grow
/// with their number (see `DomainRules`, `AddressPrefixes`, `MailboxRules`,
/// `URIPrefixes`). A list that is set but empty allows nothing, like one that is not set;
/// the two differ only in the reason given. A policy knows its profile's name because every reason names the
/// profile and the list that decided: `… is outside profile printers' names.dns`.
public struct NamePolicy: Sendable, Equatable {
    /// The lists of `[names]`, named as the configuration names them.
    public enum List: String, CaseIterable, Sendable {
        case dns
        case ip
        case email
        case uri
        case denyDNS = "deny_dns"
        case denyIP = "deny_ip"
        case denyEmail = "deny_email"
        case denyURI = "deny_uri"

        /// Its position in `allCases`, for `setLists`.
        var bit: UInt8 {
            switch self {
            case .dns: 0
            case .ip: 1
            case .email: 2
            case .uri: 3
            case .denyDNS: 4
            case .denyIP: 5
            case .denyEmail: 6
            case .denyURI: 7
            }
        }

        public var isDeny: Bool {
            switch self {
            case .dns, .ip, .email, .uri: false
            case .denyDNS, .denyIP, .denyEmail, .denyURI: true
            }
        }

        /// What the list holds, for messages.
        var ruleDescription: String {
            switch self {
            case .dns, .denyDNS: "a DNS name, or .name for the names below it"
            case .ip, .denyIP: "an IP address range in CIDR form (10.20.0.0/16, 2001:db8::/48) or one address"
            case .email, .denyEmail: "a mail domain, .domain for the domains below it, or one address"
            case .uri, .denyURI: "an absolute URI prefix (https://host.example/path/)"
            }
        }
    }

    /// The profile whose policy this is ("default" for the top-level `[names]`).
    public private(set) var profile: String
    /// The lists as written, by list; a list that is not set has no entry.
    public let lists: [List: [String]]
    /// Whether `*.a.b` may be issued (when `.a.b` is allowed): `names.allow_wildcards`.
    public let allowWildcards: Bool
    /// Whether a CN that is neither a DNS name nor an IP address is allowed: `names.free_text_cn`.
    public let freeTextCN: Bool

    /// The lists that are set, one bit per `List` (`List.bit`): asked for every name, so
    /// not a dictionary lookup.
    let setLists: UInt8
    /// The DNS rules, allow and deny together.
    let dns: DomainRules
    /// The e-mail rules, allow and deny together.
    let email: MailboxRules
    let ip: AddressPrefixes
    let denyIP: AddressPrefixes
    let uri: URIPrefixes
    let denyURI: URIPrefixes

    /// Parses and indexes every rule; throws every rule that is not one, by list and position.
    public init(profile: String, lists: [List: [String]], allowWildcards: Bool = false, freeTextCN: Bool = false) throws(NamePolicyError) {
        self.profile = profile
        self.lists = lists
        self.allowWildcards = allowWildcards
        self.freeTextCN = freeTextCN

        var problems: [NamePolicyError.Problem] = []
        var dns = DomainRules()
        var email = MailboxRules()
        var addresses: [List: AddressPrefixes] = [:]
        var uris: [List: [[UInt8]]] = [:]
        for list in List.allCases {
            guard let entries = lists[list] else { continue }
            let role: DomainRules.Role = list.isDeny ? .deny : .allow
            var seen: [[UInt8]: String] = [:]
            for (position, entry) in entries.enumerated() {
                let rule: NameRule
                switch NameRule.parse(entry, for: list) {
                case .success(let parsed): rule = parsed
                case .failure(let problem):
                    problems.append(.init(list: list, position: position, message: "\(String(reflecting: entry)) is not \(list.ruleDescription): \(problem.message)"))
                    continue
                }
                if let earlier = seen[rule.key] {
                    let message = earlier == entry ? "\(String(reflecting: entry)) is listed twice"
                        : "\(String(reflecting: entry)) is the same rule as \(String(reflecting: earlier))"
                    problems.append(.init(list: list, position: position, message: message))
                    continue
                }
                seen[rule.key] = entry
                switch (list, rule) {
                case (.email, .domain(let bytes)), (.denyEmail, .domain(let bytes)), (_, .mailbox(let bytes)):
                    email.insert(rule: bytes[...], as: role)
                case (_, .domain(let bytes)): dns.insert(rule: bytes[...], as: role)
                case (_, .prefix(let octets, let length)): addresses[list, default: AddressPrefixes()].insert(octets: octets, length: length)
                case (_, .uri(let bytes)): uris[list, default: []].append(bytes)
                }
            }
        }
        if !problems.isEmpty {
            throw NamePolicyError(problems: problems)
        }
        self.dns = dns
        self.email = email
        setLists = List.allCases.reduce(0) { bits, list in lists[list] == nil ? bits : bits | 1 << list.bit }
        ip = addresses[.ip] ?? AddressPrefixes()
        denyIP = addresses[.denyIP] ?? AddressPrefixes()
        uri = URIPrefixes(rules: uris[.uri] ?? [])
        denyURI = URIPrefixes(rules: uris[.denyURI] ?? [])
    }

    /// The same rules for another profile: what a `[profiles.NAME]` without a `[names]`
    /// table of its own inherits from the top level.
    public func forProfile(_ name: String) -> NamePolicy {
        var copy = self
        copy.profile = name
        return copy
    }

    /// Equal when the profile and everything written are; the indexes follow from those.
    public static func == (lhs: NamePolicy, rhs: NamePolicy) -> Bool {
        lhs.profile == rhs.profile && lhs.lists == rhs.lists
            && lhs.allowWildcards == rhs.allowWildcards && lhs.freeTextCN == rhs.freeTextCN
    }

    /// Whether the profile sets `list` (empty or not).
    @inline(__always)
    func isSet(_ list: List) -> Bool {
        setLists & (1 << list.bit) != 0
    }

    /// `names.dns` and the like, as reasons name a list.
    static func key(_ list: List) -> String { "names.\(list.rawValue)" }
    static let wildcardsKey = "names.allow_wildcards"
    static let freeTextCNKey = "names.free_text_cn"

    /// "profile printers'", "profile default's": the owner of a list in a reason.
    var profileOwner: String {
        profile.hasSuffix("s") ? "profile \(profile)'" : "profile \(profile)'s"
    }
}

/// Rules of a `[names]` table that are not rules, every one of them, by list and position
/// in the list, so that the configuration can report each on its own line.
public struct NamePolicyError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        public let list: NamePolicy.List
        /// 0-based position in the list.
        public let position: Int
        /// What is wrong with the entry, quoting it.
        public let message: String
    }

    public let problems: [Problem]

    public var description: String {
        problems.map { "\(NamePolicy.key($0.list))[\($0.position)]: \($0.message)" }.joined(separator: "\n")
    }
}
