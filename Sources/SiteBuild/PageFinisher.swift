/// Turns a rendered page into what is published: asset references fingerprinted, integrity added,
/// links checked, and the head given its Content-Security-Policy, app config and import map.
struct PageFinisher: Sendable {
    let catalog: AssetCatalog
    /// Every page URL of the site, for link checking.
    let pageURLs: Set<String>
    let policy: SecurityPolicy
    /// The `site-config` JSON, when the build has an environment.
    let configJSON: String?
    let importMapJSON: String
    let importMapHash: String
    /// The meta policy of pages without inline blocks, with and without the import map: most pages.
    private let plainPolicy: String
    private let modulePolicy: String

    /// Per language, the `script.*` strings as the `site-strings` JSON.
    let stringsJSON: [String: String]

    init(catalog: AssetCatalog, pageURLs: Set<String>, policy: SecurityPolicy, configJSON: String?, stringsJSON: [String: String] = [:]) {
        self.stringsJSON = stringsJSON
        self.catalog = catalog
        self.pageURLs = pageURLs
        self.policy = policy
        self.configJSON = configJSON
        importMapJSON = ImportMap.json(for: catalog)
        importMapHash = Digest.cspHash(Array(importMapJSON.utf8))
        plainPolicy = policy.contentSecurityPolicy(scriptHashes: [String](), styleHashes: [String](), forHeader: false)
        modulePolicy = policy.contentSecurityPolicy(scriptHashes: [importMapHash], styleHashes: [String](), forHeader: false)
    }

    struct Result {
        let bytes: [UInt8]
        let scriptHashes: Set<String>
        let styleHashes: Set<String>
        /// The asset URLs it references, as written (`/assets/css/app.css`).
        let assets: Set<String>
        /// Whether it carries the import map, which names every module.
        let usesModules: Bool
    }

    private static let urlAttributes: Set<String> = ["src", "href", "poster"]
    private static let executableScriptTypes: Set<String> = ["", "module", "text/javascript", "application/javascript", "importmap"]

    /// A replacement of some bytes of the page (an insertion when the range is empty).
    private typealias Edit = (range: Range<Int>, text: String)

    /// What reading a page's tags found: the edits to make, what is wrong, and what its head needs.
    private struct Scan {
        var edits: [Edit] = []
        var problems = DiagnosticBag()
        var scriptHashes = Set<String>()
        var styleHashes = Set<String>()
        var usesModules = false
        var assets = Set<String>()
        /// Just after `<head>` (or `<html>`), and just after `<meta charset>`.
        var headInsertion: Int?
        var charsetEnd: Int?
    }

    /// `locate` finds where a piece of text was written (the page or one of its templates), for errors.
    func finish(_ html: String, url: String, language: String = "", locate: (String) -> SourceLocation) throws -> Result {
        let document = HTMLScanner.scan(Array(html.utf8))
        var scan = Scan()
        for tag in document.tags {
            noteHeadPlaces(tag, in: document, scan: &scan, locate: locate)
            let asset = rewriteReferences(in: tag, of: document, url: url, scan: &scan, locate: locate)
            hashInlineCodeAndSetIntegrity(tag, asset: asset, in: document, scan: &scan)
        }
        try scan.problems.throwIfAny()
        let head = headBlock(&scan, language: language)
        let insertion = scan.charsetEnd ?? scan.headInsertion ?? document.afterDoctype
        scan.edits.append((insertion..<insertion, head))
        return Result(bytes: Self.applying(scan.edits, to: document.bytes), scriptHashes: scan.scriptHashes,
                      styleHashes: scan.styleHashes, assets: scan.assets, usesModules: scan.usesModules)
    }

    /// Where the head block can go, and a policy meta tag the page must not have.
    private func noteHeadPlaces(_ tag: HTMLScanner.Tag, in document: HTMLScanner.Document, scan: inout Scan,
                                locate: (String) -> SourceLocation) {
        switch tag.name {
        case "head": scan.headInsertion = scan.headInsertion ?? tag.range.upperBound
        case "html": if scan.headInsertion == nil { scan.headInsertion = tag.range.upperBound }
        case "meta":
            if tag.attribute("charset") != nil, scan.charsetEnd == nil { scan.charsetEnd = tag.range.upperBound }
            if document.value(tag.attribute("http-equiv")).lowercased() == "content-security-policy" {
                scan.problems.append(Diagnostic("remove this Content-Security-Policy meta tag: the build generates the policy",
                                                at: locate("Content-Security-Policy")))
            }
        default: break
        }
    }

    /// Fingerprints the tag's references to assets (`src`, `href`, `poster`, `srcset`), reports
    /// references to nothing and inline styles and handlers the policy blocks; returns the asset a
    /// `src` or `href` names, whose integrity the tag may need.
    private func rewriteReferences(in tag: HTMLScanner.Tag, of document: HTMLScanner.Document, url: String,
                                   scan: inout Scan, locate: (String) -> SourceLocation) -> Asset? {
        var assetForIntegrity: Asset?
        for attribute in tag.attributes {
            if attribute.name == "style" || (attribute.name.hasPrefix("on") && attribute.name.count > 2) {
                scan.problems.append(Diagnostic(
                    "inline \(attribute.name == "style" ? "style attribute" : "event handler '\(attribute.name)'") on <\(tag.name)> is blocked by the Content-Security-Policy; use a class or a module instead",
                    at: locate(attribute.name + "=")))
                continue
            }
            guard let range = attribute.valueRange else { continue }
            if Self.urlAttributes.contains(attribute.name) {
                guard let reference = Reference.resolve(document.value(attribute), against: url) else { continue }
                switch check(reference) {
                case .asset(let asset):
                    scan.edits.append((range, HTMLScanner.escapeAttribute(reference.fingerprinted(asset.fingerprint))))
                    assetForIntegrity = asset
                    scan.assets.insert(asset.url)
                case .page: break
                case .missing(let message):
                    scan.problems.append(Diagnostic(message, at: locate(document.text(range))))
                }
            } else if attribute.name == "srcset" {
                rewriteSrcset(document.value(attribute), at: range, url: url, scan: &scan, locate: locate)
            }
        }
        return assetForIntegrity
    }

    /// Each candidate of a `srcset` that names an asset, fingerprinted.
    private func rewriteSrcset(_ value: String, at range: Range<Int>, url: String, scan: inout Scan,
                               locate: (String) -> SourceLocation) {
        var rewritten: [String] = []
        var changed = false
        for candidate in value.split(separator: ",") {
            let parts = candidate.trimmingSpaces.split(separator: " ", maxSplits: 1)
            guard let first = parts.first, let reference = Reference.resolve(String(first), against: url) else {
                rewritten.append(candidate.trimmingSpaces)
                continue
            }
            switch check(reference) {
            case .asset(let asset):
                scan.assets.insert(asset.url)
                rewritten.append(([reference.fingerprinted(asset.fingerprint)] + parts.dropFirst().map(String.init)).joined(separator: " "))
                changed = true
            case .page:
                rewritten.append(candidate.trimmingSpaces)
            case .missing(let message):
                scan.problems.append(Diagnostic(message, at: locate(String(first))))
            }
        }
        if changed { scan.edits.append((range, HTMLScanner.escapeAttribute(rewritten.joined(separator: ", ")))) }
    }

    /// The CSP hash of an inline script or style, and the integrity of a script or stylesheet asset.
    private func hashInlineCodeAndSetIntegrity(_ tag: HTMLScanner.Tag, asset: Asset?, in document: HTMLScanner.Document,
                                               scan: inout Scan) {
        let type = document.value(tag.attribute("type")).lowercased().trimmingSpaces
        switch tag.name {
        case "script":
            if type == "module" { scan.usesModules = true }
            if tag.attribute("src") != nil {
                if let asset { setIntegrity(asset, on: tag, edits: &scan.edits) }
            } else if Self.executableScriptTypes.contains(type), let content = tag.content, !content.isEmpty {
                scan.scriptHashes.insert(Digest.cspHash(document.bytes[content]))
            }
        case "link":
            let rel = Set(document.value(tag.attribute("rel")).lowercased().split(separator: " ").map(String.init))
            if let asset, !rel.isDisjoint(with: ["stylesheet", "modulepreload", "preload"]) {
                setIntegrity(asset, on: tag, edits: &scan.edits)
            }
        case "style":
            if let content = tag.content, !content.isEmpty { scan.styleHashes.insert(Digest.cspHash(document.bytes[content])) }
        default: break
        }
    }

    /// The head block: the policy first, then data and the import map, before any script runs. A
    /// page with modules gets the import map, whose hash joins the page's script hashes.
    private func headBlock(_ scan: inout Scan, language: String) -> String {
        var blocks: [String] = []
        if scan.usesModules {
            scan.scriptHashes.insert(importMapHash)
            if let configJSON { blocks.append("<script type=\"application/json\" id=\"site-config\">\(configJSON)</script>") }
            if let strings = stringsJSON[language], strings != "{}" {
                blocks.append("<script type=\"application/json\" id=\"site-strings\">\(strings)</script>")
            }
            blocks.append("<script type=\"importmap\">\(importMapJSON)</script>")
        }
        let policyText = metaPolicy(scriptHashes: scan.scriptHashes, styleHashes: scan.styleHashes)
        blocks.insert("<meta http-equiv=\"Content-Security-Policy\" content=\"\(HTMLScanner.escapeAttribute(policyText))\">", at: 0)
        return blocks.map { "\n" + $0 }.joined()
    }

    /// The meta policy for a page with these inline hashes: one of the two made once, when it fits.
    private func metaPolicy(scriptHashes: Set<String>, styleHashes: Set<String>) -> String {
        if styleHashes.isEmpty && scriptHashes.isEmpty { return plainPolicy }
        if styleHashes.isEmpty && scriptHashes == [importMapHash] { return modulePolicy }
        return policy.contentSecurityPolicy(scriptHashes: scriptHashes, styleHashes: styleHashes, forHeader: false)
    }

    /// The page's bytes with the edits made, in the order of where they start.
    private static func applying(_ edits: [Edit], to bytes: [UInt8]) -> [UInt8] {
        var edits = edits
        edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        var output: [UInt8] = []
        output.reserveCapacity(edits.reduce(bytes.count) { $0 + $1.text.utf8.count })
        var cursor = 0
        for edit in edits {
            output += bytes[cursor..<edit.range.lowerBound]
            output += Array(edit.text.utf8)
            cursor = edit.range.upperBound
        }
        output += bytes[cursor...]
        return output
    }

    private enum Target {
        case asset(Asset)
        case page
        case missing(String)
    }

    /// What a local reference points at: an asset, a page, or nothing.
    private func check(_ reference: Reference) -> Target {
        let path = reference.path
        if path.hasPrefix("/assets/") {
            if let asset = catalog[path] { return .asset(asset) }
            return .missing("reference to missing asset \(path); no file at \(path.dropFirst())")
        }
        if pageURLs.contains(path) || pageURLs.contains(path + "/") { return .page }
        if path.hasSuffix("/index.html"), pageURLs.contains(String(path.dropLast("index.html".count))) { return .page }
        return .missing("link to \(path), which is neither a page nor an asset")
    }

    private func setIntegrity(_ asset: Asset, on tag: HTMLScanner.Tag, edits: inout [Edit]) {
        if let existing = tag.attribute("integrity"), let range = existing.valueRange {
            edits.append((range, asset.integrity))
        } else {
            edits.append((tag.insertionPoint..<tag.insertionPoint, " integrity=\"\(asset.integrity)\""))
        }
    }
}
