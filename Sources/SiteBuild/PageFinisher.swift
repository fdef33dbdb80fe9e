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

    /// `locate` finds where a piece of text was written (the page or one of its templates), for errors.
    func finish(_ html: String, url: String, language: String = "", locate: (String) -> SourceLocation) throws -> Result {
        let document = HTMLScanner.scan(Array(html.utf8))
        let bytes = document.bytes
        var edits: [(range: Range<Int>, text: String)] = []
        var problems = DiagnosticBag()
        var scriptHashes = Set<String>()
        var styleHashes = Set<String>()
        var usesModules = false
        var assets = Set<String>()
        var headInsertion: Int?
        var charsetEnd: Int?

        for tag in document.tags {
            switch tag.name {
            case "head": headInsertion = headInsertion ?? tag.range.upperBound
            case "html": if headInsertion == nil { headInsertion = tag.range.upperBound }
            case "meta":
                if tag.attribute("charset") != nil, charsetEnd == nil { charsetEnd = tag.range.upperBound }
                if document.value(tag.attribute("http-equiv")).lowercased() == "content-security-policy" {
                    problems.append(Diagnostic("remove this Content-Security-Policy meta tag: the build generates the policy",
                                               at: locate("Content-Security-Policy")))
                }
            default: break
            }
            var assetForIntegrity: Asset?
            for attribute in tag.attributes {
                if attribute.name == "style" || (attribute.name.hasPrefix("on") && attribute.name.count > 2) {
                    problems.append(Diagnostic(
                        "inline \(attribute.name == "style" ? "style attribute" : "event handler '\(attribute.name)'") on <\(tag.name)> is blocked by the Content-Security-Policy; use a class or a module instead",
                        at: locate(attribute.name + "=")))
                    continue
                }
                guard let range = attribute.valueRange else { continue }
                if Self.urlAttributes.contains(attribute.name) {
                    guard let reference = Reference.resolve(document.value(attribute), against: url) else { continue }
                    switch check(reference) {
                    case .asset(let asset):
                        edits.append((range, HTMLScanner.escapeAttribute(reference.fingerprinted(asset.fingerprint))))
                        assetForIntegrity = asset
                        assets.insert(asset.url)
                    case .page: break
                    case .missing(let message):
                        problems.append(Diagnostic(message, at: locate(document.text(range))))
                    }
                } else if attribute.name == "srcset" {
                    var rewritten: [String] = []
                    var changed = false
                    for candidate in document.value(attribute).split(separator: ",") {
                        let parts = candidate.trimmingSpaces.split(separator: " ", maxSplits: 1)
                        guard let first = parts.first, let reference = Reference.resolve(String(first), against: url) else {
                            rewritten.append(candidate.trimmingSpaces)
                            continue
                        }
                        switch check(reference) {
                        case .asset(let asset):
                            assets.insert(asset.url)
                            rewritten.append(([reference.fingerprinted(asset.fingerprint)] + parts.dropFirst().map(String.init)).joined(separator: " "))
                            changed = true
                        case .page:
                            rewritten.append(candidate.trimmingSpaces)
                        case .missing(let message):
                            problems.append(Diagnostic(message, at: locate(String(first))))
                        }
                    }
                    if changed { edits.append((range, HTMLScanner.escapeAttribute(rewritten.joined(separator: ", ")))) }
                }
            }
            let type = document.value(tag.attribute("type")).lowercased().trimmingSpaces
            switch tag.name {
            case "script":
                if type == "module" { usesModules = true }
                if tag.attribute("src") != nil {
                    if let asset = assetForIntegrity { setIntegrity(asset, on: tag, edits: &edits) }
                } else if Self.executableScriptTypes.contains(type), let content = tag.content, !content.isEmpty {
                    scriptHashes.insert(Digest.cspHash(bytes[content]))
                }
            case "link":
                let rel = Set(document.value(tag.attribute("rel")).lowercased().split(separator: " ").map(String.init))
                if let asset = assetForIntegrity, !rel.isDisjoint(with: ["stylesheet", "modulepreload", "preload"]) {
                    setIntegrity(asset, on: tag, edits: &edits)
                }
            case "style":
                if let content = tag.content, !content.isEmpty { styleHashes.insert(Digest.cspHash(bytes[content])) }
            default: break
            }
        }
        try problems.throwIfAny()

        // The head block: the policy first, then data and the import map, before any script runs.
        var blocks: [String] = []
        if usesModules {
            scriptHashes.insert(importMapHash)
            if let configJSON { blocks.append("<script type=\"application/json\" id=\"site-config\">\(configJSON)</script>") }
            if let strings = stringsJSON[language], strings != "{}" {
                blocks.append("<script type=\"application/json\" id=\"site-strings\">\(strings)</script>")
            }
            blocks.append("<script type=\"importmap\">\(importMapJSON)</script>")
        }
        let policyText: String
        if styleHashes.isEmpty && scriptHashes.isEmpty {
            policyText = plainPolicy
        } else if styleHashes.isEmpty && scriptHashes == [importMapHash] {
            policyText = modulePolicy
        } else {
            policyText = policy.contentSecurityPolicy(scriptHashes: scriptHashes, styleHashes: styleHashes, forHeader: false)
        }
        blocks.insert("<meta http-equiv=\"Content-Security-Policy\" content=\"\(HTMLScanner.escapeAttribute(policyText))\">", at: 0)
        let head = blocks.map { "\n" + $0 }.joined()
        let insertion = charsetEnd ?? headInsertion ?? document.afterDoctype
        edits.append((insertion..<insertion, head))

        edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + head.utf8.count + edits.count * 64)
        var cursor = 0
        for edit in edits {
            output += bytes[cursor..<edit.range.lowerBound]
            output += Array(edit.text.utf8)
            cursor = edit.range.upperBound
        }
        output += bytes[cursor...]
        return Result(bytes: output, scriptHashes: scriptHashes, styleHashes: styleHashes, assets: assets, usesModules: usesModules)
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

    private func setIntegrity(_ asset: Asset, on tag: HTMLScanner.Tag, edits: inout [(range: Range<Int>, text: String)]) {
        if let existing = tag.attribute("integrity"), let range = existing.valueRange {
            edits.append((range, asset.integrity))
        } else {
            edits.append((tag.insertionPoint..<tag.insertionPoint, " integrity=\"\(asset.integrity)\""))
        }
    }
}
