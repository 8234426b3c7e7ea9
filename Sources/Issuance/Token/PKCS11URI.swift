/// An RFC 7512 PKCS#11 URI naming the CA's private key on a token:
/// `pkcs11:token=dropca;object=ca;type=private`.
///
/// Parsed by hand: neither OpenSSL 3.0 nor any package in reach parses these URIs (libp11
/// does, inside its engine, which dropca does not use: see ``TokenKey``). Only the path
/// attributes that select a token, a slot and an object are taken; `pin-value` and
/// `pin-source` are refused, because the PIN belongs in `ca.pin` (a file or a systemd
/// credential), never in the configuration.
public struct PKCS11URI: Sendable, Equatable, CustomStringConvertible {
    /// Token attributes (CK_TOKEN_INFO): label, manufacturer, model, serial.
    public var token: String?
    public var manufacturer: String?
    public var model: String?
    public var serial: String?
    /// Slot attributes (CK_SLOT_INFO): its id, description and manufacturer.
    public var slotID: UInt?
    public var slotDescription: String?
    public var slotManufacturer: String?
    /// Object attributes: CKA_LABEL and CKA_ID.
    public var object: String?
    public var id: [UInt8]?
    /// As written, for messages (it holds no secret: PINs are refused).
    public let text: String

    public static let scheme = "pkcs11:"

    public var description: String { text }

    /// Parses `text`; throws a one-line reason for a URI that is not one, that names
    /// something other than a private key, or that carries a PIN.
    public init(_ text: String) throws(TokenError) {
        self.text = text
        guard text.hasPrefix(Self.scheme) else {
            throw TokenError(.badURI, "\(text) is not a PKCS#11 URI (pkcs11:token=...;object=...)")
        }
        let rest = text.dropFirst(Self.scheme.count)
        let path = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        if path.count == 2 {
            for attribute in path[1].split(separator: "&") {
                let name = attribute.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                switch name {
                case "pin-value", "pin-source":
                    throw TokenError(.badURI, "the PKCS#11 URI carries a PIN (\(name)); give the PIN in ca.pin (a file or credential:NAME) instead")
                case "module-name", "module-path":
                    throw TokenError(.badURI, "the PKCS#11 URI names a module (\(name)); give it in ca.pkcs11_module instead")
                default:
                    throw TokenError(.badURI, "the PKCS#11 URI has a query attribute dropca does not know: \(name)")
                }
            }
        }
        for attribute in path[0].split(separator: ";") {
            let parts = attribute.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenError(.badURI, "the PKCS#11 URI attribute \(String(reflecting: String(attribute))) has no value (name=value)")
            }
            let name = String(parts[0])
            let value = try Self.percentDecoded(parts[1], attribute: name)
            func string() throws(TokenError) -> String {
                guard let string = String(validating: value, as: UTF8.self) else {
                    throw TokenError(.badURI, "the PKCS#11 URI attribute \(name) is not UTF-8")
                }
                return string
            }
            switch name {
            case "token": token = try string()
            case "manufacturer": manufacturer = try string()
            case "model": model = try string()
            case "serial": serial = try string()
            case "slot-description": slotDescription = try string()
            case "slot-manufacturer": slotManufacturer = try string()
            case "slot-id":
                guard let number = UInt(try string()) else {
                    throw TokenError(.badURI, "the PKCS#11 URI attribute slot-id must be a decimal number")
                }
                slotID = number
            case "object": object = try string()
            case "id": id = value
            case "type":
                let type = try string()
                guard type == "private" else {
                    throw TokenError(.badURI, "the PKCS#11 URI names type=\(type); the CA key is a private key (type=private)")
                }
            case "library-description", "library-manufacturer", "library-version":
                // Attributes of the module, which ca.pkcs11_module names; nothing to match.
                break
            default:
                throw TokenError(.badURI, "the PKCS#11 URI has an attribute dropca does not know: \(name)")
            }
        }
        guard object != nil || id != nil else {
            throw TokenError(.badURI, "the PKCS#11 URI names no key: give object=LABEL or id=%HEX")
        }
    }

    /// The bytes of a percent-encoded attribute value (RFC 3986 pct-encoded).
    private static func percentDecoded(_ text: Substring, attribute: String) throws(TokenError) -> [UInt8] {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let high = hexValue(utf8[utf8.startIndex]), let low = hexValue(utf8[utf8.startIndex + 1]) else {
                throw TokenError(.badURI, "the PKCS#11 URI attribute \(attribute) has a % not followed by two hex digits")
            }
            bytes.append(high << 4 | low)
            utf8 = utf8.dropFirst(2)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why the CA key on a token cannot be used: at start, reload and `check-config` a one-line
/// reason to stop with (exit 2); while running, the reason requests wait in the inbox.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badURI, moduleUnloadable, noToken, pinRefused, pinUnreadable, keyNotFound, keyMismatch, tokenFailure
    }
    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
