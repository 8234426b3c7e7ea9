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
    /// The name `policy.allowed_key_types` gives keys of this kind: the size of an RSA key
    /// is `policy.min_rsa_bits`' business, the curve of an EC key is the type.
    var policyName: String {
        switch self {
        case .rsa: return Self.rsaPolicyName
        case .rsaPSS: return Self.rsaPSSPolicyName
        case .ec(let curve): return curve.name
        case .ed25519: return Self.ed25519PolicyName
        case .ed448: return Self.ed448PolicyName
        }
    }

    static let rsaPolicyName = "RSA"
    static let rsaPSSPolicyName = "RSA-PSS"
    static let ed25519PolicyName = "Ed25519"
    static let ed448PolicyName = "Ed448"

    /// Every key type name, in the order messages list them.
    static let policyNames: [String] = [rsaPolicyName, rsaPSSPolicyName] + NamedCurve.known.map(\.name) + [ed25519PolicyName, ed448PolicyName]
}
