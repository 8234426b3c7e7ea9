#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Commands that write into the state directory beside the daemon (`dropca revoke`) become
/// its owner first when run as root, so that every file they make there (the ledger's
/// `-wal` and `-shm` when the daemon is not running) belongs to the service user, never to
/// root, and the service can open it after them.
enum ServiceIdentity {
    /// Why the identity could not be changed.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    /// The uid to record for the person behind this command: `SUDO_UID` under sudo, else
    /// the real uid.
    static func invokingUser(environment: [String: String]) -> UInt32 {
        if getuid() == 0, let text = environment["SUDO_UID"], let uid = UInt32(text) { return uid }
        return getuid()
    }

    /// As root: takes the uid and gid of the ledger's owner (of `directory`'s when there is
    /// no ledger yet), with no supplementary groups, when that owner is not root. Otherwise
    /// nothing changes: a user who is not the owner simply gets the system's refusal when
    /// opening the ledger.
    static func becomeOwner(of directory: String, ledger: String) throws(Failure) {
        guard geteuid() == 0 else { return }
        var status = stat()
        guard stat(ledger, &status) == 0 || stat(directory, &status) == 0 else {
            throw Failure(description: "\(directory): \(String(cString: strerror(errno)))")
        }
        guard status.st_uid != 0 else { return }
        var group = status.st_gid
        guard setgroups(1, &group) == 0, setgid(status.st_gid) == 0, setuid(status.st_uid) == 0 else {
            throw Failure(description: "cannot become the owner (uid \(status.st_uid)) of \(directory): \(String(cString: strerror(errno)))")
        }
    }
}
