import Foundation

/// What `check-config` warns about when profiles share uploaders: each profile's inbox
/// belongs to its uploaders' group (the group that may write it, `dropca-drop` in the
/// shipped layout), and an appliance of one profile should reach none of another
/// profile's folders — not submit requests under its rules, not fetch its certificates,
/// not read its refusals.
///
/// Judged from the folders' owners and modes only, as the kernel would judge a member of
/// that group who is not their owner: a folder another profile's uploaders may read or
/// write through its group bits (their group owns it) or its other bits (everyone may).
/// sshd's chroots and ACLs are not looked at; a profile whose inbox no group may write
/// (uploads through some other way) has no uploaders' group to judge.
enum ProfileIsolation {
    static func warnings(for configuration: Configuration) -> [String] {
        var warnings: [String] = []
        let profiles = configuration.profiles
        guard profiles.count > 1 else { return [] }
        for uploader in profiles {
            guard let inbox = status(uploader.spool.inbox), inbox.st_mode & 0o020 != 0 else { continue }
            let group = inbox.st_gid
            for other in profiles where other.name != uploader.name {
                for (folder, path) in [("inbox", other.spool.inbox), ("outbox", other.spool.outbox), ("failed folder", other.spool.failed)] {
                    guard let info = status(path) else { continue }
                    let bits = info.st_gid == group ? (info.st_mode >> 3) & 0o7 : info.st_mode & 0o7
                    let access = [(0o4, "read"), (0o2, "write")].filter { bits & mode_t($0.0) != 0 }.map(\.1)
                    // Without search permission the folder's entries cannot be reached.
                    guard !access.isEmpty, bits & 0o1 != 0 else { continue }
                    let through = info.st_gid == group ? "its group" : "everyone"
                    warnings.append("the uploaders of profile \(uploader.name) (group \(name(of: group)), which may write \(uploader.spool.inbox)) could \(access.joined(separator: " and ")) \(possessive(other.name)) \(folder) \(path) (group \(name(of: info.st_gid)), mode \(octal(info.st_mode & 0o7777)): \(through) may); give each profile a group of its own (README: Adding a profile)")
                }
            }
        }
        return warnings
    }

    /// "profile printers'", "profile default's", as the name rules' reasons say it.
    private static func possessive(_ profile: String) -> String {
        profile.hasSuffix("s") ? "profile \(profile)'" : "profile \(profile)'s"
    }

    /// `2750`, `0755`: as `chmod` and `stat` write modes.
    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Folders that are one folder under two names (a symbolic link, a bind mount): the
    /// configuration compares paths, the kernel compares inodes. Two profiles' inboxes as
    /// one would issue each upload under either's rules; an outbox that is an inbox would
    /// feed certificates back in. One line per pair, naming both keys; `run` refuses to
    /// start on any, `check-config` reports them as errors.
    static func sharedFolders(in configuration: Configuration) -> [String] {
        var seen: [(key: String, path: String, device: UInt64, inode: UInt64)] = []
        var problems: [String] = []
        for profile in configuration.profiles {
            let prefix = profile.name == Configuration.Profile.defaultName ? "" : "profiles.\(profile.name)."
            for (key, path) in [("spool.inbox", profile.spool.inbox), ("spool.outbox", profile.spool.outbox), ("spool.failed", profile.spool.failed)] {
                guard let info = status(path) else { continue }
                let (device, inode) = (UInt64(info.st_dev), UInt64(info.st_ino))
                if let other = seen.first(where: { $0.device == device && $0.inode == inode }) {
                    problems.append("\(prefix)\(key) = \(path) is the same folder as \(other.key) = \(other.path); every profile needs folders of its own")
                } else {
                    seen.append((prefix + key, path, device, inode))
                }
            }
        }
        return problems
    }

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    private static func name(of group: gid_t) -> String {
        guard let entry = getgrgid(group) else { return "\(group)" }
        return String(cString: entry.pointee.gr_name)
    }
}
