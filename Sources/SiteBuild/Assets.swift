/// One file from `assets/`, published under a fingerprinted name.
public struct Asset: Sendable, Equatable {
    /// Project-relative source: `assets/css/app.css`.
    public let source: String
    /// The URL pages write: `/assets/css/app.css`.
    public let url: String
    /// The URL it is published at: `/assets/css/app.3f2a9c1e.css`.
    public let outputURL: String
    public let fingerprint: String
    /// SHA-256 (hex) of the published bytes.
    public let sha256: String
    /// `sha384-…` of the published bytes.
    public let integrity: String

    public var isModule: Bool { url.hasSuffix(".js") || url.hasSuffix(".mjs") }
}

/// Every asset by source URL.
public struct AssetCatalog: Sendable {
    public private(set) var assets: [String: Asset] = [:]

    public subscript(url: String) -> Asset? { assets[url] }

    /// The JavaScript modules, sorted by URL (the import map's contents).
    public var modules: [Asset] { assets.values.filter(\.isModule).sorted { $0.url < $1.url } }

    /// Fingerprints every file under `assets/`, rewriting stylesheet references and checking module
    /// imports, and writes the results through `emit`.
    ///
    /// Stylesheets are processed after what they reference, so a changed image renames the stylesheets
    /// that use it; modules are published byte for byte (the import map resolves their imports), so a
    /// changed module renames only itself. `known` gives the asset an earlier build published from
    /// a source with exactly these bytes, if any: its hashes are taken rather than computed again
    /// (a rebuild after one edit hashes only what the edit changed).
    static func build(from tree: SourceTree, known: (String, [UInt8]) -> Asset? = { _, _ in nil },
                      emit: (Asset, [UInt8]) throws -> Void) throws -> AssetCatalog {
        let sources = try tree.files(under: "assets")
        let urls = Set(sources.map { "/" + $0 })
        var catalog = AssetCatalog()
        var problems = DiagnosticBag()
        var stylesheets: [String: (bytes: [UInt8], references: [(CSSReferences.Found, Reference)])] = [:]

        func publish(_ source: String, _ bytes: [UInt8]) throws {
            if let asset = known(source, bytes) {
                catalog.assets[asset.url] = asset
                try emit(asset, bytes)
                return
            }
            let url = "/" + source
            let sha256 = Digest.sha256Hex(bytes)
            let fingerprint = Digest.fingerprint(sha256Hex: sha256)
            let written = Reference(written: url, path: url)
            let asset = Asset(source: source, url: url, outputURL: written.fingerprinted(fingerprint),
                              fingerprint: fingerprint, sha256: sha256, integrity: Digest.integrity(bytes))
            catalog.assets[url] = asset
            try emit(asset, bytes)
        }

        for source in sources {
            let url = "/" + source
            guard let bytes = problems.collect({ try tree.read(source) }) else { continue }
            switch ContentType.fileExtension(of: source) {
            case "css":
                let lines = LineIndex(bytes)
                var references: [(CSSReferences.Found, Reference)] = []
                for found in CSSReferences.scan(bytes) {
                    guard let reference = Reference.resolve(found.text, against: url) else { continue }
                    guard urls.contains(reference.path) else {
                        problems.append(Diagnostic("reference to missing asset \(reference.path) (\(found.text))",
                                                   at: lines.location(of: found.range.lowerBound, in: source)))
                        continue
                    }
                    references.append((found, reference))
                }
                stylesheets[url] = (bytes, references)
            case "js", "mjs":
                problems.append(contentsOf: checkImports(of: bytes, source: source, url: url, known: urls))
                problems.collect { try publish(source, bytes) }
            default:
                problems.collect { try publish(source, bytes) }
            }
        }
        // Stylesheets in dependency order: one is rewritten once everything it references has a name.
        var remaining = stylesheets.keys.sorted()
        while !remaining.isEmpty {
            let ready = remaining.filter { url in
                stylesheets[url]!.references.allSatisfy { catalog.assets[$0.1.path] != nil || stylesheets[$0.1.path] == nil }
            }
            guard !ready.isEmpty else {
                for url in remaining {
                    problems.append(Diagnostic("stylesheets @import each other in a cycle: \(remaining.joined(separator: ", "))",
                                               at: SourceLocation(file: String(url.dropFirst()))))
                }
                break
            }
            for url in ready {
                let (bytes, references) = stylesheets[url]!
                var output: [UInt8] = []
                output.reserveCapacity(bytes.count + references.count * 9)
                var cursor = 0
                for (found, reference) in references {
                    guard let target = catalog.assets[reference.path] else { continue }
                    output += bytes[cursor..<found.range.lowerBound]
                    output += Array(reference.fingerprinted(target.fingerprint).utf8)
                    cursor = found.range.upperBound
                }
                output += bytes[cursor...]
                problems.collect { try publish(String(url.dropFirst()), output) }
            }
            remaining.removeAll { ready.contains($0) }
        }
        try problems.throwIfAny()
        return catalog
    }

    /// Every module specifier must name a module file under `assets/` by path.
    static func checkImports(of bytes: [UInt8], source: String, url: String, known: Set<String>) -> [Diagnostic] {
        let lines = LineIndex(bytes)
        var problems: [Diagnostic] = []
        for found in JSImports.scan(bytes) {
            let location = lines.location(of: found.offset, in: source)
            let specifier = found.specifier
            if Reference.hasScheme(specifier) || specifier.hasPrefix("//") {
                problems.append(Diagnostic("import of '\(specifier)' from another origin is blocked by the Content-Security-Policy; copy the module into assets/", at: location))
            } else if !(specifier.hasPrefix("/") || specifier.hasPrefix("./") || specifier.hasPrefix("../")) {
                problems.append(Diagnostic("bare specifier '\(specifier)' is not in the import map; import modules by path, like './util.js'", at: location))
            } else if let reference = Reference.resolve(specifier, against: url), !known.contains(reference.path) {
                problems.append(Diagnostic("cannot find module \(reference.path) (imported as '\(specifier)')", at: location))
            }
        }
        return problems
    }
}
