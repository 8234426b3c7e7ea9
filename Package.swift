// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dropca",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dropca", targets: ["dropca"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // Prometheus text exposition for node_exporter's textfile collector.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // Tests only: an ASN.1 reader independent of OpenSSL, to compare what we issue
        // with what was requested byte for byte.
        .package(url: "https://github.com/apple/swift-asn1", from: "1.3.0"),
    ],
    targets: [
        // C-facing targets: the only places that see C headers.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // The PKCS#11 (Cryptoki) header, from p11-kit's development package; the module
        // itself is loaded at run time (ca.pkcs11_module), so nothing is linked.
        .systemLibrary(
            name: "CPKCS11",
            providers: [.apt(["libp11-kit-dev"])]
        ),

        .target(name: "Issuance", dependencies: ["COpenSSL", "CPKCS11"]),
        .target(name: "Spool", dependencies: [.product(name: "DequeModule", package: "swift-collections")]),
        .target(name: "Ledger", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "Journal",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DropCA",
            dependencies: [
                "Issuance", "Spool", "Ledger", "Journal",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "dropca",
            dependencies: [
                "DropCA",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // `dropcaVersion` from debian/changelog: one version for `--version` and the package.
            plugins: ["ChangelogVersion"]
        ),
        .plugin(name: "ChangelogVersion", capability: .buildTool()),
        // `scripts/bench-issuance` runs this in release mode: in-process issuance rate.
        .executableTarget(name: "IssuanceBenchmark", dependencies: ["Issuance"]),
        // libFuzzer target over the intake path (bytes -> decoding -> parsing -> policy ->
        // certificate); `scripts/fuzz-intake` builds it with -sanitize=fuzzer,address
        // -DFUZZING. A normal build makes a replay tool: `swift run IssuanceFuzzer FILE...`.
        .executableTarget(name: "IssuanceFuzzer", dependencies: ["Issuance", "COpenSSL"]),

        .target(
            name: "TestSupport",
            dependencies: [.product(name: "SwiftASN1", package: "swift-asn1")],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "IssuanceTests",
            dependencies: ["Issuance", "TestSupport", .product(name: "SwiftASN1", package: "swift-asn1")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "SpoolTests", dependencies: ["Spool"]),
        .testTarget(
            name: "JournalTests",
            dependencies: ["Journal", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: ["Ledger", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "DropCATests",
            dependencies: ["DropCA", "Issuance", "TestSupport", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        // Reads `Sources/` and holds every target's imports against the allowed layers.
        .testTarget(name: "LayeringTests"),
    ]
)
