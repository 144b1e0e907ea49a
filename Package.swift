// swift-tools-version:6.0
import PackageDescription

/// One set of compiler settings for every target, so the whole package is held
/// to the same strictness (Swift 6 language mode is the tools-version default).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "token-authority",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "token-authority", targets: ["token-authority"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // The TOML subset `deployment.toml` is written in: pure Swift, no dependency, never traps.
        .target(name: "TOMLSubset", swiftSettings: swiftSettings),
        // The OAuth core: domain types, grants, policies, errors, store protocols.
        // Imports neither the HTTP framework nor the database library.
        .target(
            name: "TokenAuthority",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SQLite implementation of the store protocols, and the migrations runner.
        .target(
            name: "TokenStoreSQLite",
            dependencies: [
                "TokenAuthority",
                "CSQLiteSettings",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL implementation of the store protocols, for several instances
        // on several hosts over one database (README, "Scaling out").
        .target(
            name: "TokenStorePostgres",
            dependencies: [
                "TokenAuthority",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one place that opens the store `[database] type` names.
        .target(
            name: "TokenStorage",
            dependencies: [
                "TokenAuthority", "TokenStoreSQLite", "TokenStorePostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // glibc's allocator settings (<malloc.h> is not in Swift's Glibc module).
        .target(name: "CAllocator"),
        // SQLite's connection settings that only the variadic sqlite3_db_config reaches.
        .target(name: "CSQLiteSettings", dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")]),
        // Configuration, the HTTP front end and the application's wiring.
        .target(
            name: "TokenAuthorityServer",
            dependencies: [
                "TokenAuthority",
                "TokenStorage",
                "CAllocator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "JWTKit", package: "jwt-kit"),
                "TOMLSubset",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared test helpers: a manual clock, throw-away databases, a harness that runs the real executable.
        .target(
            name: "TokenAuthorityTesting",
            dependencies: [
                "TokenAuthority", "TokenStorage", "TokenAuthorityServer", "TokenStorePostgres",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "token-authority",
            dependencies: [
                "TokenAuthority",
                "TokenStorage",
                "TokenAuthorityServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // `token-authority health`: a small HTTP(S) client for the container's HEALTHCHECK.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenAuthorityTests",
            dependencies: [
                "TokenAuthority", "TokenAuthorityTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        // Unit tests, a differential test against Python's tomllib, and a short fuzz-style run.
        .testTarget(
            name: "TOMLSubsetTests",
            dependencies: ["TOMLSubset"],
            exclude: ["tomllib_oracle.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenStoreSQLiteTests",
            dependencies: [
                "TokenStoreSQLite", "TokenAuthorityTesting", .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL store against a real server: skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL
        // names one (scripts/postgres-cluster starts a throwaway one).
        .testTarget(
            name: "TokenStorePostgresTests",
            dependencies: [
                "TokenStorePostgres", "TokenAuthorityTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenAuthorityServerTests",
            dependencies: [
                "TokenAuthorityServer",
                "TokenAuthorityTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts the real `token-authority` executable and talks HTTP to it over a socket.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "token-authority", "TokenAuthorityTesting", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
