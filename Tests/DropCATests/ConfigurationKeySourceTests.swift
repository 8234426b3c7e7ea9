import Testing

@testable import DropCA

@Suite("CA key source")
struct ConfigurationKeySourceTests {
    typealias Fixture = ConfigurationFixture

    private func caSection(key: String) -> String {
        "[ca]\ncertificate = \"/etc/dropca/ca.pem\"\nkey = \"\(key)\"\n"
    }

    @Test func aCredentialKeyIsReadFromTheCredentialsDirectory() throws {
        let configuration = try Fixture.parse(caSection(key: "credential:dropca-ca.key"))
        #expect(configuration.ca.key == .credential("dropca-ca.key"))

        let path = try configuration.ca.resolvedKeyPath(environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/dropca.service"])
        #expect(path == "/run/credentials/dropca.service/dropca-ca.key")
    }

    @Test func aCredentialKeyWithoutCredentialsDirectoryIsAClearError() throws {
        let configuration = try Fixture.parse(caSection(key: "credential:dropca-ca"))

        #expect {
            _ = try configuration.ca.resolvedKeyPath(environment: ["HOME": "/root"])
        } throws: { error in
            guard let error = error as? Configuration.KeySource.ResolutionError else {
                return false
            }
            return error.code == .credentialsDirectoryUnset
                && error.description.hasPrefix("credential:dropca-ca needs $CREDENTIALS_DIRECTORY, which is not set")
        }
        #expect(throws: Configuration.KeySource.ResolutionError.self) {
            _ = try configuration.ca.resolvedKeyPath(environment: ["CREDENTIALS_DIRECTORY": ""])
        }
    }

    @Test func aFileKeyNeedsNoEnvironment() throws {
        let key = Configuration.KeySource.file("/etc/dropca/ca.key")
        #expect(try key.resolvedKeyPath(environment: [:]) == "/etc/dropca/ca.key")
    }

    @Test(arguments: ["", "a/b", "../ca.key", "..", "."])
    func aBadCredentialNameIsRefusedWhenResolving(name: String) {
        let key = Configuration.KeySource.credential(name)
        #expect {
            _ = try key.resolvedKeyPath(environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/dropca.service"])
        } throws: { error in
            (error as? Configuration.KeySource.ResolutionError)?.code == .invalidCredentialName
        }
    }

    @Test func aBadCredentialNameIsRefusedWhenLoading() {
        #expect(
            Fixture.problems(caSection(key: "credential:keys/ca.key")) == [
                "dropca.toml:3: ca.key: credential name \"keys/ca.key\" must not contain \"/\": it names a file inside $CREDENTIALS_DIRECTORY"
            ]
        )
        #expect(
            Fixture.problems(caSection(key: "credential:")) == [
                "dropca.toml:3: ca.key: \"credential:\" names no credential; write credential:NAME, with NAME as in the unit's LoadCredential=NAME:..."
            ]
        )
    }

    @Test func theConfigurationValueRoundTrips() {
        #expect(Configuration.KeySource.credential("ca").configurationValue == "credential:ca")
        #expect(Configuration.KeySource.file("/k").configurationValue == "/k")
    }
}
