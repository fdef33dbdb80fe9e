import Foundation

/// `dist/.site/manifest.json`: every output file, its hash and how it should be served.
public struct Manifest: Codable, Sendable, Equatable {
    /// How long caches may keep a file.
    public enum CacheClass: String, Codable, Sendable {
        /// Fingerprinted: the name changes when the bytes do, so it can be cached forever.
        case immutable
        /// HTML and un-fingerprinted files: caches must check for a newer version.
        case revalidate
    }

    /// A precompressed sibling of an entry.
    public struct Encoded: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        public var sha256: String
    }

    public struct Entry: Codable, Sendable, Equatable {
        /// Path under the output folder, `/`-separated, no leading slash.
        public var path: String
        public var size: Int
        public var sha256: String
        public var contentType: String
        public var cache: CacheClass
        /// The project file it came from.
        public var source: String?
        /// The `.gz` sibling, when compression made it smaller.
        public var gzip: Encoded?
    }

    public var version = 1
    public var generator: String
    /// The environment the build's config is for (`site publish` refuses others); nil without environments.
    public var environment: String?
    /// How the `.gz` siblings were made (`zlib-6`): a later build reuses them only if it would make the same bytes.
    public var compression: String? = nil
    public var files: [Entry]

    public static let path = ".site/manifest.json"

    /// A manifest as written to disk: the bytes, and what they decode to.
    public struct Written: Sendable {
        public let bytes: [UInt8]
        public let manifest: Manifest
    }

    /// Stable, pretty JSON: same manifest, same bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
    }

    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(bytes))
    }
}
