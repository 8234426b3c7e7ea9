import Foundation
import Glibc
import Testing

@testable import Spool

@Suite("Failed folder")
struct FailedFolderTests {
    let root: TemporaryFolder
    let inboxPath: String
    let failedPath: String

    init() throws {
        root = try TemporaryFolder("failed")
        inboxPath = try root.subfolder("inbox")
        failedPath = try root.subfolder("failed")
    }

    func reasonLines(_ name: String) throws -> [String] {
        try readText(failedPath + "/" + name).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func aRejectedFileIsMovedWithAReasonFile() throws {
        try writeFile(inboxPath + "/bad.csr", "not a request")
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedPath)
        guard case .contents(let bytes, let identity) = inbox.take("bad.csr") else {
            Issue.record("expected contents")
            return
        }
        let outcome = try failed.reject(
            "bad.csr", from: inbox, reason: "bad.csr does not parse as a PKCS#10 request",
            details: ["sha256: 00ff"], expecting: identity, contents: bytes)
        #expect(outcome == .moved(entry: "bad.csr", reason: "bad.csr.reason"))
        #expect(try nameStrings(in: inboxPath).isEmpty)
        #expect(try readText(failedPath + "/bad.csr") == "not a request")

        let lines = try reasonLines("bad.csr.reason")
        #expect(lines.first == "bad.csr does not parse as a PKCS#10 request")
        #expect(lines.contains("input: bad.csr"))
        #expect(lines.contains("sha256: 00ff"))
        #expect(lines.contains("kept as: failed/bad.csr"))
        #expect(lines.contains { $0.hasPrefix("rejected at: ") && $0.hasSuffix("Z") })
        #expect(lines.last == "")  // ends with a newline
        #expect((lstatPath(failedPath + "/bad.csr.reason")?.st_mode ?? 0) & 0o7777 == 0o644)
        #expect(try nameStrings(in: failedPath) == ["bad.csr", "bad.csr.reason"])  // no temporaries
    }

    @Test func collisionsGetNumberedNamesAndNothingIsOverwritten() throws {
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedPath)
        try writeFile(failedPath + "/dup.csr.1.reason", "an orphan reason an operator kept")
        var outcomes: [FailedFolder.Outcome] = []
        for round in 1...3 {
            try writeFile(inboxPath + "/dup.csr", "round \(round)")
            outcomes.append(try failed.reject("dup.csr", from: inbox, reason: "round \(round) rejected"))
        }
        #expect(
            outcomes == [
                .moved(entry: "dup.csr", reason: "dup.csr.reason"),
                .moved(entry: "dup.csr.2", reason: "dup.csr.2.reason"),  // .1.reason was taken
                .moved(entry: "dup.csr.3", reason: "dup.csr.3.reason"),
            ])
        #expect(try readText(failedPath + "/dup.csr") == "round 1")
        #expect(try readText(failedPath + "/dup.csr.2") == "round 2")
        #expect(try readText(failedPath + "/dup.csr.3") == "round 3")
        #expect(try readText(failedPath + "/dup.csr.1.reason") == "an orphan reason an operator kept")
        #expect(try reasonLines("dup.csr.3.reason").first == "round 3 rejected")
    }

    @Test func anInputNamedLikeAReasonFileDoesNotReplaceIt() throws {
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedPath)
        try writeFile(inboxPath + "/a.csr", "a")
        _ = try failed.reject("a.csr", from: inbox, reason: "first")
        try writeFile(inboxPath + "/a.csr.reason", "an upload with an awkward name")
        let outcome = try failed.reject("a.csr.reason", from: inbox, reason: "second")
        // Kept under a name that is no reason file's: every *.reason in failed/ is dropca's.
        #expect(outcome == .moved(entry: "a.csr.reason.upload", reason: "a.csr.reason.upload.reason"))
        #expect(try reasonLines("a.csr.reason").first == "first")
        #expect(try readText(failedPath + "/a.csr.reason.upload") == "an upload with an awkward name")
    }

    @Test("unsafe names get a safe failed/ name and keep the original in the reason",
          arguments: [
            (Array("my request.csr".utf8), "my%20request.csr", "input: my request.csr"),
            (Array("a;rm -rf ~.csr".utf8), "a%3Brm%20-rf%20%7E.csr", "input: a;rm -rf ~.csr"),
            (Array("evil\nname.csr".utf8), "evil%0Aname.csr", "input: evil\\x0Aname.csr"),
            ([0x2D, 0xFF, 0x0A], "%2D%FF%0A", "input: -\\xFF\\x0A"),
          ])
    func unsafeNamesAreFiledUnderSafeNames(raw: [UInt8], failedName: String, inputLine: String) throws {
        let fd = open(pathBytes(inboxPath, raw), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        close(fd)
        let name = SpoolName(bytes: raw)
        guard case .unsafe(let why) = name.classification else {
            Issue.record("expected an unsafe name")
            return
        }
        let outcome = try FailedFolder(path: failedPath).reject(
            name, from: try Inbox(path: inboxPath), reason: "inbox entry \(name): \(why)")
        #expect(outcome == .moved(entry: SpoolName(failedName), reason: SpoolName(failedName + ".reason")))
        #expect(try nameStrings(in: failedPath) == [failedName, failedName + ".reason"])
        let lines = try reasonLines(failedName + ".reason")
        #expect(lines.contains(inputLine))
        #expect(lines.count == 5)  // reason, input, kept as, rejected at, final newline
        #expect(try nameStrings(in: inboxPath).isEmpty)
    }

    @Test func aReasonWithNewlinesStaysOneLine() throws {
        try writeFile(inboxPath + "/x.csr", "x")
        _ = try FailedFolder(path: failedPath).reject(
            "x.csr", from: try Inbox(path: inboxPath), reason: "line one\nline two", details: ["a\rb"])
        let lines = try reasonLines("x.csr.reason")
        #expect(lines[0] == "line one\\x0Aline two")
        #expect(lines.contains("a\\x0Db"))
    }

    @Test func aHardLinkedFileIsUnlinkedNotMovedAndOnlyItsReasonIsWritten() throws {
        let secret = Array("outside data that must not reach failed/".utf8)
        let outside = root.path + "/outside"
        try writeFile(outside, secret)
        #expect(link(outside, inboxPath + "/hl.csr") == 0)
        let inbox = try Inbox(path: inboxPath)
        guard case .refused(.multipleLinks, let why) = inbox.take("hl.csr") else {
            Issue.record("expected multipleLinks")
            return
        }
        let outcome = try FailedFolder(path: failedPath).reject("hl.csr", from: inbox, reason: "hl.csr \(why)")
        #expect(outcome == .reasonOnly(reason: "hl.csr.reason"))
        #expect(try nameStrings(in: failedPath) == ["hl.csr.reason"])
        #expect(try nameStrings(in: inboxPath).isEmpty)
        #expect(try readFile(outside) == secret)
        #expect(lstatPath(outside)?.st_nlink == 1)
        for bytes in try regularFileContents(under: failedPath) {
            #expect(!bytes.contains(subsequence: secret))
        }
        #expect(try reasonLines("hl.csr.reason").contains { $0.hasPrefix("not kept: the file had 2 hard links, so its inbox name was removed instead of moved") })
    }

    @Test func aFIFOAndAFolderAreMovedWithoutBeingOpened() throws {
        #expect(mkfifo(inboxPath + "/p.csr", 0o600) == 0)
        _ = try root.subfolder("inbox/d.csr")
        try writeFile(inboxPath + "/d.csr/inner", "inner")
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedPath)
        #expect(try failed.reject("p.csr", from: inbox, reason: "fifo") == .moved(entry: "p.csr", reason: "p.csr.reason"))
        #expect(try failed.reject("d.csr", from: inbox, reason: "dir") == .moved(entry: "d.csr", reason: "d.csr.reason"))
        #expect((lstatPath(failedPath + "/p.csr")?.st_mode ?? 0) & S_IFMT == S_IFIFO)
        #expect(try readText(failedPath + "/d.csr/inner") == "inner")
    }

    @Test func aReplacedUploadIsLeftInTheInbox() throws {
        try writeFile(inboxPath + "/r.csr", "old")
        let inbox = try Inbox(path: inboxPath)
        guard case .contents(_, let identity) = inbox.take("r.csr") else {
            Issue.record("expected contents")
            return
        }
        try writeFile(root.path + "/r.new", "a new upload")
        #expect(rename(root.path + "/r.new", inboxPath + "/r.csr") == 0)
        let outcome = try FailedFolder(path: failedPath).reject("r.csr", from: inbox, reason: "old was bad", expecting: identity)
        #expect(outcome == .replaced)
        #expect(try readText(inboxPath + "/r.csr") == "a new upload")
        #expect(try nameStrings(in: failedPath).isEmpty)
    }

    @Test func aVanishedEntryWritesNothing() throws {
        let outcome = try FailedFolder(path: failedPath).reject("gone.csr", from: try Inbox(path: inboxPath), reason: "x")
        #expect(outcome == .vanished)
        #expect(try nameStrings(in: failedPath).isEmpty)
    }

    static var sharedMemoryIsAnotherFilesystem: Bool {
        guard let shm = lstatPath("/dev/shm"), let tmp = lstatPath(NSTemporaryDirectory()) else { return false }
        return (shm.st_mode & S_IFMT) == S_IFDIR && shm.st_dev != tmp.st_dev && access("/dev/shm", W_OK) == 0
    }

    @Test(.enabled(if: sharedMemoryIsAnotherFilesystem, "needs /dev/shm on another filesystem"))
    func acrossFilesystemsTheBytesReadAreCopiedAndTheEntryRemoved() throws {
        let other = try TemporaryFolder("failed-xdev", base: "/dev/shm")
        let failedElsewhere = try other.subfolder("failed")
        try writeFile(inboxPath + "/x.csr", "read bytes")
        #expect(mkfifo(inboxPath + "/f.csr", 0o600) == 0)
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedElsewhere)
        guard case .contents(let bytes, let identity) = inbox.take("x.csr") else {
            Issue.record("expected contents")
            return
        }
        let copied = try failed.reject("x.csr", from: inbox, reason: "bad", expecting: identity, contents: bytes)
        #expect(copied == .copied(entry: "x.csr", reason: "x.csr.reason"))
        #expect(try readText(failedElsewhere + "/x.csr") == "read bytes")
        let fifo = try failed.reject("f.csr", from: inbox, reason: "fifo")
        #expect(fifo == .reasonOnly(reason: "f.csr.reason"))
        #expect(try nameStrings(in: inboxPath).isEmpty)
        #expect(try nameStrings(in: failedElsewhere) == ["f.csr.reason", "x.csr", "x.csr.reason"])
    }

    /// An SFTP user may `mkdir` in the inbox. With failed/ elsewhere a folder can be neither
    /// moved nor copied, and one with files in it is not deleted: it is set aside under a
    /// hidden name and refused once, with one reason file.
    @Test(.enabled(if: sharedMemoryIsAnotherFilesystem, "needs /dev/shm on another filesystem"))
    func acrossFilesystemsAFolderIsRefusedOnceAndItsFilesKept() throws {
        let other = try TemporaryFolder("failed-xdev-dir", base: "/dev/shm")
        let failedElsewhere = try other.subfolder("failed")
        #expect(mkdir(inboxPath + "/upload", 0o755) == 0)
        try writeFile(inboxPath + "/upload/inside.csr", "kept")
        #expect(mkdir(inboxPath + "/empty", 0o755) == 0)
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedElsewhere)
        #expect(try failed.reject("upload", from: inbox, reason: "a folder") == .reasonOnly(reason: "upload.reason"))
        #expect(try failed.reject("empty", from: inbox, reason: "a folder") == .reasonOnly(reason: "empty.reason"))
        // Asked again (a rescan): the name is gone, nothing more is written.
        #expect(try failed.reject("upload", from: inbox, reason: "a folder") == .vanished)
        #expect(try nameStrings(in: failedElsewhere) == ["empty.reason", "upload.reason"])
        let left = try nameStrings(in: inboxPath)
        #expect(left.count == 1 && left[0].hasPrefix(".dropca-refused-") && left[0].hasSuffix("-upload"), "\(left)")
        #expect(try readText(inboxPath + "/" + left[0] + "/inside.csr") == "kept")
        #expect(try readText(failedElsewhere + "/upload.reason").contains("stays in the inbox as \(left[0])"))
    }

    @Test func concurrentRejectionsOfCollidingNamesAllGetTheirOwnFiles() async throws {
        let inbox = try Inbox(path: inboxPath)
        let failed = try FailedFolder(path: failedPath)
        // "c.csr.N" inputs collide with the numbered names "c.csr" itself would get.
        let inputs = ["c.csr"] + (1...7).map { "c.csr.\($0)" }
        for input in inputs { try writeFile(inboxPath + "/" + input, input) }
        let outcomes = try await withThrowingTaskGroup(of: FailedFolder.Outcome.self) { group in
            for input in inputs {
                group.addTask { try failed.reject(SpoolName(input), from: inbox, reason: input) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == inputs.count)
        var contents = Set<String>()
        for outcome in outcomes {
            guard case .moved(let entry, let reason) = outcome else {
                Issue.record("unexpected \(outcome)")
                continue
            }
            let text = try readText(failedPath + "/\(entry)")
            contents.insert(text)
            #expect(try reasonLines("\(reason)").first == text)
        }
        #expect(contents == Set(inputs))
    }
}
