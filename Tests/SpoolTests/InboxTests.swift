import Foundation
import Glibc
import Testing

@testable import Spool

@Suite("Inbox intake")
struct InboxTests {
    let root: TemporaryFolder
    let inboxPath: String

    init() throws {
        root = try TemporaryFolder("inbox")
        inboxPath = try root.subfolder("inbox")
    }

    /// Both the openat2 path and the openat fallback must behave the same.
    static let resolutions = [true, false]

    func makeInbox(maxBytes: Int = 65536, openat2: Bool = true) throws -> Inbox {
        try Inbox(path: inboxPath, maxBytes: maxBytes, limitName: "policy.max_csr_bytes", allowOpenat2: openat2)
    }

    @Test func openingAMissingInboxNamesThePathAndTheReason() {
        let missing = root.path + "/nope"
        #expect {
            try Inbox(path: missing)
        } throws: { error in
            guard let error = error as? SpoolError else { return false }
            return error.code == .cannotOpenFolder && error.message.contains(missing)
                && error.message.contains("ENOENT")
        }
    }

    @Test func openat2IsUsedWhereTheKernelHasIt() throws {
        // Linux 5.6+ has openat2; this machine's kernel is newer. If the probe failed
        // here, every open would silently take the fallback path.
        #expect(try makeInbox().usesOpenat2)
        #expect(try !makeInbox(openat2: false).usesOpenat2)
    }

    @Test("a regular file is read whole", arguments: resolutions)
    func aRegularFileIsReadWhole(openat2: Bool) throws {
        let content = Array("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n".utf8)
        try writeFile(inboxPath + "/router.csr", content)
        let inbox = try makeInbox(openat2: openat2)
        guard case .contents(let bytes, let identity) = inbox.take("router.csr") else {
            Issue.record("expected contents, got \(inbox.take("router.csr"))")
            return
        }
        #expect(bytes == content)
        #expect(identity.size == Int64(content.count))
        #expect(identity.inode == UInt64(lstatPath(inboxPath + "/router.csr")?.st_ino ?? 0))
    }

    @Test func aFileOfExactlyTheLimitIsAccepted() throws {
        try writeFile(inboxPath + "/x.der", [UInt8](repeating: 7, count: 100))
        let intake = try makeInbox(maxBytes: 100).take("x.der")
        guard case .contents(let bytes, _) = intake else {
            Issue.record("expected contents, got \(intake)")
            return
        }
        #expect(bytes.count == 100)
    }

    @Test func aMissingEntryHasVanished() throws {
        #expect(try makeInbox().take("gone.csr") == .vanished)
    }

    @Test("a symlink is refused and its target never read", arguments: resolutions)
    func aSymlinkIsRefusedAndItsTargetNeverRead(openat2: Bool) throws {
        let secret = Array("TOP-SECRET-KEY-MATERIAL-0123456789".utf8)
        let secretPath = root.path + "/secret.key"
        try writeFile(secretPath, secret)
        #expect(symlink(secretPath, inboxPath + "/evil.csr") == 0)

        let inbox = try makeInbox(openat2: openat2)
        let intake = inbox.take("evil.csr")
        #expect(intake == .refused(.symlink, "is a symbolic link; dropca never follows links in the inbox"))

        // Filing the rejection moves the link itself; no file anywhere holds the secret.
        let failedPath = try root.subfolder("failed")
        let failed = try FailedFolder(path: failedPath)
        let outcome = try failed.reject("evil.csr", from: inbox, reason: "evil.csr is a symbolic link")
        #expect(outcome == .moved(entry: "evil.csr", reason: "evil.csr.reason"))
        #expect((lstatPath(failedPath + "/evil.csr")?.st_mode ?? 0) & S_IFMT == S_IFLNK)
        for bytes in try regularFileContents(under: inboxPath) + regularFileContents(under: failedPath) {
            #expect(!bytes.contains(subsequence: secret))
        }
        #expect(try readFile(secretPath) == secret)
    }

    @Test("a symlink to a folder outside is refused", arguments: resolutions)
    func aSymlinkToAFolderIsRefused(openat2: Bool) throws {
        #expect(symlink("/", inboxPath + "/root") == 0)
        let intake = try makeInbox(openat2: openat2).take("root")
        #expect(intake == .refused(.symlink, "is a symbolic link; dropca never follows links in the inbox"))
    }

    @Test("a hard link is refused before a byte is read", arguments: resolutions)
    func aHardLinkIsRefusedBeforeReading(openat2: Bool) throws {
        let secret = Array("hard-linked secret".utf8)
        let outside = root.path + "/outside.txt"
        try writeFile(outside, secret)
        #expect(link(outside, inboxPath + "/linked.csr") == 0)
        let intake = try makeInbox(openat2: openat2).take("linked.csr")
        #expect(
            intake
                == .refused(
                    .multipleLinks,
                    "has 2 hard links; refused before reading so a link to a file outside the inbox cannot leak it"))
    }

    @Test("a FIFO is refused at once, never opened", arguments: resolutions)
    func aFIFOIsRefusedWithoutBlocking(openat2: Bool) throws {
        let fifo = inboxPath + "/pipe.csr"
        #expect(mkfifo(fifo, 0o644) == 0)
        // If take() ever blocked on the FIFO, this writer would unblock it after 3 s and
        // the elapsed-time check below would fail instead of the test hanging.
        let rescue = Thread {
            Thread.sleep(forTimeInterval: 3)
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        rescue.start()
        let inbox = try makeInbox(openat2: openat2)
        let start = ContinuousClock.now
        let intake = inbox.take("pipe.csr")
        #expect(ContinuousClock.now - start < .seconds(1))
        guard case .refused(.notRegularFile, let reason) = intake else {
            Issue.record("expected notRegularFile, got \(intake)")
            return
        }
        #expect(reason.contains("FIFO"))
    }

    @Test func aDirectoryIsRefused() throws {
        _ = try root.subfolder("inbox/sub.csr")
        let intake = try makeInbox().take("sub.csr")
        #expect(intake == .refused(.notRegularFile, "is a directory; only regular files are accepted and this one was not opened"))
    }

    @Test func aSocketIsRefused() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array((inboxPath + "/sock.csr").utf8)
        try #require(path.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        let intake = try makeInbox().take("sock.csr")
        guard case .refused(.notRegularFile, let reason) = intake else {
            Issue.record("expected notRegularFile, got \(intake)")
            return
        }
        #expect(reason.contains("socket"))
    }

    @Test("a 20 MB file is refused from fstat", arguments: resolutions)
    func aLargeFileIsRefused(openat2: Bool) throws {
        let big = inboxPath + "/big.csr"
        let fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        #expect(ftruncate(fd, 20 * 1024 * 1024) == 0)
        close(fd)
        let intake = try makeInbox(openat2: openat2).take("big.csr")
        #expect(intake == .refused(.tooLarge, "is 20971520 bytes, over policy.max_csr_bytes = 65536"))
    }

    @Test func boundedReadsNeverAskForMoreThanTheLimit() throws {
        // A pipe holds more than the limit; what is left in it afterwards proves how much
        // was consumed.
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let payload = [UInt8](repeating: 0x41, count: 1000)
        #expect(write(ends[1], payload, payload.count) == payload.count)
        close(ends[1])

        guard case .success(let bytes) = SystemCall.readAtMost(ends[0], limit: 101) else {
            Issue.record("read failed")
            return
        }
        #expect(bytes.count == 101)
        var rest = [UInt8](repeating: 0, count: 2000)
        #expect(read(ends[0], &rest, rest.count) == 899)
    }

    @Test("unsafe names are listed byte for byte and classified unsafe",
          arguments: ["my request.csr", "a;b.csr", "evil\nname.csr"])
    func unsafeNamesAreListedExactlyAndClassifiedUnsafe(name: String) throws {
        try writeFile(inboxPath + "/" + name, "data")
        let spoolName = SpoolName(name)
        guard case .unsafe = spoolName.classification else {
            Issue.record("\(spoolName) should be unsafe")
            return
        }
        let listed = try makeInbox().listEntries().map(\.name)
        #expect(listed.contains(spoolName))
    }

    @Test func pathsWithSlashesAreNeverOpened() throws {
        try writeFile(root.path + "/outside.csr", "outside")
        let inbox = try makeInbox()
        guard case .refused(.unreadable(EINVAL), _) = inbox.take("../outside.csr") else {
            Issue.record("a name with a slash was not refused")
            return
        }
    }

    @Test func listingReportsNamesAndTypes() throws {
        try writeFile(inboxPath + "/a.csr", "a")
        #expect(symlink("a.csr", inboxPath + "/b.csr") == 0)
        _ = try root.subfolder("inbox/c")
        #expect(mkfifo(inboxPath + "/d", 0o600) == 0)
        let rawName: [UInt8] = [0x65, 0xFF, 0x0A]
        let fd = open(pathBytes(inboxPath, rawName), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        close(fd)

        let entries = try makeInbox().listEntries().sorted { $0.name < $1.name }
        #expect(
            entries == [
                FolderEntry(name: "a.csr", kind: .regularFile),
                FolderEntry(name: "b.csr", kind: .symbolicLink),
                FolderEntry(name: "c", kind: .directory),
                FolderEntry(name: "d", kind: .fifo),
                FolderEntry(name: SpoolName(bytes: rawName), kind: .regularFile),
            ])
    }

    @Test func statusDescribesTheEntryItselfNotALinkTarget() throws {
        try writeFile(inboxPath + "/a.csr", "12345")
        #expect(symlink("a.csr", inboxPath + "/b.csr") == 0)
        let inbox = try makeInbox()
        #expect(inbox.status(of: "a.csr")?.identity.size == 5)
        #expect(inbox.status(of: "a.csr")?.kind == .regularFile)
        #expect(inbox.status(of: "b.csr")?.kind == .symbolicLink)
        #expect(inbox.status(of: "missing") == nil)
        let scanned = try inbox.scan().sorted { $0.name < $1.name }.map { $0.status.kind }
        #expect(scanned == [.regularFile, .symbolicLink])
    }

    @Test func removeDeletesOnlyTheFileThatWasRead() throws {
        let path = inboxPath + "/r.csr"
        try writeFile(path, "first")
        let inbox = try makeInbox()
        guard case .contents(_, let identity) = inbox.take("r.csr") else {
            Issue.record("expected contents")
            return
        }
        // The client uploads the same name again (a new file renamed over it).
        try writeFile(root.path + "/new", "second upload")
        #expect(rename(root.path + "/new", path) == 0)
        #expect(try inbox.remove("r.csr", ifUnchangedFrom: identity) == .replaced)
        #expect(try readText(path) == "second upload")

        guard case .contents(_, let second) = inbox.take("r.csr") else {
            Issue.record("expected contents")
            return
        }
        #expect(try inbox.remove("r.csr", ifUnchangedFrom: second) == .removed)
        #expect(lstatPath(path) == nil)
        #expect(try inbox.remove("r.csr") == .vanished)
        try inbox.synchronize()
    }

    @Test func removingALinkRemovesTheLinkNotItsTarget() throws {
        let target = root.path + "/target"
        try writeFile(target, "keep me")
        #expect(symlink(target, inboxPath + "/l.csr") == 0)
        #expect(try makeInbox().remove("l.csr") == .removed)
        #expect(try readText(target) == "keep me")
    }
}
