/// The kinds of subject key dropca certifies, as decided from the request's
/// subjectPublicKeyInfo; key usage filtering and logs depend on it.
enum PublicKeyKind: Equatable {
    case rsa(bits: Int)
    case rsaPSS(bits: Int)
    case ec(NamedCurve)
    case ed25519
    case ed448

    var description: String {
        switch self {
        case .rsa(let bits): return "RSA \(bits)"
        case .rsaPSS(let bits): return "RSA-PSS \(bits)"
        case .ec(let curve): return "EC \(curve.name)"
        case .ed25519: return "Ed25519"
        case .ed448: return "Ed448"
        }
    }
}

extension PublicKeyKind {
    /// The names `policy.allowed_key_types` gives the kinds: the size of an RSA key is
    /// `policy.min_rsa_bits`' business, so "RSA" is every rsaEncryption key; the curve of an
    /// EC key is its type ("P-256"). `IssuancePolicy.checkKey` asks before decoding a key,
    /// so that a type the policy refuses costs nothing.
    static let rsaPolicyName = "RSA"
    static let rsaPSSPolicyName = "RSA-PSS"
    static let ed25519PolicyName = "Ed25519"
    static let ed448PolicyName = "Ed448"

    /// Every key type name, in the order messages list them.
    static let policyNames: [String] = [rsaPolicyName, rsaPSSPolicyName] + NamedCurve.known.map(\.name) + [ed25519PolicyName, ed448PolicyName]
}
