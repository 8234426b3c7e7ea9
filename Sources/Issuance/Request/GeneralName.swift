internal import COpenSSL

/// One entry of a requested Subject Alternative Name: its type and the bytes the
/// certificate will carry for it.
///
/// The name rules (`NameSyntax`, `NamePolicy`) judge these bytes, never a printed form, so
/// what is checked is exactly what the certificate holds: the IA5String contents of a
/// dNSName, rfc822Name or URI, the octets of an iPAddress.
struct GeneralName {
    /// RFC 5280 4.2.1.6 GeneralName choices.
    enum Kind: Equatable {
        case dnsName
        case rfc822Name
        case iPAddress
        case uniformResourceIdentifier
        case otherName
        case x400Address
        case directoryName
        case ediPartyName
        case registeredID

        init(openSSLType type: Int32) {
            switch type {
            case GEN_DNS: self = .dnsName
            case GEN_EMAIL: self = .rfc822Name
            case GEN_IPADD: self = .iPAddress
            case GEN_URI: self = .uniformResourceIdentifier
            case GEN_X400: self = .x400Address
            case GEN_DIRNAME: self = .directoryName
            case GEN_EDIPARTY: self = .ediPartyName
            case GEN_RID: self = .registeredID
            // GEN_OTHERNAME, and anything a later OpenSSL might add: the most restricted kind.
            default: self = .otherName
            }
        }

        /// What reasons call a name of this kind: "DNS name", "IP address"…
        var nameDescription: String {
            switch self {
            case .dnsName: "DNS name"
            case .rfc822Name: "e-mail address"
            case .iPAddress: "IP address"
            case .uniformResourceIdentifier: "URI"
            default: asn1Name
            }
        }

        /// The ASN.1 name of the choice, as rejection reasons write it.
        var asn1Name: String {
            switch self {
            case .dnsName: "dNSName"
            case .rfc822Name: "rfc822Name"
            case .iPAddress: "iPAddress"
            case .uniformResourceIdentifier: "uniformResourceIdentifier"
            case .otherName: "otherName"
            case .x400Address: "x400Address"
            case .directoryName: "directoryName"
            case .ediPartyName: "ediPartyName"
            case .registeredID: "registeredID"
            }
        }
    }

    let kind: Kind
    /// The string contents (dNSName, rfc822Name, URI) or the octets (iPAddress); empty for
    /// the other kinds, which are judged by their kind alone.
    let value: [UInt8]
    /// The entry as logs show it: "DNS:host.example", "IP:192.0.2.1", "othername: …".
    let readable: String

    /// The name as a reason shows it: an IP address in its usual notation, anything else
    /// quoted (escaped, cut when long), and the readable form for kinds without a value.
    var shown: String {
        switch kind {
        case .iPAddress: IPAddressText.text(value[...])
        case .dnsName, .rfc822Name, .uniformResourceIdentifier: QuotedName.quoted(value)
        default: readable
        }
    }

    /// Reads one entry of a parsed GENERAL_NAMES, which the caller owns.
    init(_ name: UnsafeMutablePointer<GENERAL_NAME>) {
        var type: Int32 = 0
        let pointer = GENERAL_NAME_get0_value(name, &type)
        let kind = Kind(openSSLType: type)
        self.kind = kind
        switch kind {
        case .dnsName, .rfc822Name, .uniformResourceIdentifier, .iPAddress:
            self.value = OpenSSLBytes.contents(of: pointer?.assumingMemoryBound(to: ASN1_STRING.self))
        default:
            self.value = []
        }
        self.readable = Self.readable(name)
    }

    /// "DNS:host", "IP:192.0.2.1", "email:…", "URI:…", "othername:…", "DirName:…".
    private static func readable(_ name: UnsafeMutablePointer<GENERAL_NAME>) -> String {
        let text = OpenSSLBytes.text { bio in _ = GENERAL_NAME_print(bio, name) }
        if text.hasPrefix("IP Address:") { return "IP:" + text.dropFirst("IP Address:".count) }
        return text
    }
}
