import Foundation
import Synchronization
internal import CPKCS11

/// The CA's private key on a PKCS#11 token: found by its URI, logged in to with the PIN, and
/// used to sign on sessions of its own. The key never leaves the token; dropca only ever has
/// its handle.
///
/// Why PKCS#11 directly and not OpenSSL's pkcs11 engine (libengine-pkcs11-openssl, libp11
/// 0.4.12 in Debian 12; Debian 12 has no PKCS#11 provider for OpenSSL 3): the engine signs
/// well, but once a token goes away it never signs again in that process. With SoftHSM2 and
/// its token folder moved away and back, every later signature fails with
/// CKR_OBJECT_HANDLE_INVALID, reloading the key, `RE_ENUMERATE` and ENGINE_finish/init do not
/// help, a second dynamic engine cannot be loaded, and finalizing the module under it crashes
/// the engine. Calling the module ourselves, `C_Finalize` and `C_Initialize` bring the token
/// back, so a request waits while the token is gone and is issued when it is back.
///
/// Sessions: each signature takes an idle session or opens one (a worker signs on its own
/// session, as Cryptoki requires), so workers sign in parallel where the token allows it; one
/// extra session stays open to keep the login (a login ends with the last session).
public final class TokenKey: @unchecked Sendable {
    /// What the key is, as the token says (CKA_KEY_TYPE), and whether it could be copied out.
    public enum KeyType: Sendable, Equatable { case rsa, ec, edwards, other(UInt) }

    public let uri: PKCS11URI
    let module: PKCS11Module
    public let keyType: KeyType
    /// CKA_EXTRACTABLE: false for a key made on the token as it should be.
    public let extractable: Bool
    /// The token's label, for messages.
    public let tokenLabel: String
    /// The process was logged in to the token already (by the CA this one replaces on a
    /// reload): Cryptoki keeps one login per process, so the PIN of `ca.pin` was not tried.
    public let pinUntried: Bool
    private let pin: [UInt8]?

    /// How often a token that failed is tried again while requests wait.
    static let retryInterval: Duration = .seconds(2)

    private struct State {
        var epoch: Int
        var slot: CK_SLOT_ID
        var key: CK_OBJECT_HANDLE
        var anchor: CK_SESSION_HANDLE
        var idle: [CK_SESSION_HANDLE] = []
        var inUse = 0
        /// Why the token cannot sign now; nil while it can.
        var failure: String?
        var nextAttempt = ContinuousClock.now
        /// The token refused the PIN while being found again: trying every 2 s would lock
        /// it, so nothing is tried until a reload makes a new key.
        var gaveUp = false
        /// Signs a probe with the re-found key and verifies it against the CA certificate:
        /// only the same key is taken back.
        var check: (@Sendable (TokenKey) -> String?)?
    }

    private let state: Mutex<State>

    /// Loads `modulePath` (once per process), finds the token and the private key `uri`
    /// names, and logs in with `pin` (nil: no login, for tokens that need none).
    public init(uri: PKCS11URI, modulePath: String, pin: [UInt8]?) throws(TokenError) {
        self.uri = uri
        self.pin = pin
        let module = try ModuleRegistry.module(at: modulePath)
        self.module = module
        let epoch = try ModuleRegistry.initialize(module)
        let opened = try Self.open(uri: uri, module: module, pin: pin, epoch: epoch)
        self.keyType = opened.keyType
        self.extractable = opened.extractable
        self.tokenLabel = opened.tokenLabel
        self.pinUntried = pin != nil && opened.alreadyLoggedIn
        state = Mutex(State(epoch: epoch, slot: opened.slot, key: opened.key, anchor: opened.anchor))
    }

    deinit {
        let (anchor, idle, epoch) = state.withLock { ($0.anchor, $0.idle, $0.epoch) }
        // Handles of an older epoch may now name another key's sessions: leave them.
        guard ModuleRegistry.begin(module, epoch: epoch) else { return }
        for session in idle + [anchor] where session != CK_INVALID_HANDLE { _ = module.functions.closeSession(session) }
        ModuleRegistry.end(module)
    }

    /// Installs the check a token that came back must pass (see ``State/check``).
    func setRecoveryCheck(_ check: @escaping @Sendable (TokenKey) -> String?) {
        state.withLock { $0.check = check }
    }

    /// A signature by the token over `data` with `mechanism` (and its parameter), or nil when
    /// the token refused: then ``problem`` says why until the token signs again.
    ///
    /// `checking`: the probe of a token that came back (``State/check``), which signs while
    /// the problem still stands, so that no request is signed before the key is known to be
    /// the CA's.
    func sign(_ data: [UInt8], mechanism: CK_MECHANISM_TYPE, parameter: [UInt8] = [], checking: Bool = false) -> [UInt8]? {
        guard let lease = state.withLock({ state -> (session: CK_SESSION_HANDLE?, slot: CK_SLOT_ID, key: CK_OBJECT_HANDLE, epoch: Int)? in
            guard state.failure == nil || checking else { return nil }
            state.inUse += 1
            return (state.idle.popLast(), state.slot, state.key, state.epoch)
        }) else { return nil }
        // The module may have been finalized and initialized again for another key since this
        // key's handles were found: then they are stale, and could even name that key's.
        guard ModuleRegistry.begin(module, epoch: lease.epoch) else {
            state.withLock { state in
                state.inUse -= 1
                if state.epoch == lease.epoch && (state.failure == nil || checking) {
                    state.failure = "the token \(tokenLabel)'s module was initialized again for another key; finding the key again"
                    state.nextAttempt = ContinuousClock.now
                }
            }
            return nil
        }
        defer { ModuleRegistry.end(module) }
        var session = lease.session ?? CK_SESSION_HANDLE(CK_INVALID_HANDLE)
        var result = CK_RV(CKR_OK)
        if lease.session == nil {
            result = module.functions.openSession(lease.slot, CK_FLAGS(CKF_SERIAL_SESSION), nil, nil, &session)
        }
        var signature: [UInt8] = []
        if result == CKR_OK {
            (result, signature) = Self.sign(data, mechanism: mechanism, parameter: parameter, key: lease.key, session: session, functions: module.functions)
        }
        let succeeded = result == CKR_OK
        let keep = state.withLock { state -> Bool in
            state.inUse -= 1
            guard state.epoch == lease.epoch else { return false }
            if succeeded {
                state.idle.append(session)
                return true
            }
            if state.failure == nil || checking {
                state.failure = "the token \(tokenLabel) did not sign (\(CryptokiResult.name(result)))"
                state.nextAttempt = ContinuousClock.now + Self.retryInterval
            }
            return false
        }
        if !keep && session != CK_INVALID_HANDLE {
            _ = module.functions.closeSession(session)
        }
        return succeeded ? signature : nil
    }

    /// Why the token cannot sign, or nil when it can. While it cannot, a call at most every
    /// ``retryInterval`` finalizes and initializes the module again and looks for the token
    /// and the key anew, and clears the problem when they are back and sign.
    public var problem: SigningProblem? {
        guard let reason = currentFailure else { return nil }
        let gaveUp = state.withLock { $0.gaveUp }
        return SigningProblem(reason, remedy: gaveUp ? .reload("ca.pin is corrected and dropca reloaded") : .tokenRetried(every: Self.retryInterval))
    }

    private var currentFailure: String? {
        let attempt = state.withLock { state -> (failure: String, epoch: Int)? in
            guard let failure = state.failure else { return nil }
            guard !state.gaveUp, ContinuousClock.now >= state.nextAttempt, state.inUse == 0 else { return (failure, -1) }
            state.nextAttempt = ContinuousClock.now + Self.retryInterval
            return (failure, state.epoch)
        }
        guard let attempt else { return nil }
        guard attempt.epoch >= 0 else { return attempt.failure }
        return recover(from: attempt.epoch)
    }

    /// One try at finding the token again; the problem that remains, or nil when it signs.
    private func recover(from epoch: Int) -> String? {
        let newEpoch: Int?
        do {
            newEpoch = try ModuleRegistry.reinitialize(module, after: epoch)
        } catch {
            return fail("the token is not usable (\(error.message))")
        }
        // Another key of the module signs right now: its sessions must not be finalized
        // under it. Next time.
        guard let newEpoch else { return state.withLock { $0.failure } }
        // The old handles are gone with the old epoch, whatever happens next.
        state.withLock { state in
            state.epoch = newEpoch
            state.idle = []
            state.anchor = CK_SESSION_HANDLE(CK_INVALID_HANDLE)
        }
        let opened: Opened
        do {
            opened = try Self.open(uri: uri, module: module, pin: pin, epoch: newEpoch)
        } catch {
            if error.code == .pinRefused {
                return fail("\(error.message); dropca stops trying so as not to lock it: correct ca.pin and reload", giveUp: true)
            }
            return fail("the token is not usable (\(error.message))")
        }
        // The problem stands until the re-found key has passed the check: workers sign
        // nothing in between.
        let check = state.withLock { state -> (@Sendable (TokenKey) -> String?)? in
            state.slot = opened.slot
            state.key = opened.key
            state.anchor = opened.anchor
            return state.check
        }
        guard let check else { return fail("no check of the key is set up; it is not taken back") }
        if let problem = check(self) { return fail(problem) }
        return state.withLock { state -> String? in
            state.failure = nil
            return nil
        }
    }

    private func fail(_ problem: String, giveUp: Bool = false) -> String {
        state.withLock { state in
            state.failure = problem
            state.gaveUp = state.gaveUp || giveUp
            state.nextAttempt = ContinuousClock.now + Self.retryInterval
        }
        return problem
    }

    // MARK: - Opening

    private struct Opened {
        let slot: CK_SLOT_ID
        let key: CK_OBJECT_HANDLE
        let anchor: CK_SESSION_HANDLE
        let keyType: KeyType
        let extractable: Bool
        let tokenLabel: String
        let alreadyLoggedIn: Bool
    }

    /// Finds the token and the key and logs in, in module epoch `epoch`.
    private static func open(uri: PKCS11URI, module: PKCS11Module, pin: [UInt8]?, epoch: Int) throws(TokenError) -> Opened {
        guard ModuleRegistry.begin(module, epoch: epoch) else {
            throw TokenError(.tokenFailure, "the module \(module.path) was initialized again meanwhile")
        }
        defer { ModuleRegistry.end(module) }
        let f = module.functions
        let (slot, label) = try findToken(uri: uri, module: module)
        var session = CK_SESSION_HANDLE(CK_INVALID_HANDLE)
        var result = f.openSession(slot, CK_FLAGS(CKF_SERIAL_SESSION), nil, nil, &session)
        guard result == CKR_OK else {
            throw TokenError(.tokenFailure, "cannot open a session on the token \(label): \(CryptokiResult.name(result))")
        }
        var keepSession = false
        defer { if !keepSession { _ = f.closeSession(session) } }
        var alreadyLoggedIn = false
        if var pin {
            result = pin.withUnsafeMutableBufferPointer { f.login(session, CK_USER_TYPE(CKU_USER), $0.baseAddress, CK_ULONG($0.count)) }
            // Wiped from this copy; the caller's copy stays for logging in again.
            for index in pin.indices { pin[index] = 0 }
            switch result {
            case CK_RV(CKR_OK):
                break
            case CK_RV(CKR_USER_ALREADY_LOGGED_IN):
                alreadyLoggedIn = true
            case CK_RV(CKR_PIN_INCORRECT), CK_RV(CKR_PIN_LEN_RANGE), CK_RV(CKR_PIN_INVALID):
                throw TokenError(.pinRefused, "the token \(label) refused the PIN in ca.pin (\(CryptokiResult.name(result)))")
            case CK_RV(CKR_PIN_LOCKED):
                throw TokenError(.pinRefused, "the token \(label) has locked its user PIN (CKR_PIN_LOCKED); unlock it with the SO PIN")
            default:
                throw TokenError(.tokenFailure, "cannot log in to the token \(label): \(CryptokiResult.name(result))")
            }
        }
        let key = try findKey(uri: uri, session: session, functions: f, label: label)
        var keyType = CK_KEY_TYPE(0)
        var extractable = CK_BBOOL(0)
        var attributes = [
            CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), pValue: nil, ulValueLen: CK_ULONG(MemoryLayout<CK_KEY_TYPE>.size)),
            CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), pValue: nil, ulValueLen: CK_ULONG(MemoryLayout<CK_BBOOL>.size)),
        ]
        result = withUnsafeMutablePointer(to: &keyType) { typePointer in
            withUnsafeMutablePointer(to: &extractable) { extractablePointer in
                attributes[0].pValue = UnsafeMutableRawPointer(typePointer)
                attributes[1].pValue = UnsafeMutableRawPointer(extractablePointer)
                return attributes.withUnsafeMutableBufferPointer { f.getAttributeValue(session, key, $0.baseAddress, CK_ULONG($0.count)) }
            }
        }
        guard result == CKR_OK else {
            throw TokenError(.tokenFailure, "cannot read the key type of \(uri) on the token \(label): \(CryptokiResult.name(result))")
        }
        let kind: KeyType = switch keyType {
        case CK_KEY_TYPE(CKK_RSA): .rsa
        case CK_KEY_TYPE(CKK_EC): .ec
        case CK_KEY_TYPE(CKK_EC_EDWARDS): .edwards
        default: .other(UInt(keyType))
        }
        keepSession = true
        return Opened(slot: slot, key: key, anchor: session, keyType: kind, extractable: extractable != 0, tokenLabel: label,
                      alreadyLoggedIn: alreadyLoggedIn)
    }

    /// The one slot whose token matches the URI's token and slot attributes.
    private static func findToken(uri: PKCS11URI, module: PKCS11Module) throws(TokenError) -> (CK_SLOT_ID, String) {
        let f = module.functions
        var count = CK_ULONG(0)
        var result = f.getSlotList(CK_BBOOL(CK_TRUE), nil, &count)
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        if result == CKR_OK && count > 0 {
            result = slots.withUnsafeMutableBufferPointer { f.getSlotList(CK_BBOOL(CK_TRUE), $0.baseAddress, &count) }
            slots = Array(slots.prefix(Int(count)))
        }
        guard result == CKR_OK else {
            throw TokenError(.noToken, "cannot list the tokens of \(module.path): \(CryptokiResult.name(result))")
        }
        var matches: [(CK_SLOT_ID, String)] = []
        var initialized = 0
        for slot in slots {
            var token = CK_TOKEN_INFO()
            var slotInfo = CK_SLOT_INFO()
            guard f.getTokenInfo(slot, &token) == CKR_OK, f.getSlotInfo(slot, &slotInfo) == CKR_OK else { continue }
            if token.flags & CK_FLAGS(CKF_TOKEN_INITIALIZED) != 0 { initialized += 1 }
            let label = padded(token.label)
            let wanted: [(String?, String)] = [
                (uri.token, label), (uri.manufacturer, padded(token.manufacturerID)), (uri.model, padded(token.model)),
                (uri.serial, padded(token.serialNumber)), (uri.slotDescription, padded(slotInfo.slotDescription)),
                (uri.slotManufacturer, padded(slotInfo.manufacturerID)),
            ]
            guard wanted.allSatisfy({ $0.0 == nil || $0.0 == $0.1 }), uri.slotID.map({ CK_SLOT_ID($0) == slot }) ?? true else { continue }
            matches.append((slot, label))
        }
        guard let first = matches.first else {
            // No token at all may be one not plugged in yet (SoftHSM2 always shows a free,
            // uninitialized one, which does not count); others but not this one, more
            // likely a URI that names the wrong token (a restart would not help).
            if initialized == 0 {
                throw TokenError(.noToken, "no token matches \(uri) in \(module.path): it has no token present")
            }
            throw TokenError(.badURI, "no token matches \(uri) in \(module.path): \(initialized) token(s) present, none matches")
        }
        guard matches.count == 1 else {
            throw TokenError(.badURI, "\(matches.count) tokens match \(uri); add token=, serial= or slot-id= to name one")
        }
        return first
    }

    /// The one private key object the URI's object and id name.
    private static func findKey(uri: PKCS11URI, session: CK_SESSION_HANDLE, functions f: PKCS11Module.Functions, label: String) throws(TokenError) -> CK_OBJECT_HANDLE {
        var keyClass = CK_OBJECT_CLASS(CKO_PRIVATE_KEY)
        var objectLabel = Array((uri.object ?? "").utf8)
        var id = uri.id ?? []
        var handles = [CK_OBJECT_HANDLE](repeating: 0, count: 2)
        var found = CK_ULONG(0)
        let result: CK_RV = withUnsafeMutablePointer(to: &keyClass) { classPointer in
            objectLabel.withUnsafeMutableBytes { labelBytes in
                id.withUnsafeMutableBytes { idBytes in
                    var template = [CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_CLASS), pValue: UnsafeMutableRawPointer(classPointer),
                                                 ulValueLen: CK_ULONG(MemoryLayout<CK_OBJECT_CLASS>.size))]
                    if uri.object != nil {
                        template.append(CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_LABEL), pValue: labelBytes.baseAddress, ulValueLen: CK_ULONG(labelBytes.count)))
                    }
                    if uri.id != nil {
                        template.append(CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_ID), pValue: idBytes.baseAddress, ulValueLen: CK_ULONG(idBytes.count)))
                    }
                    var result = template.withUnsafeMutableBufferPointer { f.findObjectsInit(session, $0.baseAddress, CK_ULONG($0.count)) }
                    guard result == CKR_OK else { return result }
                    result = handles.withUnsafeMutableBufferPointer { f.findObjects(session, $0.baseAddress, 2, &found) }
                    _ = f.findObjectsFinal(session)
                    return result
                }
            }
        }
        guard result == CKR_OK else {
            throw TokenError(.tokenFailure, "cannot search the token \(label) for \(uri): \(CryptokiResult.name(result))")
        }
        guard found == 1 else {
            throw TokenError(.keyNotFound, found == 0
                ? "no private key matches \(uri) on the token \(label) (a wrong object= or id=, or no login: ca.pin)"
                : "more than one private key matches \(uri) on the token \(label); add id= to name one")
        }
        return handles[0]
    }

    /// One `C_SignInit` and `C_Sign`; the signature buffer is sized by asking first.
    private static func sign(_ data: [UInt8], mechanism: CK_MECHANISM_TYPE, parameter: [UInt8], key: CK_OBJECT_HANDLE,
                             session: CK_SESSION_HANDLE, functions f: PKCS11Module.Functions) -> (CK_RV, [UInt8]) {
        var parameterBytes = parameter
        var result = parameterBytes.withUnsafeMutableBytes { bytes in
            var chosen = CK_MECHANISM(mechanism: mechanism, pParameter: bytes.isEmpty ? nil : bytes.baseAddress,
                                      ulParameterLen: CK_ULONG(bytes.count))
            return f.signInit(session, &chosen, key)
        }
        guard result == CKR_OK else { return (result, []) }
        var message = data
        var length = CK_ULONG(1024)
        var signature = [UInt8](repeating: 0, count: Int(length))
        result = message.withUnsafeMutableBufferPointer { input in
            signature.withUnsafeMutableBufferPointer { f.sign(session, input.baseAddress, CK_ULONG(input.count), $0.baseAddress, &length) }
        }
        guard result == CKR_OK, Int(length) <= signature.count else { return (result == CKR_OK ? CK_RV(CKR_BUFFER_TOO_SMALL) : result, []) }
        return (result, Array(signature.prefix(Int(length))))
    }

    /// A blank-padded fixed-size field of CK_TOKEN_INFO or CK_SLOT_INFO as a string.
    private static func padded<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { bytes in
            var text = String(decoding: bytes, as: UTF8.self)
            while text.last == " " || text.last == "\0" { text.removeLast() }
            return text
        }
    }
}

/// Modules are loaded once per process and kept: a module's Cryptoki state is the
/// process's, whichever key uses it, so `C_Initialize` and `C_Finalize` are counted here
/// in epochs, and every use of a module's sessions (``begin(_:epoch:)`` to ``end(_:)``) is
/// counted too. A key's handles belong to the epoch they were found in; a use in an older
/// epoch is refused (the handles may name another key's objects now). A key that failed
/// finalizes and initializes again only when nothing of the module is in use and no other
/// key has done so since; otherwise it just opens anew in the current epoch. So the old and
/// the new CA of a reload never finalize each other's sessions or sign with stale handles.
enum ModuleRegistry {
    private struct Entry {
        let module: PKCS11Module
        var epoch = 0
        var initialized = false
        var inFlight = 0
    }

    private static let entries = Mutex<[String: Entry]>([:])

    static func module(at path: String) throws(TokenError) -> PKCS11Module {
        if let module = entries.withLock({ $0[path]?.module }) { return module }
        let module = try PKCS11Module(path: path)
        return entries.withLock { entries in
            if let existing = entries[path] { return existing.module }
            entries[path] = Entry(module: module)
            return module
        }
    }

    /// Initializes the module if it is not yet; its current epoch.
    static func initialize(_ module: PKCS11Module) throws(TokenError) -> Int {
        let outcome = entries.withLock { entries -> Result<Int, TokenError> in
            guard var entry = entries[module.path] else { return .failure(TokenError(.moduleUnloadable, "\(module.path) is not loaded")) }
            if !entry.initialized {
                let result = module.initialize()
                guard result == CKR_OK else {
                    // Loaded, so a module; one that cannot reach its HSM (or, for SoftHSM2,
                    // its token store) fails here, which may pass.
                    return .failure(TokenError(.tokenFailure, "the PKCS#11 module \(module.path) did not initialize: \(CryptokiResult.name(result))"))
                }
                entry.initialized = true
                entries[module.path] = entry
            }
            return .success(entry.epoch)
        }
        return try outcome.get()
    }

    /// Starts a use of the module's sessions with handles of `epoch`; false when the module
    /// is not initialized in that epoch (the handles are stale).
    static func begin(_ module: PKCS11Module, epoch: Int) -> Bool {
        entries.withLock { entries in
            guard var entry = entries[module.path], entry.initialized, entry.epoch == epoch else { return false }
            entry.inFlight += 1
            entries[module.path] = entry
            return true
        }
    }

    static func end(_ module: PKCS11Module) {
        entries.withLock { entries in
            entries[module.path]?.inFlight -= 1
        }
    }

    /// Finalizes and initializes the module again, unless that happened since `epoch`;
    /// the epoch now. Nil when a session of the module is in use: try later.
    static func reinitialize(_ module: PKCS11Module, after epoch: Int) throws(TokenError) -> Int? {
        let outcome = entries.withLock { entries -> Result<Int?, TokenError> in
            guard var entry = entries[module.path] else { return .failure(TokenError(.moduleUnloadable, "\(module.path) is not loaded")) }
            guard entry.epoch == epoch || !entry.initialized else { return .success(entry.epoch) }
            guard entry.inFlight == 0 else { return .success(nil) }
            if entry.initialized {
                let finalized = module.finalize()
                guard finalized == CKR_OK || finalized == CKR_CRYPTOKI_NOT_INITIALIZED else {
                    return .failure(TokenError(.tokenFailure, "the PKCS#11 module \(module.path) did not finalize: \(CryptokiResult.name(finalized))"))
                }
            }
            entry.initialized = false
            entry.epoch += 1
            let result = module.initialize()
            entry.initialized = result == CKR_OK
            entries[module.path] = entry
            guard result == CKR_OK else {
                return .failure(TokenError(.tokenFailure, "the PKCS#11 module \(module.path) did not initialize: \(CryptokiResult.name(result))"))
            }
            return .success(entry.epoch)
        }
        return try outcome.get()
    }
}
