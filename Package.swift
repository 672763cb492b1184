// swift-tools-version: 6.1
import PackageDescription

/// Release builds of the codec kernels need AVX2 (x86-64-v3, every x86-64 server we target);
/// there is no run-time check, so a release binary does not start on older CPUs. Debug builds
/// run on any x86-64.
let package = Package(
    name: "RadonFS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "radonfs", targets: ["radonfs"]),
        .library(name: "RadonCodec", targets: ["RadonCodec"]),
        .library(name: "RadonClient", targets: ["RadonClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C system libraries from Debian (libisal-dev, libfuse3-dev).
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CFUSE3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),

        // Erasure codes: no network, no disk.
        .target(name: "RadonCodec", dependencies: ["CISAL"]),
        // Framing, authentication (mutual TLS with the cluster CA, or the shared key when
        // --insecure), roles, connections and the message types of every service.
        .target(name: "RadonWire", dependencies: [
            "RadonCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The storage daemon: fragments on local disks.
        .target(name: "RadonStorage", dependencies: [
            "RadonWire", "RadonCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The cluster's state as metrics, over the metadata service's answers.
        .target(name: "RadonExporter", dependencies: [
            "RadonWire",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The web console: the cluster's state and admin actions over HTTP, from the metadata
        // service's own answers (plain HTML, CSS and JS embedded, no build step).
        .target(name: "RadonConsole", dependencies: [
            "RadonWire",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The metadata service: namespace, volumes, placement groups, node registry.
        .target(name: "RadonMeta", dependencies: [
            "RadonWire",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The client core: striping, encoding, fan-out, caching. Knows nothing of FUSE.
        .target(name: "RadonClient", dependencies: [
            "RadonWire", "RadonCodec",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The FUSE mount over the client core.
        .target(name: "RadonMount", dependencies: [
            "CFUSE3", "RadonClient", "RadonWire",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Every subcommand of `radonfs`.
        .target(name: "RadonCLI", dependencies: [
            "RadonCodec", "RadonWire", "RadonStorage", "RadonMeta", "RadonClient", "RadonMount", "RadonExporter", "RadonConsole",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .executableTarget(name: "radonfs", dependencies: ["RadonCLI"]),

        .testTarget(name: "RadonCodecTests", dependencies: ["RadonCodec", "RadonTestSupport"]),
        // The web console: its events and tokens alone, then a real cluster's console in headless Chromium.
        .testTarget(name: "RadonConsoleTests", dependencies: [
            "RadonConsole", "RadonWire", "RadonTestSupport", "RadonClient",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RadonCLITests", dependencies: ["RadonCLI", "RadonClient"]),
        .testTarget(name: "RadonWireTests", dependencies: [
            "RadonWire", "RadonTestSupport", .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RadonStorageTests", dependencies: ["RadonStorage", "RadonWire", "RadonClient", "RadonTestSupport"]),
        .testTarget(name: "RadonMetaTests", dependencies: ["RadonMeta", "RadonWire", "RadonTestSupport"]),
        // What the tests that start real clusters share: the built binary, `radonfs up` clusters,
        // daemons, polling, pattern bytes, the test PostgreSQL server.
        .target(name: "RadonTestSupport", dependencies: [
            "RadonClient", "RadonWire",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/RadonTestSupport"),
        .testTarget(name: "RadonClusterTests", dependencies: ["RadonTestSupport", "RadonClient", "RadonWire", "RadonCodec", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RadonMountTests", dependencies: ["RadonClient", "RadonMount", "RadonMeta", "RadonTestSupport", .product(name: "Logging", package: "swift-log")]),
        // Active/standby metadata servers over a local replicated PostgreSQL: real processes.
        .testTarget(name: "RadonFailoverTests", dependencies: ["RadonTestSupport", "RadonClient", "RadonWire", .product(name: "Logging", package: "swift-log")]),
        // Deployment: daemons from config files (one in a network namespace), the systemd units.
        .testTarget(name: "RadonDeployTests", dependencies: ["RadonTestSupport"]),
        .testTarget(name: "RadonHealingTests", dependencies: ["RadonTestSupport", "RadonClient", "RadonWire", "RadonMeta", "RadonStorage", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]),
    ]
)

// Codec kernels: let the optimiser use AVX2 in release builds of the codec only (haswell is the
// x86-64-v3 level: AVX2, BMI2, FMA). The 32-byte pixel XORs then become single vpxor ymm
// instructions; debug builds keep the portable SSE2 lowering.
for target in package.targets where target.name == "RadonCodec" {
    target.swiftSettings = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]
}
