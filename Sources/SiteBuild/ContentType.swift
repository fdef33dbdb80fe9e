/// Content types by file extension, and which of them are worth compressing.
public enum ContentType {
    private static let types: [String: String] = [
        "html": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "json": "application/json",
        "map": "application/json",
        "webmanifest": "application/manifest+json",
        "xml": "application/xml",
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "ico": "image/x-icon",
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf",
        "mp4": "video/mp4",
        "webm": "video/webm",
        "vtt": "text/vtt; charset=utf-8",
        "wasm": "application/wasm",
        "pdf": "application/pdf",
    ]

    private static let compressible: Set<String> = [
        "html", "css", "js", "mjs", "json", "map", "webmanifest", "xml", "txt", "md", "svg", "ico", "vtt", "wasm", "ttf", "otf",
    ]

    /// The extension of a path, lowercased, or "" when it has none.
    static func fileExtension(of path: String) -> String {
        let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { path[path.utf8.index(after: $0)...] } ?? path[...]
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// The Content-Type for a path; unknown extensions are `application/octet-stream`.
    public static func of(_ path: String) -> String {
        types[fileExtension(of: path)] ?? "application/octet-stream"
    }

    /// Whether a `.gz` sibling is worth trying for this path.
    public static func isCompressible(_ path: String) -> Bool {
        compressible.contains(fileExtension(of: path))
    }
}
