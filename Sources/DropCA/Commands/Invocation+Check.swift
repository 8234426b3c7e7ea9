extension Invocation {
    /// `dropca check-config`: what `dropca run` would refuse, found before a restart.
    public func checkConfiguration() -> ConfigurationCheck.Report {
        ConfigurationCheck.run(self)
    }

    /// `dropca init`: a development CA, a configuration and spool folders under `directory`.
    /// Throws with status 1 when the folder already holds a configuration or cannot be made.
    public static func initialise(directory: String) throws(CommandFailure) -> DevelopmentSetup.Result {
        do {
            return try DevelopmentSetup.create(in: directory)
        } catch {
            throw CommandFailure(status: 1, error)
        }
    }
}
