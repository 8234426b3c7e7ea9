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
