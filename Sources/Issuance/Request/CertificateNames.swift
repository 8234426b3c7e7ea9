/// Every name the certificate will carry, in the bytes it will carry them, gathered once
/// per request: the requested Subject Alternative Name entries, the subject's emailAddress
/// values and the ones of those that dropca adds to the SAN, and (for a name policy) the
/// subject's CNs.
///
/// Building it checks the syntax of every name that reaches the certificate's SAN
/// (`NameSyntax`): the requested entries and the subject e-mail addresses that
/// `SubjectEmailAddresses` copies, so that no path makes a malformed SAN. `Issuer` builds
/// the SAN from `addedEmailAddresses`, the very list checked here.
struct CertificateNames {
    /// The SAN entries as requested, in order.
    let subjectAltNames: [GeneralName]
    /// The subject's emailAddress values, as encoded.
    let subjectEmailAddresses: [[UInt8]]
    /// The subject's e-mail addresses the SAN lacks as rfc822Names, to be appended
    /// (RFC 5280 4.1.2.6).
    let addedEmailAddresses: [[UInt8]]
    /// The subject's CNs as UTF-8 (nil for one that does not convert); empty unless asked for.
    let commonNames: [[UInt8]?]

    init(request: SigningRequest, extensions: RequestedExtensions, readingCommonNames: Bool) throws(Rejection) {
        subjectAltNames = extensions.generalNames
        for name in subjectAltNames {
            if let problem = NameSyntax.problem(with: name) {
                throw Rejection(.malformedName, "\(name.kind.nameDescription) \(name.shown) in the requested Subject Alternative Name is malformed: \(problem)")
            }
        }
        subjectEmailAddresses = SubjectEmailAddresses.values(in: request.subjectName)
        for address in subjectEmailAddresses {
            if let problem = NameSyntax.mailboxProblem(address[...]) {
                throw Rejection(.malformedName, "subject emailAddress \(QuotedName.quoted(address)) is not a plain mailbox: \(problem); dropca would copy it into the Subject Alternative Name")
            }
        }
        if subjectEmailAddresses.isEmpty {
            addedEmailAddresses = []
        } else {
            let requested = Set(subjectAltNames.lazy.filter { $0.kind == .rfc822Name }.map(\.value))
            addedEmailAddresses = subjectEmailAddresses.filter { !requested.contains($0) }
        }
        commonNames = readingCommonNames ? SubjectCommonNames.values(in: request.subjectName) : []
    }
}
