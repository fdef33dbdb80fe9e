import Foundation
import HTTPTypes
import SiteBuild

public struct Stylesheet: Sendable, Equatable {
    public var source: String
    public var href: String
    public var integrity: String
}

/// A built `dist/` as the dev server sees it: the manifest's files (hashes for ETags, types,
/// gzip siblings) and the security headers production sends. Only files the manifest lists are
/// ever served, so no request path can reach outside the build (`..`, encoded slashes, symlinks).
struct SiteFiles: Sendable {
    let root: String
    let entries: [String: Manifest.Entry]
    let headers: [(String, String)]
    /// `headers` as HTTP fields, made once per build rather than per request.
    let fields: HTTPFields
    /// The bytes of the build's files held in memory, by path, served from there; before the
    /// build is on disk, these are all there is (without `.gz` siblings).
    let bodies: [String: [UInt8]]

    /// The build in `root`; `manifest` is the build's own, when the caller has it: no need to read
    /// it back; `bodies`, the bytes of its files the caller holds in memory.
    init(root: String, manifest known: Manifest? = nil, bodies: [String: [UInt8]] = [:]) throws {
        self.root = root
        let manifest = try known ?? JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/" + Manifest.path)))
        entries = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var fields: [String: String] = [:]
        if let data = FileManager.default.contents(atPath: root + "/.site/headers.json"),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            fields = object["headers"] as? [String: String] ?? [:]
        }
        headers = Self.development(fields)
        self.fields = DevResponder.fields(headers)
        self.bodies = bodies
    }

    /// A build rendered in memory, before it is written to `root`.
    init(root: String, prepared: BuildSession.Prepared) {
        self.root = root
        entries = Dictionary(prepared.files.map { file in
            (file.path, Manifest.Entry(path: file.path, size: file.bytes.count, sha256: file.sha256, contentType: file.contentType,
                                       cache: file.cache, source: file.source, gzip: nil))
        }, uniquingKeysWith: { first, _ in first })
        bodies = Dictionary(prepared.files.map { ($0.path, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        headers = Self.development(prepared.headers)
        fields = DevResponder.fields(headers)
    }

    /// The headers production sends, as development sends them: sorted, no HSTS on plain http,
    /// and the development policy.
    private static func development(_ fields: [String: String]) -> [(String, String)] {
        fields.sorted { $0.key < $1.key }.filter { $0.key != "Strict-Transport-Security" }
            .map { ($0.key, $0.key == "Content-Security-Policy" ? developmentPolicy($0.value) : $0.value) }
    }

    /// The bytes of an entry: from memory, or read from disk.
    func bytes(of entry: Manifest.Entry) -> [UInt8]? {
        if let body = bodies[entry.path] { return body }
        return FileManager.default.contents(atPath: root + "/" + entry.path).map { Array($0) }
    }

    /// The production policy, plus what development needs: the live-reload script's event stream
    /// (`connect-src 'self'`); and no `upgrade-insecure-requests` on plain http.
    static func developmentPolicy(_ policy: String) -> String {
        var directives = policy.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        directives.removeAll { $0 == "upgrade-insecure-requests" }
        if let index = directives.firstIndex(where: { $0.hasPrefix("connect-src") }) {
            if !directives[index].contains("'self'") { directives[index] = "connect-src 'self'" + directives[index].dropFirst("connect-src".count) }
        } else {
            directives.append("connect-src 'self'")
        }
        return directives.joined(separator: "; ")
    }

    /// Each stylesheet as the pages link it: its source (`assets/css/app.css`), its fingerprinted
    /// URL and its integrity value.
    func stylesheets() -> [Stylesheet] {
        entries.values.filter { $0.contentType.hasPrefix("text/css") && $0.source != nil }.sorted { $0.path < $1.path }.compactMap { entry in
            guard let bytes = self.bytes(of: entry) else { return nil }
            return Stylesheet(source: entry.source!, href: "/" + entry.path, integrity: Digest.integrity(bytes))
        }
    }

    enum Resolution: Equatable {
        case file(Manifest.Entry)
        case redirect(String)
        case notFound
    }

    /// The file for a decoded request path: `/help/` → `help/index.html`, `/help` → redirect to `/help/`.
    func resolve(_ path: String) -> Resolution {
        guard path.utf8.first == UInt8(ascii: "/"),
              !path.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "\\") }) else { return .notFound }
        // Only a path with "/." can hold a `.` or `..` segment, or `.site/`.
        if path.contains("/.") {
            let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard !segments.contains(where: { $0 == ".." || $0 == "." }), !path.hasPrefix("/.site") else { return .notFound }
        }
        let relative = String(path.dropFirst())
        guard !relative.contains("//") else { return .notFound }
        if relative.isEmpty || relative.hasSuffix("/") {
            return entries[relative + "index.html"].map(Resolution.file) ?? .notFound
        }
        if let entry = entries[relative] { return .file(entry) }
        if entries[relative + "/index.html"] != nil { return .redirect(path + "/") }
        return .notFound
    }
}
