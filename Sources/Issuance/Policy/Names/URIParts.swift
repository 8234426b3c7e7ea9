/// The pieces of an absolute URI that the name rules look at (RFC 3986 3): the scheme, and,
/// when the URI has an authority (`scheme://…`), its user information, host and port.
///
/// Only splits; `NameSyntax.uriProblem` decides whether the pieces are well-formed. All
/// ranges are slices of the bytes given, so splitting allocates nothing.
struct URIParts {
    let scheme: ArraySlice<UInt8>
    /// Everything after `scheme:`.
    let afterScheme: ArraySlice<UInt8>
    /// The user information before an `@` in the authority, without the `@`; nil when absent.
    let userInfo: ArraySlice<UInt8>?
    /// The host of the authority (`[…]` kept for an IP literal); nil when there is no authority.
    let host: ArraySlice<UInt8>?
    /// The port after the host's `:`, nil when absent.
    let port: ArraySlice<UInt8>?

    /// Nil when `uri` does not start with a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
    init?(_ uri: ArraySlice<UInt8>) {
        guard let colon = uri.firstIndex(of: ASCII.colon), colon > uri.startIndex,
              ASCII.isLetter(uri[uri.startIndex]) else { return nil }
        let scheme = uri[..<colon]
        guard scheme.allSatisfy({ ASCII.isLetter($0) || ASCII.isDigit($0) || $0 == UInt8(ascii: "+") || $0 == ASCII.hyphen || $0 == ASCII.dot }) else {
            return nil
        }
        self.scheme = scheme
        let rest = uri[(colon + 1)...]
        self.afterScheme = rest
        guard rest.starts(with: [ASCII.slash, ASCII.slash]) else {
            (userInfo, host, port) = (nil, nil, nil)
            return
        }
        let authorityStart = rest.startIndex + 2
        let authorityEnd = rest[authorityStart...].firstIndex { $0 == ASCII.slash || $0 == ASCII.question || $0 == ASCII.hash } ?? rest.endIndex
        let authority = rest[authorityStart..<authorityEnd]
        var hostAndPort = authority
        if let at = authority.lastIndex(of: ASCII.at) {
            userInfo = authority[..<at]
            hostAndPort = authority[(at + 1)...]
        } else {
            userInfo = nil
        }
        if hostAndPort.first == ASCII.openBracket {
            // An IP literal: a port may follow its closing bracket, nothing else may.
            if let close = hostAndPort.firstIndex(of: ASCII.closeBracket), hostAndPort[(close + 1)...].first == ASCII.colon {
                host = hostAndPort[...close]
                port = hostAndPort[(close + 2)...]
            } else {
                host = hostAndPort
                port = nil
            }
        } else if let colon = hostAndPort.firstIndex(of: ASCII.colon) {
            host = hostAndPort[..<colon]
            port = hostAndPort[(colon + 1)...]
        } else {
            host = hostAndPort
            port = nil
        }
    }

    /// The URI with its scheme and host in lowercase, the rest as it is: the form that
    /// `names.uri` rules are written in and compared with.
    static func normalised(_ uri: ArraySlice<UInt8>, _ parts: URIParts? = nil) -> [UInt8] {
        var bytes = Array(uri)
        guard let parts = parts ?? URIParts(uri) else { return bytes }
        let offset = uri.startIndex
        let hostRange = parts.host.map { ($0.startIndex &- offset)..<($0.endIndex &- offset) }
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<(parts.scheme.endIndex &- offset) { buffer[index] = ASCII.lowercased(buffer[index]) }
            if let hostRange {
                for index in hostRange { buffer[index] = ASCII.lowercased(buffer[index]) }
            }
        }
        return bytes
    }
}
