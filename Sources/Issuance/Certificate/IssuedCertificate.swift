import Foundation

/// A certificate dropca signed, with what the ledger and the journal record about it.
public struct IssuedCertificate: Sendable {
    public let der: [UInt8]
    /// Lowercase hex of the serial number, without leading zero octets.
    public let serialHex: String
    /// The subject in RFC 2253 form (empty for a SAN-only certificate).
    public let subject: String
    /// Readable SAN entries: "DNS:host.example", "IP:192.0.2.1", "email:…".
    public let subjectAlternativeNames: [String]
    public let notBefore: Date
    public let notAfter: Date
    /// Lowercase hex SHA-256 of the uploaded file's bytes, as received.
    public let csrSHA256: String
    /// Extensions asked for and left out ("nameConstraints (2.5.29.30)").
    public let discardedExtensions: [String]
    /// Key Usage bits asked for and removed, by name.
    public let removedKeyUsages: [String]
    /// Set when notAfter was cut to the CA's own notAfter.
    public let validityCutToCA: Bool
    /// Set when the subject's emailAddress values were added to the SAN as rfc822Names.
    public let subjectEmailAddedToSAN: Bool
    /// Set when the request had no EKU and `certificate.default_extended_key_usage` applied.
    public let defaultExtendedKeyUsageApplied: Bool
    /// The subject key as the logs describe it ("EC P-256", "RSA 2048").
    public let keyDescription: String
}
