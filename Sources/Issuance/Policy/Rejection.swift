/// Why a request was refused: a stable code for tests, the ledger and the journal's
/// `DROPCA_REJECTION_CODE`, and a one-line reason in an operator's words that names the
/// setting involved where there is one.
///
/// Only what the issuance engine decides from a request's bytes. What the spool refuses
/// before a byte is parsed (links, folders, unsafe names) is `Spool.SpoolRefusal`; the
/// daemon carries either as one `Refusal`. The raw values of both share one namespace in
/// the ledger, so no code here may reuse one of the spool's.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable identifiers; new codes may be added, existing ones never change meaning.
    public enum Code: String, Sendable, CaseIterable {
        case tooLarge
        case unparseable
        case trailingData
        case unsupportedVersion
        case weakSignatureAlgorithm
        case badSignature
        case rsaKeyTooSmall
        case rsaKeyTooLarge
        case rsaBadExponent
        case curveNotAllowed
        case explicitCurveParameters
        case keyTypeNotAllowed
        case duplicateExtension
        case malformedExtension
        case namesNobody
        /// A name the certificate would carry is not well-formed (`NameSyntax`).
        case malformedName
        /// A name is outside, or denied by, the profile's name policy (`NamePolicy`).
        case nameNotAllowed
        /// A requested Extended Key Usage is outside `policy.allowed_extended_key_usage`.
        case extendedKeyUsageNotAllowed
        // The request was fine but the CA could not sign it (expired CA, OpenSSL failure).
        case issuerFailure
        // The request was fine but the CA's token did not sign: the input waits for it.
        case signerUnavailable
    }

    public let code: Code
    /// One line, no trailing period: what is wrong and, where it applies, which setting decides.
    public let reason: String
    /// Further lines for the `.reason` file: OpenSSL's own words, offending values.
    public let details: [String]

    public init(_ code: Code, _ reason: String, details: [String] = []) {
        self.code = code
        self.reason = reason
        self.details = details
    }

    public var description: String { reason }

    /// Equality on the code only, so that rewording a reason never breaks a caller.
    public static func == (lhs: Rejection, rhs: Rejection) -> Bool { lhs.code == rhs.code }
}
