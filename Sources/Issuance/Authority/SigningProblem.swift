/// Why a CA cannot sign now, and what brings it back. The daemon holds requests back while
/// there is one and tells the operator what to do (journal, STATUS=); that depends on the
/// cause, so the cause says it rather than the daemon guessing from the words.
public struct SigningProblem: Sendable, Equatable, CustomStringConvertible {
    /// What ends the problem.
    public enum Remedy: Sendable, Equatable {
        /// The token is looked for again on its own, every `Duration`: waiting is enough.
        case tokenRetried(every: Duration)
        /// Only another CA or configuration helps: a CA out of its dates, or a token that
        /// refused the PIN and is not tried again so as not to lock it. What to put right
        /// before the reload, in the operator's words ("a valid CA is loaded").
        case reload(String)

        /// A CA certificate out of its dates.
        public static let validCA = Remedy.reload("a valid CA is loaded")
    }

    public let reason: String
    public let remedy: Remedy

    public init(_ reason: String, remedy: Remedy) {
        self.reason = reason
        self.remedy = remedy
    }

    public var description: String { reason }

    /// How long requests wait, for the operator: "until …".
    public var until: String {
        switch remedy {
        case .tokenRetried(let interval):
            "until the token signs again (tried every \(interval.components.seconds) s)"
        case .reload(let what):
            "until \(what) (systemctl reload dropca)"
        }
    }
}
