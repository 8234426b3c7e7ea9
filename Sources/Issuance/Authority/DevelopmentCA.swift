import Foundation
internal import COpenSSL

/// A throwaway P-256 CA for `dropca init`: enough to try dropca on one machine, never
/// meant to be trusted by anything. Its subject says so.
public enum DevelopmentCA {
    public struct Material: Sendable {
        public let certificatePEM: String
        /// PKCS#8 PEM, unencrypted: the caller writes it with mode 0600.
        public let privateKeyPEM: String
    }

    public static func generate(commonName: String, validityDays: Int = 3650, now: Date = Date()) throws(OpenSSLError) -> Material {
        OpenSSLError.clear()
        guard let key = generateP256Key() else { throw OpenSSLError.drain("generating a P-256 key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw OpenSSLError.drain("allocating the CA certificate") }
        defer { X509_free(certificate) }
        guard let name = X509_NAME_new() else { throw OpenSSLError.drain("allocating a name") }
        defer { X509_NAME_free(name) }

        let nowSeconds = time_t(now.timeIntervalSince1970)
        guard let serial = SerialNumber.draw(), let number = BN_bin2bn(serial, Int32(serial.count), nil) else {
            throw OpenSSLError.drain("drawing a serial number")
        }
        defer { BN_free(number) }
        guard X509_set_version(certificate, 2) == 1,
              BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil,
              X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, "dropca development", -1, -1, 0) == 1,
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1,
              X509_set_subject_name(certificate, name) == 1,
              X509_set_issuer_name(certificate, name) == 1,
              ASN1_TIME_set(X509_getm_notBefore(certificate), nowSeconds - 3600) != nil,
              ASN1_TIME_set(X509_getm_notAfter(certificate), nowSeconds + time_t(validityDays) * 86_400) != nil,
              X509_set_pubkey(certificate, key) == 1 else {
            throw OpenSSLError.drain("filling in the CA certificate")
        }
        let keyID = KeyIdentifier.of(X509_get_X509_PUBKEY(certificate))
        guard addExtension(certificate, NID_basic_constraints, "critical,CA:TRUE"),
              addExtension(certificate, NID_key_usage, "critical,keyCertSign,cRLSign"),
              addExtension(certificate, NID_subject_key_identifier, keyID.map { String(format: "%02X", $0) }.joined(separator: ":")) else {
            throw OpenSSLError.drain("adding the CA extensions")
        }
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw OpenSSLError.drain("signing the CA certificate") }

        let certificatePEM = OpenSSLBytes.text { bio in _ = PEM_write_bio_X509(bio, certificate) }
        let keyPEM = OpenSSLBytes.text { bio in _ = PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) }
        guard !certificatePEM.isEmpty, !keyPEM.isEmpty else { throw OpenSSLError.drain("writing the CA as PEM") }
        return Material(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
    }

    private static func generateP256Key() -> OpaquePointer? {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &key) == 1 else { return nil }
        return key
    }

    /// An extension from OpenSSL's configuration syntax; fine here, where every value is
    /// a constant of this file rather than input.
    private static func addExtension(_ certificate: OpaquePointer, _ nid: Int32, _ value: String) -> Bool {
        guard let ext = X509V3_EXT_nconf_nid(nil, nil, nid, value) else { return false }
        defer { X509_EXTENSION_free(ext) }
        return X509_add_ext(certificate, ext, -1) == 1
    }
}
