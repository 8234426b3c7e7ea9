import Glibc

/// Sends one notification datagram to a socket named explicitly, the way `sd_notify`
/// does for `$NOTIFY_SOCKET` (an AF_UNIX datagram; `@` at the start names the abstract
/// namespace). libsystemd offers no call that takes the address as a parameter.
enum NotifySocket {
    static func send(_ state: String, to path: String) -> Notifier.Outcome {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(path.utf8)
        let isAbstract = name.first == UInt8(ascii: "@")
        if isAbstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A filesystem path needs room for its terminating NUL; an abstract name does not.
        guard !name.isEmpty, name.count + (isAbstract ? 0 : 1) <= capacity else {
            return .failed(errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            sunPath.copyBytes(from: name)
        }
        guard let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) else {
            return .failed(errno: EINVAL)
        }
        let addressLength = socklen_t(pathOffset + name.count + (isAbstract ? 0 : 1))

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failed(errno: errno) }
        defer { close(descriptor) }

        var payload = Array(state.utf8)
        let sent = payload.withUnsafeMutableBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, addressLength)
                }
            }
        }
        return sent < 0 ? .failed(errno: errno) : .sent
    }
}
