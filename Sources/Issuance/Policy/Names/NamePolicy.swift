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
/// `URIPrefixes`). A policy knows its profile's name because every reason names the
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

    let dns: DomainRules?
    let denyDNS: DomainRules
    let ip: AddressPrefixes?
    let denyIP: AddressPrefixes
    let email: MailboxRules?
    let denyEmail: MailboxRules
    let uri: URIPrefixes?
    let denyURI: URIPrefixes

    /// Parses and indexes every rule; throws every rule that is not one, by list and position.
    public init(profile: String, lists: [List: [String]], allowWildcards: Bool = false, freeTextCN: Bool = false) throws(NamePolicyError) {
        self.profile = profile
        self.lists = lists
        self.allowWildcards = allowWildcards
        self.freeTextCN = freeTextCN

        var problems: [NamePolicyError.Problem] = []
        var domains: [List: DomainRules] = [:]
        var addresses: [List: AddressPrefixes] = [:]
        var mailboxes: [List: MailboxRules] = [:]
        var uris: [List: [[UInt8]]] = [:]
        for list in List.allCases {
            guard let entries = lists[list] else { continue }
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
                    mailboxes[list, default: MailboxRules()].insert(rule: bytes[...])
                case (_, .domain(let bytes)): domains[list, default: DomainRules()].insert(rule: bytes[...])
                case (_, .prefix(let octets, let length)): addresses[list, default: AddressPrefixes()].insert(octets: octets, length: length)
                case (_, .uri(let bytes)): uris[list, default: []].append(bytes)
                }
            }
        }
        if !problems.isEmpty {
            throw NamePolicyError(problems: problems)
        }
        // An allow list that is set but empty allows nothing, like one that is not set;
        // the two differ only in the reason given.
        func allowed<Rules>(_ list: List, _ rules: Rules?, empty: Rules) -> Rules? {
            lists[list] == nil ? nil : (rules ?? empty)
        }
        dns = allowed(.dns, domains[.dns], empty: DomainRules())
        denyDNS = domains[.denyDNS] ?? DomainRules()
        ip = allowed(.ip, addresses[.ip], empty: AddressPrefixes())
        denyIP = addresses[.denyIP] ?? AddressPrefixes()
        email = allowed(.email, mailboxes[.email], empty: MailboxRules())
        denyEmail = mailboxes[.denyEmail] ?? MailboxRules()
        uri = lists[.uri] == nil ? nil : URIPrefixes(rules: uris[.uri] ?? [])
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
