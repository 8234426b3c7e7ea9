/// One thing inotify reported about the inbox, decoded by ``InboxWatcher``.
public enum InboxEvent: Hashable, Sendable {
    /// `IN_CLOSE_WRITE`: a descriptor opened for writing was closed — an upload finished.
    case closedWrite(SpoolName)
    /// `IN_MOVED_TO`: an entry was renamed into the inbox (or within it) — complete.
    case movedIn(SpoolName)
    /// `IN_CREATE`: a new entry; a regular file stays "being written" until its close.
    case created(SpoolName, isDirectory: Bool)
    /// `IN_MODIFY`: a file was written to.
    case modified(SpoolName)
    /// `IN_DELETE` or `IN_MOVED_FROM`: the name is gone from the inbox.
    case removed(SpoolName)
    /// `IN_Q_OVERFLOW`: events were lost; rescan the whole inbox.
    case overflow
    /// The watch on the inbox itself ended (`IN_DELETE_SELF`, `IN_MOVE_SELF`,
    /// `IN_UNMOUNT`, `IN_IGNORED`): fatal for the daemon (README, "Stopping and reloading"). The text
    /// says what happened, in an operator's words.
    case inboxLost(String)
}
