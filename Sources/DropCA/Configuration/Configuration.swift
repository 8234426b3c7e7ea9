import Foundation
import Issuance

/// Everything `dropca.toml` can say, after validation.
///
/// A value of this type is always usable: `load` and `parse` only hand one out when every key
/// had the right type and an acceptable value, and relative paths have already been made
/// relative to the config file's folder. The properties follow the file's sections one to
/// one, so an operator's `[policy] min_rsa_bits` is `configuration.policy.minRSABits` here.
///
/// `[certificate]`, `[policy]` and `[names]` are the issuance engine's own
/// ``CertificateProfile``, ``IssuancePolicy`` and ``NamePolicy``: their defaults are
/// written once, there, and what the file says is exactly what the issuer gets. The
/// top-level sections are the default profile (``defaultProfile``; ``spool``,
/// ``certificate``, ``policy``, ``names`` and ``outputs`` read it), and each
/// `[profiles.NAME]` is another (``namedProfiles``). One deliberate difference from the first design:
/// `certificate.ca_issuers_url` defaults to "not set", so that no example host ever ends up
/// in a real certificate.
public struct Configuration: Sendable, Equatable {
    public var state: State
    public var ca: CA
    public var crl: CRLSettings
    public var daemon: DaemonSettings
    public var metrics: MetricsSettings
    /// The top-level `[spool]`, `[certificate]`, `[policy]`, `[names]` and `outputs`: the
    /// profile named "default", which the properties below read and write.
    public var defaultProfile: Profile
    /// The `[profiles.NAME]` tables, in file order; each has the top level's values for
    /// every key it does not set itself.
    public var namedProfiles: [Profile]

    /// Every profile: the default one first, then the named ones in file order.
    public var profiles: [Profile] { [defaultProfile] + namedProfiles }

    /// The default profile's `[spool]`.
    public var spool: SpoolSettings {
        get { defaultProfile.spool }
        set { defaultProfile.spool = newValue }
    }
    /// The default profile's `[certificate]`.
    public var certificate: CertificateProfile {
        get { defaultProfile.certificate }
        set { defaultProfile.certificate = newValue }
    }
    /// The default profile's `[policy]`.
    public var policy: IssuancePolicy {
        get { defaultProfile.policy }
        set { defaultProfile.policy = newValue }
    }
    /// The default profile's `[names]`; nil when the file has none.
    public var names: NamePolicy? {
        get { defaultProfile.names }
        set { defaultProfile.names = newValue }
    }
    /// The default profile's `outputs`.
    public var outputs: [OutputFormat] {
        get { defaultProfile.outputs }
        set { defaultProfile.outputs = newValue }
    }

    /// Only `ca` has no default: there is no sensible CA to assume.
    public init(
        spool: SpoolSettings = SpoolSettings(),
        state: State = State(),
        ca: CA,
        certificate: CertificateProfile = CertificateProfile(),
        policy: IssuancePolicy = IssuancePolicy(),
        crl: CRLSettings = CRLSettings(),
        daemon: DaemonSettings = DaemonSettings(),
        metrics: MetricsSettings = MetricsSettings(),
        names: NamePolicy? = nil,
        outputs: [OutputFormat] = OutputFormat.defaults,
        namedProfiles: [Profile] = []
    ) {
        self.state = state
        self.ca = ca
        self.crl = crl
        self.daemon = daemon
        self.defaultProfile = Profile(name: Profile.defaultName, spool: spool, certificate: certificate, policy: policy, names: names, outputs: outputs)
        self.namedProfiles = namedProfiles
        self.metrics = metrics
    }

    /// `[metrics]`: a Prometheus text file for node_exporter's textfile collector.
    public struct MetricsSettings: Sendable, Equatable {
        /// The `.prom` file the daemon rewrites (atomically) every 15 s and at stop; nil
        /// (`""`, the default) for none.
        public var textfile: String?

        public init(textfile: String? = nil) {
            self.textfile = textfile
        }

        /// How often the file is rewritten.
        public static let interval: Duration = .seconds(15)
    }

    /// The profile of that name ("default" for the top level), if there is one.
    public func profile(named name: String) -> Profile? {
        profiles.first { $0.name == name }
    }

    /// Where `dropca` looks when neither `--config` nor `DROPCA_CONFIG` says otherwise.
    public static let systemPath = "/etc/dropca/dropca.toml"

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
    public struct SpoolSettings: Sendable, Equatable {
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
        /// PEM file of the certificates above the CA, from its issuer upwards (`ca.chain`),
        /// for the `pem-chain` and `p7b` outputs; nil when not set.
        public var chain: String?
        /// The PKCS#11 module for a key on a token (`ca.pkcs11_module`).
        public var pkcs11Module: String?
        /// Where the token's user PIN is read from (`ca.pin`: a file or `credential:NAME`);
        /// nil for a token that needs no login.
        public var pin: KeySource?

        public init(certificate: String, key: KeySource, chain: String? = nil, pkcs11Module: String? = nil, pin: KeySource? = nil) {
            self.certificate = certificate
            self.key = key
            self.chain = chain
            self.pkcs11Module = pkcs11Module
            self.pin = pin
        }

        /// The file to read the CA key from; see ``KeySource/resolvedKeyPath(environment:)``.
        public func resolvedKeyPath(environment: [String: String]) throws(KeySource.ResolutionError) -> String {
            try key.resolvedKeyPath(environment: environment)
        }
    }

    /// `[crl]`: where the daemon publishes the CRL and the CA certificate, and how fresh it
    /// keeps the CRL.
    public struct CRLSettings: Sendable, Equatable {
        /// The folder that gets `ca.crl` and `ca.cer` (both DER); nil (`""` in the file) for
        /// no CRL at all.
        public var directory: String?
        /// nextUpdate = thisUpdate + this.
        public var validityHours: Double
        /// A new CRL is signed at least this often, revocations or not; below `validityHours`,
        /// so that relying parties always hold a CRL that has not passed its nextUpdate.
        public var refreshHours: Double

        public init(directory: String? = "/var/lib/dropca/public", validityHours: Double = 168, refreshHours: Double = 24) {
            self.directory = directory
            self.validityHours = validityHours
            self.refreshHours = refreshHours
        }

        /// File names in ``directory``.
        public static let crlFileName = "ca.crl"
        public static let caCertificateFileName = "ca.cer"
    }

    /// `[daemon]`: how the running service uses the machine.
    public struct DaemonSettings: Sendable, Equatable {
        /// Signing workers; 0 means one per CPU.
        public var workers: Int
        /// MiB of request bytes the daemon holds in memory at once (reads in progress and
        /// rejected inputs waiting for the publisher): what bounds its memory, since a
        /// count of files alone times `policy.max_csr_bytes` could reach a gigabyte.
        public var inputBudgetMiB: Int

        public init(workers: Int = 0, inputBudgetMiB: Int = 64) {
            self.workers = workers
            self.inputBudgetMiB = inputBudgetMiB
        }

        /// The number of workers to start: `workers`, or one per CPU the process may use
        /// when `workers` is 0 (the default, because signing is CPU-bound).
        public var effectiveWorkers: Int {
            workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
    }
}
