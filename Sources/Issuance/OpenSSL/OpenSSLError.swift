internal import COpenSSL

/// What OpenSSL said when a call failed: the whole error queue, drained right after the
/// failure on the thread that made the call.
///
/// OpenSSL keeps its error queue per thread, so the queue is cleared before a call
/// (`OpenSSLError.clear()`) and read straight after it fails, with no suspension point in
/// between; everything in this module is synchronous for that reason.
public struct OpenSSLError: Error, Sendable, CustomStringConvertible {
    /// What dropca was doing, in an operator's words ("reading the CA private key").
    public let operation: String
    /// OpenSSL's own reason strings, oldest first.
    public let reasons: [String]

    public var description: String {
        reasons.isEmpty ? "\(operation) failed" : "\(operation) failed: \(reasons.joined(separator: "; "))"
    }

    static func clear() {
        ERR_clear_error()
    }

    /// Drains the thread's error queue into an error for `operation`.
    static func drain(_ operation: String) -> OpenSSLError {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = OpenSSLBytes.string(nulTerminated: buffer)
            reasons.append(text)
        }
        return OpenSSLError(operation: operation, reasons: reasons)
    }
}
