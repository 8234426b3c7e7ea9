import Glibc

/// Thin wrappers over the system calls the spool needs and Swift's `Glibc` module does
/// not offer: `openat2` (no glibc wrapper; `syscall()` is variadic, which Swift cannot
/// call) and `renameat2` (declared only under `_GNU_SOURCE`). Both are looked up once
/// with `dlsym` in the running process. All functions return `-1` and leave `errno` set
/// on failure, like the calls they wrap.
enum SystemCall {
    // MARK: openat2

    /// `struct open_how` from `<linux/openat2.h>`: three `__u64`, in this order.
    struct OpenHow {
        var flags: UInt64
        var mode: UInt64
        var resolve: UInt64
    }

    /// `RESOLVE_NO_SYMLINKS` and `RESOLVE_BENEATH` from `<linux/openat2.h>`.
    static let resolveNoSymlinks: UInt64 = 0x04
    static let resolveBeneath: UInt64 = 0x08
    /// `SYS_openat2`: 437 on every Linux architecture (it was added after the syscall
    /// tables were unified in 5.1).
    static let openat2Number = 437
    /// `RENAME_NOREPLACE` from `<linux/fs.h>`.
    static let renameNoReplace: UInt32 = 1

    /// `openat2(dirfd, name, &how, sizeof how)`. Sets `errno = ENOSYS` when it cannot be
    /// called at all, so callers fall back to `openat` the same way as on old kernels.
    static func openat2(
        _ directory: Int32, _ name: [CChar], flags: Int32, mode: mode_t = 0, resolve: UInt64
    ) -> Int32 {
        guard let syscall = LibcSymbols.shared.syscall4 else {
            errno = ENOSYS
            return -1
        }
        var how = OpenHow(
            flags: UInt64(UInt32(bitPattern: flags)), mode: UInt64(mode), resolve: resolve)
        let result = name.withUnsafeBufferPointer { path -> Int in
            withUnsafePointer(to: &how) { howPointer in
                syscall(
                    openat2Number, Int(directory), Int(bitPattern: path.baseAddress),
                    Int(bitPattern: UnsafeRawPointer(howPointer)), MemoryLayout<OpenHow>.size)
            }
        }
        return Int32(truncatingIfNeeded: result)
    }

    /// `renameat2(..., RENAME_NOREPLACE)`: fails with `EEXIST` instead of replacing.
    /// Sets `errno = ENOSYS` when glibc lacks it; `EINVAL` comes back from filesystems
    /// that do not support the flag.
    static func renameNoReplace(
        _ fromDirectory: Int32, _ from: [CChar], _ toDirectory: Int32, _ to: [CChar]
    ) -> Int32 {
        guard let renameat2 = LibcSymbols.shared.renameat2 else {
            errno = ENOSYS
            return -1
        }
        return renameat2(fromDirectory, from, toDirectory, to, renameNoReplace)
    }

    // MARK: descriptors

    /// Opens a folder (following links in the configured path: the operator chose it).
    static func openFolder(_ path: String, role: String) throws -> Int32 {
        let fd = retrying { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw SpoolError.system(.cannotOpenFolder, "cannot open \(role)", path: path, errno: errno)
        }
        return fd
    }

    /// Runs `call` again while it fails with `EINTR`.
    static func retrying<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }

    /// Writes every byte or returns the `errno` of the failure.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                retrying { write(fd, buffer.baseAddress.map { $0 + offset }, bytes.count - offset) }
            }
            if written < 0 { return errno }
            if written == 0 { return EIO }
            offset += written
        }
        return nil
    }

    /// Reads until end of file or until `limit` bytes, whichever comes first; never asks
    /// the kernel for more than `limit` bytes in total, so a file that is larger (or
    /// grows) costs at most `limit` bytes of reading and memory.
    static func readAtMost(_ fd: Int32, limit: Int) -> Result<[UInt8], ReadFailure> {
        var bytes = [UInt8](repeating: 0, count: max(limit, 0))
        var count = 0
        while count < limit {
            let got = bytes.withUnsafeMutableBytes { buffer in
                retrying { read(fd, buffer.baseAddress.map { $0 + count }, limit - count) }
            }
            if got < 0 { return .failure(ReadFailure(errno: errno)) }
            if got == 0 { break }
            count += got
        }
        bytes.removeSubrange(count...)
        return .success(bytes)
    }

    struct ReadFailure: Error {
        let errno: Int32
    }

    static func lstat(_ directory: Int32, _ name: [CChar]) -> stat? {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return info
    }

    // MARK: text

    /// `"Permission denied (EACCES)"`: the system's words plus the name to search for.
    static func errnoText(_ code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        let name = errnoNames[code] ?? "errno \(code)"
        return "\(text) (\(name))"
    }

    private static let errnoNames: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
        EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES",
        EBUSY: "EBUSY", EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV",
        ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE",
        EMFILE: "EMFILE", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG", ENOSPC: "ENOSPC",
        EROFS: "EROFS", EMLINK: "EMLINK", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS",
        ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP", EDQUOT: "EDQUOT", ESTALE: "ESTALE",
        EOVERFLOW: "EOVERFLOW", ENOTSUP: "ENOTSUP",
    ]
}

/// Function pointers to libc symbols Swift cannot declare. Immutable after the one-time
/// lookup in `shared`; calling C functions through them is as thread-safe as the
/// functions themselves, which for system calls is fully. Hence `@unchecked Sendable`.
struct LibcSymbols: @unchecked Sendable {
    /// glibc's `syscall`, called with a fixed four-argument signature. `syscall` is
    /// declared variadic, but on Linux x86_64 and aarch64 variadic integer arguments
    /// travel in the same registers as fixed ones, and glibc implements it in assembly
    /// that only moves registers, so this call is what a C caller would make.
    typealias Syscall4 = @convention(c) (Int, Int, Int, Int, Int) -> Int
    typealias Renameat2 = @convention(c) (
        Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
    ) -> Int32

    let syscall4: Syscall4?
    let renameat2: Renameat2?

    static let shared = LibcSymbols()

    private init() {
        let process = dlopen(nil, RTLD_NOW)
        syscall4 = dlsym(process, "syscall").map { unsafeBitCast($0, to: Syscall4.self) }
        renameat2 = dlsym(process, "renameat2").map { unsafeBitCast($0, to: Renameat2.self) }
    }
}
