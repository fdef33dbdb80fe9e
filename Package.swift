// swift-tools-version:6.0
import PackageDescription

// The test suites import these modules with @testable. Release builds of them are testable too, so
// `swift build -c release` (scripts/run) and `swift build -c release --build-tests` (scripts/test)
// compile them once with the same flags, and the tests run against optimised code.
let testable: [SwiftSetting] = [.unsafeFlags(["-enable-testing"], .when(configuration: .release))]

let package = Package(
    name: "sstech-video-site",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "site", targets: ["site"]),
        // The video service's Lambda functions: one static executable, the handler chosen by _HANDLER.
        .executable(name: "bootstrap", targets: ["bootstrap"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams", "5.0.1"..<"7.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // Hummingbird's and NIOHTTPTypes' own dependencies, declared because our servers import
        // Logging and HTTPTypes themselves (scripts/check-imports).
        .package(url: "https://github.com/apple/swift-log.git", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CCmark",
            pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The local cloud's state store (LocalCloud/SQLite.swift).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "SiteBuild",
            dependencies: [
                "CCmark",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: testable
        ),
        .target(
            name: "SigV4",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AWSClient",
            dependencies: [
                "SigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: testable
        ),
        .target(
            name: "Publish",
            dependencies: [
                "AWSClient",
                "SiteBuild",
                "SigV4",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: testable
        ),
        // The video service's logic, hosted by both LocalCloud and the Lambda bootstrap.
        .target(
            name: "VideoService",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: testable
        ),
        // The production hosts of the video service: DynamoDB, S3 and MediaConvert behind it, and
        // the Lambda events in front (API Gateway, SQS, EventBridge).
        .target(
            name: "VideoFunctions",
            dependencies: ["VideoService", "SigV4", "AWSClient"],
            swiftSettings: testable
        ),
        .target(
            name: "HTTPServing",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LocalCloud",
            dependencies: [
                "CSQLite",
                "SigV4",
                "VideoService",
                "HTTPServing",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/local.mustache")],
            swiftSettings: testable
        ),
        .target(
            name: "DevServer",
            dependencies: [
                "SiteBuild",
                "HTTPServing",
                // The proxy to the local cloud (`/api`, `/media/`).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: testable
        ),
        .target(
            name: "LambdaRuntime",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "bootstrap",
            dependencies: [
                "LambdaRuntime",
                "VideoFunctions",
            ]
        ),
        .executableTarget(
            name: "site",
            dependencies: [
                "AWSClient",
                "HTTPServing",
                "SigV4",
                "SiteBuild",
                "Publish",
                "LocalCloud",
                "DevServer",
                "VideoService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SiteBuildTests",
            dependencies: ["SiteBuild", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "SigV4Tests",
            dependencies: ["SigV4"],
            // Run by DifferentialTests to sign the same requests with botocore.
            exclude: ["botocore_signatures.py"]
        ),
        .testTarget(
            name: "AWSClientTests",
            dependencies: ["AWSClient", "SigV4", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "PublishTests",
            dependencies: ["AWSClient", "Publish", "SigV4", "SiteBuild"]
        ),
        .testTarget(
            name: "DevServerTests",
            dependencies: [
                "DevServer", "HTTPServing", "SiteBuild",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "LocalCloudTests",
            dependencies: [
                "LocalCloud", "SigV4", "HTTPServing", "VideoService",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "VideoServiceTests",
            dependencies: ["VideoService", "VideoFunctions", "LocalCloud", "AWSClient", "SigV4", .product(name: "_CryptoExtras", package: "swift-crypto")],
            // Small media files for the container-header reader (Fixtures/media/make.sh makes them).
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
