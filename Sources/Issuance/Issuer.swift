import Foundation
internal import COpenSSL

/// One uploaded file in, one DER certificate or one rejection out, by the issuance policy
/// in the README's "Issuance policy, for operators". Pure: no file I/O, no logging; callers record and log the result.
///
/// Set up once per configuration (CA, policy, profile) and then shared by every worker:
/// after `init` it only reads its CA and prepared extensions, and each `issue` call owns
/// all the OpenSSL objects it creates, which is why it is `@unchecked Sendable`.
public final class Issuer: @unchecked Sendable {
    public let authority: CertificateAuthority
    public let policy: IssuancePolicy
    public let profile: CertificateProfile
    /// The names its certificates may carry; nil allows every well-formed name.
    public let names: NamePolicy?
    /// Internal, not private: `Issuer+RevocationList` signs CRLs with its prepared fields and signer.
    let builder: CertificateBuilder

    public init(authority: CertificateAuthority, policy: IssuancePolicy, profile: CertificateProfile, names: NamePolicy? = nil) throws(IssuerSetupError) {
        self.authority = authority
        self.policy = policy
        self.profile = profile
        self.names = names
        // The configuration refuses this too; an issuer made otherwise must not add, by
        // default, a usage its own policy would refuse a request for.
        if let allowed = policy.allowedExtendedKeyUsage {
            let allowedOIDs = Set(allowed.compactMap(ExtendedKeyUsage.oid(for:)))
            if let outside = profile.defaultExtendedKeyUsage.first(where: { ExtendedKeyUsage.oid(for: $0).map { !allowedOIDs.contains($0) } ?? true }) {
                throw IssuerSetupError("certificate.default_extended_key_usage holds \(outside), which policy.allowed_extended_key_usage does not allow")
            }
        }
        let prepared = try PreparedFields(authority: authority, profile: profile)
        let signer = try SigningAlgorithm(authority: authority, rsaScheme: profile.rsaSignature)
        self.builder = CertificateBuilder(authority: authority, profile: profile, prepared: prepared, signer: signer)
    }

    /// Issues a certificate for the request in `fileBytes` (DER, PEM or bare base64).
    public func issue(_ fileBytes: [UInt8], now: Date = Date()) -> Result<IssuedCertificate, Rejection> {
        do {
            return .success(try issueOrThrow(fileBytes, now: now))
        } catch {
            return .failure(error)
        }
    }

    private func issueOrThrow(_ fileBytes: [UInt8], now: Date) throws(Rejection) -> IssuedCertificate {
        if fileBytes.count > policy.maxCSRBytes {
            throw Rejection(.tooLarge, "the file is \(fileBytes.count) bytes, over policy.max_csr_bytes = \(policy.maxCSRBytes)")
        }
        let request = try SigningRequest(der: RequestDecoding.der(from: fileBytes))
        guard request.version == 0 else {
            throw Rejection(.unsupportedVersion, "the request has version \(request.version + 1); PKCS#10 defines only version 1 (0)")
        }
        let (kind, key) = try policy.checkKey(of: request)
        try policy.checkSignature(of: request, key: key)
        let extensions = try RequestedExtensions(of: request)
        if request.subjectIsEmpty && extensions.subjectAltName == nil {
            throw Rejection(.namesNobody, "the request has an empty subject and no Subject Alternative Name, so the certificate would name nobody")
        }
        // Every name the certificate would carry, syntax-checked; then the profile's rules.
        let names = try CertificateNames(request: request, extensions: extensions, readingCommonNames: self.names != nil)
        try policy.checkExtendedKeyUsage(of: extensions)
        try self.names?.check(names)

        var removedKeyUsages: [String] = []
        var keyUsage = CertificateBuilder.KeyUsageOutcome.absent
        if let requestedKeyUsage = extensions.keyUsage {
            let requestedBits = KeyUsageFilter.bits(inValue: RequestedExtensions.value(of: requestedKeyUsage))
            let (kept, removed) = KeyUsageFilter.filter(requestedBits, for: kind)
            removedKeyUsages = removed.members.map(\.name)
            if kept.isEmpty {
                keyUsage = .removedEntirely
            } else if removed.isEmpty {
                keyUsage = .copied
            } else if let value = KeyUsageFilter.encode(kept) {
                keyUsage = .reduced(value: value)
            } else {
                throw Rejection(.issuerFailure, "encoding the reduced Key Usage failed")
            }
        }

        var subjectAltNames = extensions.subjectAltNames
        var extendedSubjectAltName: [UInt8]? = nil
        let missingAddresses = names.addedEmailAddresses
        if !missingAddresses.isEmpty {
            let requested = extensions.subjectAltName.map(RequestedExtensions.value(of:))
            guard let value = SubjectEmailAddresses.subjectAltNameValue(requested: requested, adding: missingAddresses) else {
                throw Rejection(.issuerFailure, "adding the subject's e-mail address to the Subject Alternative Name failed")
            }
            extendedSubjectAltName = value
            subjectAltNames += missingAddresses.map { "email:" + String(decoding: $0, as: UTF8.self) }
        }

        let built = try builder.build(
            from: request,
            decisions: .init(keyKind: kind, extensions: extensions, keyUsage: keyUsage, extendedSubjectAltName: extendedSubjectAltName),
            now: now
        )
        return IssuedCertificate(
            der: built.der,
            serialHex: SerialNumber.hex(built.serial),
            subject: request.subjectText,
            subjectAlternativeNames: subjectAltNames,
            notBefore: built.notBefore,
            notAfter: built.notAfter,
            csrSHA256: Self.sha256Hex(fileBytes),
            discardedExtensions: extensions.discarded,
            removedKeyUsages: removedKeyUsages,
            validityCutToCA: built.validityCut,
            subjectEmailAddedToSAN: extendedSubjectAltName != nil,
            defaultExtendedKeyUsageApplied: built.defaultEKUApplied,
            keyDescription: kind.description
        )
    }

    /// Lowercase hex SHA-256 of `bytes`: how the ledger recognises an input after a crash.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digest = bytes.withUnsafeBufferPointer { MessageDigests.sha256($0.baseAddress, count: $0.count) }
        return SerialNumber.hex(digest)
    }
}
