import Foundation
import Issuance
import Spool

/// `dropca issue`: a profile's policy applied to files an operator names, for requests
/// that arrive by mail or ticket rather than through an inbox; each certificate is written
/// in the profile's outputs, named as in its outbox.
public struct OneShotIssuance {
    /// Where certificates go.
    public enum Destination: Sendable, Equatable {
        /// `-o FILE` (one request, a profile with one output only); `-o -` writes it to
        /// standard output.
        case file(String)
        /// `--out-dir DIR`: `DIR/STEM.cer` and the profile's other outputs, named as in the outbox.
        case directory(String)
    }

    public enum Outcome: Sendable, Equatable {
        /// `output`: the file written, or the files, separated by ", ".
        case issued(input: String, output: String, serialHex: String)
        case rejected(input: String, reason: String)
    }

    let issuer: Issuer
    let destination: Destination
    let outputs: [OutputFormat]
    let encoder: OutputEncoder

    init(issuer: Issuer, destination: Destination, outputs: [OutputFormat], encoder: OutputEncoder) {
        self.issuer = issuer
        self.destination = destination
        self.outputs = outputs
        self.encoder = encoder
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
            let encoded: [(format: OutputFormat, bytes: [UInt8])]
            do {
                encoded = try encoder.encode(certificate.der, as: outputs)
            } catch {
                return .rejected(input: path, reason: "issued serial \(certificate.serialHex) but could not encode it: \(error)")
            }
            var written: [String] = []
            for (format, bytes) in encoded {
                let output = outputPath(for: path, format: format)
                do {
                    try write(bytes, to: output)
                } catch {
                    return .rejected(input: path, reason: "issued serial \(certificate.serialHex) but could not write \(output): \(error.localizedDescription)")
                }
                written.append(output)
            }
            return .issued(input: path, output: written.joined(separator: ", "), serialHex: certificate.serialHex)
        }
    }

    private func outputPath(for input: String, format: OutputFormat) -> String {
        switch destination {
        case .file(let path):
            return path
        case .directory(let directory):
            let name = SpoolName(URL(fileURLWithPath: input).lastPathComponent)
            return URL(fileURLWithPath: directory).appendingPathComponent(SpoolName.outputName(forInput: name, suffix: format.fileSuffix).description).path
        }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        _ = chmod(path, 0o644)
    }
}
