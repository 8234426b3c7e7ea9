import Foundation
import TestSupport
import Testing

extension InstalledLayout {
    /// The second profile the shipped sysusers, tmpfiles and sshd files prepare.
    static let printersSpool = "/var/spool/dropca-profiles/printers"
    static let printersInbox = printersSpool + "/inbox"
    static let printersOutbox = printersSpool + "/outbox"
    static let printersFailed = printersSpool + "/failed"
    static let printerApplianceName = "dropca-e2e-printer"

    /// An appliance account in dropca-printers only (made once, like the other one).
    static func addPrinterAppliance() throws {
        let arguments = getpwnam(printerApplianceName) == nil
            ? ["useradd", "-M", "-s", "/usr/sbin/nologin", "-G", "dropca-printers", "-p", "*", printerApplianceName]
            : ["usermod", "-G", "dropca-printers", "-p", "*", printerApplianceName]
        let result = try ExternalTool.run(arguments[0], Array(arguments.dropFirst()))
        guard result.succeeded else { throw HarnessError("\(arguments.joined(separator: " ")): \(result.output)") }
    }

    static func removePrintersFiles(startingWith prefix: String) {
        for folder in [printersInbox, printersOutbox, printersFailed] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(prefix) {
                try? FileManager.default.removeItem(atPath: folder + "/" + name)
            }
        }
    }
}

extension SFTPEndToEndTests {
    /// The shipped example's commented `[profiles.printers]`, uncommented, with every
    /// output format.
    static func printersProfile() throws -> String {
        let shipped = try ShippedFiles.text(ShippedFiles.exampleConfiguration)
        guard let start = shipped.range(of: "# [profiles.printers]\n") else { throw HarnessError("no [profiles.printers] in the example") }
        let lines = shipped[start.lowerBound...].split(separator: "\n").map { $0.hasPrefix("# ") ? String($0.dropFirst(2)) : String($0) }
        return "\n" + lines.joined(separator: "\n")
            .replacingOccurrences(of: "outputs = [\"der\", \"pem-chain\"]", with: "outputs = [\"der\", \"pem\", \"pem-chain\", \"p7b\"]") + "\n"
    }

    /// `command` as `user` (its own groups, no capability), outside any chroot: what the
    /// file permissions alone let that appliance's account do.
    static func asUser(_ user: String, _ command: [String]) throws -> ToolResult {
        guard let entry = getpwnam(user)?.pointee else { throw HarnessError("no user \(user)") }
        return try ExternalTool.run("setpriv", ["--reuid=\(entry.pw_uid)", "--regid=\(entry.pw_gid)", "--init-groups", "--no-new-privs"] + command)
    }

    /// Two appliances in two groups, each chrooted by the shipped sshd drop-in into its
    /// own profile's folders, served by one dropca: each gets its own profile's policy and
    /// formats, neither can list, read or write the other's folders (over SFTP or with its
    /// account's permissions), and every file fetched verifies with openssl.
    @Test func twoAppliancesInTwoProfilesEachGetTheirOwnAndNothingOfTheOther() throws {
        let layout = try InstalledLayout.apply()
        try InstalledLayout.addPrinterAppliance()
        let prefix = Self.uniquePrefix()
        defer {
            InstalledLayout.removeSpoolFiles(startingWith: prefix)
            InstalledLayout.removePrintersFiles(startingWith: prefix)
        }
        let office = Self.appliance, printer = InstalledLayout.printerApplianceName
        let server = try SFTPTestServer(appliances: [office, printer])
        defer { server.stop() }
        let daemon = try ServiceUserDaemon(layout: layout, appending: try Self.printersProfile())
        let work = try TemporaryDirectory(prefix: "dropca-appliances")
        try daemon.start()

        let desk = prefix + "desk", laser = prefix + "laser", stray = prefix + "stray"
        try Self.makeRequest(in: work, stem: desk, subject: "/CN=\(desk).appliance.example")
        try Self.makeRequest(in: work, stem: laser, subject: "/CN=\(laser).printers.example.com")
        try Self.makeRequest(in: work, stem: stray, subject: "/CN=\(stray).appliance.example")
        let officeUpload = try server.sftp(["put -p \(work.path(desk + ".csr")) /inbox/\(desk).csr"], user: office)
        #expect(officeUpload.succeeded, "\(officeUpload.output)\n\(server.log.suffix(2000))")
        let printerUpload = try server.sftp([laser, stray].map { "put -p \(work.path($0 + ".csr")) /inbox/\($0).csr" }, user: printer)
        #expect(printerUpload.succeeded, "\(printerUpload.output)\n\(server.log.suffix(2000))")
        try BoundedWait.until("both profiles' outcomes", timeout: 30, details: { daemon.log }) {
            FileManager.default.fileExists(atPath: InstalledLayout.outbox + "/\(desk).cer")
                && FileManager.default.fileExists(atPath: InstalledLayout.printersOutbox + "/\(laser).p7b")
                && FileManager.default.fileExists(atPath: InstalledLayout.printersFailed + "/\(stray).csr.reason")
        }

        // Each fetches its own, from its own chroot's /outbox and /failed.
        let fetched = work.path("office"), printed = work.path("printer")
        for folder in [fetched, printed] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let officeFetch = try server.sftp(["get /outbox/\(desk).cer \(fetched)/", "get /outbox/.ca.cer \(fetched)/"], user: office)
        #expect(officeFetch.succeeded, "\(officeFetch.output)")
        let printerFetch = try server.sftp(
            [".cer", ".pem", ".chain.pem", ".p7b"].map { "get /outbox/\(laser)\($0) \(printed)/" }
                + ["get /failed/\(stray).csr.reason \(printed)/", "get /outbox/.ca.cer \(printed)/"], user: printer)
        #expect(printerFetch.succeeded, "\(printerFetch.output)")

        let caSubject = try ExternalTool.run("openssl", ["x509", "-in", daemon.caCertificate, "-noout", "-subject"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ProfileFixtures.outputProblems(folder: fetched, stem: desk, outputs: ["der"], anchor: daemon.caCertificate,
                                                   untrusted: nil, chain: []) == [])
        let problems = try ProfileFixtures.outputProblems(folder: printed, stem: laser, outputs: DaemonProfileTests.allOutputs,
                                                          anchor: daemon.caCertificate, untrusted: nil, chain: [caSubject])
        #expect(problems == [], "\(problems)")
        #expect(try DaemonProfileTests.validityDays(fetched + "/\(desk).cer") == 365)
        #expect(try DaemonProfileTests.validityDays(printed + "/\(laser).cer") == 90, "the printers' validity_days")
        let caDER = try ProfileFixtures.der(ofPEM: daemon.caCertificate)
        for folder in [fetched, printed] {
            #expect(FileManager.default.contents(atPath: folder + "/.ca.cer").map { [UInt8]($0) } == caDER, "\(folder)/.ca.cer")
        }
        let reason = try String(contentsOfFile: printed + "/\(stray).csr.reason", encoding: .utf8)
        #expect(reason.hasPrefix("subject CN \"\(stray).appliance.example\" (a DNS name) is outside profile printers' names.dns"), "\(reason)")
        #expect(FileManager.default.fileExists(atPath: InstalledLayout.printersFailed + "/\(stray).csr"))

        // Over SFTP, each sees its own three folders and nothing of the other's.
        for (user, mine) in [(office, [desk + ".cer"]), (printer, [laser + ".cer", laser + ".chain.pem", laser + ".p7b", laser + ".pem"])] {
            let root = try server.sftp(["ls -1 /"], user: user)
            #expect(root.succeeded && root.stdout.split(separator: "\n").filter { !$0.hasPrefix("sftp>") }.map { $0.trimmingCharacters(in: .whitespaces) }
                .sorted() == ["/failed", "/inbox", "/outbox"], "\(user): \(root.output)")
            let listing = try server.sftp(["ls -1 /outbox"], user: user)
            let ours = listing.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.contains(prefix) }.map { String($0.split(separator: "/").last ?? "") }.sorted()
            #expect(ours == mine.sorted(), "\(user): \(listing.output)")
        }
        let elsewhere: [(String, [String])] = [
            (office, ["ls /dropca-profiles", "ls \(InstalledLayout.printersOutbox)", "get \(InstalledLayout.printersOutbox)/\(laser).cer \(fetched)/",
                      "put \(work.path(desk + ".csr")) \(InstalledLayout.printersInbox)/\(prefix)sneak.csr", "ls ../printers"]),
            (printer, ["ls \(InstalledLayout.outbox)", "get \(InstalledLayout.outbox)/\(desk).cer \(printed)/",
                       "put \(work.path(laser + ".csr")) \(InstalledLayout.inbox)/\(prefix)sneak.csr", "ls ../../dropca"]),
        ]
        for (user, commands) in elsewhere {
            for command in commands {
                let attempt = try server.sftp([command], user: user)
                #expect(!attempt.succeeded, "\(user) could \(command): \(attempt.output)")
            }
        }
        // Nor do the accounts' own permissions reach there, chroot or not.
        let denied: [(String, [String])] = [
            (office, ["ls", InstalledLayout.printersOutbox]), (office, ["ls", InstalledLayout.printersFailed]),
            (office, ["ls", InstalledLayout.printersInbox]), (office, ["touch", InstalledLayout.printersInbox + "/\(prefix)sneak.csr"]),
            (office, ["cat", InstalledLayout.printersOutbox + "/\(laser).cer"]),
            (printer, ["ls", InstalledLayout.outbox]), (printer, ["ls", InstalledLayout.failed]), (printer, ["ls", InstalledLayout.inbox]),
            (printer, ["touch", InstalledLayout.inbox + "/\(prefix)sneak.csr"]), (printer, ["cat", InstalledLayout.outbox + "/\(desk).cer"]),
        ]
        for (user, command) in denied {
            let attempt = try Self.asUser(user, command)
            #expect(!attempt.succeeded && attempt.stderr.contains("Permission denied"), "\(user): \(command.joined(separator: " ")): \(attempt.output)")
        }
        // The permissions that keep them apart are what check-config looks at: no warning.
        let check = try DropCABinary.run(["check-config", "--config", daemon.config], environment: ["CREDENTIALS_DIRECTORY": daemon.credentials])
        #expect(!check.output.contains("the uploaders of profile"), "\(check.output)")

        #expect(Self.names(in: InstalledLayout.inbox, startingWith: prefix) == [])
        #expect(Self.names(in: InstalledLayout.printersInbox, startingWith: prefix) == [])
        #expect(try daemon.stop() == 0, "\(daemon.log)")
        let rows = try ExternalTool.run("sqlite3", ["-readonly", daemon.directory.path("state/ledger.sqlite"),
                                                    "SELECT profile || ' ' || source_file FROM issuance UNION ALL SELECT profile || ' ' || source_file FROM rejection ORDER BY 1"])
        #expect(rows.stdout.split(separator: "\n").map(String.init) == ["default \(desk).csr", "printers \(laser).csr", "printers \(stray).csr"], "\(rows.output)")
    }
}
