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

        public init(path: String, size: Int, sha256: String, contentType: String, cache: CacheClass, source: String?, gzip: Encoded?) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.contentType = contentType
            self.cache = cache
            self.source = source
            self.gzip = gzip
        }
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
    ///
    /// Written by hand in exactly the layout of JSONEncoder with `.prettyPrinted, .sortedKeys,
    /// .withoutEscapingSlashes` (a test holds the two equal): the encoder took a third of a one-page
    /// rebuild of a thousand-page site.
    public func encoded() throws -> [UInt8] {
        var json = PrettyJSON()
        json.open("{")
        if let compression { json.field("compression", string: compression) }
        if let environment { json.field("environment", string: environment) }
        json.key("files")
        if files.isEmpty {
            json.emptyArray()
        } else {
            json.open("[")
            for entry in files {
                json.element()
                json.open("{")
                json.field("cache", string: entry.cache.rawValue)
                json.field("contentType", string: entry.contentType)
                if let gzip = entry.gzip {
                    json.key("gzip")
                    json.open("{")
                    json.field("path", string: gzip.path)
                    json.field("sha256", string: gzip.sha256)
                    json.field("size", number: gzip.size)
                    json.close("}")
                }
                json.field("path", string: entry.path)
                json.field("sha256", string: entry.sha256)
                json.field("size", number: entry.size)
                if let source = entry.source { json.field("source", string: source) }
                json.close("}")
            }
            json.close("]")
        }
        json.field("generator", string: generator)
        json.field("version", number: version)
        json.close("}")
        return json.bytes + [UInt8(ascii: "\n")]
    }

    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(bytes))
    }
}

/// Writes JSON the way JSONEncoder's pretty printing lays it out: two-space indents, `"key" : value`,
/// an empty array as `[`, a blank line and `]`.
private struct PrettyJSON {
    var bytes: [UInt8] = []
    /// Per open container: whether it has a member yet.
    private var started: [Bool] = []

    mutating func open(_ bracket: Character) {
        bytes += Array(String(bracket).utf8)
        started.append(false)
    }

    mutating func close(_ bracket: Character) {
        started.removeLast()
        newline()
        bytes += Array(String(bracket).utf8)
    }

    mutating func emptyArray() {
        bytes += Array("[\n\n".utf8)
        indent()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Starts the next member of the innermost container.
    private mutating func member() {
        if started[started.count - 1] { bytes.append(UInt8(ascii: ",")) }
        started[started.count - 1] = true
        newline()
    }

    mutating func element() { member() }

    mutating func key(_ name: String) {
        member()
        string(name)
        bytes += Array(" : ".utf8)
    }

    mutating func field(_ name: String, string value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: String, number: Int) {
        key(name)
        bytes += Array(String(number).utf8)
    }

    private mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        indent()
    }

    private mutating func indent() {
        bytes += repeatElement(UInt8(ascii: " "), count: 2 * started.count)
    }

    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        defer { bytes.append(UInt8(ascii: "\"")) }
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            bytes += text.utf8
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: bytes += Array("\\b".utf8)
            case 0x09: bytes += Array("\\t".utf8)
            case 0x0A: bytes += Array("\\n".utf8)
            case 0x0C: bytes += Array("\\f".utf8)
            case 0x0D: bytes += Array("\\r".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
    }
}
