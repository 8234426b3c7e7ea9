internal import COpenSSL

/// Makes each `OutputFormat` of an issued certificate, with the issuing CA certificate and
/// its chain (`ca.chain`) where the format carries them. Set up once per CA and chain:
/// the PEM of the CA certificate and of the chain is made here, once, and every
/// certificate after only adds its own.
///
/// Owns no OpenSSL object of its own beyond one call: a PKCS#7 bundle is built per
/// certificate around a leaf parsed for it, and the CA's and the chain's certificates go
/// into it with references of their own (`PKCS7_add_certificate` takes one), so the
/// `CertificateAuthority` and `CertificateChain` stay the owners of theirs. Only reads its
/// fields after `init`, hence `@unchecked Sendable` like `Issuer`.
public final class OutputEncoder: @unchecked Sendable {
    public let authority: CertificateAuthority
    public let chain: CertificateChain?
    /// The PEM of the CA certificate followed by the chain's: what follows the leaf in `pem-chain`.
    private let pemAfterLeaf: [UInt8]

    public init(authority: CertificateAuthority, chain: CertificateChain? = nil) throws(OutputEncodingError) {
        self.authority = authority
        self.chain = chain
        var tail: [UInt8] = []
        for der in [authority.certificateDER] + (chain?.certificateDER ?? []) {
            guard let pem = PEM.encode(der) else { throw OutputEncodingError("writing the CA certificates as PEM failed") }
            tail += pem
        }
        pemAfterLeaf = tail
    }

    /// The bytes of `format` for the certificate `der` (issued by this encoder's CA).
    public func encode(_ der: [UInt8], as format: OutputFormat) throws(OutputEncodingError) -> [UInt8] {
        switch format {
        case .der:
            return der
        case .pem:
            guard let pem = PEM.encode(der) else { throw OutputEncodingError("writing the certificate as PEM failed") }
            return pem
        case .pemChain:
            guard let pem = PEM.encode(der) else { throw OutputEncodingError("writing the certificate as PEM failed") }
            return pem + pemAfterLeaf
        case .p7b:
            return try certificatesOnlyPKCS7(der)
        }
    }

    /// Every format of `formats`, in their order, for the certificate `der`.
    public func encode(_ der: [UInt8], as formats: [OutputFormat]) throws(OutputEncodingError) -> [(format: OutputFormat, bytes: [UInt8])] {
        var encoded: [(format: OutputFormat, bytes: [UInt8])] = []
        for format in formats {
            encoded.append((format, try encode(der, as: format)))
        }
        return encoded
    }

    /// A certificates-only SignedData with the leaf, the CA certificate and the chain, in
    /// that order (OpenSSL writes them as given, as `openssl crl2pkcs7` does).
    private func certificatesOnlyPKCS7(_ der: [UInt8]) throws(OutputEncodingError) -> [UInt8] {
        OpenSSLError.clear()
        let leaf: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let leaf else {
            let error = OpenSSLError.drain("reading the issued certificate")
            throw OutputEncodingError("the issued certificate does not parse", details: error.reasons)
        }
        defer { X509_free(leaf) }
        guard let bundle = COpenSSL_PKCS7_new_certificates_only() else {
            throw OutputEncodingError("making a PKCS#7 bundle failed", details: OpenSSLError.drain("making a PKCS#7 bundle").reasons)
        }
        defer { PKCS7_free(bundle) }
        for certificate in [leaf, authority.certificate] + (chain?.certificates ?? []) {
            guard PKCS7_add_certificate(bundle, certificate) == 1 else {
                throw OutputEncodingError("adding a certificate to the PKCS#7 bundle failed", details: OpenSSLError.drain("adding a certificate").reasons)
            }
        }
        guard let encoded = OpenSSLBytes.der(bundle, { i2d_PKCS7($0, $1) }) else {
            throw OutputEncodingError("encoding the PKCS#7 bundle failed", details: OpenSSLError.drain("encoding the PKCS#7 bundle").reasons)
        }
        return encoded
    }
}

/// Why an output could not be made: only OpenSSL failing, or a certificate that is not one.
public struct OutputEncodingError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let details: [String]

    init(_ message: String, details: [String] = []) {
        self.message = message
        self.details = details
    }

    public var description: String {
        details.isEmpty ? message : "\(message) (\(details.joined(separator: "; ")))"
    }
}
