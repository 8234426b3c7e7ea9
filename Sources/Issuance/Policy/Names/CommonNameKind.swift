/// What a subject CN is, for a name policy: an IP address, a DNS name, or other text.
///
/// Legacy clients still match a host against the CN when a certificate has no SAN, so a
/// CN that could be taken for a host name is judged as one. An IP address is one in the
/// strict notation `IPAddressText` reads. A DNS name is any CN made only of letters,
/// digits, hyphens, dots, `*` and `_` (even one label: `printer01` resolves on a LAN), and
/// also a CN with a dot whose other characters are those or non-ASCII
/// (`drücker.example.com`); such a CN must then be a well-formed DNS name, so a trailing
/// dot or a U-label cannot pass as free text. Everything else (`Printer 7, 2nd floor`,
/// `Gerätebau`) is text, which only `names.free_text_cn` allows.
enum CommonNameKind {
    case ipAddress([UInt8])
    case dnsName
    case text

    init(_ value: ArraySlice<UInt8>) {
        if let octets = IPAddressText.parse(value) {
            self = .ipAddress(octets)
            return
        }
        var hasDot = false
        var isASCII = true
        for byte in value {
            if byte == ASCII.dot {
                hasDot = true
            } else if byte >= 0x80 {
                isASCII = false
            } else if !(ASCII.isLetterDigitHyphen(byte) || byte == ASCII.asterisk || byte == UInt8(ascii: "_")) {
                self = .text
                return
            }
        }
        self = !value.isEmpty && (hasDot || isASCII) ? .dnsName : .text
    }
}
