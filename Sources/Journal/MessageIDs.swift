import Logging

/// A journal `MESSAGE_ID`: 128 bits written as 32 lowercase hexadecimal digits.
///
/// journald indexes the field, so `journalctl MESSAGE_ID=<id>` finds every record of one
/// kind, and `journalctl -x` shows the explanation that `systemd/dropca.catalog` holds
/// for it. The ids are random (made once with `systemd-id128 new`) and never change:
/// an operator's saved queries and alert rules depend on them.
public struct MessageID: Hashable, Sendable, CustomStringConvertible {
    /// The metadata key that `JournalLogHandler` sends as the journal's own
    /// `MESSAGE_ID` field rather than as a `DROPCA_…` field.
    public static let metadataKey = "message_id"

    /// The 32 lowercase hexadecimal digits.
    public let hex: String

    /// Accepts exactly 32 lowercase hexadecimal digits — the form journald writes and
    /// `journalctl MESSAGE_ID=` matches byte for byte — and nothing else.
    public init?(_ hex: String) {
        guard MessageID.isWellFormed(hex) else { return nil }
        self.hex = hex
    }

    /// For the constants below; a test checks each of them with `isWellFormed`.
    private init(constant hex: String) {
        self.hex = hex
    }

    public var description: String { hex }

    static func isWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 32 && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static let certificateIssued = MessageID(constant: "4cbe923a30624cc0979b0ce90edbc964")
    static let requestRejected = MessageID(constant: "8a5a91583f89410389afd5ffebbf8db4")
    static let daemonStarted = MessageID(constant: "bcae479d4694428e8cef2acc08b5dc06")
    static let daemonStopping = MessageID(constant: "b3ea9c4c95c3477fac6db31b4412f03c")
    static let configReloaded = MessageID(constant: "298bd22a6c0348588931a2f0dde9f97d")
    static let configReloadFailed = MessageID(constant: "bcbf56074b1749c8bf7c2eb4fb557012")
    static let inboxLost = MessageID(constant: "6969d55efd1c4d7b917fdefde6db3776")
    static let republishedAfterCrash = MessageID(constant: "1df24bf039154c1cbb6cf9203e40bce8")
    static let validityCut = MessageID(constant: "883ca9eed82e4be1a06640ed9e2662f4")
    static let spoolOverflowRescan = MessageID(constant: "5e93e06d5b8947ab950f4f5f924c3566")
    static let startupFailed = MessageID(constant: "18b5e1a5ea4b40279bcafe531264d660")
    static let certificateRevoked = MessageID(constant: "b01d882072d34306b492f29b723a7b34")
    static let crlPublished = MessageID(constant: "8ea0f504c4f34711939846169776c88c")
    static let crlPublishFailed = MessageID(constant: "3960cb628b2643c289b3c9aecf8f616e")
    static let certificatesExpiring = MessageID(constant: "269441f4ac594d428096f3032516f84c")
    static let caExpiring = MessageID(constant: "21a1f2a3a34c40b98e0dc08a08fb3cef")
    static let caUnusable = MessageID(constant: "f147d92338b94a5db66e958886dee404")
    static let writesFailing = MessageID(constant: "206f28f5c96747f69150567db9950605")
    static let writesRecovered = MessageID(constant: "93edaaf9827a4319bea10f94d6dbd0f3")
    static let ledgerLost = MessageID(constant: "862b4314aa624042bdec749c63a57599")
    static let newLedgerStarted = MessageID(constant: "f460539f7d9b4449b9357c1dc20696a7")
}

/// Every kind of event dropca reports to its operator, each with its own `MESSAGE_ID`.
///
/// `systemd/dropca.catalog` holds one entry per case, with the same id; a test keeps the
/// two in step. The metadata each case lists (`metadataKeys`) is what its catalog entry
/// substitutes (`@DROPCA_FILE@` …), so the code that logs an event attaches those keys:
///
/// ```swift
/// logger.info("issued \(serial) for \(name)", metadata: DropCAEvent.certificateIssued.metadata(
///     ["file": "\(name)", "serial": "\(serial)"]))
/// ```
public enum DropCAEvent: String, CaseIterable, Sendable {
    /// info — a certificate was issued and published. Metadata: `file`, `serial`,
    /// `subject`, `sans`, `not_after`, `csr_sha256`.
    case certificateIssued
    /// warning — an input was refused and moved to `failed/`. Metadata: `file`, `reason`,
    /// `csr_sha256` (when the file could be read).
    case requestRejected
    /// notice — the watch is set, the startup scan queued, READY=1 sent.
    case daemonStarted
    /// notice — SIGTERM received; in-flight files are finished before exit.
    case daemonStopping
    /// notice — SIGHUP: the new configuration and CA are in use.
    case configReloaded
    /// error — SIGHUP: the new configuration was refused, the old one stays. Metadata: `reason`.
    case configReloadFailed
    /// critical — the inbox was deleted, moved or unmounted; the daemon exits non-zero so
    /// systemd restarts it. Metadata: `file` (the inbox path), `reason`.
    case inboxLost
    /// notice — an input issued before a crash but not yet published was published from
    /// the ledger, not issued again. Metadata: `file`, `serial`.
    case republishedAfterCrash
    /// warning — issued, but notAfter was cut to the CA certificate's notAfter.
    /// Metadata: `file`, `serial`, `not_after`.
    case validityCut
    /// warning — the kernel's inotify queue overflowed; a full rescan of the inbox follows.
    case spoolOverflowRescan
    /// critical — `dropca run` could not start (configuration, CA, folders). Metadata: `reason`.
    case startupFailed
    /// notice — a certificate was revoked (logged when the first CRL lists it). Metadata:
    /// `serial`, `subject`, `revocation_reason`, `revoked_by_uid`.
    case certificateRevoked
    /// info — a CRL was signed and published. Metadata: `crl_number`, `crl_entries`, `next_update`.
    case crlPublished
    /// error — a CRL could not be made or written; retried every minute. Metadata: `reason`.
    case crlPublishFailed
    /// notice — the daily count of certificates that expire within 30 days. Metadata: `count`.
    case certificatesExpiring
    /// warning — the CA certificate expires within `certificate.validity_days`. Metadata: `not_after`.
    case caExpiring
    /// error — the CA in force is expired or not valid yet; requests wait. Metadata: `reason`.
    case caUnusable
    /// error — the outbox, failed/, the inbox or the ledger cannot be written; what was
    /// affected waits and is retried with a back-off. Logged once per episode, not per
    /// file. Metadata: `reason`, `count` (files affected by the first failure).
    case writesFailing
    /// notice — writing works again after `writesFailing`. Metadata: `reason` (what
    /// works again), `count` (failures while it lasted).
    case writesRecovered
    /// critical — the ledger file was deleted, replaced or truncated while dropca ran, or
    /// SQLite found it damaged; the daemon saves what it can and exits non-zero.
    /// Metadata: `file` (the ledger), `reason` (what happened and what was kept).
    case ledgerLost
    /// warning — `dropca run --new-ledger` started a new ledger in place of one it would
    /// have refused; the old file is kept aside. Metadata: `file`, `reason` (why the old
    /// one was refused), `kept_as`.
    case newLedgerStarted

    /// The id journald stores as `MESSAGE_ID`.
    public var messageID: MessageID {
        switch self {
        case .certificateIssued: .certificateIssued
        case .requestRejected: .requestRejected
        case .daemonStarted: .daemonStarted
        case .daemonStopping: .daemonStopping
        case .configReloaded: .configReloaded
        case .configReloadFailed: .configReloadFailed
        case .inboxLost: .inboxLost
        case .republishedAfterCrash: .republishedAfterCrash
        case .validityCut: .validityCut
        case .spoolOverflowRescan: .spoolOverflowRescan
        case .startupFailed: .startupFailed
        case .certificateRevoked: .certificateRevoked
        case .crlPublished: .crlPublished
        case .crlPublishFailed: .crlPublishFailed
        case .certificatesExpiring: .certificatesExpiring
        case .caExpiring: .caExpiring
        case .caUnusable: .caUnusable
        case .writesFailing: .writesFailing
        case .writesRecovered: .writesRecovered
        case .ledgerLost: .ledgerLost
        case .newLedgerStarted: .newLedgerStarted
        }
    }

    /// One line for people reading code and `dropca` docs; the catalog's `Subject:` says
    /// the same to operators.
    public var summary: String {
        switch self {
        case .certificateIssued: "A certificate was issued and published to the outbox"
        case .requestRejected: "A request was rejected and moved to failed/"
        case .daemonStarted: "dropca is watching its inbox"
        case .daemonStopping: "dropca is stopping after finishing in-flight files"
        case .configReloaded: "The configuration and CA were reloaded"
        case .configReloadFailed: "A reload was refused; the previous configuration stays in use"
        case .inboxLost: "A spool folder (inbox, outbox, failed/) disappeared or was replaced; dropca exits so systemd restarts it"
        case .republishedAfterCrash: "A certificate issued before a crash was published from the ledger"
        case .validityCut: "A certificate's validity was cut to the CA's notAfter"
        case .spoolOverflowRescan: "The inotify queue overflowed; the inbox is rescanned"
        case .startupFailed: "dropca could not start"
        case .certificateRevoked: "A certificate was revoked"
        case .crlPublished: "A CRL was published"
        case .crlPublishFailed: "A CRL could not be published; dropca tries again every minute"
        case .certificatesExpiring: "Certificates expire within 30 days"
        case .caExpiring: "The CA certificate expires soon"
        case .caUnusable: "The CA cannot sign; requests wait in the inbox"
        case .writesFailing: "Certificates, rejections or ledger rows cannot be written; they wait and are retried"
        case .writesRecovered: "Writing works again; what waited is done"
        case .ledgerLost: "The ledger was lost while dropca ran; dropca exits"
        case .newLedgerStarted: "dropca started a new ledger; the old file is kept aside"
        }
    }

    /// The level to log the event at, so every place that reports it agrees and
    /// `journalctl -p warning` shows exactly the events that need a look.
    public var level: Logger.Level {
        switch self {
        case .certificateIssued: .info
        case .crlPublished: .info
        case .daemonStarted, .daemonStopping, .configReloaded, .republishedAfterCrash, .certificateRevoked, .certificatesExpiring,
             .writesRecovered: .notice
        case .requestRejected, .validityCut, .spoolOverflowRescan, .caExpiring, .newLedgerStarted: .warning
        case .configReloadFailed, .crlPublishFailed, .caUnusable, .writesFailing: .error
        case .inboxLost, .startupFailed, .ledgerLost: .critical
        }
    }

    /// The metadata keys this event's catalog entry substitutes (`file` for
    /// `@DROPCA_FILE@` …): the code that logs the event attaches each of them, or
    /// `journalctl -x` shows the placeholder. A test holds the catalog to this list.
    public var metadataKeys: [String] {
        switch self {
        case .certificateIssued: ["file", "serial", "subject", "sans", "not_after", "csr_sha256"]
        case .requestRejected: ["file", "reason"]
        case .daemonStarted, .daemonStopping, .configReloaded, .spoolOverflowRescan: []
        case .configReloadFailed, .startupFailed, .crlPublishFailed, .caUnusable: ["reason"]
        case .certificateRevoked: ["serial", "subject", "revocation_reason", "revoked_by_uid"]
        case .crlPublished: ["crl_number", "crl_entries", "next_update"]
        case .certificatesExpiring: ["count"]
        case .writesFailing, .writesRecovered: ["reason", "count"]
        case .caExpiring: ["not_after"]
        case .inboxLost, .ledgerLost: ["file", "reason"]
        case .newLedgerStarted: ["file", "reason", "kept_as"]
        case .republishedAfterCrash: ["file", "serial"]
        case .validityCut: ["file", "serial", "not_after"]
        }
    }

    /// `metadata` plus this event's `message_id`, ready for a `Logger` call.
    public func metadata(_ metadata: Logger.Metadata = [:]) -> Logger.Metadata {
        var merged = metadata
        merged[MessageID.metadataKey] = .string(messageID.hex)
        return merged
    }
}
