import Foundation
internal import COpenSSL

/// Builds and signs one certificate from an accepted request (the README's "Issuance policy, for operators", "The
/// certificate"). Subject, public key and carried-over extension values are copied as
/// encoded objects, never re-typed, so the certificate holds the request's bytes.
struct CertificateBuilder {
    let authority: CertificateAuthority
    let profile: CertificateProfile
    let prepared: PreparedFields
    let signer: SigningAlgorithm

    struct Decisions {
        let keyKind: PublicKeyKind
        let extensions: RequestedExtensions
        let keyUsage: KeyUsageOutcome
        /// SAN value to use instead of the request's (subject e-mail addresses added).
        let extendedSubjectAltName: [UInt8]?
    }

    enum KeyUsageOutcome {
        case absent
        case copied
        case reduced(value: [UInt8])
        case removedEntirely
    }

    struct Built {
        let der: [UInt8]
        let serial: [UInt8]
        let notBefore: Date
        let notAfter: Date
        let validityCut: Bool
        let defaultEKUApplied: Bool
    }

    func build(from request: SigningRequest, decisions: Decisions, now: Date) throws(Rejection) -> Built {
        OpenSSLError.clear()
        guard let serial = SerialNumber.draw() else {
            throw Rejection(.issuerFailure, "the kernel gave no random bytes for a serial number")
        }

        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let notBefore = nowSeconds - Int64(profile.backdateSeconds)
        var notAfter = nowSeconds + Int64(profile.validityDays) * 86_400
        let caNotAfter = Int64(authority.notAfter.timeIntervalSince1970)
        let validityCut = notAfter > caNotAfter
        if validityCut { notAfter = caNotAfter }
        guard notAfter > notBefore, notAfter > nowSeconds else {
            throw Rejection(.issuerFailure, "the CA certificate expired on \(ISO8601DateFormatter().string(from: authority.notAfter)); nothing can be issued until it is renewed")
        }

        // TBSCertificate (RFC 5280 4.1), every field encoded by OpenSSL or prepared at set-up.
        var fields = DER.version3
        fields.reserveCapacity(1024)
        guard Self.appendInteger(serial, to: &fields) else { throw failure("encoding the serial number") }
        fields += signer.algorithmIdentifier
        fields += prepared.issuerName
        guard let validity = prepared.validity.encoded(notBefore: notBefore, notAfter: notAfter) else {
            throw failure("encoding the validity period")
        }
        fields += validity
        guard DER.append(to: &fields, { i2d_X509_NAME(request.subjectName, $0) }),
              DER.append(to: &fields, { i2d_X509_PUBKEY(request.publicKeyInfo, $0) }) else {
            throw failure("copying the request's subject and public key")
        }
        let (extensions, defaultEKUApplied) = try extensions(for: request, decisions: decisions)
        fields += DER.wrap(tag: DER.extensionsTag, DER.wrap(tag: DER.sequence, extensions))
        let tbs = DER.wrap(tag: DER.sequence, fields)

        guard let der = signer.signedCertificate(tbs: tbs) else {
            if signer.signsOnToken {
                OpenSSLError.clear()
                throw Rejection(.signerUnavailable, "the CA's token did not sign the certificate")
            }
            throw failure("signing the certificate")
        }
        return Built(
            der: der, serial: serial,
            notBefore: Date(timeIntervalSince1970: TimeInterval(notBefore)),
            notAfter: Date(timeIntervalSince1970: TimeInterval(notAfter)),
            validityCut: validityCut, defaultEKUApplied: defaultEKUApplied
        )
    }

    private func failure(_ operation: String) -> Rejection {
        let error = OpenSSLError.drain(operation)
        return Rejection(.issuerFailure, "\(operation) failed inside OpenSSL", details: error.reasons)
    }

    /// The serial's big-endian bytes as a DER INTEGER.
    private static func appendInteger(_ serial: [UInt8], to buffer: inout [UInt8]) -> Bool {
        guard let number = BN_bin2bn(serial, Int32(serial.count), nil) else { return false }
        defer { BN_free(number) }
        guard let integer = BN_to_ASN1_INTEGER(number, nil) else { return false }
        defer { ASN1_INTEGER_free(integer) }
        return DER.append(to: &buffer, { i2d_ASN1_INTEGER(integer, $0) })
    }

    /// The DER of the extensions, one `Extension` after another in a fixed order, and
    /// whether the default EKU was used.
    private func extensions(for request: SigningRequest, decisions: Decisions) throws(Rejection) -> ([UInt8], Bool) {
        let requested = decisions.extensions
        var out = prepared.basicConstraints
        /// A requested extension with its value bytes unchanged and the given criticality.
        /// Written from the OID and value, so that criticality is written as DER wants it
        /// (a FALSE the request spelled out is left out, as its DEFAULT).
        func carry(_ ext: OpaquePointer, critical: Bool) throws(Rejection) {
            var extnValue: [UInt8] = []
            guard let data = X509_EXTENSION_get_data(ext),
                  DER.append(to: &extnValue, { i2d_ASN1_OCTET_STRING(data, $0) }),
                  let der = DER.extension(X509_EXTENSION_get_object(ext), critical: critical, extnValue: extnValue) else {
                throw failure("copying an extension")
            }
            out += der
        }
        /// An extension whose value dropca encoded itself.
        func append(value: [UInt8], nid: Int32, critical: Bool) throws(Rejection) {
            guard let der = DER.extension(OBJ_nid2obj(nid), critical: critical, extnValue: DER.wrap(tag: DER.octetString, value)) else {
                throw failure("encoding an extension")
            }
            out += der
        }

        switch decisions.keyUsage {
        case .absent, .removedEntirely:
            break
        case .copied:
            if let keyUsage = requested.keyUsage {
                try carry(keyUsage, critical: X509_EXTENSION_get_critical(keyUsage) == 1)
            }
        case .reduced(let value):
            let critical = requested.keyUsage.map { X509_EXTENSION_get_critical($0) == 1 } ?? true
            try append(value: value, nid: NID_key_usage, critical: critical)
        }

        var defaultEKUApplied = false
        if let eku = requested.extendedKeyUsage {
            try carry(eku, critical: X509_EXTENSION_get_critical(eku) == 1)
        } else if let eku = prepared.defaultExtendedKeyUsage {
            out += eku
            defaultEKUApplied = true
        }

        // RFC 5280 4.2.1.6: critical exactly when the subject is empty.
        if let value = decisions.extendedSubjectAltName {
            try append(value: value, nid: NID_subject_alt_name, critical: request.subjectIsEmpty)
        } else if let san = requested.subjectAltName {
            try carry(san, critical: request.subjectIsEmpty)
        }

        // SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING
        try append(value: DER.wrap(tag: DER.octetString, KeyIdentifier.of(request.publicKeyInfo)),
                   nid: NID_subject_key_identifier, critical: false)

        out += prepared.authorityKeyIdentifier
        if let aia = prepared.authorityInformationAccess { out += aia }
        if let crl = prepared.crlDistributionPoints { out += crl }
        return (out, defaultEKUApplied)
    }
}
