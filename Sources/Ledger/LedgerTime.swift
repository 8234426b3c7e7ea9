import Foundation
internal import GRDB

/// The one text form the ledger gives a time: ISO-8601 UTC, whole seconds
/// (`2025-03-01T12:00:00Z`). Records and hand-written SQL both go through here, because
/// GRDB's own `Date` encoding (`2025-03-01 12:00:00.000`) would compare wrongly with it.
enum LedgerTime {
    private static let style = Date.ISO8601FormatStyle(timeZone: .gmt)

    static func text(_ date: Date) -> String {
        // Floor, not round: a certificate's notBefore must never move later on the way in.
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(style)
    }

    static func date(_ text: String) -> Date? {
        fastDate(text) ?? (try? style.parse(text))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the one form the ledger writes, read without Foundation's
    /// parser: a CRL of 100,000 entries reads 100,000 of them, and the format style took
    /// about ten microseconds each (`scripts/bench-crl`). Anything else goes to the style.
    static func fastDate(_ text: String) -> Date? {
        var utf8 = text.utf8.makeIterator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        while let byte = utf8.next() {
            bytes.append(byte)
            if bytes.count > 20 { return nil }
        }
        guard bytes.count == 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A,
              bytes[16] == 0x3A, bytes[19] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 0x30
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        // Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    static let encoding = DatabaseDateEncodingStrategy.custom { text($0) }
    static let decoding = DatabaseDateDecodingStrategy.custom { value in
        String.fromDatabaseValue(value).flatMap(date)
    }
}
