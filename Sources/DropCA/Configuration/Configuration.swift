import Foundation
import Issuance

/// Everything `dropca.toml` can say, after validation.
///
/// A value of this type is always usable: `load` and `parse` only hand one out when every key
/// had the right type and an acceptable value, and relative paths have already been made
/// relative to the config file's folder. The nested types mirror the file's sections one to
/// one, so an operator's `[policy] min_rsa_bits` is `configuration.policy.minRSABits` here.
///
/// Defaults are the ones in DESIGN.md section 2, with one deliberate exception:
/// `certificate.ca_issuers_url` defaults to "not set", because the design's example URL
/// (`http://pki.example.com/ca.cer`) must never end up in a real certificate.
public struct Configuration: Sendable, Equatable {
    /// Where `dropca` looks when neither `--config` nor `DROPCA_CONFIG` says otherwise.
    public static let systemPath = "/etc/dropca/dropca.toml"

    public var spool: Spool
    public var state: State
    public var ca: CA
    public var certificate: Certificate
    public var policy: Policy
    public var daemon: Daemon

    /// Only `ca` has no default: there is no sensible CA to assume.
    public init(
        spool: Spool = Spool(),
        state: State = State(),
        ca: CA,
        certificate: Certificate = Certificate(),
        policy: Policy = Policy(),
        daemon: Daemon = Daemon()
    ) {
        self.spool = spool
        self.state = state
        self.ca = ca
        self.certificate = certificate
        self.policy = policy
        self.daemon = daemon
    }

    /// The config file to read: `--config` wins, then `DROPCA_CONFIG`, then the system path.
    ///
    /// An empty value counts as not given, so `DROPCA_CONFIG=` in a unit file cannot make
    /// dropca try to open "".
    public static func defaultPath(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty {
            return explicit
        }
        if let fromEnvironment = environment["DROPCA_CONFIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return systemPath
    }
}

extension Configuration {
    /// `[spool]`: the three folders appliances and dropca share, and how intake scans them.
    public struct Spool: Sendable, Equatable {
        /// Appliances drop requests here.
        public var inbox: String
        /// Certificates appear here, named after the request.
        public var outbox: String
        /// Rejected requests are moved here with a `.reason` file.
        public var failed: String
        /// A file found by a scan must have kept its size and mtime this long before intake,
        /// so an upload that pauses is not taken half-written.
        public var settleSeconds: Double
        /// Period of the full rescan that catches what inotify cannot see (network
        /// filesystems); 0 turns it off.
        public var rescanSeconds: Int

        public init(
            inbox: String = "/var/spool/dropca/inbox",
            outbox: String = "/var/spool/dropca/outbox",
            failed: String = "/var/spool/dropca/failed",
            settleSeconds: Double = 2,
            rescanSeconds: Int = 60
        ) {
            self.inbox = inbox
            self.outbox = outbox
            self.failed = failed
            self.settleSeconds = settleSeconds
            self.rescanSeconds = rescanSeconds
        }
    }

    /// `[state]`: where dropca keeps what must survive a restart.
    public struct State: Sendable, Equatable {
        /// Holds the issuance ledger.
        public var directory: String

        public init(directory: String = "/var/lib/dropca") {
            self.directory = directory
        }
    }

    /// `[ca]`: the issuing CA. Required, because guessing a CA would be worse than stopping.
    public struct CA: Sendable, Equatable {
        /// PEM or DER certificate of the CA.
        public var certificate: String
        /// Where the CA's private key comes from.
        public var key: KeySource

        public init(certificate: String, key: KeySource) {
            self.certificate = certificate
            self.key = key
        }

        /// The file to read the CA key from; see ``KeySource/resolvedKeyPath(environment:)``.
        public func resolvedKeyPath(environment: [String: String]) throws(KeySource.ResolutionError) -> String {
            try key.resolvedKeyPath(environment: environment)
        }
    }

    /// `[certificate]`: what dropca puts into every certificate it issues.
    public struct Certificate: Sendable, Equatable {
        /// Lifetime of an issued certificate (cut to the CA's own notAfter).
        public var validityDays: Int
        /// notBefore lies this far in the past, for appliances whose clocks run slow.
        public var backdateSeconds: Int
        /// AIA caIssuers URL; empty means the extension carries no caIssuers entry.
        public var caIssuersURL: String
        /// AIA OCSP URL; empty means not set.
        public var ocspURL: String
        /// CRL distribution point; empty means no CRL Distribution Points extension.
        public var crlURL: String
        /// Extended key usages (names or dotted OIDs) for requests that ask for none.
        public var defaultExtendedKeyUsage: [String]
        /// Signature scheme when the CA key is RSA.
        public var rsaSignature: RSASignature

        public init(
            validityDays: Int = 365,
            backdateSeconds: Int = 3600,
            caIssuersURL: String = "",
            ocspURL: String = "",
            crlURL: String = "",
            defaultExtendedKeyUsage: [String] = [],
            rsaSignature: RSASignature = .sha256
        ) {
            self.validityDays = validityDays
            self.backdateSeconds = backdateSeconds
            self.caIssuersURL = caIssuersURL
            self.ocspURL = ocspURL
            self.crlURL = crlURL
            self.defaultExtendedKeyUsage = defaultExtendedKeyUsage
            self.rsaSignature = rsaSignature
        }
    }

    /// The signature an RSA CA key makes; the raw value is what the config file says.
    public typealias RSASignature = RSASignatureScheme

    /// `[policy]`: which requests are acceptable at all.
    public struct Policy: Sendable, Equatable {
        /// Smallest RSA modulus accepted in a request.
        public var minRSABits: Int
        /// EC curves accepted in a request, by their config names (`P-256`, …).
        public var allowedCurves: [String]
        /// Whether a request self-signed with SHA-1 is still accepted (old appliances).
        public var allowSHA1CSRSignature: Bool
        /// Larger request files are rejected unread.
        public var maxCSRBytes: Int

        public init(
            minRSABits: Int = 2048,
            allowedCurves: [String] = ["P-256", "P-384", "P-521"],
            allowSHA1CSRSignature: Bool = false,
            maxCSRBytes: Int = 65536
        ) {
            self.minRSABits = minRSABits
            self.allowedCurves = allowedCurves
            self.allowSHA1CSRSignature = allowSHA1CSRSignature
            self.maxCSRBytes = maxCSRBytes
        }
    }

    /// `[daemon]`: how the running service uses the machine.
    public struct Daemon: Sendable, Equatable {
        /// Signing workers; 0 means one per CPU.
        public var workers: Int

        public init(workers: Int = 0) {
            self.workers = workers
        }

        /// The number of workers to start: `workers`, or one per CPU the process may use
        /// when `workers` is 0 (the default, because signing is CPU-bound).
        public var effectiveWorkers: Int {
            workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
    }
}
