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
    private(set) var entries: [String: Manifest.Entry]
    /// The headers production sends, as development sends them, made once per build rather than
    /// per request.
    let fields: HTTPFields
    /// The bytes of the build's files, by path, served from memory; before the build is on disk
    /// there are no `.gz` siblings.
    let bodies: [String: [UInt8]]
    /// Output paths of pages still being rendered: a request for one waits for the build that has
    /// them (its stylesheets are already served, and the pages that are there name them).
    let pending: Set<String>

    /// A build rendered in memory, before it is written to `root`.
    init(root: String, prepared: BuildSession.Prepared) {
        self.init(root: root, files: prepared.files, headers: prepared.headers, pending: [])
    }

    /// A build whose stylesheets are ready and whose pages that link them are still being rendered.
    init(root: String, early: BuildSession.Early) {
        self.init(root: root, files: early.files, headers: early.headers, pending: early.pending)
    }

    private init(root: String, files: [BuildSession.Prepared.File], headers: [String: String], pending: Set<String>) {
        self.root = root
        entries = Dictionary(files.map { file in
            (file.path, Manifest.Entry(path: file.path, size: file.bytes.count, sha256: file.sha256, contentType: file.contentType,
                                       cache: file.cache, source: file.source, gzip: nil))
        }, uniquingKeysWith: { first, _ in first })
        bodies = Dictionary(files.map { ($0.path, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        fields = Self.development(headers)
        self.pending = pending
    }

    /// The same build once written to `root`: served with the manifest's entries, and so with
    /// their `.gz` files from disk.
    func written(_ manifest: Manifest) -> SiteFiles {
        var site = self
        site.entries = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        return site
    }

    /// The headers production sends, as development sends them: sorted, no HSTS on plain http,
    /// and the development policy.
    private static func development(_ headers: [String: String]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) where name != "Strict-Transport-Security" {
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: name == .contentSecurityPolicy ? developmentPolicy(value) : value))
        }
        return fields
    }

    /// The production policy, plus what development needs: the live-reload script's event stream
    /// (`connect-src 'self'`); and no `upgrade-insecure-requests` on plain http.
    static func developmentPolicy(_ policy: String) -> String {
        var directives = policy.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        directives.removeAll { $0 == "upgrade-insecure-requests" }
        if let index = directives.firstIndex(where: { $0.hasPrefix("connect-src") }) {
            // 'none' cannot stand beside another source: it is replaced.
            let sources = directives[index].split(separator: " ").dropFirst().filter { $0 != "'none'" }
            if !sources.contains("'self'") { directives[index] = (["connect-src", "'self'"] + sources).joined(separator: " ") }
        } else {
            directives.append("connect-src 'self'")
        }
        return directives.joined(separator: "; ")
    }

    /// Each stylesheet as the pages link it: its source (`assets/css/app.css`), its fingerprinted
    /// URL and its integrity value.
    func stylesheets() -> [Stylesheet] {
        entries.values.filter { $0.contentType.hasPrefix("text/css") && $0.source != nil }.sorted { $0.path < $1.path }.compactMap { entry in
            guard let bytes = bodies[entry.path] else { return nil }
            return Stylesheet(source: entry.source!, href: "/" + entry.path, integrity: Digest.integrity(bytes))
        }
    }

    enum Resolution: Equatable {
        case file(Manifest.Entry)
        /// A page still being rendered.
        case pending
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
        if relative.isEmpty || relative.hasSuffix("/") { return lookup(relative + "index.html") ?? .notFound }
        if let found = lookup(relative) { return found }
        if lookup(relative + "/index.html") != nil { return .redirect(path + "/") }
        return .notFound
    }

    /// The file at an output path, or `.pending` while it is rendered.
    func lookup(_ path: String) -> Resolution? {
        if let entry = entries[path] { return .file(entry) }
        return pending.contains(path) ? .pending : nil
    }
}
