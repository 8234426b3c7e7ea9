#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import SystemPackage

/// `state.directory/ledger.id`: the id of the ledger dropca keeps in this state directory
/// (one line), written when `dropca run` makes or first adopts a ledger.
///
/// The ledger holds its id too (`Ledger.identity()`), so the pair tells "the ledger that was
/// here" from "a ledger": a `ledger.sqlite` that is missing, empty or another ledger's file
/// while this file names one is refused at start (``LedgerAdmission``), instead of being
/// silently replaced by a new, empty ledger beside an outbox of certificates nobody has a
/// record of. A file of its own, not something inside the ledger, because what it must
/// survive is exactly the loss or replacement of the ledger file; it sits beside it because
/// restoring a ledger means restoring it into this folder.
///
/// Written atomically (temporary, fsync, rename, folder fsync), mode 0600; run as root on a
/// state directory that belongs to the service user, it is handed to that user, as the
/// instance lock is, so the service can read it.
enum LedgerMarker {
    static let fileName = "ledger.id"

    /// Why the marker could not be read or written, in one line naming it.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    static func path(in directory: String) -> String {
        directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
    }

    /// The id the marker holds; nil when there is no marker (or an empty one, which carries
    /// no claim).
    static func read(in directory: String) throws(Failure) -> String? {
        let path = path(in: directory)
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .noFollow])
        } catch {
            if (error as? Errno) == .noSuchFileOrDirectory { return nil }
            throw Failure(description: "cannot read \(path): \(error)")
        }
        defer { try? descriptor.close() }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count: Int
        do {
            count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
        } catch {
            throw Failure(description: "cannot read \(path): \(error)")
        }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        let identity = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return identity.isEmpty ? nil : identity
    }

    /// Makes `identity` the marker's, replacing any earlier one atomically and durably.
    static func write(_ identity: String, in directory: String) throws(Failure) {
        let path = path(in: directory)
        let temporary = path + ".partial-\(getpid())"
        func failure(_ what: String, _ error: any Error) -> Failure {
            Failure(description: "cannot write \(path): \(what): \(error)")
        }
        do {
            let descriptor = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec, .noFollow],
                permissions: [.ownerReadWrite])
            do {
                _ = try descriptor.writeAll(Array((identity + "\n").utf8))
                var folder = stat()
                if geteuid() == 0, stat(directory, &folder) == 0, folder.st_uid != 0 {
                    _ = fchown(descriptor.rawValue, folder.st_uid, folder.st_gid)
                }
                guard fsync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
                try descriptor.close()
            } catch {
                try? descriptor.close()
                throw error
            }
        } catch {
            unlink(temporary)
            throw failure("writing \(temporary)", error)
        }
        guard rename(temporary, path) == 0 else {
            let error = Errno(rawValue: errno)
            unlink(temporary)
            throw failure("renaming \(temporary)", error)
        }
        do {
            let folder = try FileDescriptor.open(FilePath(directory), .readOnly, options: [.closeOnExec, .directory])
            defer { try? folder.close() }
            guard fsync(folder.rawValue) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            throw failure("fsync of \(directory)", error)
        }
    }
}
