import Foundation

/// The program's entry point, in both builds.
///
/// SwiftPM links every executable target with `main` aliased to this module's `@main`
/// entry point (`--defsym main=IssuanceFuzzer_main` on Linux), so libFuzzer's own `main`
/// is never used: with -DFUZZING (`scripts/fuzz-intake`) this hands the command line to
/// libFuzzer's driver, which then behaves exactly like a libFuzzer binary. Without it (the
/// normal `swift build`) the program is a replay tool that runs the fuzz entry point over
/// the files and folders it is given, e.g. a crash input, without sanitizers:
///
///   swift run IssuanceFuzzer crash-0123abcd Tests/IssuanceTests/Fixtures/fuzz
@main
struct FuzzerMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            // libFuzzer always passes a non-null pointer, even for an empty input.
            guard let data else { return 0 }
            return fuzz(data, size)
        })
        #else
        replay(CommandLine.arguments.dropFirst())
        #endif
    }

    /// Runs every named file (and every file in every named folder) through `fuzz`,
    /// printing one line per input with its outcome under the default policy.
    static func replay(_ arguments: ArraySlice<String>) {
        if arguments.isEmpty || arguments.contains("-h") || arguments.contains("--help") {
            print("usage: IssuanceFuzzer FILE_OR_FOLDER...   (replays inputs through the fuzz target)")
            exit(arguments.isEmpty ? 2 : 0)
        }
        var count = 0
        for argument in arguments {
            for path in files(at: argument) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("IssuanceFuzzer: cannot read \(path)\n".utf8))
                    exit(1)
                }
                let bytes = [UInt8](data)
                // A non-null pointer even for an empty file, as libFuzzer passes.
                let storage = bytes.isEmpty ? [0] : bytes
                _ = storage.withUnsafeBufferPointer { fuzz($0.baseAddress!, bytes.count) }
                let outcome: String
                switch FuzzHarness.shared.strict.issue(bytes, now: FuzzHarness.now) {
                case .success(let issued): outcome = "issued \(issued.serialHex)"
                case .failure(let rejection): outcome = "rejected \(rejection.code.rawValue): \(rejection.reason)"
                }
                print("\(path): \(outcome)")
                count += 1
            }
        }
        print("replayed \(count) input(s) with no crash")
    }

    /// The regular files at `path`: the file itself, or a folder's files, sorted by name.
    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            FileHandle.standardError.write(Data("IssuanceFuzzer: no such file or folder: \(path)\n".utf8))
            exit(1)
        }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { (path as NSString).appendingPathComponent($0) }.filter {
            var sub: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &sub) && !sub.boolValue
        }
    }
}

#if FUZZING
/// libFuzzer's driver (compiler-rt, `-sanitize=fuzzer`): parses libFuzzer's flags from the
/// command line and runs the fuzzing loop, minimisation or replay they ask for. Declared
/// with @_extern(c), which needs `-enable-experimental-feature Extern` (the script passes it).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
