internal import COpenSSL

/// The certificates above the issuing CA (`ca.chain`, PEM), in order from the one that
/// issued the CA certificate upwards: what `pem-chain` and `p7b` outputs carry after the
/// issued certificate and the CA certificate. The one owner of their `X509`s.
///
/// Loading refuses everything that would make those outputs wrong, naming the block: a
/// PEM block that is not a CERTIFICATE (a key, a request), one that does not parse, the
/// issuing CA certificate itself, a certificate that is not a CA, and a chain whose first
/// certificate did not issue the CA certificate or whose next did not issue the one
/// before. After `init` the certificates are only read (encoded, or added to a PKCS#7
/// with a reference of its own), which is why it is `@unchecked Sendable`.
public final class CertificateChain: @unchecked Sendable {
    /// At most this many certificates: real chains have one to three.
    public static let maximumCertificates = 16

    let certificates: [OpaquePointer]
    /// Their DER, in order.
    public let certificateDER: [[UInt8]]
    /// Their subjects in RFC 2253 form, for `check-config`.
    public let subjects: [String]

    /// Reads the PEM `bytes` of a chain for the CA `authority`.
    public init(pem bytes: [UInt8], above authority: CertificateAuthority) throws(CertificateChainError) {
        var certificates: [OpaquePointer] = []
        // Freed here on every throw below; handed to `self` at the end.
        var handedOver = false
        defer { if !handedOver { certificates.forEach { X509_free($0) } } }

        let blocks = try Self.blocks(in: bytes)
        if blocks.isEmpty {
            throw CertificateChainError("holds no PEM CERTIFICATE block")
        }
        if blocks.count > Self.maximumCertificates {
            throw CertificateChainError("holds \(blocks.count) PEM blocks; a chain has at most \(Self.maximumCertificates) certificates")
        }
        for (index, block) in blocks.enumerated() {
            let number = index + 1
            guard block.label == PEM.certificateLabel else {
                throw CertificateChainError("block \(number) is a \(RequestDecoding.printable(label: block.label)), not a CERTIFICATE")
            }
            OpenSSLError.clear()
            var consumed = 0
            let parsed: OpaquePointer? = block.der.withUnsafeBufferPointer { buffer in
                var cursor = buffer.baseAddress
                let certificate = d2i_X509(nil, &cursor, buffer.count)
                if let cursor, let base = buffer.baseAddress { consumed = cursor - base }
                return certificate
            }
            guard let parsed else {
                let error = OpenSSLError.drain("reading certificate \(number) of the chain")
                throw CertificateChainError("block \(number) is not an X.509 certificate", details: error.reasons)
            }
            certificates.append(parsed)
            guard consumed == block.der.count else {
                throw CertificateChainError("block \(number) has bytes after its certificate")
            }
        }
        try Self.checkLinks(certificates, above: authority.certificate)
        self.certificates = certificates
        self.certificateDER = blocks.map(\.der)
        self.subjects = certificates.map { DistinguishedName.text(X509_get_subject_name($0)) }
        handedOver = true
    }

    deinit {
        certificates.forEach { X509_free($0) }
    }

    /// Every PEM block of `bytes`, label and DER, in order; text around them is skipped.
    private static func blocks(in bytes: [UInt8]) throws(CertificateChainError) -> [(label: String, der: [UInt8])] {
        var blocks: [(label: String, der: [UInt8])] = []
        let failure: CertificateChainError? = bytes.withUnsafeBytes { raw -> CertificateChainError? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                return CertificateChainError("could not be read into memory")
            }
            defer { BIO_free(bio) }
            while true {
                OpenSSLError.clear()
                var name: UnsafeMutablePointer<CChar>? = nil
                var header: UnsafeMutablePointer<CChar>? = nil
                var data: UnsafeMutablePointer<UInt8>? = nil
                var length = 0
                let read = PEM_read_bio(bio, &name, &header, &data, &length)
                defer {
                    COpenSSL_OPENSSL_free(name)
                    COpenSSL_OPENSSL_free(header)
                    COpenSSL_OPENSSL_free(data)
                }
                guard read == 1, let name else {
                    let code = ERR_peek_last_error()
                    if code == 0 || COpenSSL_ERR_is_pem_no_start_line(code) == 1 {
                        OpenSSLError.clear()
                        return nil
                    }
                    let error = OpenSSLError.drain("reading the chain")
                    return CertificateChainError("block \(blocks.count + 1) is not a well-formed PEM block", details: error.reasons)
                }
                let der = data.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
                blocks.append((String(cString: name), der))
            }
        }
        if let failure { throw failure }
        return blocks
    }

    /// Certificate 1 issued the CA certificate, certificate n+1 issued certificate n, and
    /// each is a CA; none is the CA certificate itself.
    private static func checkLinks(_ certificates: [OpaquePointer], above caCertificate: OpaquePointer) throws(CertificateChainError) {
        var below = caCertificate
        for (index, certificate) in certificates.enumerated() {
            let number = index + 1
            let subject = DistinguishedName.text(X509_get_subject_name(certificate))
            if X509_cmp(certificate, caCertificate) == 0 {
                throw CertificateChainError("certificate \(number) (\(subject)) is the issuing CA certificate itself; ca.chain holds only the certificates above it")
            }
            guard X509_check_ca(certificate) > 0 else {
                throw CertificateChainError("certificate \(number) (\(subject)) is not a CA certificate")
            }
            guard X509_check_issued(certificate, below) == X509_V_OK else {
                let belowName = number == 1 ? "the CA certificate" : "certificate \(number - 1)"
                let issuer = DistinguishedName.text(X509_get_issuer_name(below))
                throw CertificateChainError("certificate \(number) (\(subject)) did not issue \(belowName), whose issuer is \(issuer); list the chain from the CA's issuer upwards")
            }
            below = certificate
        }
        OpenSSLError.clear()
    }
}

/// Why `ca.chain` cannot be used; the configuration loader names the file in front.
public struct CertificateChainError: Error, Sendable, CustomStringConvertible {
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
