internal import COpenSSL

/// An elliptic curve by the name operators write in `policy.allowed_curves`.
public struct NamedCurve: Sendable, Hashable, CustomStringConvertible {
    /// The configuration name: "P-256", "secp256k1", "brainpoolP256r1"…
    public let name: String
    let nid: Int32

    public static let p256 = NamedCurve(name: "P-256", nid: NID_X9_62_prime256v1)
    public static let p384 = NamedCurve(name: "P-384", nid: NID_secp384r1)
    public static let p521 = NamedCurve(name: "P-521", nid: NID_secp521r1)
    public static let secp256k1 = NamedCurve(name: "secp256k1", nid: NID_secp256k1)
    public static let brainpoolP256r1 = NamedCurve(name: "brainpoolP256r1", nid: NID_brainpoolP256r1)
    public static let brainpoolP384r1 = NamedCurve(name: "brainpoolP384r1", nid: NID_brainpoolP384r1)
    public static let brainpoolP512r1 = NamedCurve(name: "brainpoolP512r1", nid: NID_brainpoolP512r1)

    /// Every curve a configuration may name.
    public static let known: [NamedCurve] = [.p256, .p384, .p521, .secp256k1, .brainpoolP256r1, .brainpoolP384r1, .brainpoolP512r1]

    /// The curve a configuration name stands for; nil for names dropca does not know.
    public init?(configurationName: String) {
        guard let curve = Self.known.first(where: { $0.name == configurationName }) else { return nil }
        self = curve
    }

    private init(name: String, nid: Int32) {
        self.name = name
        self.nid = nid
    }

    /// The configuration name of a curve OpenSSL knows by `nid`, or OpenSSL's short name
    /// for curves outside the known list (for rejection messages).
    static func name(ofNID nid: Int32) -> String {
        if let known = known.first(where: { $0.nid == nid }) { return known.name }
        guard let shortName = OBJ_nid2sn(nid) else { return "curve NID \(nid)" }
        return String(cString: shortName)
    }

    public var description: String { name }
}
