import SigV4
import SiteBuild

/// The headers an object is served with. Their hash goes into the object's metadata so a header
/// change (a new Cache-Control rule, say) is noticed even when the bytes are the same.
public struct ObjectHeaders: Sendable, Equatable {
    public var contentType: String
    public var contentEncoding: String?
    public var cacheControl: String

    public var fields: [(name: String, value: String)] {
        var fields = [("Content-Type", contentType), ("Cache-Control", cacheControl)]
        if let contentEncoding { fields.append(("Content-Encoding", contentEncoding)) }
        return fields
    }

    /// SHA-256 over the lower-cased `name:value` lines, in a fixed order.
    public var hash: String {
        let text = "content-type:\(contentType)\ncontent-encoding:\(contentEncoding ?? "")\ncache-control:\(cacheControl)\n"
        return hexSHA256(text.utf8)
    }

    public static let immutableCacheControl = "public, max-age=31536000, immutable"
    public static let revalidateCacheControl = "no-cache"
}

/// One object the build wants in the bucket.
public struct LocalObject: Sendable, Equatable {
    /// The bucket key (the prefix, then the path in dist/).
    public var key: String
    /// The path in dist/ (`help/index.html`).
    public var path: String
    /// The file whose bytes are uploaded, relative to dist/: the `.gz` sibling when there is one.
    public var file: String
    public var size: Int64
    /// SHA-256 of the uploaded bytes.
    public var sha256: String
    public var headers: ObjectHeaders
    /// Named by its content: safe to cache forever, and kept a while after it leaves the site.
    public var fingerprinted: Bool

    public var isHTML: Bool { headers.contentType.hasPrefix("text/html") }

    /// The objects of a build: the gzipped form where the build made one (served with
    /// `Content-Encoding: gzip`, which every browser accepts), Cache-Control by cache class unless
    /// a site.yml rule overrides it. dist/.site/ (build metadata) is not published.
    public static func objects(from manifest: Manifest, prefix: String, cacheRules: [SiteBuild.Environment.CacheRule]) -> [LocalObject] {
        manifest.files.filter { !$0.path.hasPrefix(".site/") }.map { entry in
            let fingerprinted = entry.cache == .immutable
            let cacheControl = cacheRules.first { globMatches($0.pattern, entry.path) }?.value
                ?? (fingerprinted ? ObjectHeaders.immutableCacheControl : ObjectHeaders.revalidateCacheControl)
            return LocalObject(
                key: prefix + entry.path, path: entry.path, file: entry.gzip?.path ?? entry.path,
                size: Int64(entry.gzip?.size ?? entry.size), sha256: entry.gzip?.sha256 ?? entry.sha256,
                headers: ObjectHeaders(contentType: entry.contentType, contentEncoding: entry.gzip == nil ? nil : "gzip",
                                       cacheControl: cacheControl),
                fingerprinted: fingerprinted)
        }
    }
}

/// `*` matches within one path segment, `**` any number of segments, `?` one character.
public func globMatches(_ pattern: String, _ path: String) -> Bool {
    func match(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        if first == "*" {
            if p.dropFirst().first == "*" {
                var rest = p.dropFirst(2)
                if rest.first == "/" { rest = rest.dropFirst() }
                var tail = s[...]
                while true {
                    if match(rest, tail) { return true }
                    guard !tail.isEmpty else { return false }
                    tail = tail.dropFirst()
                }
            }
            var tail = s[...]
            while true {
                if match(p.dropFirst(), tail) { return true }
                guard let next = tail.first, next != "/" else { return false }
                tail = tail.dropFirst()
            }
        }
        guard let character = s.first, first == "?" ? character != "/" : first == character else { return false }
        return match(p.dropFirst(), s.dropFirst())
    }
    return match(ArraySlice(pattern), ArraySlice(path))
}
