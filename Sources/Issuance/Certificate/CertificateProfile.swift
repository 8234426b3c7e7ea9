/// What every certificate gets: the `[certificate]` section of the configuration.
public struct CertificateProfile: Sendable, Equatable {
    public var validityDays: Int
    public var backdateSeconds: Int
    /// Authority Information Access caIssuers URL; nil leaves it out.
    public var caIssuersURL: String?
    /// Authority Information Access OCSP URL; nil leaves it out.
    public var ocspURL: String?
    /// CRL Distribution Points URL; nil leaves the extension out.
    public var crlURL: String?
    /// Extended Key Usage for requests that ask for none: names or dotted OIDs.
    public var defaultExtendedKeyUsage: [String]
    public var rsaSignature: RSASignatureScheme

    public init(
        validityDays: Int = 365,
        backdateSeconds: Int = 3600,
        caIssuersURL: String? = nil,
        ocspURL: String? = nil,
        crlURL: String? = nil,
        defaultExtendedKeyUsage: [String] = [],
        rsaSignature: RSASignatureScheme = .sha256
    ) {
        self.validityDays = validityDays
        self.backdateSeconds = backdateSeconds
        self.caIssuersURL = caIssuersURL
        self.ocspURL = ocspURL
        self.crlURL = crlURL
        self.defaultExtendedKeyUsage = defaultExtendedKeyUsage
        self.rsaSignature = rsaSignature
    }
}

/// How an RSA CA key signs (`certificate.rsa_signature`).
public enum RSASignatureScheme: String, Sendable, CaseIterable {
    case sha256
    case sha384
    case sha512
    case pssSHA256 = "pss-sha256"
}
