/// The files a profile publishes for each certificate (`outputs` in the configuration),
/// each under the request's stem with its own suffix: `printer01.cer`, `printer01.pem`…
///
/// Appliances differ in what they take: most want the DER certificate (`.cer`, what dropca
/// has always written); some want PEM; web servers want the leaf with its chain in one PEM
/// file; Windows and Java tools import a PKCS#7 bundle. `OutputEncoder` makes each.
public enum OutputFormat: String, CaseIterable, Sendable, Equatable {
    /// The certificate, DER.
    case der
    /// The certificate, PEM.
    case pem
    /// The certificate, then the issuing CA certificate, then `ca.chain`'s certificates, PEM.
    case pemChain = "pem-chain"
    /// A certificates-only PKCS#7 SignedData (DER) holding the same certificates in the same order.
    case p7b

    /// What `outputs` holds when the configuration does not say: the DER certificate alone.
    public static let defaults: [OutputFormat] = [.der]

    /// The suffix after the stem; distinct for every format, so that formats never
    /// replace one another in the outbox.
    public var fileSuffix: String {
        switch self {
        case .der: ".cer"
        case .pem: ".pem"
        case .pemChain: ".chain.pem"
        case .p7b: ".p7b"
        }
    }
}
