import Foundation
import Issuance
import Spool

/// `dropca issue`: the daemon's policy applied to files an operator names, for requests
/// that arrive by mail or ticket rather than through the inbox.
public struct OneShotIssuance {
    /// Where certificates go.
    public enum Destination: Sendable, Equatable {
        /// `-o FILE` (one request only); `-o -` writes the DER to standard output.
        case file(String)
        /// `--out-dir DIR`: `DIR/STEM.cer`, STEM named as in the outbox.
        case directory(String)
    }

    public enum Outcome: Sendable, Equatable {
        case issued(input: String, output: String, serialHex: String)
        case rejected(input: String, reason: String)
    }

    let issuer: Issuer
    let destination: Destination

    init(issuer: Issuer, destination: Destination) {
        self.issuer = issuer
        self.destination = destination
    }

    /// Issues for each file in turn; a rejected or unreadable file does not stop the rest.
    public func run(files: [String], now: Date = Date()) -> [Outcome] {
        files.map { issueOne($0, now: now) }
    }

    private func issueOne(_ path: String, now: Date) -> Outcome {
        // Operators name these files themselves, so any readable file is fine (symbolic
        // links followed), but never read more than the policy would accept.
        let bytes: [UInt8]
        do {
            let limit = issuer.policy.maxCSRBytes
            bytes = try BoundedFile.read(path, limit: limit, what: "request", limitName: "policy.max_csr_bytes = \(limit)")
        } catch {
            return .rejected(input: path, reason: error.reason)
        }
        switch issuer.issue(bytes, now: now) {
        case .failure(let rejection):
            return .rejected(input: path, reason: rejection.reason)
        case .success(let certificate):
            let output = outputPath(for: path)
            do {
                try write(certificate.der, to: output)
            } catch {
                return .rejected(input: path, reason: "issued serial \(certificate.serialHex) but could not write \(output): \(error.localizedDescription)")
            }
            return .issued(input: path, output: output, serialHex: certificate.serialHex)
        }
    }

    private func outputPath(for input: String) -> String {
        switch destination {
        case .file(let path):
            return path
        case .directory(let directory):
            let name = SpoolName(URL(fileURLWithPath: input).lastPathComponent)
            return URL(fileURLWithPath: directory).appendingPathComponent(SpoolName.outputStem(for: name).description + ".cer").path
        }
    }

    private func write(_ der: [UInt8], to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(der))
            return
        }
        try Data(der).write(to: URL(fileURLWithPath: path), options: .atomic)
        _ = chmod(path, 0o644)
    }
}
