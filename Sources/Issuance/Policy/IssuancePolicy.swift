/// The rules a request must meet: the `[policy]` section of the configuration.
public struct IssuancePolicy: Sendable, Equatable {
    /// Smallest RSA modulus accepted (`policy.min_rsa_bits`).
    public var minRSABits: Int
    /// Largest RSA modulus accepted. Fixed: OpenSSL refuses to verify with larger keys, and
    /// verifying with them is an easy way to make a CA burn CPU.
    public static let maxRSABits = 16384
    /// Named curves accepted for EC keys (`policy.allowed_curves`).
    public var allowedCurves: [NamedCurve]
    /// Whether a SHA-1 self-signature is tolerated (`policy.allow_sha1_csr_signature`).
    public var allowSHA1CSRSignature: Bool
    /// Largest file accepted (`policy.max_csr_bytes`).
    public var maxCSRBytes: Int
    /// Key types accepted, by the names in ``keyTypeNames`` (`policy.allowed_key_types`); nil
    /// accepts every type the rules above accept. An EC key must also be on one of
    /// ``allowedCurves``: the curve names here narrow that list, never widen it.
    public var allowedKeyTypes: [String]?
    /// Extended Key Usages a request may ask for, as names of the ``ExtendedKeyUsage`` table
    /// or dotted OIDs (`policy.allowed_extended_key_usage`); nil lets any through. A
    /// request asking for one outside the list is refused, not trimmed: a certificate
    /// with fewer usages than asked for fails at the appliance, far from the reason.
    public var allowedExtendedKeyUsage: [String]?

    public init(
        minRSABits: Int = 2048,
        allowedCurves: [NamedCurve] = [.p256, .p384, .p521],
        allowSHA1CSRSignature: Bool = false,
        maxCSRBytes: Int = 65536,
        allowedKeyTypes: [String]? = nil,
        allowedExtendedKeyUsage: [String]? = nil
    ) {
        self.minRSABits = minRSABits
        self.allowedCurves = allowedCurves
        self.allowSHA1CSRSignature = allowSHA1CSRSignature
        self.maxCSRBytes = maxCSRBytes
        self.allowedKeyTypes = allowedKeyTypes
        self.allowedExtendedKeyUsage = allowedExtendedKeyUsage
    }

    /// Every name `policy.allowed_key_types` accepts: "RSA", "RSA-PSS", each curve of
    /// ``NamedCurve/known``, "Ed25519", "Ed448" (the names of `PublicKeyKind`).
    public static var keyTypeNames: [String] { PublicKeyKind.policyNames }
}
