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
