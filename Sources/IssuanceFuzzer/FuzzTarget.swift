import Foundation
import Issuance
internal import COpenSSL

/// The libFuzzer entry point: one input is one uploaded file, taken through the whole
/// intake path (size limit, DER/PEM/base64 decoding, PKCS#10 parsing, key and signature
/// policy, extension rules, certificate building and signing) exactly as the daemon does.
///
/// Every input is issued under the default policy and profile. When that rejects it for a
/// reason a more lenient configuration would allow (SHA-1 self-signature, RSA below 2048
/// bits, a curve outside P-256/384/521), it is issued again under a permissive policy with
/// a full profile (AIA, CRL, default EKU, validity cut to the CA), so the rest of the path
/// is fuzzed for those requests too. What happens depends on the input alone, so every
/// crash reproduces from its file. (Inputs reach the code after the signature check
/// because the custom mutator, CustomMutator.swift, signs mutated requests again.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    FuzzHarness.shared.run(bytes)
    return 0
}

/// The two issuers, built once (lazily, on the first input) from the embedded test CA.
/// Only read after `init` (libFuzzer calls in from one thread anyway); the one owner of
/// its `X509`, hence `@unchecked Sendable`, like `Issuer`.
final class FuzzHarness: @unchecked Sendable {
    static let shared = FuzzHarness()

    /// A fixed clock, so an input behaves the same on every run: 2027-01-15, inside the
    /// test CA's validity.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Rejections that only the permissive issuer would overturn.
    static let relaxable: Set<Rejection.Code> = [.weakSignatureAlgorithm, .rsaKeyTooSmall, .curveNotAllowed]

    let strict: Issuer
    let permissive: Issuer
    /// The CA certificate, parsed on its own, to check every issued certificate against.
    private let caCertificate: OpaquePointer

    private init() {
        do {
            let authority = try CertificateAuthority(
                certificate: Array(FuzzTestCA.certificatePEM.utf8),
                privateKey: Array(FuzzTestCA.privateKeyPEM.utf8)
            )
            strict = try Issuer(authority: authority, policy: IssuancePolicy(), profile: CertificateProfile())
            permissive = try Issuer(
                authority: authority,
                policy: IssuancePolicy(minRSABits: 1024, allowedCurves: NamedCurve.known, allowSHA1CSRSignature: true),
                profile: CertificateProfile(
                    // Past the CA's notAfter (2126), so the validity is cut; also crosses 2050.
                    validityDays: 40_000,
                    backdateSeconds: 0,
                    caIssuersURL: "http://ca.example/fuzz-ca.der",
                    ocspURL: "http://ocsp.example/",
                    crlURL: "http://ca.example/fuzz-ca.crl",
                    defaultExtendedKeyUsage: ["clientAuth", "1.3.6.1.4.1.55555.1"]
                )
            )
            guard let certificate = Self.parse(authority.certificateDER, { d2i_X509(nil, $0, $1) }, free: { X509_free($0) }) else {
                fatalError("IssuanceFuzzer: the test CA's certificate does not parse")
            }
            caCertificate = certificate
        } catch {
            fatalError("IssuanceFuzzer: the embedded test CA does not load: \(error)")
        }
    }

    deinit { X509_free(caCertificate) }

    func run(_ bytes: [UInt8]) {
        let result = strict.issue(bytes, now: Self.now)
        check(result, for: bytes)
        if case .failure(let rejection) = result, Self.relaxable.contains(rejection.code) {
            check(permissive.issue(bytes, now: Self.now), for: bytes)
        }
    }

    /// Invariants that hold for every input: a crash here is a finding like any other.
    private func check(_ result: Result<IssuedCertificate, Rejection>, for input: [UInt8]) {
        switch result {
        case .failure(let rejection):
            precondition(Self.isOneLine(rejection.reason), "rejection reason is not one line: \(rejection.reason.debugDescription)")
            switch rejection.code {
            case .issuerFailure:
                // With this CA and these profiles, whatever the policy accepts can be signed.
                preconditionFailure("issuer failure on an input the policy accepted: \(rejection.reason) \(rejection.details)")
            default:
                break
            }
        case .success(let issued):
            checkCertificate(issued, for: input)
        }
    }

    /// A rejection reason is one line of text (`Rejection.reason`): not
    /// empty, and no control characters or line/paragraph separators, which would split
    /// it, or forge lines, in the ledger, the journal and the `.reason` file.
    static func isOneLine(_ reason: String) -> Bool {
        !reason.isEmpty && reason.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: return false
            default: return true
            }
        }
    }

    /// The certificate parses with nothing after it, is version 3 and verifies with the CA
    /// key; for a DER input, its subject and subjectPublicKeyInfo are the request's, byte
    /// for byte (README, "Issuance policy").
    private func checkCertificate(_ issued: IssuedCertificate, for input: [UInt8]) {
        guard let certificate = Self.parse(issued.der, { d2i_X509(nil, $0, $1) }, free: { X509_free($0) }) else {
            preconditionFailure("the issued certificate does not parse, or has bytes after it")
        }
        defer { X509_free(certificate) }
        precondition(X509_get_version(certificate) == 2, "the issued certificate is not version 3")
        guard let caKey = X509_get0_pubkey(caCertificate) else { preconditionFailure("no CA public key") }
        precondition(X509_verify(certificate, caKey) == 1, "the issued certificate does not verify with the CA key")
        ERR_clear_error()

        guard input.first == 0x30, let request = Self.parse(input, { d2i_X509_REQ(nil, $0, $1) }, free: { X509_REQ_free($0) }) else { return }
        defer { X509_REQ_free(request) }
        precondition(
            Self.der { i2d_X509_NAME(X509_get_subject_name(certificate), $0) } == Self.der { i2d_X509_NAME(X509_REQ_get_subject_name(request), $0) },
            "the certificate's subject is not the request's, byte for byte"
        )
        precondition(
            Self.der { i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), $0) } == Self.der { i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(request), $0) },
            "the certificate's subjectPublicKeyInfo is not the request's, byte for byte"
        )
    }

    /// An object parsed from all of `bytes`; nil when it does not parse or bytes follow it.
    static func parse(
        _ bytes: [UInt8],
        _ decode: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?,
        free: (OpaquePointer) -> Void
    ) -> OpaquePointer? {
        bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            guard let object = decode(&cursor, buffer.count) else {
                ERR_clear_error()
                return nil
            }
            guard cursor == base + buffer.count else {
                free(object)
                return nil
            }
            return object
        }
    }

    /// The DER an `i2d` call writes (for parsed objects: the bytes they were parsed from).
    static func der(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Int32) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = encode(&out)
        guard length > 0, let out else { return [] }
        defer { COpenSSL_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
