/// Hooks for `IssuanceBenchmark` to time the name checks of one request apart from the
/// rest of its issuance; not part of the engine's API (`@_spi(Benchmark)`).
///
/// Each returns a closure over a request parsed once, so that what is timed is exactly
/// the work `issue` does for the names and nothing around it.
extension Issuer {
    /// Gathering the names the certificate would carry and checking their syntax
    /// (`CertificateNames`), as every request does.
    @_spi(Benchmark) public func nameSyntaxCheck(for fileBytes: [UInt8]) throws(Rejection) -> () throws(Rejection) -> Void {
        let request = try SigningRequest(der: RequestDecoding.der(from: fileBytes))
        let extensions = try RequestedExtensions(of: request)
        let readingCommonNames = names != nil
        return { () throws(Rejection) in
            _ = try CertificateNames(request: request, extensions: extensions, readingCommonNames: readingCommonNames)
        }
    }

    /// The profile's name policy applied to names gathered once (`NamePolicy.check`); a
    /// closure that does nothing when the issuer has no name policy.
    @_spi(Benchmark) public func namePolicyCheck(for fileBytes: [UInt8]) throws(Rejection) -> () throws(Rejection) -> Void {
        let request = try SigningRequest(der: RequestDecoding.der(from: fileBytes))
        let extensions = try RequestedExtensions(of: request)
        let names = try CertificateNames(request: request, extensions: extensions, readingCommonNames: self.names != nil)
        let policy = self.names
        return { () throws(Rejection) in try policy?.check(names) }
    }
}
