// In-process issuance benchmark: how many certificates one `Issuer` signs per second when
// nothing but the issuance engine runs (no spool, no ledger, no logging).
//
// Builds the issuer once, warms up, then runs batches of `issuer.issue(bytes)` and prints
// one line of `key=value` pairs. Every result must be `.success`; a rejection stops the
// run with exit status 1. `scripts/bench-issuance` runs it next to `openssl speed`.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
@_spi(Benchmark) import Issuance

let usage = """
    usage: IssuanceBenchmark CA_CERT CA_KEY REQUEST [options]

      CA_CERT, CA_KEY   the signing CA (PEM or DER), as dropca loads them
      REQUEST           one PKCS#10 request file (DER, PEM or base64), issued again and again

    options:
      --seconds S       measure for about S seconds in total (default 5)
      --iterations N    measure exactly N issuances instead (split into the batches)
      --batches B       number of measured batches (default 10); the median batch is reported
      --threads T       issuing threads sharing the one Issuer (default 1)
      --warmup S        warm-up seconds before measuring (default 1)
      --label NAME      a case name echoed as case=NAME
      --rsa-signature sha256|sha384|sha512|pss-sha256   CA signature scheme for RSA CAs
      --names RULES     name policy mode: RULES holds one "LIST VALUE" line per rule
                        (LIST as in [names]: dns, ip, email, uri, deny_dns…; also
                        "allow_wildcards true", "free_text_cn true"; # comments). Measures,
                        interleaved batch by batch, issuance without and with that policy,
                        the syntax check of the request's names and the policy check alone,
                        and prints them side by side (see "names output" below)

    output (one line): case threads batches batch_size issuances elapsed_s rate_per_s
      median_batch_rate_per_s min_batch_rate_per_s max_batch_rate_per_s
      median_latency_us cpu_us_per_issuance der_bytes

    names output (one line): case rules sans batches batch_size issuance_us
      issuance_with_names_us syntax_check_us names_check_us names_share_pct
      (microseconds per request, medians over the batches; names_share_pct =
      names_check_us / issuance_with_names_us)
    """

struct Options {
    var certificatePath = ""
    var keyPath = ""
    var requestPath = ""
    var seconds = 5.0
    var iterations: Int? = nil
    var batches = 10
    var threads = 1
    var warmupSeconds = 1.0
    var label = "issuance"
    var rsaSignature = RSASignatureScheme.sha256
    var namesPath: String? = nil
}

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("IssuanceBenchmark: \(message)\n".utf8))
    exit(status)
}

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var positional: [String] = []
    var index = 0
    func value(_ name: String) -> String {
        index += 1
        guard index < arguments.count else { fail("\(name) needs a value\n\(usage)") }
        return arguments[index]
    }
    func positiveNumber(_ name: String) -> Double {
        let text = value(name)
        guard let number = Double(text), number.isFinite, number >= 0 else { fail("\(name): not a number: \(text)") }
        return number
    }
    func positiveInteger(_ name: String) -> Int {
        let text = value(name)
        guard let number = Int(text), number > 0 else { fail("\(name): not a positive integer: \(text)") }
        return number
    }
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "-h", "--help":
            print(usage)
            exit(0)
        case "--seconds": options.seconds = positiveNumber(argument)
        case "--iterations": options.iterations = positiveInteger(argument)
        case "--batches": options.batches = positiveInteger(argument)
        case "--threads": options.threads = positiveInteger(argument)
        case "--warmup": options.warmupSeconds = positiveNumber(argument)
        case "--label": options.label = value(argument)
        case "--names": options.namesPath = value(argument)
        case "--rsa-signature":
            let text = value(argument)
            guard let scheme = RSASignatureScheme(rawValue: text) else { fail("--rsa-signature: unknown scheme \(text)") }
            options.rsaSignature = scheme
        default:
            if argument.hasPrefix("--") { fail("unknown option \(argument)\n\(usage)") }
            positional.append(argument)
        }
        index += 1
    }
    guard positional.count == 3 else { fail(usage) }
    options.certificatePath = positional[0]
    options.keyPath = positional[1]
    options.requestPath = positional[2]
    return options
}

func readFile(_ path: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    return [UInt8](data)
}

/// Monotonic wall clock in seconds.
func wallSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// CPU time of the whole process (all threads, user + system) in seconds.
func processCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Issues `count` certificates and returns the size of the last one; exits on a rejection.
@inline(never)
func issueLoop(_ issuer: Issuer, _ request: [UInt8], count: Int) -> Int {
    var size = 0
    for _ in 0..<count {
        switch issuer.issue(request) {
        case .success(let certificate):
            size = certificate.der.count
        case .failure(let rejection):
            fail("the request was rejected (\(rejection.code.rawValue)): \(rejection.reason)", status: 1)
        }
    }
    return size
}

/// Runs `perThread` issuances on each of `threads` threads at once and waits for all.
/// One thread runs on the calling thread, so `--threads 1` measures no thread handoff.
func runParallel(_ issuer: Issuer, _ request: [UInt8], threads: Int, perThread: Int) -> Int {
    if threads == 1 { return issueLoop(issuer, request, count: perThread) }
    let group = DispatchGroup()
    for _ in 1..<threads {
        group.enter()
        let thread = Thread {
            _ = issueLoop(issuer, request, count: perThread)
            group.leave()
        }
        thread.start()
    }
    let size = issueLoop(issuer, request, count: perThread)
    group.wait()
    return size
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
let request = readFile(options.requestPath)
let authority: CertificateAuthority
do {
    authority = try CertificateAuthority(certificate: readFile(options.certificatePath), privateKey: readFile(options.keyPath))
} catch {
    fail("loading the CA: \(error)")
}
let issuer: Issuer
do {
    issuer = try Issuer(authority: authority, policy: IssuancePolicy(), profile: CertificateProfile(rsaSignature: options.rsaSignature))
} catch {
    fail("setting up the issuer: \(error)")
}

if let namesPath = options.namesPath {
    runNamesComparison(authority: authority, plain: issuer, rulesPath: namesPath, request: request, options: options)
    exit(0)
}

// Warm-up: page in code, fill OpenSSL's caches, and calibrate the batch size.
let threads = options.threads
var warmupCount = 0
let warmupStart = wallSeconds()
repeat {
    _ = runParallel(issuer, request, threads: threads, perThread: 1)
    warmupCount += threads
} while wallSeconds() - warmupStart < options.warmupSeconds
let warmupRate = Double(warmupCount) / max(wallSeconds() - warmupStart, 1e-9)

let perThreadBatch: Int
if let iterations = options.iterations {
    perThreadBatch = max(1, iterations / (options.batches * threads))
} else {
    let batchSeconds = options.seconds / Double(options.batches)
    perThreadBatch = max(1, Int((warmupRate * batchSeconds / Double(threads)).rounded()))
}
let batchSize = perThreadBatch * threads

var batchRates: [Double] = []
var derBytes = 0
let cpuStart = processCPUSeconds()
let measureStart = wallSeconds()
for _ in 0..<options.batches {
    let start = wallSeconds()
    derBytes = runParallel(issuer, request, threads: threads, perThread: perThreadBatch)
    batchRates.append(Double(batchSize) / (wallSeconds() - start))
}
let elapsed = wallSeconds() - measureStart
let cpu = processCPUSeconds() - cpuStart
let issuances = batchSize * options.batches

let medianRate = median(batchRates)
func format(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }
let fields: [(String, String)] = [
    ("case", options.label),
    ("threads", "\(threads)"),
    ("batches", "\(options.batches)"),
    ("batch_size", "\(batchSize)"),
    ("issuances", "\(issuances)"),
    ("elapsed_s", format(elapsed, 3)),
    ("rate_per_s", format(Double(issuances) / elapsed)),
    ("median_batch_rate_per_s", format(medianRate)),
    ("min_batch_rate_per_s", format(batchRates.min() ?? 0)),
    ("max_batch_rate_per_s", format(batchRates.max() ?? 0)),
    // Per-thread latency of one issuance in the median batch.
    ("median_latency_us", format(medianRate > 0 ? 1e6 * Double(threads) / medianRate : 0, 2)),
    ("cpu_us_per_issuance", format(1e6 * cpu / Double(issuances), 2)),
    ("der_bytes", "\(derBytes)"),
]
print(fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))

// MARK: - Name policy mode

/// The name policy a rules file describes, for profile "bench".
func namePolicy(fromRules path: String) -> (policy: NamePolicy, count: Int) {
    guard let text = String(data: Data(readFile(path)), encoding: .utf8) else { fail("\(path) is not UTF-8 text") }
    var lists: [NamePolicy.List: [String]] = [:]
    var allowWildcards = false
    var freeTextCN = false
    var count = 0
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
        let parts = trimmed.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { fail("\(path):\(number + 1): expected LIST VALUE") }
        switch parts[0] {
        case "allow_wildcards": allowWildcards = parts[1] == "true"
        case "free_text_cn": freeTextCN = parts[1] == "true"
        default:
            guard let list = NamePolicy.List(rawValue: parts[0]) else { fail("\(path):\(number + 1): unknown list \(parts[0])") }
            lists[list, default: []].append(parts[1])
            count += 1
        }
    }
    do {
        return (try NamePolicy(profile: "bench", lists: lists, allowWildcards: allowWildcards, freeTextCN: freeTextCN), count)
    } catch {
        fail("\(path): \(error)")
    }
}

/// Microseconds per call of `body`, `count` calls; exits when a call throws.
@inline(never)
func microseconds(_ count: Int, _ body: () throws(Rejection) -> Void) -> Double {
    let start = wallSeconds()
    for _ in 0..<count {
        do {
            try body()
        } catch {
            fail("the request was rejected (\(error.code.rawValue)): \(error.reason)", status: 1)
        }
    }
    return 1e6 * (wallSeconds() - start) / Double(count)
}

func runNamesComparison(authority: CertificateAuthority, plain: Issuer, rulesPath: String, request: [UInt8], options: Options) {
    let (policy, ruleCount) = namePolicy(fromRules: rulesPath)
    let withNames: Issuer
    let syntax: () throws(Rejection) -> Void
    let check: () throws(Rejection) -> Void
    do {
        withNames = try Issuer(authority: authority, policy: IssuancePolicy(), profile: CertificateProfile(rsaSignature: options.rsaSignature), names: policy)
        syntax = try withNames.nameSyntaxCheck(for: request)
        check = try withNames.namePolicyCheck(for: request)
    } catch {
        fail("setting up: \(error)")
    }
    let issuePlain = { () throws(Rejection) in _ = try plain.issue(request).get() }
    let issueWithNames = { () throws(Rejection) in _ = try withNames.issue(request).get() }
    let sanCount: Int
    switch withNames.issue(request) {
    case .success(let certificate): sanCount = certificate.subjectAlternativeNames.count
    case .failure(let rejection): fail("the request is rejected under the rules (\(rejection.code.rawValue)): \(rejection.reason)", status: 1)
    }

    // Warm-up, and a batch size of about a tenth of --seconds per kind of issuance.
    let warmupStart = wallSeconds()
    var warmups = 0
    repeat {
        _ = microseconds(1, issuePlain)
        _ = microseconds(1, issueWithNames)
        _ = microseconds(10, syntax)
        _ = microseconds(10, check)
        warmups += 1
    } while wallSeconds() - warmupStart < options.warmupSeconds
    let issuanceSeconds = (wallSeconds() - warmupStart) / Double(max(warmups, 1)) / 2
    let batchSize = options.iterations.map { max(1, $0 / options.batches) }
        ?? max(1, Int(options.seconds / Double(options.batches) / 2 / max(issuanceSeconds, 1e-9)))

    var plainTimes: [Double] = [], namesTimes: [Double] = [], syntaxTimes: [Double] = [], checkTimes: [Double] = []
    for _ in 0..<options.batches {
        plainTimes.append(microseconds(batchSize, issuePlain))
        namesTimes.append(microseconds(batchSize, issueWithNames))
        // The checks are far cheaper: ten times the calls for a steady figure.
        syntaxTimes.append(microseconds(batchSize * 10, syntax))
        checkTimes.append(microseconds(batchSize * 10, check))
    }
    let withNamesMedian = median(namesTimes)
    let checkMedian = median(checkTimes)
    func format(_ value: Double, _ decimals: Int = 2) -> String { String(format: "%.\(decimals)f", value) }
    let fields: [(String, String)] = [
        ("case", options.label),
        ("rules", "\(ruleCount)"),
        ("sans", "\(sanCount)"),
        ("batches", "\(options.batches)"),
        ("batch_size", "\(batchSize)"),
        ("issuance_us", format(median(plainTimes))),
        ("issuance_with_names_us", format(withNamesMedian)),
        ("syntax_check_us", format(median(syntaxTimes))),
        ("names_check_us", format(checkMedian)),
        ("names_share_pct", format(100 * checkMedian / max(withNamesMedian, 1e-9))),
    ]
    print(fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
}
