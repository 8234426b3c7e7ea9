import Foundation
import Testing
import TestSupport

@testable import DropCA

@Suite struct InstanceLockTests {
    @Test func aSecondLockOnTheSameDirectoryIsRefusedWithTheHoldersPID() throws {
        let directory = try TemporaryDirectory()
        let first = try InstanceLock(directory: directory.url.path)
        #expect(throws: InstanceLock.Failure.held(directory: directory.url.path, pid: getpid())) {
            _ = try InstanceLock(directory: directory.url.path)
        }
        #expect(try String(contentsOfFile: first.path, encoding: .utf8) == "\(getpid())\n")
        withExtendedLifetime(first) {}
    }

    @Test func theLockIsFreeAgainOnceItsHolderIsGone() throws {
        let directory = try TemporaryDirectory()
        do {
            let held = try InstanceLock(directory: directory.url.path)
            withExtendedLifetime(held) {}
        }
        let again = try InstanceLock(directory: directory.url.path)
        withExtendedLifetime(again) {}
    }

    @Test func aMissingDirectoryIsReportedAsUnusable() throws {
        let directory = try TemporaryDirectory()
        #expect {
            _ = try InstanceLock(directory: directory.path("missing"))
        } throws: { error in
            guard case .unusable(let path, _)? = error as? InstanceLock.Failure else { return false }
            return path.hasSuffix("missing/dropca.lock")
        }
    }
}

/// A `dropca run` as root on the service user's state directory must not leave a lock file
/// the service cannot open afterwards.
@Suite struct InstanceLockOwnershipTests {
    @Test(.enabled(if: geteuid() == 0, "needs root to hand the file to another user"))
    func aLockFileMadeByRootBelongsToTheStateDirectorysOwner() throws {
        let directory = try TemporaryDirectory()
        let nobody = try #require(getpwnam("nobody")?.pointee)
        #expect(chown(directory.url.path, nobody.pw_uid, nobody.pw_gid) == 0)
        let lock = try InstanceLock(directory: directory.url.path)
        let attributes = try FileManager.default.attributesOfItem(atPath: lock.path)
        #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == nobody.pw_uid)
        withExtendedLifetime(lock) {}
    }
}
