import Foundation
import TestSupport

/// The exactly-once account of a daemon's inputs, held against the outbox, `failed/` and
/// one or more ledger files (the live one, and those a lost ledger left: a rescued copy, a
/// file kept aside): every input is either one certificate in the outbox with one published
/// row whose serial is that certificate's, or one rejection in `failed/` with its reason and
/// one rejection row; nothing is left in the inbox, and the outbox holds nothing else.
///
/// Rows are read from each file as an operator would: certificates with
/// `dropca list --ledger FILE --json`, rejections with the `sqlite3` shell (read-only).
/// The same rejection (input, time, code) in two files counts once: a new ledger records
/// the rejections it finds in `failed/` from their reason files at its first start, so
/// those in a rescued or old file appear in it again.
struct LedgerReconciliation {
    struct Row {
        let serial: String
        let published: Bool
    }

    /// Certificate rows by input name, across the files.
    private(set) var certificates: [String: [Row]] = [:]
    /// Rejection rows by input name, across the files, each rejection once.
    private(set) var rejections: [String: Int] = [:]

    init(ledgers: [String]) throws {
        var seenRejections: Set<String> = []
        for file in ledgers {
            let listed = try DropCABinary.run(["list", "--json", "--ledger", file])
            guard listed.succeeded,
                  let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] else {
                throw HarnessError("dropca list --ledger \(file): \(listed.output)")
            }
            for row in rows {
                guard let source = row["source_file"] as? String, let serial = row["serial"] as? String else { continue }
                certificates[source, default: []].append(Row(serial: Self.significant(serial), published: !(row["published_at"] is NSNull)))
            }
            let rejected = try ExternalTool.run("sqlite3", ["-readonly", "-separator", "\t", file,
                                                           "SELECT source_file, rejected_at, code FROM rejection"])
            guard rejected.succeeded else { throw HarnessError("sqlite3 \(file): \(rejected.output)") }
            for line in rejected.stdout.split(separator: "\n") where seenRejections.insert(String(line)).inserted {
                rejections[String(line.split(separator: "\t").first ?? ""), default: 0] += 1
            }
        }
    }

    /// Serials without leading zeros: the ledger keeps minimal bytes, DER may need a zero.
    static func significant(_ hex: String) -> String {
        let trimmed = hex.lowercased().drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// The serial of a DER certificate, as lowercase hex without leading zeros.
    static func serial(ofCertificate der: [UInt8]) throws -> String {
        let encoded = try CertificateFields(der: der).serial
        // INTEGER, short-form length (serials are at most 20 bytes), then the value.
        guard encoded.count > 2, encoded[0] == 0x02, Int(encoded[1]) == encoded.count - 2 else {
            throw HarnessError("unexpected serial encoding \(encoded)")
        }
        return significant(encoded.dropFirst(2).map { String(format: "%02x", $0) }.joined())
    }

    /// What breaks the account for `inputs` (all of them expected to be finished), with
    /// `rejected` the ones that must have been refused; empty when it holds.
    /// `lostWithTheLedger`: certificates in the outbox whose records went with a ledger
    /// file that was destroyed (truncated), so that no file can account for them.
    func problems(_ daemon: DaemonHarness, inputs: [String], rejected: Set<String> = [],
                  lostWithTheLedger: Set<String> = []) throws -> [String] {
        var problems: [String] = []
        let left = daemon.names(in: daemon.inbox)
        if !left.isEmpty { problems.append("\(left.count) inputs left in the inbox: \(left.prefix(5))") }
        var expectedCertificates: Set<String> = []
        for input in inputs {
            let stem = input.hasSuffix(".csr") ? String(input.dropLast(4)) : input
            let published = (certificates[input] ?? []).filter(\.published)
            let rejectionRows = rejections[input] ?? 0
            if rejected.contains(input) {
                let reason = try? String(contentsOfFile: daemon.failed + "/" + input + ".reason", encoding: .utf8)
                if !FileManager.default.fileExists(atPath: daemon.failed + "/" + input) { problems.append("\(input): not in failed/") }
                if FileManager.default.fileExists(atPath: daemon.failed + "/" + input + ".1") { problems.append("\(input): in failed/ twice") }
                if (reason?.split(separator: "\n").first ?? "").isEmpty { problems.append("\(input): no reason file") }
                if rejectionRows != 1 { problems.append("\(input): \(rejectionRows) rejection rows") }
                if !published.isEmpty { problems.append("\(input): rejected, yet \(published.count) published rows") }
                if daemon.certificate(stem) != nil { problems.append("\(input): rejected, yet \(stem).cer is in the outbox") }
                continue
            }
            expectedCertificates.insert(stem + ".cer")
            guard let der = daemon.certificate(stem) else {
                problems.append("\(input): no \(stem).cer in the outbox")
                continue
            }
            if published.count != 1 {
                problems.append("\(input): \(published.count) published rows")
                continue
            }
            let serial = try Self.serial(ofCertificate: der)
            if published[0].serial != serial { problems.append("\(input): the outbox has serial \(serial), the ledger \(published[0].serial)") }
            if rejectionRows != 0 { problems.append("\(input): issued, yet \(rejectionRows) rejection rows") }
        }
        let extra = Set(daemon.names(in: daemon.outbox)).subtracting(expectedCertificates).subtracting(lostWithTheLedger)
        if !extra.isEmpty { problems.append("\(extra.count) certificates in the outbox for no input: \(extra.sorted().prefix(5))") }
        return problems
    }
}
