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

    public init(
        minRSABits: Int = 2048,
        allowedCurves: [NamedCurve] = [.p256, .p384, .p521],
        allowSHA1CSRSignature: Bool = false,
        maxCSRBytes: Int = 65536
    ) {
        self.minRSABits = minRSABits
        self.allowedCurves = allowedCurves
        self.allowSHA1CSRSignature = allowSHA1CSRSignature
        self.maxCSRBytes = maxCSRBytes
    }
}
