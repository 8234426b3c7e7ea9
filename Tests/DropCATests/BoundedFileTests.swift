import Foundation
import Testing
import TestSupport

@testable import DropCA

/// The one reader for files an operator names: whole files up to a limit, and a one-line
/// reason naming the file for everything else.
@Suite struct BoundedFileTests {
    @Test func aFileUpToTheLimitIsReadWhole() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("exact")
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try BoundedFile.read(path, limit: bytes.count, what: "test file") == bytes)
    }

    @Test func aLargerFileIsRefusedUnreadWithTheLimitNamed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("large")
        try Data(count: 1001).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try BoundedFile.read(path, limit: 1000, what: "request", limitName: "policy.max_csr_bytes = 1000")
        } throws: { error in
            (error as? BoundedFile.Failure)?.description == "\(path): the request is 1001 bytes, over policy.max_csr_bytes = 1000"
        }
    }

    /// A pipe has no size for `stat` to tell; the read itself stops one byte past the limit.
    @Test func aStreamLongerThanTheLimitIsCutOffAndRefused() throws {
        let path = "/dev/zero"
        #expect {
            _ = try BoundedFile.read(path, limit: 4096, what: "CA private key (ca.key)")
        } throws: { error in
            let description = (error as? BoundedFile.Failure)?.description ?? ""
            return description.hasPrefix("/dev/zero: the CA private key (ca.key) has more than 4096 bytes")
        }
    }

    @Test func aMissingFileAndAFolderAreNamed() throws {
        let directory = try TemporaryDirectory()
        #expect {
            _ = try BoundedFile.read(directory.path("missing.pem"), limit: 10, what: "CA certificate (ca.certificate)")
        } throws: { error in
            (error as? BoundedFile.Failure)?.description == "\(directory.path("missing.pem")): the CA certificate (ca.certificate) does not exist"
        }
        #expect {
            _ = try BoundedFile.read(directory.url.path, limit: 10, what: "configuration file")
        } throws: { error in
            (error as? BoundedFile.Failure)?.reason == "the configuration file is a folder, not a file"
        }
    }

    /// The CA files go through the same reader: a key file far too large is refused with
    /// its path, before OpenSSL sees a byte of it.
    @Test func anOversizedCAKeyIsRefusedByTheAuthorityLoader() throws {
        let directory = try TemporaryDirectory()
        let made = try DropCABinary.run(["init", "--dir", directory.path("dev")])
        try #require(made.succeeded, "\(made.output)")
        let keyPath = directory.path("dev") + "/ca/ca.key"
        try Data(count: AuthorityLoader.maximumFileBytes + 1).write(to: URL(fileURLWithPath: keyPath))
        let invocation = Invocation(config: directory.path("dev") + "/dropca.toml", environment: [:])
        #expect {
            _ = try invocation.loadAuthority()
        } throws: { error in
            let text = (error as? StartupError)?.description ?? ""
            return text.contains("ca.key: the CA private key (ca.key) is \(AuthorityLoader.maximumFileBytes + 1) bytes")
        }
    }
}
