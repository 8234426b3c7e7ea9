import Foundation
import Issuance
import Spool

/// What every profile issues by, as one value: each profile's issuer (its `[certificate]`,
/// `[policy]` and `[names]` over the CA) and outputs, and the one output encoder (the CA
/// and `ca.chain`). SIGHUP replaces it whole (``RulesBox``), so a worker never pairs one
/// CA's issuer with another CA's chain, nor one profile's new policy with another's old.
struct IssuanceRules: Sendable {
    /// One per profile, by ``ProfileSpool/index``.
    struct Profile: Sendable {
        let name: String
        let issuer: Issuer
        let outputs: [OutputFormat]
    }

    let profiles: [Profile]
    let encoder: OutputEncoder

    /// The CA every profile signs with.
    var authority: CertificateAuthority { encoder.authority }

    /// The default profile's issuer: the one that signs CRLs (`certificate.rsa_signature`
    /// of the top level) and whose `validity_days` the CA expiry warning compares with.
    var defaultIssuer: Issuer { profiles[0].issuer }

    /// The CA of `configuration` and every profile's issuer over it, in
    /// `configuration.profiles` order, with the encoder of their outputs.
    static func load(_ configuration: Configuration, environment: [String: String], now: Date = Date()) throws(StartupError) -> IssuanceRules {
        let authority = try AuthorityLoader.authority(for: configuration, environment: environment, now: now)
        var profiles: [Profile] = []
        for profile in configuration.profiles {
            profiles.append(Profile(name: profile.name, issuer: try AuthorityLoader.issuer(for: profile, authority: authority),
                                    outputs: profile.outputs))
        }
        let encoder = try AuthorityLoader.outputEncoder(for: configuration, authority: authority)
        return IssuanceRules(profiles: profiles, encoder: encoder)
    }

    /// The same rules in the order of `spools` (a reload's configuration may list its
    /// profiles in another order than the running one); nil when a running profile is
    /// missing from these rules.
    func ordered(like spools: [ProfileSpool]) -> IssuanceRules? {
        var ordered: [Profile] = []
        for spool in spools {
            guard let profile = profiles.first(where: { $0.name == spool.name }) else { return nil }
            ordered.append(profile)
        }
        return IssuanceRules(profiles: ordered, encoder: encoder)
    }

    /// The files a profile publishes for the certificate `der`, in its `outputs` order.
    func files(for der: [UInt8], profile: Int) throws(OutputEncodingError) -> [OutboxFile] {
        try encoder.encode(der, as: profiles[profile].outputs).map { OutboxFile(suffix: $0.format.fileSuffix, bytes: $0.bytes) }
    }
}
