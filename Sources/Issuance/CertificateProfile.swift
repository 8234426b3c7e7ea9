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

/// The Extended Key Usage names `certificate.default_extended_key_usage` accepts, the
/// same short names SCEPman's DefaultEkus and OpenSSL use, with their OIDs (RFC 5280
/// 4.2.1.12), in the order messages list them.
public enum ExtendedKeyUsageName {
    public static let all: [(name: String, oid: String)] = [
        ("serverAuth", "1.3.6.1.5.5.7.3.1"),
        ("clientAuth", "1.3.6.1.5.5.7.3.2"),
        ("codeSigning", "1.3.6.1.5.5.7.3.3"),
        ("emailProtection", "1.3.6.1.5.5.7.3.4"),
        ("timeStamping", "1.3.6.1.5.5.7.3.8"),
        ("OCSPSigning", "1.3.6.1.5.5.7.3.9"),
    ]

    /// The dotted OID for a name, or the input itself when it already is a dotted OID.
    public static func oid(for entry: String) -> String? {
        if let known = all.first(where: { $0.name == entry }) { return known.oid }
        let arcs = entry.split(separator: ".", omittingEmptySubsequences: false)
        guard arcs.count >= 2, arcs.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }),
              let first = Int(arcs[0]), first <= 2 else { return nil }
        return entry
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
