import Foundation
import TestSupport
import Testing

/// `[profiles.NAME]` served by the real daemon: each profile's inbox watched beside the
/// default one, each input issued under its own profile's rules into its own outbox in its
/// own formats, refused with its profile named, and recorded with its profile; through
/// SIGKILLs every input of every profile still ends exactly once with all its files; a
/// reload applies profile policy and refuses to add or remove a profile.
@Suite(.serialized) struct DaemonProfileTests {
    static let allOutputs = ["der", "pem", "pem-chain", "p7b"]

    static func sqlite(_ daemon: DaemonHarness, _ sql: String) throws -> [String] {
        let result = try ExternalTool.run("sqlite3", ["-readonly", "-separator", "|", daemon.root + "/state/ledger.sqlite", sql])
        guard result.succeeded else { throw HarnessError("sqlite3 \(sql): \(result.output)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// Days between notBefore and notAfter of a DER certificate, rounded down.
    static func validityDays(_ path: String) throws -> Int {
        let result = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", path, "-noout", "-startdate", "-enddate"])
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        let dates = result.stdout.split(separator: "\n").compactMap { line -> Date? in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            return formatter.date(from: line[line.index(after: equals)...].split(separator: " ").filter { !$0.isEmpty }.joined(separator: " "))
        }
        guard dates.count == 2 else { throw HarnessError("dates of \(path): \(result.output)") }
        return Int(dates[1].timeIntervalSince(dates[0]) / 86_400)
    }

    @Test(.timeLimit(.minutes(10)))
    func eachProfileIssuesUnderItsOwnRulesIntoItsOwnOutbox() throws {
        let daemon = try DaemonHarness()
        let ca = try ProfileFixtures.TwoLevelCA(in: daemon.directory)
        let metrics = daemon.directory.path("dropca.prom")
        try daemon.configure(["certificate": "\"\(ca.intermediate)\"", "key": "\"\(ca.intermediateKey)\"",
                              "textfile": "\"\(metrics)\""])
        var text = try String(contentsOfFile: daemon.config, encoding: .utf8)
        text = text.replacingOccurrences(of: "[ca]\n", with: "[ca]\n# the root above the intermediate\nchain = \"\(ca.root)\"\n")
        try text.write(toFile: daemon.config, atomically: true, encoding: .utf8)
        try ProfileFixtures.addProfile("printers", to: daemon, body: "outputs = [\"der\", \"pem\", \"pem-chain\", \"p7b\"]", sections: """
            [profiles.printers.certificate]
            validity_days = 10
            [profiles.printers.names]
            dns = [".printers.example"]
            """)
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"),
                        failed: ProfileFixtures.folder(daemon, "printers", "failed"))
        try daemon.start()

        try Data(ProfileFixtures.request(subject: "/CN=laser.printers.example")).write(to: URL(fileURLWithPath: printers.inbox + "/laser.csr"))
        try daemon.drop("device.csr", SampleRequests.p256)
        // The default profile's request, in the printers' inbox: outside their names.
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: printers.inbox + "/device.csr"))
        try daemon.waitFor("both profiles' outcomes", timeout: 20) {
            daemon.certificate("device") != nil && FileManager.default.fileExists(atPath: printers.outbox + "/laser.p7b")
                && FileManager.default.fileExists(atPath: printers.failed + "/device.csr.reason")
        }

        // Each outbox holds its own profile's files, in its own formats, and the CA.
        #expect(daemon.names(in: daemon.outbox) == ["device.cer"])
        #expect(daemon.names(in: printers.outbox) == ["laser.cer", "laser.chain.pem", "laser.p7b", "laser.pem"])
        let chain = ["subject=CN = dropca test intermediate", "subject=CN = dropca test root"]
        let problems = try ProfileFixtures.outputProblems(folder: printers.outbox, stem: "laser", outputs: Self.allOutputs,
                                                          anchor: ca.root, untrusted: ca.intermediate, chain: chain)
        #expect(problems == [], "\(problems)")
        #expect(try ProfileFixtures.outputProblems(folder: daemon.outbox, stem: "device", outputs: ["der"], anchor: ca.root,
                                                   untrusted: ca.intermediate, chain: []) == [])
        let intermediateDER = try ProfileFixtures.der(ofPEM: ca.intermediate)
        for outbox in [daemon.outbox, printers.outbox] {
            #expect(FileManager.default.contents(atPath: outbox + "/.ca.cer").map { [UInt8]($0) } == intermediateDER, "\(outbox)/.ca.cer")
        }
        #expect(try Self.validityDays(printers.outbox + "/laser.cer") == 10)
        #expect(try Self.validityDays(daemon.outbox + "/device.cer") == 365)

        // The refusal names the name, the rule and the profile.
        let reason = try String(contentsOfFile: printers.failed + "/device.csr.reason", encoding: .utf8)
        let first = reason.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("\"appliance.example\"") && first.contains("names.dns") && first.contains("profile printers"), "\(reason)")
        #expect(reason.contains("\nprofile: printers\n"), "\(reason)")
        #expect(daemon.names(in: daemon.failed).isEmpty)
        #expect(daemon.logText.contains("issued laser.csr (profile printers): serial"), "\(daemon.logText.suffix(2000))")

        // The ledger records the profile; list, show and --json say it.
        #expect(try Self.sqlite(daemon, "SELECT profile, source_file FROM issuance ORDER BY profile") == ["default|device.csr", "printers|laser.csr"])
        #expect(try Self.sqlite(daemon, "SELECT profile, source_file FROM rejection") == ["printers|device.csr"])
        let listed = try DropCABinary.run(["list", "--config", daemon.config, "--profile", "printers"])
        #expect(listed.succeeded && listed.stdout.split(separator: "\n").count == 1 && listed.stdout.contains("  printers/laser.csr  CN=laser.printers.example"), "\(listed.output)")
        let all = try DropCABinary.run(["list", "--config", daemon.config, "--json"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(Set(objects.compactMap { $0["profile"] as? String }) == ["default", "printers"])
        let laser = try #require(objects.first { $0["source_file"] as? String == "laser.csr" })
        let shown = try DropCABinary.run(["show", try #require(laser["serial"] as? String), "--config", daemon.config])
        #expect(shown.stdout.contains("profile:     printers"), "\(shown.output)")

        // Metrics count by the input's profile (written at stop).
        #expect(try daemon.stop() == 0)
        let samples = DaemonMetricsTests.samples(try String(contentsOfFile: metrics, encoding: .utf8))
        #expect(samples["dropca_certificates_issued_total{profile=\"printers\"}"] == 1)
        #expect(samples["dropca_certificates_issued_total{profile=\"default\"}"] == 1)
        let rejected = samples.filter { $0.key.hasPrefix("dropca_requests_rejected_total{") }
        #expect(rejected.count == 1 && rejected.keys.first.map { $0.contains("profile=\"printers\"") && $0.contains("code=\"nameNotAllowed\"") } == true
                && rejected.values.first == 1, "\(rejected)")
    }

    /// One name in two inboxes is two appliances: two certificates, two rows, never one
    /// handed to the other; a crash does not mix them up either.
    @Test(.timeLimit(.minutes(10)))
    func theSameUploadInTwoInboxesIsTwoInputs() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("cameras", to: daemon, body: "outputs = [\"pem\"]")
        let cameras = (inbox: ProfileFixtures.folder(daemon, "cameras", "inbox"), outbox: ProfileFixtures.folder(daemon, "cameras", "outbox"))
        try daemon.drop("device.csr", SampleRequests.p256)
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: cameras.inbox + "/device.csr"))
        try daemon.start()
        try daemon.waitFor("both certificates", timeout: 20) {
            daemon.certificate("device") != nil && FileManager.default.fileExists(atPath: cameras.outbox + "/device.pem")
        }
        #expect(try daemon.stop() == 0)
        let rows = try Self.sqlite(daemon, "SELECT profile, source_file, published_at IS NOT NULL FROM issuance ORDER BY profile")
        #expect(rows == ["cameras|device.csr|1", "default|device.csr|1"])
        #expect(try Self.sqlite(daemon, "SELECT count(DISTINCT serial) FROM issuance") == ["2"])
        #expect(ProfileFixtures.outputs(in: cameras.outbox) == ["device.pem"])
    }

    /// `dropca revoke --source NAME --profile P` revokes that name's certificates in P's
    /// inbox only; without `--profile`, every profile's.
    @Test(.timeLimit(.minutes(10)))
    func revokeBySourceKeepsToTheProfileGiven() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("cameras", to: daemon)
        let cameras = (inbox: ProfileFixtures.folder(daemon, "cameras", "inbox"), outbox: ProfileFixtures.folder(daemon, "cameras", "outbox"))
        try daemon.drop("device.csr", SampleRequests.p256)
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: cameras.inbox + "/device.csr"))
        try daemon.start()
        try daemon.waitFor("both certificates", timeout: 20) {
            daemon.certificate("device") != nil && FileManager.default.fileExists(atPath: cameras.outbox + "/device.cer")
        }
        #expect(try daemon.stop() == 0)
        let alone = try DropCABinary.run(["revoke", "--config", daemon.config, "--profile", "cameras"])
        #expect(alone.status != 0 && alone.stderr.contains("--profile goes with --source"), "\(alone.output)")
        let revoked = try DropCABinary.run(["revoke", "--config", daemon.config, "--source", "device.csr", "--profile", "cameras"])
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(revoked.stdout.split(separator: "\n").count == 1, "one certificate: \(revoked.output)")
        let statuses = try Self.sqlite(daemon, "SELECT i.profile, r.serial IS NOT NULL FROM issuance i LEFT JOIN revocation r ON r.serial = i.serial ORDER BY i.profile")
        #expect(statuses == ["cameras|1", "default|0"])
        let none = try DropCABinary.run(["revoke", "--config", daemon.config, "--source", "other.csr", "--profile", "cameras"])
        #expect(none.status == 1 && none.stdout.contains("no unexpired certificate was issued from this name in profile cameras"), "\(none.output)")
    }

    /// SIGKILLs during a burst over two profiles, one with four outputs: every input ends
    /// as one certificate with one published row of its profile, all of its files there and
    /// holding that certificate, or stays for the next start; nothing is signed twice.
    @Test(.timeLimit(.minutes(10)))
    func killedDuringABurstInTwoProfilesEveryInputEndsOnceWithAllItsFiles() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon, body: "outputs = [\"der\", \"pem\", \"pem-chain\", \"p7b\"]")
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"))
        let count = 1_200
        for index in 0..<count {
            try daemon.drop("d-\(index).csr", SampleRequests.p256)
            try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: printers.inbox + "/p-\(index).csr"))
        }
        func done() -> Int { daemon.names(in: daemon.outbox).count + daemon.names(in: printers.outbox).count / 4 }
        var previous = 0
        for round in 1...2 {
            try daemon.start()
            let target = previous + 300
            try daemon.waitFor("progress in round \(round)", timeout: 60) { done() >= target }
            try daemon.kill9()
            previous = done()
            #expect(previous < 2 * count, "the kill must land mid-burst")
        }
        try daemon.start()
        try daemon.waitFor("every input", timeout: 180) {
            daemon.names(in: daemon.inbox).isEmpty && daemon.names(in: printers.inbox).isEmpty
        }
        #expect(try daemon.stop() == 0)

        let rows = try Self.sqlite(daemon, "SELECT profile, source_file, serial, published_at IS NOT NULL FROM issuance")
        #expect(rows.count == 2 * count, "one row per input")
        #expect(rows.allSatisfy { $0.hasSuffix("|1") }, "every row published")
        var serialsByFile: [String: String] = [:]
        for row in rows {
            let fields = row.split(separator: "|").map(String.init)
            serialsByFile[fields[0] + "/" + fields[1]] = LedgerReconciliation.significant(fields[2])
        }
        #expect(serialsByFile.count == 2 * count, "no input twice")
        #expect(Set(serialsByFile.values).count == 2 * count, "no serial twice")
        #expect(daemon.names(in: daemon.outbox).count == count)
        #expect(ProfileFixtures.outputs(in: printers.outbox).count == 4 * count, "all four files of every printers input")
        // Every file of an input holds the ledger's certificate for it (a sample).
        for index in stride(from: 0, to: count, by: 97) {
            let cer = try #require(FileManager.default.contents(atPath: printers.outbox + "/p-\(index).cer"))
            #expect(try LedgerReconciliation.serial(ofCertificate: [UInt8](cer)) == serialsByFile["printers/p-\(index).csr"])
            #expect(try ProfileFixtures.der(ofPEM: printers.outbox + "/p-\(index).pem") == [UInt8](cer), "p-\(index).pem")
            let p7b = try ProfileFixtures.subjects(ofPKCS7: printers.outbox + "/p-\(index).p7b")
            #expect(p7b.count == 2, "p-\(index).p7b: \(p7b)")
            let der = try #require(daemon.certificate("d-\(index)"))
            #expect(try LedgerReconciliation.serial(ofCertificate: der) == serialsByFile["default/d-\(index).csr"])
        }
        for folder in [daemon.outbox, printers.outbox] {
            let all = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            #expect(all.filter { $0.hasPrefix(".dropca-") }.isEmpty, "temporaries left in \(folder)")
        }
    }

    /// A certificate recorded but not marked published (a crash between the two) is
    /// published again from the ledger's DER, every file of its profile's outputs: at start
    /// when its input is gone, by a worker when its input is still there; never signed anew.
    @Test(.timeLimit(.minutes(10)))
    func recoveryWritesEveryFileOfTheProfileFromTheLedger() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon, body: "outputs = [\"der\", \"pem\", \"pem-chain\", \"p7b\"]")
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"))
        let gone = ProfileFixtures.request(subject: "/CN=gone.example"), back = ProfileFixtures.request(subject: "/CN=back.example")
        try Data(gone).write(to: URL(fileURLWithPath: printers.inbox + "/gone.csr"))
        try Data(back).write(to: URL(fileURLWithPath: printers.inbox + "/back.csr"))
        try daemon.start()
        try daemon.waitFor("both", timeout: 20) {
            ProfileFixtures.outputs(in: printers.outbox).count == 8 && daemon.names(in: printers.inbox).isEmpty
        }
        #expect(try daemon.stop() == 0)
        let serials = try Self.sqlite(daemon, "SELECT source_file, serial FROM issuance ORDER BY source_file")

        // As after a crash before the marks: unpublished rows, the files gone, and one input
        // uploaded again (the same bytes under the same name).
        let unmark = try ExternalTool.run("sqlite3", [daemon.root + "/state/ledger.sqlite", "UPDATE issuance SET published_at = NULL"])
        try #require(unmark.succeeded, "\(unmark.output)")
        for name in ProfileFixtures.outputs(in: printers.outbox) { try FileManager.default.removeItem(atPath: printers.outbox + "/" + name) }
        try Data(back).write(to: URL(fileURLWithPath: printers.inbox + "/back.csr"))
        try daemon.start()
        try daemon.waitFor("both published again", timeout: 20) {
            ProfileFixtures.outputs(in: printers.outbox).count == 8 && daemon.names(in: printers.inbox).isEmpty
        }
        #expect(try daemon.stop() == 0)
        #expect(try Self.sqlite(daemon, "SELECT source_file, serial FROM issuance ORDER BY source_file") == serials, "nothing signed anew")
        #expect(try Self.sqlite(daemon, "SELECT count(*) FROM issuance WHERE published_at IS NULL") == ["0"])
        #expect(daemon.logText.contains("published gone.csr (profile printers) again"), "at start")
        #expect(daemon.logText.contains("published back.csr (profile printers) again"), "by a worker")
        for stem in ["gone", "back"] {
            let problems = try ProfileFixtures.outputProblems(folder: printers.outbox, stem: stem, outputs: Self.allOutputs,
                                                              anchor: daemon.root + "/ca/ca.pem", untrusted: nil, chain: [Self.subject(of: daemon.root + "/ca/ca.pem")])
            #expect(problems == [], "\(stem): \(problems)")
        }
    }

    static func subject(of pem: String) throws -> String {
        try ExternalTool.run("openssl", ["x509", "-in", pem, "-noout", "-subject"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// SIGHUP applies a profile's new policy to the next file; a configuration that adds
    /// or removes a profile is refused whole, with a line saying it needs a restart.
    @Test(.timeLimit(.minutes(10)))
    func aReloadAppliesProfilePolicyAndRefusesAddingOrRemovingAProfile() throws {
        let daemon = try DaemonHarness()
        let withoutProfiles = try String(contentsOfFile: daemon.config, encoding: .utf8)
        try ProfileFixtures.addProfile("printers", to: daemon, sections: "[profiles.printers.certificate]\nvalidity_days = 30\n")
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"))
        let original = try String(contentsOfFile: daemon.config, encoding: .utf8)
        try daemon.start()
        func issue(_ stem: String) throws -> Int {
            try Data(ProfileFixtures.request(subject: "/CN=\(stem).example")).write(to: URL(fileURLWithPath: printers.inbox + "/\(stem).csr"))
            try daemon.waitFor("\(stem).cer", timeout: 20) { FileManager.default.fileExists(atPath: printers.outbox + "/\(stem).cer") }
            return try Self.validityDays(printers.outbox + "/\(stem).cer")
        }
        func reload(_ text: String, expecting line: String) throws {
            let before = daemon.logText.components(separatedBy: line).count
            try text.write(toFile: daemon.config, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            try daemon.waitFor(line, timeout: 10) { daemon.logText.components(separatedBy: line).count > before }
        }
        #expect(try issue("first") == 30)

        try reload(original.replacingOccurrences(of: "validity_days = 30", with: "validity_days = 12"), expecting: "configuration reloaded")
        #expect(try issue("second") == 12)

        // Adding a profile, together with a policy change: none of it applies.
        try FileManager.default.createDirectory(atPath: daemon.root + "/cameras/inbox", withIntermediateDirectories: true)
        let adding = original.replacingOccurrences(of: "validity_days = 30", with: "validity_days = 5")
            + "\n[profiles.cameras.spool]\ninbox = \"cameras/inbox\"\noutbox = \"printers/outbox-c\"\nfailed = \"printers/failed-c\"\n"
        try reload(adding, expecting: "needs a restart")
        #expect(daemon.logText.contains("reload refused, keeping the running configuration: the configuration adds profile cameras"), "\(daemon.logText.suffix(1500))")
        #expect(try issue("third") == 12, "the refused reload's policy change must not apply")

        // Removing one.
        try reload(withoutProfiles, expecting: "removes profile printers")
        #expect(try issue("fourth") == 12)
        #expect(try daemon.stop() == 0)
    }

    /// A named profile's inbox has the hostile-inbox rules of the default one: links,
    /// FIFOs, folders, oversized files and unsafe names end in its own failed folder with
    /// reasons that name it, and no byte or certificate leaks anywhere.
    @Test(.timeLimit(.minutes(10)))
    func aNamedProfilesInboxRefusesHostileEntriesIntoItsOwnFailedFolder() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon, body: "outputs = [\"der\", \"p7b\"]")
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"),
                        failed: ProfileFixtures.folder(daemon, "printers", "failed"))
        try daemon.start()
        #expect(symlink(daemon.root + "/ca/ca.key", printers.inbox + "/key-link.csr") == 0)
        let outside = daemon.root + "/outside.csr"
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: outside))
        #expect(link(outside, printers.inbox + "/hard-link.csr") == 0)
        #expect(mkfifo(printers.inbox + "/fifo.csr", 0o644) == 0)
        #expect(mkdir(printers.inbox + "/folder.csr", 0o755) == 0)
        let big = try DaemonHarness.openForAppending(printers.inbox + "/big.csr")
        try big.truncate(atOffset: 20 * 1024 * 1024)
        try big.close()
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: printers.inbox + "/with space.csr"))
        try daemon.waitFor("every hostile entry", timeout: 30) {
            daemon.names(in: printers.failed).filter { $0.hasSuffix(".reason") }.count == 6
        }
        #expect(ProfileFixtures.outputs(in: printers.outbox).isEmpty && daemon.names(in: daemon.outbox).isEmpty)
        #expect(daemon.names(in: daemon.failed).isEmpty, "nothing in the default profile's failed/")
        #expect(daemon.names(in: printers.inbox).isEmpty)
        for reason in daemon.names(in: printers.failed).filter({ $0.hasSuffix(".reason") }) {
            let text = try String(contentsOfFile: printers.failed + "/" + reason, encoding: .utf8)
            #expect(text.split(separator: "\n").first?.hasSuffix("(profile printers)") == true, "\(reason): \(text)")
        }
        var info = stat()
        #expect(lstat(printers.failed + "/key-link.csr", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, "the link moved as a link")
        #expect(!FileManager.default.fileExists(atPath: printers.failed + "/hard-link.csr"), "a hard link's name is removed, not kept")
        #expect(try daemon.stop() == 0)
    }

    /// An inotify overflow while bursts wait in two inboxes: both are rescanned, and every
    /// input of both is issued once.
    @Test(.timeLimit(.minutes(10)))
    func anOverflowRescansEveryInbox() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon)
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"))
        try daemon.start()
        daemon.signal(SIGSTOP)
        let count = 9_000
        for index in 0..<count {
            try daemon.drop("d-\(index).csr", SampleRequests.p256)
            try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: printers.inbox + "/p-\(index).csr"))
        }
        daemon.signal(SIGCONT)
        try daemon.waitFor("\(2 * count) certificates", timeout: 300) {
            daemon.names(in: daemon.outbox).count + daemon.names(in: printers.outbox).count == 2 * count
        }
        #expect(daemon.logText.contains("overflowed"), "the burst must have overflowed the kernel's event queue")
        try daemon.waitFor("the inboxes to empty", timeout: 30) { daemon.names(in: daemon.inbox).isEmpty && daemon.names(in: printers.inbox).isEmpty }
        #expect(try daemon.stop() == 0)
        #expect(try Self.sqlite(daemon, "SELECT profile, count(*), count(DISTINCT source_file) FROM issuance GROUP BY profile ORDER BY profile")
                == ["default|\(count)|\(count)", "printers|\(count)|\(count)"])
    }

    /// Every outbox's `.ca.cer` follows the CA in force: a reload with another CA replaces
    /// it in each, and what is issued after verifies against it.
    @Test(.timeLimit(.minutes(10)))
    func eachOutboxKeepsTheCAInForceAfterAReloadWithANewCA() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon, body: "outputs = [\"pem\"]")
        let printers = (inbox: ProfileFixtures.folder(daemon, "printers", "inbox"), outbox: ProfileFixtures.folder(daemon, "printers", "outbox"))
        let outboxes = [daemon.outbox, printers.outbox]
        try daemon.start()
        let first = try ProfileFixtures.der(ofPEM: daemon.root + "/ca/ca.pem")
        for outbox in outboxes { #expect(FileManager.default.contents(atPath: outbox + "/.ca.cer").map { [UInt8]($0) } == first) }

        let other = try TemporaryDirectory(prefix: "dropca-other-ca")
        let made = try DropCABinary.run(["init", "--dir", other.path("dev")])
        try #require(made.succeeded, "\(made.output)")
        for file in ["ca.pem", "ca.key"] {
            try FileManager.default.removeItem(atPath: daemon.root + "/ca/" + file)
            try FileManager.default.copyItem(atPath: other.path("dev/ca/" + file), toPath: daemon.root + "/ca/" + file)
        }
        let second = try ProfileFixtures.der(ofPEM: daemon.root + "/ca/ca.pem")
        #expect(second != first)
        daemon.signal(SIGHUP)
        try daemon.waitFor("the reload", timeout: 10) { daemon.logText.contains("configuration reloaded") }
        for outbox in outboxes {
            try daemon.waitFor("\(outbox)/.ca.cer to hold the new CA", timeout: 5) {
                FileManager.default.contents(atPath: outbox + "/.ca.cer").map { [UInt8]($0) } == second
            }
        }
        try Data(SampleRequests.p256).write(to: URL(fileURLWithPath: printers.inbox + "/after.csr"))
        try daemon.waitFor("after.pem", timeout: 20) { FileManager.default.fileExists(atPath: printers.outbox + "/after.pem") }
        let verify = try ExternalTool.run("openssl", ["verify", "-CAfile", daemon.root + "/ca/ca.pem", printers.outbox + "/after.pem"])
        #expect(verify.succeeded, "\(verify.output)")
        #expect(try daemon.stop() == 0)
    }

    /// A profile's folder that is another folder under a second name (here a symbolic link
    /// to the default outbox) is refused by `run` and `check-config`: certificates would
    /// come back in as uploads.
    @Test(.timeLimit(.minutes(10)))
    func oneFolderUnderTwoNamesIsRefused() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon)
        let inbox = ProfileFixtures.folder(daemon, "printers", "inbox")
        try FileManager.default.removeItem(atPath: inbox)
        #expect(symlink(daemon.outbox, inbox) == 0)
        let check = try DropCABinary.run(["check-config", "--config", daemon.config])
        #expect(check.status == 2 && check.stderr.contains("profiles.printers.spool.inbox = ") && check.stderr.contains("is the same folder as spool.outbox = "), "\(check.output)")
        try daemon.start(waitUntilReady: false)
        #expect(try daemon.waitForExit(timeout: 20) == 2)
        #expect(daemon.logText.contains("is the same folder as spool.outbox"), "\(daemon.logText.suffix(1000))")
    }

    @Test(.timeLimit(.minutes(10)))
    func losingANamedProfilesInboxIsFatal() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon)
        try daemon.start()
        let inbox = ProfileFixtures.folder(daemon, "printers", "inbox")
        try FileManager.default.removeItem(atPath: inbox)
        #expect(try daemon.waitForExit(timeout: 10) == 1)
        #expect(daemon.logText.contains("/printers/inbox is gone (the inbox folder was deleted)"), "\(daemon.logText.suffix(1000))")
    }

    /// Rejections whose rows were lost in two profiles, the named profile's an hour older
    /// (a ledger that could not be written for that long, then a kill): the start records
    /// every one from its reason file. The newest recorded rejection is read once, before
    /// any profile: the default profile's rows, restored first, are new, and must not hide
    /// the older reasons of the profile reconciled after it.
    @Test(.timeLimit(.minutes(10)))
    func startUpRecordsEveryProfilesLostRejectionsWhateverTheirAge() throws {
        let daemon = try DaemonHarness()
        try ProfileFixtures.addProfile("printers", to: daemon)
        try daemon.start()
        #expect(try daemon.stop() == 0)
        let now = Date()
        let hourAgo = now.addingTimeInterval(-3600)
        for (folder, stem, time) in [(daemon.failed, "recent", now), (ProfileFixtures.folder(daemon, "printers", "failed"), "older", hourAgo)] {
            let stamp = ISO8601DateFormatter().string(from: time)
            try Data(SampleRequests.rsa1024).write(to: URL(fileURLWithPath: folder + "/\(stem).csr"))
            let reason = folder + "/\(stem).csr.reason"
            try "RSA key of 1024 bits is below policy.min_rsa_bits = 2048\ninput: \(stem).csr\ncode: weakKey\nkept as: failed/\(stem).csr\nrejected at: \(stamp)\n"
                .write(toFile: reason, atomically: true, encoding: .utf8)
            for path in [reason, folder + "/\(stem).csr"] {
                try FileManager.default.setAttributes([.modificationDate: time], ofItemAtPath: path)
            }
        }
        try daemon.start()
        try daemon.waitFor("both reconciliation lines", timeout: 10) {
            daemon.logText.components(separatedBy: "reconciled at start: 1 rejections recorded").count - 1 == 2
        }
        #expect(try daemon.stop() == 0)
        #expect(try Self.sqlite(daemon, "SELECT profile, source_file FROM rejection ORDER BY source_file") == ["printers|older.csr", "default|recent.csr"],
                "\(daemon.logText)")
    }

    /// One profile's outbox read-only at start (a filesystem remounted after an I/O error),
    /// holding a temporary a stop could not remove and a certificate recorded but not yet
    /// published: the daemon starts anyway, the other profiles' recovery and issuance go on,
    /// and the read-only one is said once; when it is writable again, the next start
    /// publishes its certificate, the same one.
    @Test(.enabled(if: DaemonFaultTests.isRoot, "mounting a tmpfs needs root"), .timeLimit(.minutes(10)))
    func oneProfilesReadOnlyOutboxStopsNeitherTheStartNorTheOthersRecovery() throws {
        let daemon = try DaemonHarness(settings: ["settle_seconds": "0"])
        try ProfileFixtures.addProfile("alpha", to: daemon)
        try ProfileFixtures.addProfile("beta", to: daemon)
        let alpha = ProfileFixtures.folder(daemon, "alpha", "outbox"), beta = ProfileFixtures.folder(daemon, "beta", "outbox")
        try DaemonFaultTests.mountTmpfs(alpha, size: "1m")
        defer { DaemonFaultTests.unmount(alpha) }
        try daemon.start()
        for profile in ["alpha", "beta"] {
            try Data(ProfileFixtures.request(subject: "/CN=\(profile).example")).write(
                to: URL(fileURLWithPath: ProfileFixtures.folder(daemon, profile, "inbox") + "/\(profile).csr"))
        }
        try daemon.waitFor("both certificates", timeout: 20) {
            FileManager.default.fileExists(atPath: alpha + "/alpha.cer") && FileManager.default.fileExists(atPath: beta + "/beta.cer")
        }
        #expect(try daemon.stop() == 0)
        let serials = try Self.sqlite(daemon, "SELECT source_file, serial FROM issuance ORDER BY source_file")
        // As after a crash before the marks, and a stop that could not clean alpha's outbox.
        let unmark = try ExternalTool.run("sqlite3", [daemon.root + "/state/ledger.sqlite", "UPDATE issuance SET published_at = NULL"])
        try #require(unmark.succeeded, "\(unmark.output)")
        for outbox in [alpha, beta] { try FileManager.default.removeItem(atPath: outbox + "/\(outbox == alpha ? "alpha" : "beta").cer") }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: alpha + "/.dropca-00000001.tmp"))
        let readOnly = try ExternalTool.run("mount", ["-o", "remount,ro", alpha])
        try #require(readOnly.succeeded, "\(readOnly.output)")

        try daemon.start()
        try daemon.waitFor("beta's certificate published again", timeout: 20) { FileManager.default.fileExists(atPath: beta + "/beta.cer") }
        try daemon.drop("default.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["default"])
        #expect(daemon.process?.isRunning == true)
        #expect(try daemon.stop() == 0)
        let log = daemon.logText
        #expect(log.contains("alpha/outbox of profile alpha: SpoolError.cannotRemove: cannot remove stale temporary"), "\(log.suffix(3000))")
        #expect(log.contains("cannot recover 1 unpublished certificates of profile alpha"), "\(log.suffix(3000))")
        #expect(try Self.sqlite(daemon, "SELECT source_file FROM issuance WHERE published_at IS NULL") == ["alpha.csr"])

        let writable = try ExternalTool.run("mount", ["-o", "remount,rw", alpha])
        try #require(writable.succeeded, "\(writable.output)")
        try daemon.start()
        try daemon.waitFor("alpha's certificate published again", timeout: 20) { FileManager.default.fileExists(atPath: alpha + "/alpha.cer") }
        #expect(try daemon.stop() == 0)
        #expect(try Self.sqlite(daemon, "SELECT count(*) FROM issuance WHERE published_at IS NULL") == ["0"])
        #expect(try Self.sqlite(daemon, "SELECT source_file, serial FROM issuance WHERE source_file != 'default.csr' ORDER BY source_file") == serials,
                "nothing signed anew")
        #expect(!FileManager.default.fileExists(atPath: alpha + "/.dropca-00000001.tmp"))
    }
}
