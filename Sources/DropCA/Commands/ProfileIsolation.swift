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

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    private static func name(of group: gid_t) -> String {
        guard let entry = getgrgid(group) else { return "\(group)" }
        return String(cString: entry.pointee.gr_name)
    }
}
