import Issuance

extension Invocation {
    /// `dropca issue`: the daemon's policy applied to files an operator names. Throws with
    /// status 2 when the configuration or the CA does not load; otherwise one outcome per
    /// file, in order (a rejected file does not stop the rest).
    public func issue(files: [String], destination: OneShotIssuance.Destination) throws(CommandFailure) -> [OneShotIssuance.Outcome] {
        let loaded: (configuration: Configuration, issuer: Issuer)
        do {
            loaded = try loadAuthority()
        } catch {
            throw CommandFailure(status: 2, error)
        }
        return OneShotIssuance(issuer: loaded.issuer, destination: destination).run(files: files)
    }
}
