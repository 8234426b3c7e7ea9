import Issuance

extension Invocation {
    /// `dropca issue [--profile NAME]`: a profile's policy applied to files an operator
    /// names, its outputs written for each (the default profile's without `profile`).
    /// Throws with status 2 when the configuration or the CA does not load, when there is
    /// no such profile, or when `-o` is to hold a profile's several outputs; otherwise one
    /// outcome per file, in order (a rejected file does not stop the rest).
    public func issue(files: [String], destination: OneShotIssuance.Destination, profile name: String? = nil) throws(CommandFailure) -> [OneShotIssuance.Outcome] {
        let configuration: Configuration
        do {
            configuration = try loadConfiguration()
        } catch {
            throw CommandFailure(status: 2, error)
        }
        let wanted = name ?? Configuration.Profile.defaultName
        guard let profile = configuration.profile(named: wanted) else {
            throw CommandFailure(status: 2, lines: [
                "\(configPath) has no profile \(wanted) (profiles: \(configuration.profiles.map(\.name).joined(separator: ", ")))"
            ])
        }
        if case .file = destination, profile.outputs.count > 1 {
            throw CommandFailure(status: 2, lines: [
                "-o writes one file, but profile \(profile.name) has the outputs \(profile.outputs.map(\.rawValue).joined(separator: ", ")); use --out-dir"
            ])
        }
        let issuer: Issuer
        let encoder: OutputEncoder
        do {
            let authority = try AuthorityLoader.authority(for: configuration, environment: environment)
            issuer = try AuthorityLoader.issuer(for: profile, authority: authority)
            encoder = try AuthorityLoader.outputEncoder(for: configuration, authority: authority)
        } catch {
            throw CommandFailure(status: 2, error)
        }
        return OneShotIssuance(issuer: issuer, destination: destination, outputs: profile.outputs, encoder: encoder).run(files: files)
    }
}
