import Glibc

/// What kind of folder entry a name is, from `d_type` or `st_mode`.
public enum EntryKind: String, Hashable, Sendable, CustomStringConvertible {
    case regularFile
    case directory
    case symbolicLink
    case fifo
    case socket
    case characterDevice
    case blockDevice
    /// `d_type` was `DT_UNKNOWN` (some filesystems): ask ``Inbox/status(of:)``.
    case unknown

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regularFile
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symbolicLink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: self = .unknown
        }
    }

    init(directoryEntryType type: UInt8) {
        switch Int(type) {
        case Int(DT_REG): self = .regularFile
        case Int(DT_DIR): self = .directory
        case Int(DT_LNK): self = .symbolicLink
        case Int(DT_FIFO): self = .fifo
        case Int(DT_SOCK): self = .socket
        case Int(DT_CHR): self = .characterDevice
        case Int(DT_BLK): self = .blockDevice
        default: self = .unknown
        }
    }

    /// "a directory", "a FIFO (named pipe)"… for reasons an operator reads.
    public var description: String {
        switch self {
        case .regularFile: return "a regular file"
        case .directory: return "a directory"
        case .symbolicLink: return "a symbolic link"
        case .fifo: return "a FIFO (named pipe)"
        case .socket: return "a socket"
        case .characterDevice: return "a character device"
        case .blockDevice: return "a block device"
        case .unknown: return "an entry of unknown type"
        }
    }
}

/// A file time as the kernel keeps it (seconds and nanoseconds since the epoch).
public struct FileTime: Hashable, Sendable, Comparable {
    public var seconds: Int
    public var nanoseconds: Int

    public init(seconds: Int, nanoseconds: Int = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(_ time: timespec) {
        self.init(seconds: Int(time.tv_sec), nanoseconds: Int(time.tv_nsec))
    }

    public static func < (lhs: FileTime, rhs: FileTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// Which file an entry is and what state its content is in: enough to notice that a
/// name now refers to another file, or that a file was written to.
///
/// Used for the settle rule (a scan-found file is ready once its identity stayed the
/// same for `settle_seconds`; comparing inode and ctime too, not only size and mtime,
/// only ever makes that wait longer, never shorter) and to make sure the entry being
/// removed or moved to `failed/` is still the one that was read.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: FileTime
    public var changed: FileTime

    public init(device: UInt64, inode: UInt64, size: Int64, modified: FileTime, changed: FileTime) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    init(_ info: stat) {
        self.init(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: FileTime(info.st_mtim), changed: FileTime(info.st_ctim))
    }

    /// Same file with the same content, as far as metadata can tell: device, inode, size
    /// and mtime. (ctime is left out here: a client's `chmod` after upload changes it
    /// without changing a byte.)
    func isSameContent(as other: FileIdentity) -> Bool {
        device == other.device && inode == other.inode && size == other.size
            && modified == other.modified
    }
}

/// An entry's metadata from `fstatat(..., AT_SYMLINK_NOFOLLOW)`: never the target of a link.
public struct EntryStatus: Hashable, Sendable {
    public var kind: EntryKind
    /// `st_nlink`.
    public var links: Int
    public var identity: FileIdentity

    public init(kind: EntryKind, links: Int, identity: FileIdentity) {
        self.kind = kind
        self.links = links
        self.identity = identity
    }

    init(_ info: stat) {
        self.init(kind: EntryKind(mode: info.st_mode), links: Int(info.st_nlink), identity: FileIdentity(info))
    }

    /// Regular files written through an open descriptor get `IN_CLOSE_WRITE`; links,
    /// FIFOs, sockets, devices and folders never do, and neither does a second name made
    /// with `link()` (more than one link). Such entries are dealt with when they appear.
    public var expectsCloseEvent: Bool {
        kind == .regularFile && links == 1
    }
}

/// One name from a listing of a spool folder.
public struct FolderEntry: Hashable, Sendable {
    public var name: SpoolName
    /// From `d_type`; ``EntryKind/unknown`` on filesystems that do not fill it in.
    public var kind: EntryKind

    public init(name: SpoolName, kind: EntryKind) {
        self.name = name
        self.kind = kind
    }
}

/// One name from a scan of the inbox, with its current metadata.
public struct ScannedEntry: Hashable, Sendable {
    public var name: SpoolName
    public var status: EntryStatus

    public init(name: SpoolName, status: EntryStatus) {
        self.name = name
        self.status = status
    }
}
