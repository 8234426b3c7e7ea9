#if FUZZING
internal import COpenSSL

/// libFuzzer's custom mutator: its own mutation, then, for most mutants that still parse
/// as a DER PKCS#10 request, a fresh self-signature.
///
/// Without this, almost every mutation of a request breaks its self-signature, so nearly
/// every input stops at the proof-of-possession check and the code after it (extension
/// rules, key usage filtering, e-mail addresses, certificate building) only ever sees the
/// seed requests. A sender who wants to reach that code simply signs what it sends, so
/// the fuzzer does the same. The signed request is what the corpus keeps and what the
/// target issues, so crash files stay plain request files that reproduce on their own.
@_cdecl("LLVMFuzzerCustomMutator")
public func customMutator(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: CUnsignedInt) -> Int {
    guard let data else { return 0 }
    let mutatedSize = LLVMFuzzerMutate(data, size, maxSize)
    var random = SplitMix64(seed: UInt64(seed))
    // One mutant in four keeps whatever signature it has, so the signature checks and
    // the raw encodings (PEM, base64, broken DER) keep being fuzzed too.
    guard random.next() % 4 != 0, mutatedSize > 0, data[0] == 0x30 else { return mutatedSize }
    let mutant = Array(UnsafeBufferPointer(start: data, count: mutatedSize))
    guard let signed = RequestSigner.shared.resign(mutant, choice: random.next()), signed.count <= maxSize else {
        return mutatedSize
    }
    signed.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: signed.count) }
    return signed.count
}

/// libFuzzer's own mutation of `data` in place; returns the new size.
@_extern(c, "LLVMFuzzerMutate")
func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// Signs requests with the fuzzer's own keys (TestMaterial.swift).
/// `@unchecked Sendable`: the keys are made in `init` and only read after it (an
/// `EVP_PKEY` may sign on several threads at once), like `CertificateAuthority`'s.
final class RequestSigner: @unchecked Sendable {
    static let shared = RequestSigner()

    /// The one owner of these `EVP_PKEY`s; only read after `init`.
    private let p256: OpaquePointer
    private let ed25519: OpaquePointer
    private let rsa: OpaquePointer

    private init() {
        func load(_ pem: String) -> OpaquePointer {
            let bytes = Array(pem.utf8)
            let key = bytes.withUnsafeBytes { raw -> OpaquePointer? in
                guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
                defer { BIO_free(bio) }
                return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
            }
            guard let key else { fatalError("IssuanceFuzzer: an embedded request key does not load") }
            return key
        }
        p256 = load(FuzzRequestKeys.p256PEM)
        ed25519 = load(FuzzRequestKeys.ed25519PEM)
        rsa = load(FuzzRequestKeys.rsa1024PEM)
    }

    deinit {
        EVP_PKEY_free(p256)
        EVP_PKEY_free(ed25519)
        EVP_PKEY_free(rsa)
    }

    /// `der` parsed as a request and signed again. A key of ours stays as it is encoded
    /// (so mutations of its encoding are kept); any other key is replaced by our key of
    /// the same family. The digest is SHA-256, now and then SHA-1 or SHA-512.
    func resign(_ der: [UInt8], choice: UInt64) -> [UInt8]? {
        defer { ERR_clear_error() }
        guard let request = der.withUnsafeBufferPointer({ buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509_REQ(nil, &cursor, buffer.count)
        }) else { return nil }
        defer { X509_REQ_free(request) }

        let ours: [OpaquePointer] = [p256, ed25519, rsa]
        let current: OpaquePointer? = X509_REQ_get0_pubkey(request)
        let key: OpaquePointer
        if let current, let own = ours.first(where: { EVP_PKEY_eq($0, current) == 1 }) {
            key = own
        } else {
            var algorithm: OpaquePointer? = nil
            if let info = X509_REQ_get_X509_PUBKEY(request) {
                X509_PUBKEY_get0_param(&algorithm, nil, nil, nil, info)
            }
            switch OBJ_obj2nid(algorithm) {
            case NID_rsaEncryption, NID_rsassaPss: key = rsa
            case NID_ED25519, NID_ED448: key = ed25519
            default: key = p256
            }
            guard X509_REQ_set_pubkey(request, key) == 1 else { return nil }
        }
        let digest: OpaquePointer?
        if key == ed25519 {
            digest = nil
        } else {
            switch choice % 8 {
            case 0: digest = EVP_sha1()
            case 1: digest = EVP_sha512()
            default: digest = EVP_sha256()
            }
        }
        guard X509_REQ_sign(request, key, digest) > 0 else { return nil }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509_REQ(request, &out)
        guard length > 0, let out else { return nil }
        defer { COpenSSL_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}

/// A small deterministic generator seeded by libFuzzer, so a run with -seed=N repeats.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
#endif
