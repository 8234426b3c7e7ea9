internal import COpenSSL

/// The parts of a certificate that are the same for every certificate of one CA and
/// profile, encoded once when the issuer is set up instead of once per certificate: the
/// issuer name and the fixed extensions, each as the DER of a whole `Extension`.
struct PreparedFields {
    /// The CA certificate's subject, as encoded in the CA certificate.
    let issuerName: [UInt8]
    let basicConstraints: [UInt8]
    let authorityKeyIdentifier: [UInt8]
    let authorityInformationAccess: [UInt8]?
    let crlDistributionPoints: [UInt8]?
    let defaultExtendedKeyUsage: [UInt8]?
    /// The last validity encoded: certificates issued in the same second share it.
    let validity = ValidityEncoding()

    init(authority: CertificateAuthority, profile: CertificateProfile) throws(IssuerSetupError) {
        OpenSSLError.clear()
        var issuerName: [UInt8] = []
        guard DER.append(to: &issuerName, { i2d_X509_NAME(X509_get_subject_name(authority.certificate), $0) }),
              let basicConstraints = Self.encoded(Self.basicConstraints()),
              let authorityKeyIdentifier = Self.encoded(Self.authorityKeyIdentifier(authority.subjectKeyIdentifier)) else {
            throw IssuerSetupError("encoding the fixed certificate fields failed: \(OpenSSLError.drain("encoding").description)")
        }
        self.issuerName = issuerName
        self.basicConstraints = basicConstraints
        self.authorityKeyIdentifier = authorityKeyIdentifier
        self.authorityInformationAccess = Self.encoded(Self.authorityInformationAccess(caIssuers: profile.caIssuersURL, ocsp: profile.ocspURL))
        self.crlDistributionPoints = Self.encoded(profile.crlURL.flatMap(Self.crlDistributionPoints))
        if profile.defaultExtendedKeyUsage.isEmpty {
            self.defaultExtendedKeyUsage = nil
        } else {
            guard let eku = Self.encoded(Self.extendedKeyUsage(profile.defaultExtendedKeyUsage)) else {
                throw IssuerSetupError("certificate.default_extended_key_usage holds an entry that is neither a known name nor a dotted OID")
            }
            self.defaultExtendedKeyUsage = eku
        }
    }

    /// The DER of `ext`, which this frees; nil when there is none or it does not encode.
    private static func encoded(_ ext: OpaquePointer?) -> [UInt8]? {
        guard let ext else { return nil }
        defer { X509_EXTENSION_free(ext) }
        var der: [UInt8] = []
        return DER.append(to: &der, { i2d_X509_EXTENSION(ext, $0) }) ? der : nil
    }

    /// Critical, cA FALSE (encoded as an empty SEQUENCE, as DER wants for a default).
    private static func basicConstraints() -> OpaquePointer? {
        guard let constraints = BASIC_CONSTRAINTS_new() else { return nil }
        defer { BASIC_CONSTRAINTS_free(constraints) }
        constraints.pointee.ca = 0
        return X509V3_EXT_i2d(NID_basic_constraints, 1, constraints)
    }

    private static func authorityKeyIdentifier(_ keyID: [UInt8]) -> OpaquePointer? {
        guard let identifier = AUTHORITY_KEYID_new() else { return nil }
        defer { AUTHORITY_KEYID_free(identifier) }
        guard let octets = ASN1_OCTET_STRING_new() else { return nil }
        identifier.pointee.keyid = octets
        guard ASN1_OCTET_STRING_set(octets, keyID, Int32(keyID.count)) == 1 else { return nil }
        return X509V3_EXT_i2d(NID_authority_key_identifier, 0, identifier)
    }

    private static func authorityInformationAccess(caIssuers: String?, ocsp: String?) -> OpaquePointer? {
        let entries = [(NID_ad_OCSP, ocsp), (NID_ad_ca_issuers, caIssuers)].compactMap { nid, url in url.map { (nid, $0) } }
        guard !entries.isEmpty, let access = AUTHORITY_INFO_ACCESS_new() else { return nil }
        defer { AUTHORITY_INFO_ACCESS_free(access) }
        for (nid, url) in entries {
            guard let description = ACCESS_DESCRIPTION_new() else { return nil }
            guard let location = uniformResourceIdentifier(url) else {
                ACCESS_DESCRIPTION_free(description)
                return nil
            }
            ASN1_OBJECT_free(description.pointee.method)
            description.pointee.method = OBJ_nid2obj(nid)
            GENERAL_NAME_free(description.pointee.location)
            description.pointee.location = location
            guard COpenSSL_sk_ACCESS_DESCRIPTION_push(access, description) > 0 else {
                ACCESS_DESCRIPTION_free(description)
                return nil
            }
        }
        return X509V3_EXT_i2d(NID_info_access, 0, UnsafeMutableRawPointer(access))
    }

    private static func crlDistributionPoints(_ url: String) -> OpaquePointer? {
        guard let points = CRL_DIST_POINTS_new() else { return nil }
        defer { CRL_DIST_POINTS_free(points) }
        guard let point = DIST_POINT_new() else { return nil }
        guard COpenSSL_sk_DIST_POINT_push(points, point) > 0 else {
            DIST_POINT_free(point)
            return nil
        }
        guard let name = DIST_POINT_NAME_new() else { return nil }
        point.pointee.distpoint = name
        guard let fullName = GENERAL_NAMES_new() else { return nil }
        name.pointee.type = 0
        name.pointee.name.fullname = fullName
        guard let location = uniformResourceIdentifier(url) else { return nil }
        guard COpenSSL_sk_GENERAL_NAME_push(fullName, location) > 0 else {
            GENERAL_NAME_free(location)
            return nil
        }
        return X509V3_EXT_i2d(NID_crl_distribution_points, 0, UnsafeMutableRawPointer(points))
    }

    private static func extendedKeyUsage(_ entries: [String]) -> OpaquePointer? {
        guard let usage = EXTENDED_KEY_USAGE_new() else { return nil }
        defer { EXTENDED_KEY_USAGE_free(usage) }
        for entry in entries {
            guard let oid = ExtendedKeyUsage.oid(for: entry), let object = OBJ_txt2obj(oid, 1) else { return nil }
            guard COpenSSL_sk_ASN1_OBJECT_push(usage, object) > 0 else {
                ASN1_OBJECT_free(object)
                return nil
            }
        }
        return X509V3_EXT_i2d(NID_ext_key_usage, 0, UnsafeMutableRawPointer(usage))
    }

    private static func uniformResourceIdentifier(_ url: String) -> UnsafeMutablePointer<GENERAL_NAME>? {
        guard let name = GENERAL_NAME_new() else { return nil }
        guard let text = ASN1_IA5STRING_new() else {
            GENERAL_NAME_free(name)
            return nil
        }
        let bytes = Array(url.utf8)
        guard ASN1_STRING_set(text, bytes, Int32(bytes.count)) == 1 else {
            ASN1_IA5STRING_free(text)
            GENERAL_NAME_free(name)
            return nil
        }
        GENERAL_NAME_set0_value(name, GEN_URI, UnsafeMutableRawPointer(text))
        return name
    }
}

/// Why an issuer could not be set up from a CA and a profile.
public struct IssuerSetupError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
