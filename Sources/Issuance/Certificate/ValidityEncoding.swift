import Synchronization
internal import COpenSSL

/// Validity ::= SEQUENCE { notBefore, notAfter } as DER, with the last one kept: every
/// certificate issued in the same second has the same validity, and a burst issues
/// thousands per second. `ASN1_TIME_set` picks UTCTime for 1950–2049 and GeneralizedTime
/// otherwise, as RFC 5280 4.1.2.5 asks.
final class ValidityEncoding: Sendable {
    private struct Entry {
        let notBefore: Int64
        let notAfter: Int64
        let der: [UInt8]
    }

    private let last = Mutex<Entry?>(nil)

    /// nil when OpenSSL cannot encode the times (its reasons are on the error queue).
    func encoded(notBefore: Int64, notAfter: Int64) -> [UInt8]? {
        if let entry = last.withLock({ $0 }), entry.notBefore == notBefore, entry.notAfter == notAfter {
            return entry.der
        }
        var times: [UInt8] = []
        for seconds in [notBefore, notAfter] {
            guard let time = ASN1_TIME_set(nil, time_t(seconds)) else { return nil }
            defer { ASN1_TIME_free(time) }
            guard DER.append(to: &times, { i2d_ASN1_TIME(time, $0) }) else { return nil }
        }
        let der = DER.wrap(tag: DER.sequence, times)
        last.withLock { $0 = Entry(notBefore: notBefore, notAfter: notAfter, der: der) }
        return der
    }
}
