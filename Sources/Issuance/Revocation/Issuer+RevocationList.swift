import Foundation

/// One entry of a CRL: which certificate, since when, and why.
public struct RevokedEntry: Sendable, Hashable {
    /// Lowercase hexadecimal, as the ledger keeps it.
    public let serialHex: String
    public let revocationDate: Date
    public let reason: RevocationReason

    public init(serialHex: String, revocationDate: Date, reason: RevocationReason) {
        self.serialHex = serialHex
        self.revocationDate = revocationDate
        self.reason = reason
    }
}

/// Why a CRL could not be made.
public struct RevocationListError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Issuer {
    /// An X.509 v2 CRL (RFC 5280 5.1), signed by this issuer's CA key with the same
    /// signature algorithm as its certificates, DER-encoded.
    ///
    /// issuer is the CA certificate's subject byte for byte; the extensions are the
    /// Authority Key Identifier its certificates carry and the CRL Number. Each entry has its
    /// serial, revocation date and, unless `unspecified` (RFC 5280 5.3.1 says to leave it out
    /// then), a reasonCode entry extension. With no entries the revokedCertificates field is
    /// left out entirely, as RFC 5280 5.1.2.6 requires.
    ///
    /// Assembled from DER pieces like the certificates (``DER``): a CRL of 100,000 entries
    /// would otherwise be 100,000 `X509_REVOKED` objects that OpenSSL builds, sorts,
    /// re-encodes and frees.
    public func revocationList(number: UInt64, thisUpdate: Date, nextUpdate: Date, entries: [RevokedEntry]) throws(RevocationListError) -> [UInt8] {
        guard nextUpdate > thisUpdate else { throw RevocationListError("nextUpdate must be after thisUpdate") }
        let prepared = builder.prepared
        let signer = builder.signer

        var fields: [UInt8] = [0x02, 0x01, 0x01]  // version v2
        fields.reserveCapacity(256 + entries.count * 40)
        fields += signer.algorithmIdentifier
        fields += prepared.issuerName
        fields += try CRLTime.encoded(thisUpdate)
        fields += try CRLTime.encoded(nextUpdate)

        if !entries.isEmpty {
            var list: [UInt8] = []
            list.reserveCapacity(entries.count * 40)
            var times: [Int64: [UInt8]] = [:]
            for entry in entries {
                guard let serial = DERInteger.fromHex(entry.serialHex) else {
                    throw RevocationListError("serial \(entry.serialHex) is not hexadecimal")
                }
                let seconds = Int64(entry.revocationDate.timeIntervalSince1970.rounded(.down))
                let time: [UInt8]
                if let known = times[seconds] {
                    time = known
                } else {
                    time = try CRLTime.encoded(seconds: seconds)
                    times[seconds] = time
                }
                var body = serial
                body += time
                if entry.reason != .unspecified {
                    // Extensions ::= SEQUENCE { Extension { id-ce-cRLReasons, OCTET STRING { ENUMERATED } } }
                    body += [0x30, 0x0C, 0x30, 0x0A, 0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01, entry.reason.code]
                }
                list += DER.header(tag: DER.sequence, length: body.count)
                list += body
            }
            fields += DER.header(tag: DER.sequence, length: list.count)
            fields += list
        }

        // crlExtensions [0] EXPLICIT Extensions: Authority Key Identifier, CRL Number.
        var crlNumber = DERInteger.fromUnsigned(number)
        crlNumber = DER.wrap(tag: DER.octetString, crlNumber)
        let numberExtension = DER.wrap(tag: DER.sequence, [0x06, 0x03, 0x55, 0x1D, 0x14] + crlNumber)
        fields += DER.wrap(tag: 0xA0, DER.wrap(tag: DER.sequence, prepared.authorityKeyIdentifier + numberExtension))

        let tbs = DER.wrap(tag: DER.sequence, fields)
        OpenSSLError.clear()
        guard let der = signer.signedCertificate(tbs: tbs) else {
            throw RevocationListError("signing the CRL failed: \(OpenSSLError.drain("signing the CRL").description)")
        }
        return der
    }
}

/// DER INTEGERs from the forms the ledger and the CRL counter have.
enum DERInteger {
    /// The non-negative integer whose big-endian magnitude is `hex` (any number of digits).
    static func fromHex(_ hex: String) -> [UInt8]? {
        var digits = Array(hex.utf8)
        guard !digits.isEmpty else { return nil }
        if digits.count % 2 == 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return fromMagnitude(bytes)
    }

    static func fromUnsigned(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        repeat {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        } while rest > 0
        return fromMagnitude(bytes)
    }

    /// Minimal two's-complement encoding of a non-negative magnitude: leading zero octets
    /// dropped, one put back when the top bit would otherwise make it negative.
    static func fromMagnitude(_ bytes: [UInt8]) -> [UInt8] {
        var content = Array(bytes.drop { $0 == 0 })
        if content.isEmpty { content = [0] }
        if content[0] & 0x80 != 0 { content.insert(0, at: 0) }
        return DER.header(tag: 0x02, length: content.count) + content
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Time ::= CHOICE { utcTime, generalTime } for a CRL: UTCTime for 1950–2049 and
/// GeneralizedTime otherwise (RFC 5280 5.1.2.4), always in UTC with whole seconds.
enum CRLTime {
    static func encoded(_ date: Date) throws(RevocationListError) -> [UInt8] {
        try encoded(seconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    static func encoded(seconds: Int64) throws(RevocationListError) -> [UInt8] {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { throw RevocationListError("time \(seconds) cannot be encoded") }
        let year = Int(parts.tm_year) + 1900
        guard (1950...9999).contains(year) else { throw RevocationListError("year \(year) cannot be encoded") }
        func two(_ value: Int32) -> [UInt8] { [UInt8(ascii: "0") + UInt8(value / 10), UInt8(ascii: "0") + UInt8(value % 10)] }
        var text: [UInt8] = []
        let tag: UInt8
        if year < 2050 {
            tag = 0x17
            text += two(Int32(year % 100))
        } else {
            tag = 0x18
            text += two(Int32(year / 100)) + two(Int32(year % 100))
        }
        text += two(parts.tm_mon + 1) + two(parts.tm_mday) + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec)
        text.append(UInt8(ascii: "Z"))
        return DER.wrap(tag: tag, text)
    }
}
