import Foundation
internal import CPKCS11

/// A PKCS#11 module (`ca.pkcs11_module`: SoftHSM2's, p11-kit's proxy or client, a vendor's),
/// loaded with dlopen, and the Cryptoki functions dropca calls, checked to be there once.
///
/// The one owner of the dlopen handle; it is closed when the last ``TokenKey`` using the
/// module goes. `C_Initialize` and `C_Finalize` are the token key's to call (it finalizes and
/// initializes again to find a token that was removed and is back).
final class PKCS11Module: @unchecked Sendable {
    struct Functions {
        let initialize: CK_C_Initialize
        let finalize: CK_C_Finalize
        let getSlotList: CK_C_GetSlotList
        let getSlotInfo: CK_C_GetSlotInfo
        let getTokenInfo: CK_C_GetTokenInfo
        let openSession: CK_C_OpenSession
        let closeSession: CK_C_CloseSession
        let login: CK_C_Login
        let findObjectsInit: CK_C_FindObjectsInit
        let findObjects: CK_C_FindObjects
        let findObjectsFinal: CK_C_FindObjectsFinal
        let getAttributeValue: CK_C_GetAttributeValue
        let signInit: CK_C_SignInit
        let sign: CK_C_Sign
    }

    let path: String
    let functions: Functions
    private let handle: UnsafeMutableRawPointer

    init(path: String) throws(TokenError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw TokenError(.moduleUnloadable, "the PKCS#11 module \(path) (ca.pkcs11_module) does not exist")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw TokenError(.moduleUnloadable, "cannot load the PKCS#11 module \(path): \(reason)")
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            dlclose(handle)
            throw TokenError(.moduleUnloadable, "\(path) is not a PKCS#11 module: it has no C_GetFunctionList")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>? = nil
        guard getFunctionList(&list) == CKR_OK, let list else {
            dlclose(handle)
            throw TokenError(.moduleUnloadable, "the PKCS#11 module \(path) returned no function list")
        }
        let f = list.pointee
        guard let initialize = f.C_Initialize, let finalize = f.C_Finalize, let getSlotList = f.C_GetSlotList,
              let getSlotInfo = f.C_GetSlotInfo, let getTokenInfo = f.C_GetTokenInfo, let openSession = f.C_OpenSession,
              let closeSession = f.C_CloseSession, let login = f.C_Login, let findObjectsInit = f.C_FindObjectsInit,
              let findObjects = f.C_FindObjects, let findObjectsFinal = f.C_FindObjectsFinal,
              let getAttributeValue = f.C_GetAttributeValue, let signInit = f.C_SignInit, let sign = f.C_Sign else {
            dlclose(handle)
            throw TokenError(.moduleUnloadable, "the PKCS#11 module \(path) lacks functions dropca needs (sessions, login, objects, signing)")
        }
        self.handle = handle
        self.functions = Functions(
            initialize: initialize, finalize: finalize, getSlotList: getSlotList, getSlotInfo: getSlotInfo,
            getTokenInfo: getTokenInfo, openSession: openSession, closeSession: closeSession, login: login,
            findObjectsInit: findObjectsInit, findObjects: findObjects, findObjectsFinal: findObjectsFinal,
            getAttributeValue: getAttributeValue, signInit: signInit, sign: sign)
    }

    deinit {
        dlclose(handle)
    }

    /// `C_Initialize` for a multi-threaded caller: the module uses the operating system's
    /// locks, so workers may sign on their own sessions at once.
    func initialize() -> CK_RV {
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let result = withUnsafeMutablePointer(to: &arguments) { functions.initialize(UnsafeMutableRawPointer($0)) }
        return result == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CK_RV(CKR_OK) : result
    }

    func finalize() -> CK_RV {
        functions.finalize(nil)
    }
}

/// The name of a Cryptoki return value, for messages: `CKR_PIN_INCORRECT`.
enum CryptokiResult {
    static func name(_ value: CK_RV) -> String {
        let names: [CK_RV: String] = [
            CK_RV(CKR_OK): "CKR_OK", CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR", CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED",
            CK_RV(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD", CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR",
            CK_RV(CKR_DEVICE_MEMORY): "CKR_DEVICE_MEMORY", CK_RV(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED",
            CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID", CK_RV(CKR_KEY_TYPE_INCONSISTENT): "CKR_KEY_TYPE_INCONSISTENT",
            CK_RV(CKR_KEY_FUNCTION_NOT_PERMITTED): "CKR_KEY_FUNCTION_NOT_PERMITTED",
            CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID", CK_RV(CKR_MECHANISM_PARAM_INVALID): "CKR_MECHANISM_PARAM_INVALID",
            CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID", CK_RV(CKR_OPERATION_ACTIVE): "CKR_OPERATION_ACTIVE",
            CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT", CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED",
            CK_RV(CKR_PIN_EXPIRED): "CKR_PIN_EXPIRED", CK_RV(CKR_PIN_LEN_RANGE): "CKR_PIN_LEN_RANGE",
            CK_RV(CKR_SESSION_CLOSED): "CKR_SESSION_CLOSED", CK_RV(CKR_SESSION_COUNT): "CKR_SESSION_COUNT",
            CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID", CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT",
            CK_RV(CKR_TOKEN_NOT_RECOGNIZED): "CKR_TOKEN_NOT_RECOGNIZED", CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN",
            CK_RV(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED", CK_RV(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL",
            CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED", CK_RV(CKR_DATA_LEN_RANGE): "CKR_DATA_LEN_RANGE",
            CK_RV(CKR_HOST_MEMORY): "CKR_HOST_MEMORY", CK_RV(CKR_SLOT_ID_INVALID): "CKR_SLOT_ID_INVALID",
        ]
        return names[value] ?? "CKR 0x" + String(value, radix: 16)
    }
}
