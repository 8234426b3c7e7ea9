import Foundation
import Spool

extension FileTime {
    /// The same instant as a `Date` (the Spool target has no Foundation).
    var date: Date {
        Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(nanoseconds) / 1e9)
    }
}
