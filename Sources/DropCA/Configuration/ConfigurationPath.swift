/// Path arithmetic for config values, done on strings on purpose.
///
/// Nothing here touches the filesystem: the folders named in a config may not exist yet
/// (`check-config` reports that separately), and resolving symlinks would change what the
/// operator wrote. `..` is kept as written for the same reason: `a/link/..` is not `a` when
/// `link` is a symlink.
enum ConfigurationPath {
    /// `path` as the config file means it: absolute paths stay exactly as written, relative
    /// ones are taken from `base` (the folder holding the config file).
    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") || base.isEmpty {
            return path
        }
        return normalize(base + "/" + path)
    }

    /// The folder holding `file`, made absolute from `currentDirectory`, so that relative
    /// paths in a config read through a relative `--config` still work after a `chdir`.
    static func folder(of file: String, currentDirectory: String) -> String {
        let absolute = file.hasPrefix("/") ? file : currentDirectory + "/" + file
        let normalized = normalize(absolute)
        guard let slash = normalized.lastIndex(of: "/") else {
            return normalized
        }
        if slash == normalized.startIndex {
            return "/"
        }
        return String(normalized[..<slash])
    }

    /// Drops empty and `.` components, so `/etc/dropca/./inbox/` reads `/etc/dropca/inbox`.
    static func normalize(_ path: String) -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = components.joined(separator: "/")
        if path.hasPrefix("/") {
            return "/" + joined
        }
        return joined.isEmpty ? "." : joined
    }

    /// Two spool or state paths name the same folder as far as the text can tell.
    static func sameFolder(_ lhs: String, _ rhs: String) -> Bool {
        normalize(lhs) == normalize(rhs)
    }
}
