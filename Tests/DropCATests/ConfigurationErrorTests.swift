import Foundation
import Testing

@testable import DropCA

/// Every problem an operator can make, and the exact line dropca prints for it.
@Suite("Configuration errors")
struct ConfigurationErrorTests {
    typealias Fixture = ConfigurationFixture

    // MARK: Unknown keys and sections

    @Test(arguments: [
        ("spool", "inbox, outbox, failed, settle_seconds, rescan_seconds"),
        ("state", "directory"),
        ("certificate", "validity_days, backdate_seconds, ca_issuers_url, ocsp_url, crl_url, default_extended_key_usage, rsa_signature"),
        ("policy", "min_rsa_bits, allowed_curves, allow_sha1_csr_signature, max_csr_bytes, allowed_key_types, allowed_extended_key_usage"),
        ("names", "dns, ip, email, uri, deny_dns, deny_ip, deny_email, deny_uri, allow_wildcards, free_text_cn"),
        ("daemon", "workers, input_budget_mib"),
        ("metrics", "textfile"),
    ])
    func anUnknownKeyNamesItsSectionLineAndTheKnownKeys(section: String, knownKeys: String) {
        let text = Fixture.caSection + "\n[\(section)]\n# a comment\n  typo_key = 1\n"
        #expect(
            Fixture.problems(text) == [
                "dropca.toml:7: \(section).typo_key: unknown key (known keys in [\(section)]: \(knownKeys))"
            ]
        )
        #expect(Fixture.error(text)?.code == .unknownKey)
        #expect(Fixture.error(text)?.key == "\(section).typo_key")
    }

    @Test func anUnknownKeyInTheCASectionIsReported() {
        let text = Fixture.caSection + "cert = \"/etc/dropca/other.pem\"\n"
        #expect(Fixture.problems(text) == ["dropca.toml:4: ca.cert: unknown key (known keys in [ca]: certificate, key, pkcs11_module, pin, chain)"])
    }

    @Test func theBriefsSpoolTypoExample() {
        let text = "\n\n\n[spool]\ninboxx = \"/x\"\n" + Fixture.caSection
        #expect(
            Fixture.problems(text) == [
                "dropca.toml:5: spool.inboxx: unknown key (known keys in [spool]: inbox, outbox, failed, settle_seconds, rescan_seconds)"
            ]
        )
    }

    @Test func anUnknownSectionIsReportedOnItsHeaderLine() {
        let text = Fixture.caSection + "[certficate]\nvalidity_days = 30\n"
        let error = Fixture.error(text)
        #expect(error?.code == .unknownSection)
        #expect(error?.line == 4)
        #expect(error?.key == "certficate")
        #expect(
            error?.description
                == "dropca.toml:4: [certficate]: unknown section (known sections: spool, state, ca, certificate, policy, names, crl, daemon, metrics, profiles.NAME)"
        )
    }

    @Test func anUnknownSectionWrittenAsADottedKeyIsReportedOnItsLine() {
        let text = "# tuning\nsppol.inbox = \"/x\"\n" + Fixture.caSection
        #expect(
            Fixture.problems(text) == [
                "dropca.toml:2: [sppol]: unknown section (known sections: spool, state, ca, certificate, policy, names, crl, daemon, metrics, profiles.NAME)"
            ]
        )
    }

    @Test func aKeyOutsideAnySectionIsReported() {
        let text = "workers = 4\n" + Fixture.caSection
        #expect(
            Fixture.problems(text) == [
                "dropca.toml:1: workers: unknown key outside any section (known sections: spool, state, ca, certificate, policy, names, crl, daemon, metrics, profiles.NAME; known keys before the first section: outputs)"
            ]
        )
    }

    // MARK: Wrong types

    @Test(arguments: [
        ("[certificate]\nvalidity_days = \"365\"", "certificate.validity_days: expected a whole number, found a string (\"365\")"),
        ("[certificate]\nvalidity_days = 365.0", "certificate.validity_days: expected a whole number, found a floating-point number (365.0)"),
        ("[spool]\nsettle_seconds = \"2\"", "spool.settle_seconds: expected a number, found a string (\"2\")"),
        ("[spool]\ninbox = 5", "spool.inbox: expected a string, found an integer (5)"),
        ("[spool]\nrescan_seconds = true", "spool.rescan_seconds: expected a whole number, found a boolean (true)"),
        ("[state]\ndirectory = [\"/a\"]", "state.directory: expected a string, found a list"),
        ("[policy]\nallow_sha1_csr_signature = \"yes\"", "policy.allow_sha1_csr_signature: expected true or false, found a string (\"yes\")"),
        ("[policy]\nallowed_curves = \"P-256\"", "policy.allowed_curves: expected a list of strings, found a string (\"P-256\")"),
        ("[policy]\nmax_csr_bytes = 1979-05-27", "policy.max_csr_bytes: expected a whole number, found a date"),
        ("[certificate]\nrsa_signature = 256", "certificate.rsa_signature: expected a string, found an integer (256)"),
        ("[certificate]\nocsp_url = { host = \"x\" }", "certificate.ocsp_url: expected a string, found a table"),
        ("[daemon]\nworkers = 2.5", "daemon.workers: expected a whole number, found a floating-point number (2.5)"),
    ])
    func aValueOfTheWrongTypeNamesTheKeyAndWhatWasFound(snippet: String, expected: String) {
        let text = Fixture.caSection + snippet + "\n"
        let problems = Fixture.problems(text)
        #expect(problems == ["dropca.toml:5: \(expected)"])
        #expect(Fixture.error(text)?.code == .wrongType)
    }

    @Test func aWrongTypeInsideAMultiLineListIsReportedOnTheElementsLine() {
        let text = Fixture.caSection + """
            [policy]
            allowed_curves = [
              "P-256",
              # P-384 is for the VPN concentrators
              384,
            ]
            max_csr_bytes = "big"
            """
        #expect(
            Fixture.problems(text) == [
                "dropca.toml:8: policy.allowed_curves: expected a list of strings, found an integer (384) as item 2",
                "dropca.toml:10: policy.max_csr_bytes: expected a whole number, found a string (\"big\")",
            ]
        )
    }

    @Test func linesInsideAMultiLineStringAreNotTakenForKeys() {
        let text = Fixture.caSection + #"""
            [certificate]
            ca_issuers_url = """
            [certficate]
            validity_days = "x"
            """
            validity_days = "365"
            """#
        let problems = Fixture.problems(text)
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("dropca.toml:5: certificate.ca_issuers_url: ") == true)
        #expect(problems.last == "dropca.toml:9: certificate.validity_days: expected a whole number, found a string (\"365\")")
    }

    @Test func aKnownSectionThatIsNotATableIsAWrongType() {
        let text = "daemon = 3\n" + Fixture.caSection
        #expect(Fixture.problems(text) == ["dropca.toml:1: daemon: expected a table ([daemon]), found an integer (3)"])
    }

    // MARK: Invalid values

    @Test(arguments: [
        ("[spool]\nsettle_seconds = -1", "spool.settle_seconds: must be between 0 and 86400 seconds, found -1"),
        ("[spool]\nsettle_seconds = nan", "spool.settle_seconds: must be between 0 and 86400 seconds, found nan"),
        ("[spool]\nrescan_seconds = -60", "spool.rescan_seconds: must be between 0 and 86400 seconds, found -60"),
        ("[spool]\ninbox = \"\"", "spool.inbox: must not be empty; give a path"),
        ("[state]\ndirectory = \"\"", "state.directory: must not be empty; give a path"),
        ("[certificate]\nvalidity_days = 0", "certificate.validity_days: must be between 1 and 36500 days, found 0"),
        ("[certificate]\nbackdate_seconds = -1", "certificate.backdate_seconds: must be between 0 and 31536000 seconds, found -1"),
        (
            "[certificate]\nca_issuers_url = \"ftp://pki.corp.test/ca.cer\"",
            "certificate.ca_issuers_url: \"ftp://pki.corp.test/ca.cer\" must be an http://, https:// or ldap:// URL (or \"\" for none)"
        ),
        (
            "[certificate]\nocsp_url = \"ldap://ocsp.corp.test\"",
            "certificate.ocsp_url: \"ldap://ocsp.corp.test\" must be an http:// or https:// URL (or \"\" for none)"
        ),
        ("[certificate]\ncrl_url = \"http:///ca.crl\"", "certificate.crl_url: \"http:///ca.crl\" has no host name (or \"\" for none)"),
        (
            "[certificate]\ncrl_url = \"pki.corp.test/ca.crl\"",
            "certificate.crl_url: \"pki.corp.test/ca.crl\" is not a URL; expected an http://, https:// or ldap:// URL (or \"\" for none)"
        ),
        (
            "[certificate]\nocsp_url = \"http://ocsp.corp.test/a b\"",
            "certificate.ocsp_url: \"http://ocsp.corp.test/a b\" contains a space or a character that is not plain ASCII; percent-encode it (or \"\" for none)"
        ),
        (
            "[certificate]\ndefault_extended_key_usage = [\"serverauth\"]",
            "certificate.default_extended_key_usage: \"serverauth\" is neither a known usage (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning) nor a dotted OID; did you mean serverAuth?"
        ),
        (
            "[certificate]\ndefault_extended_key_usage = [\"3.6.1\"]",
            "certificate.default_extended_key_usage: \"3.6.1\": the first arc of an OID is 0, 1 or 2"
        ),
        (
            "[certificate]\ndefault_extended_key_usage = [\"1\"]",
            "certificate.default_extended_key_usage: \"1\": a dotted OID needs at least two arcs, like 1.3.6.1.5.5.7.3.17"
        ),
        (
            "[certificate]\ndefault_extended_key_usage = [\"1.40.3\"]",
            "certificate.default_extended_key_usage: \"1.40.3\": under arc 1 the second arc is at most 39"
        ),
        (
            "[certificate]\ndefault_extended_key_usage = [\"1.3..6\"]",
            "certificate.default_extended_key_usage: \"1.3..6\": an OID is made of numbers separated by single dots"
        ),
        (
            "[certificate]\ndefault_extended_key_usage = [\"clientAuth\", \"1.3.6.1.5.5.7.3.2\"]",
            "certificate.default_extended_key_usage: \"1.3.6.1.5.5.7.3.2\" is the same usage as \"clientAuth\""
        ),
        (
            "[certificate]\nrsa_signature = \"SHA384\"",
            "certificate.rsa_signature: \"SHA384\" is not one of sha256, sha384, sha512, pss-sha256; did you mean sha384?"
        ),
        ("[policy]\nmin_rsa_bits = 512", "policy.min_rsa_bits: must be between 1024 and 16384 bits, found 512"),
        ("[policy]\nmin_rsa_bits = 32768", "policy.min_rsa_bits: must be between 1024 and 16384 bits, found 32768"),
        (
            "[policy]\nallowed_curves = [\"prime256v1\"]",
            "policy.allowed_curves: \"prime256v1\" is not a supported curve (P-256, P-384, P-521, secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1); did you mean P-256?"
        ),
        ("[policy]\nallowed_curves = [\"P-384\", \"P-384\"]", "policy.allowed_curves: \"P-384\" is listed twice"),
        ("[policy]\nmax_csr_bytes = 255", "policy.max_csr_bytes: must be between 256 and 16777216 bytes, found 255"),
        ("[policy]\nmax_csr_bytes = 16777217", "policy.max_csr_bytes: must be between 256 and 16777216 bytes, found 16777217"),
        ("[daemon]\nworkers = -1", "daemon.workers: must be between 0 and 1024, found -1"),
        ("[spool]\noutbox = \"/var/spool/dropca/inbox/\"", "spool.outbox: must be a different folder from spool.inbox (both are /var/spool/dropca/inbox/)"),
        ("[state]\ndirectory = \"/var/spool/dropca/failed\"", "state.directory: must be a different folder from spool.failed (both are /var/spool/dropca/failed)"),
    ])
    func anInvalidValueNamesTheKeyAndWhatIsAllowed(snippet: String, expected: String) {
        let text = Fixture.caSection + snippet + "\n"
        #expect(Fixture.problems(text) == ["dropca.toml:5: \(expected)"])
        #expect(Fixture.error(text)?.code == .invalidValue)
    }

    @Test func emptyCAPathsAreInvalid() {
        let text = "[ca]\ncertificate = \"\"\nkey = \"\"\n"
        #expect(
            Fixture.problems(text) == [
                "dropca.toml:2: ca.certificate: must not be empty; give a path",
                "dropca.toml:3: ca.key: must not be empty; give a key file path, credential:NAME or a pkcs11: URI",
            ]
        )
    }

    /// A key on a token: its URI is checked where it is written, the module is required, and
    /// the PIN is never taken from the configuration itself.
    @Test(arguments: [
        ("key = \"pkcs11:token=dropca;object=ca\"\n", "dropca.toml: ca.pkcs11_module: required key is missing: ca.key names a key on a token, and this names the PKCS#11 module to reach it"),
        ("key = \"pkcs11:token=dropca;object=ca?pin-value=1234\"\npkcs11_module = \"/m.so\"\n",
         "dropca.toml:3: ca.key: the PKCS#11 URI carries a PIN (pin-value); give the PIN in ca.pin (a file or credential:NAME) instead"),
        ("key = \"pkcs11:token=dropca\"\npkcs11_module = \"/m.so\"\n", "dropca.toml:3: ca.key: the PKCS#11 URI names no key: give object=LABEL or id=%HEX"),
        ("key = \"pkcs11:token=dropca;object=ca;type=cert\"\npkcs11_module = \"/m.so\"\n",
         "dropca.toml:3: ca.key: the PKCS#11 URI names type=cert; the CA key is a private key (type=private)"),
        ("key = \"pkcs11:token=dropca;id=%0\"\npkcs11_module = \"/m.so\"\n", "dropca.toml:3: ca.key: the PKCS#11 URI attribute id has a % not followed by two hex digits"),
        ("key = \"pkcs11:token=dropca;object=ca\"\npkcs11_module = \"/m.so\"\npin = \"pkcs11:token=x;object=y\"\n",
         "dropca.toml:5: ca.pin: must be a file or credential:NAME"),
    ])
    func tokenKeysAreCheckedWhereTheyAreWritten(lines: String, expected: String) {
        let text = "[ca]\ncertificate = \"/etc/dropca/ca.pem\"\n" + lines
        #expect(Fixture.problems(text) == [expected])
    }

    @Test func aTokenKeyWithItsModuleAndPINParses() throws {
        let text = "[ca]\ncertificate = \"/etc/dropca/ca.pem\"\nkey = \"pkcs11:token=dropca;object=ca;id=%01;type=private\"\n"
            + "pkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\npin = \"credential:ca.pin\"\n"
        let configuration = try Fixture.parse(text)
        #expect(configuration.ca.key == .pkcs11("pkcs11:token=dropca;object=ca;id=%01;type=private"))
        #expect(configuration.ca.pkcs11Module == "/usr/lib/softhsm/libsofthsm2.so")
        #expect(configuration.ca.pin == .credential("ca.pin"))
    }

    @Test func aBadListElementIsReportedOnItsOwnLine() {
        let text = Fixture.caSection + """
            [certificate]
            default_extended_key_usage = [
                "clientAuth",
                "serverAuth",   # web UI
                "clientauth",
            ]
            """
        let error = Fixture.error(text)
        #expect(error?.line == 8)
        #expect(error?.key == "certificate.default_extended_key_usage")
    }

    // MARK: Missing keys

    @Test func withoutACASectionBothCAKeysAreReportedMissing() {
        let text = "[daemon]\nworkers = 2\n"
        #expect(
            Fixture.problems(text) == [
                "dropca.toml: ca.certificate: required key is missing",
                "dropca.toml: ca.key: required key is missing",
            ]
        )
        #expect(Fixture.error(text)?.code == .missingKey)
        #expect(Fixture.error(text)?.line == nil)
    }

    @Test func aMissingCAKeyIsReported() {
        let text = "[ca]\ncertificate = \"/etc/dropca/ca.pem\"\n"
        #expect(Fixture.problems(text) == ["dropca.toml: ca.key: required key is missing"])
    }

    // MARK: Syntax and the file itself

    @Test func aSyntaxErrorGivesLineAndColumn() {
        let text = Fixture.caSection + "[certificate]\nvalidity_days = = 2\n"
        let error = Fixture.error(text)
        #expect(error?.code == .syntax)
        #expect(error?.line == 5)
        #expect(error?.first.column == 17)
        #expect(error?.description.hasPrefix("dropca.toml:5:17: TOML syntax error: ") == true)
        #expect(error?.problems.count == 1)
    }

    @Test func aDuplicateKeyIsASyntaxError() {
        let text = Fixture.caSection + "[daemon]\nworkers = 1\nworkers = 2\n"
        let error = Fixture.error(text)
        #expect(error?.code == .syntax)
        #expect(error?.line == 6)
    }

    @Test func aNULByteIsRefusedRatherThanEndingTheFileEarly() {
        let text = Fixture.caSection + "[daemon]\n\u{0}workers = \"many\"\n"
        let error = Fixture.error(text)
        #expect(error?.code == .syntax)
        #expect(error?.line == 5)
    }

    @Test func aMissingFileIsReportedWithTheSystemsReason() throws {
        let folder = try Fixture.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("absent.toml").path

        #expect {
            _ = try Configuration.load(path: path, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigurationError else {
                return false
            }
            return error.code == .fileUnreadable
                && error.description == "\(path): the configuration file does not exist"
        }
    }

    @Test func aFolderOrNonTextFileIsNotAConfig() throws {
        let folder = try Fixture.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = folder.appendingPathComponent("ca.der")
        try Data([0x30, 0x82, 0xFF, 0xFE]).write(to: binary)

        #expect {
            _ = try Configuration.load(path: folder.path, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.description == "\(folder.path): the configuration file is a folder, not a file"
        }
        #expect {
            _ = try Configuration.load(path: binary.path, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.description == "\(binary.path): is not UTF-8 text, which TOML requires"
        }
    }

    @Test func theFileIsNamedAsGiven() throws {
        let folder = try Fixture.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dropca.toml").path
        try "[ca]\ncertificate = \"ca.pem\"\n".write(toFile: path, atomically: true, encoding: .utf8)

        #expect {
            _ = try Configuration.load(path: path, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.description == "\(path): ca.key: required key is missing"
        }
    }

    // MARK: Several at once

    @Test func everyProblemIsReportedInFileOrder() {
        let text = """
            [spool]
            inboxx = "/srv/in"
            settle_seconds = -2

            [certficate]
            validity_days = 30

            [policy]
            min_rsa_bits = "2048"
            allowed_curves = [
                "P-256",
                "P-224",
            ]

            [daemon]
            workers = -3
            """
        let error = Fixture.error(text)
        #expect(
            error?.problems.map(\.description) == [
                "dropca.toml:2: spool.inboxx: unknown key (known keys in [spool]: inbox, outbox, failed, settle_seconds, rescan_seconds)",
                "dropca.toml:3: spool.settle_seconds: must be between 0 and 86400 seconds, found -2",
                "dropca.toml:5: [certficate]: unknown section (known sections: spool, state, ca, certificate, policy, names, crl, daemon, metrics, profiles.NAME)",
                "dropca.toml:9: policy.min_rsa_bits: expected a whole number, found a string (\"2048\")",
                "dropca.toml:12: policy.allowed_curves: \"P-224\" is not a supported curve (P-256, P-384, P-521, secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1)",
                "dropca.toml:16: daemon.workers: must be between 0 and 1024, found -3",
                "dropca.toml: ca.certificate: required key is missing",
                "dropca.toml: ca.key: required key is missing",
            ]
        )
        #expect(error?.code == .unknownKey)
        #expect(error?.line == 2)
        #expect(error?.description.split(separator: "\n").count == 8)
    }

    // MARK: The error type

    @Test func aProblemPrintsAsFileLineKeyMessage() {
        let problem = ConfigurationError.Problem(
            code: .wrongType, file: "/etc/dropca/dropca.toml", line: 12, key: "certificate.validity_days",
            message: "expected a whole number, found a string (\"365\")"
        )
        #expect(
            problem.description
                == "/etc/dropca/dropca.toml:12: certificate.validity_days: expected a whole number, found a string (\"365\")"
        )
        let single = ConfigurationError(problem)
        #expect(single.description == problem.description)
        #expect(single.code == .wrongType)
        #expect(single.message == problem.message)
    }
}
