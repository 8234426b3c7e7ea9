import Synchronization
internal import COpenSSL

/// EC public keys kept for reuse, per curve: making a key object for every request
/// (`EVP_PKEY_dup` of the curve's domain parameters) copies the whole curve each time, while
/// a kept key only has its point replaced (`EVP_PKEY_set1_encoded_public_key`).
///
/// Ownership: the pool owns the keys it holds; `take` hands one over to the caller (a
/// `SubjectPublicKey`), which gives it back with `giveBack` when it is done, or frees it
/// when setting a point failed and left the key in an unknown state. A key is only ever
/// used by the one caller that holds it; the mutex guards the lists.
final class ECKeyPool: Sendable {
    static let shared = ECKeyPool()

    /// At most this many idle keys per curve are kept: one per worker thread is all a
    /// daemon ever needs at once.
    private static let limit = 64

    private let idle = Mutex<[Int32: [KeyHandle]]>([:])

    /// A key whose pointer crosses the mutex. `@unchecked Sendable`: a handle is either in
    /// the pool (touched only under `idle`'s lock) or lent to exactly one caller, so no two
    /// threads use one key at once.
    private struct KeyHandle: @unchecked Sendable {
        let key: OpaquePointer
    }

    deinit {
        idle.withLock { lists in
            for handle in lists.values.joined() { EVP_PKEY_free(handle.key) }
        }
    }

    /// A key on `curve` whose point the caller is about to set: a kept one, or a new copy
    /// of the curve's domain parameters; nil if the curve has none prepared.
    func take(_ curve: NamedCurve) -> OpaquePointer? {
        if let handle = idle.withLock({ $0[curve.nid]?.popLast() }) {
            return handle.key
        }
        return ECDomainParameters.shared.key(for: curve).flatMap { EVP_PKEY_dup($0) }
    }

    /// Takes back a key from `take` that is no longer in use.
    func giveBack(_ key: OpaquePointer, curve: NamedCurve) {
        let kept = idle.withLock { lists -> Bool in
            guard lists[curve.nid, default: []].count < Self.limit else { return false }
            lists[curve.nid, default: []].append(KeyHandle(key: key))
            return true
        }
        if !kept { EVP_PKEY_free(key) }
    }
}
