import Foundation
internal import COpenSSL

/// Builds and signs one certificate from an accepted request (DESIGN section 1, "The
/// certificate"). Subject, public key and carried-over extension values are copied as
/// encoded objects, never re-typed, so the certificate holds the request's bytes.
struct CertificateBuilder {
    let authority: CertificateAuthority
    let profile: CertificateProfile
    let prepared: PreparedExtensions
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
        guard let certificate = X509_new() else { throw failure("allocating a certificate") }
        defer { X509_free(certificate) }

        guard let serial = SerialNumber.draw() else {
            throw Rejection(.issuerFailure, "the kernel gave no random bytes for a serial number")
        }
        guard X509_set_version(certificate, 2) == 1, setSerial(serial, on: certificate),
              X509_set_issuer_name(certificate, X509_get_subject_name(authority.certificate)) == 1,
              X509_set_subject_name(certificate, request.subjectName) == 1,
              copyPublicKey(from: request, to: certificate) else {
            throw failure("copying the request into the certificate")
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
        guard ASN1_TIME_set(X509_getm_notBefore(certificate), time_t(notBefore)) != nil,
              ASN1_TIME_set(X509_getm_notAfter(certificate), time_t(notAfter)) != nil else {
            throw failure("setting the validity period")
        }

        let defaultEKUApplied = try addExtensions(to: certificate, from: request, decisions: decisions)

        let der: [UInt8]
        switch signer.signedCertificate(certificate) {
        case .signed(let bytes): der = bytes
        case .signingFailed: throw failure("signing the certificate")
        case .encodingFailed: throw failure("encoding the certificate")
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

    private func setSerial(_ serial: [UInt8], on certificate: OpaquePointer) -> Bool {
        guard let number = BN_bin2bn(serial, Int32(serial.count), nil) else { return false }
        defer { BN_free(number) }
        guard let integer = BN_to_ASN1_INTEGER(number, nil) else { return false }
        defer { ASN1_INTEGER_free(integer) }
        return X509_set_serialNumber(certificate, integer) == 1
    }

    /// Copies the algorithm identifier and key bits of the request's subjectPublicKeyInfo.
    /// `X509_set_pubkey` would re-encode the key from its parsed form, which can change
    /// bytes (RSA-PSS parameters, point encodings); copying the encoded parts cannot.
    private func copyPublicKey(from request: SigningRequest, to certificate: OpaquePointer) -> Bool {
        var algorithmObject: OpaquePointer? = nil
        var keyBits: UnsafePointer<UInt8>? = nil
        var keyLength: Int32 = 0
        var algorithm: UnsafeMutablePointer<X509_ALGOR>? = nil
        guard X509_PUBKEY_get0_param(&algorithmObject, &keyBits, &keyLength, &algorithm, request.publicKeyInfo) == 1,
              let keyBits, let target = X509_get_X509_PUBKEY(certificate) else { return false }
        var parameterType: Int32 = V_ASN1_UNDEF
        var parameter: UnsafeRawPointer? = nil
        X509_ALGOR_get0(nil, &parameterType, &parameter, algorithm)

        let parameterCopy: UnsafeMutableRawPointer?
        switch parameterType {
        case V_ASN1_UNDEF, V_ASN1_NULL:
            parameterCopy = nil
        case V_ASN1_OBJECT:
            guard let copy = OBJ_dup(OpaquePointer(parameter)) else { return false }
            parameterCopy = UnsafeMutableRawPointer(copy)
        case V_ASN1_SEQUENCE:
            guard let copy = ASN1_STRING_dup(parameter?.assumingMemoryBound(to: ASN1_STRING.self)) else { return false }
            parameterCopy = UnsafeMutableRawPointer(copy)
        default:
            return false
        }
        guard let objectCopy = OBJ_dup(algorithmObject),
              let bitsCopy = CRYPTO_memdup(keyBits, Int(keyLength), nil, 0) else { return false }
        return X509_PUBKEY_set0_param(target, objectCopy, parameterType, parameterCopy,
                                      bitsCopy.assumingMemoryBound(to: UInt8.self), keyLength) == 1
    }

    /// Adds the extensions in a fixed order; returns whether the default EKU was used.
    private func addExtensions(to certificate: OpaquePointer, from request: SigningRequest, decisions: Decisions) throws(Rejection) -> Bool {
        let requested = decisions.extensions
        func add(_ ext: OpaquePointer?) throws(Rejection) {
            guard let ext else { return }
            guard X509_add_ext(certificate, ext, -1) == 1 else { throw failure("adding an extension") }
        }
        /// An extension dropca encoded itself.
        func add(value: [UInt8], nid: Int32, critical: Bool) throws(Rejection) {
            guard let octets = ASN1_OCTET_STRING_new() else { throw failure("encoding an extension") }
            defer { ASN1_OCTET_STRING_free(octets) }
            guard ASN1_OCTET_STRING_set(octets, value, Int32(value.count)) == 1,
                  let ext = X509_EXTENSION_create_by_NID(nil, nid, critical ? 1 : 0, octets) else {
                throw failure("encoding an extension")
            }
            defer { X509_EXTENSION_free(ext) }
            try add(ext)
        }
        /// A requested extension with its value bytes unchanged and the given criticality.
        /// Made from the requested extension's OID and value (no encode/decode round trip as
        /// with X509_EXTENSION_dup; X509_add_ext copies it once more anyway).
        func carry(_ ext: OpaquePointer, critical: Bool) throws(Rejection) {
            guard let copy = X509_EXTENSION_create_by_OBJ(nil, X509_EXTENSION_get_object(ext), critical ? 1 : 0,
                                                          X509_EXTENSION_get_data(ext)) else {
                throw failure("copying an extension")
            }
            defer { X509_EXTENSION_free(copy) }
            try add(copy)
        }

        try add(prepared.basicConstraints)

        switch decisions.keyUsage {
        case .absent, .removedEntirely:
            break
        case .copied:
            if let keyUsage = requested.keyUsage {
                try carry(keyUsage, critical: X509_EXTENSION_get_critical(keyUsage) == 1)
            }
        case .reduced(let value):
            let critical = requested.keyUsage.map { X509_EXTENSION_get_critical($0) == 1 } ?? true
            try add(value: value, nid: NID_key_usage, critical: critical)
        }

        var defaultEKUApplied = false
        if let eku = requested.extendedKeyUsage {
            try carry(eku, critical: X509_EXTENSION_get_critical(eku) == 1)
        } else if let eku = prepared.defaultExtendedKeyUsage {
            try add(eku)
            defaultEKUApplied = true
        }

        // RFC 5280 4.2.1.6: critical exactly when the subject is empty.
        if let value = decisions.extendedSubjectAltName {
            try add(value: value, nid: NID_subject_alt_name, critical: request.subjectIsEmpty)
        } else if let san = requested.subjectAltName {
            try carry(san, critical: request.subjectIsEmpty)
        }

        let keyID = KeyIdentifier.of(request.publicKeyInfo)
        guard let octets = ASN1_OCTET_STRING_new() else { throw failure("encoding the Subject Key Identifier") }
        defer { ASN1_OCTET_STRING_free(octets) }
        guard ASN1_OCTET_STRING_set(octets, keyID, Int32(keyID.count)) == 1,
              X509_add1_ext_i2d(certificate, NID_subject_key_identifier, UnsafeMutableRawPointer(octets), 0, UInt(X509V3_ADD_DEFAULT)) == 1 else {
            throw failure("adding the Subject Key Identifier")
        }
        try add(prepared.authorityKeyIdentifier)
        try add(prepared.authorityInformationAccess)
        try add(prepared.crlDistributionPoints)
        return defaultEKUApplied
    }
}
