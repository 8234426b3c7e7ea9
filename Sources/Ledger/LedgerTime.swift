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
        try? style.parse(text)
    }

    static let encoding = DatabaseDateEncodingStrategy.custom { text($0) }
    static let decoding = DatabaseDateDecodingStrategy.custom { value in
        String.fromDatabaseValue(value).flatMap(date)
    }
}
