import Logging

extension Logger.Level {
    /// The syslog priority journald stores as `PRIORITY`, which `journalctl -p` filters
    /// on and colours by. syslog has no level below debug, so trace shares 7 with it.
    public var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
