// BuildSession's reading: the sources a build reads (and which paths it reads), read whole or
// again where a change reached them, with the pages that change must render again.

extension BuildSession {
    /// Everything a build reads, and the pages it made.
    struct SiteState: Sendable {
        let tree: SourceTree
        var config: SiteConfig
        var environment: Environment?
        var strings: [String: Strings]
        var templates: Templates
        var pages: [Page]
        var catalog: AssetCatalog
        var assetFiles: [AssetFile]
        /// Finished pages by output path.
        var published: [String: PublishedPage] = [:]
    }

    struct AssetFile: Sendable {
        let asset: Asset
        let bytes: [UInt8]
    }

    /// Whether a build reads what is at `path`: hidden files (editors' swap files) and files beside
    /// the folders it reads are not.
    static func isRead(_ path: String) -> Bool {
        if path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { return false }
        guard path.hasPrefix("site/") else { return true }
        return path == SiteConfig.file || ["site/pages", "site/layouts", "site/partials", "site/i18n"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// `site.yml` reaches everything; a path outside the folders the build reads (the folders
    /// themselves, say, when moved) cannot be placed.
    static func needsFullBuild(_ path: String) -> Bool {
        path == SiteConfig.file || !(path.hasPrefix("site/") || path.hasPrefix("assets/"))
    }

    /// Reads the whole project.
    func load() throws -> SiteState {
        let tree = try SourceTree(root: options.projectRoot)
        let config = try SiteBuilder.loadConfig(from: tree)
        let environment = try SiteBuilder.selectEnvironment(options.environment, in: config, stack: options.stackOutputs,
                                                           overrides: options.processEnvironment)
        let strings = try Strings.load(languages: config.languages, from: tree)
        let templates = try Templates.load(from: tree)
        let pages = try PageRoute.plan(sources: try tree.files(under: "site/pages"), languages: config.languages)
        let (catalog, assetFiles) = try Self.catalog(tree)
        return SiteState(tree: tree, config: config, environment: environment, strings: strings, templates: templates,
                         pages: pages, catalog: catalog, assetFiles: assetFiles)
    }

    /// Fingerprints `assets/`; an asset whose published bytes are those of one in `previous` keeps
    /// its hashes.
    private static func catalog(_ tree: SourceTree, previous: [AssetFile] = []) throws -> (AssetCatalog, [AssetFile]) {
        let earlier = Dictionary(previous.map { ($0.asset.source, $0) }, uniquingKeysWith: { first, _ in first })
        var files: [AssetFile] = []
        let catalog = try AssetCatalog.build(from: tree, known: { source, bytes in
            earlier[source].flatMap { $0.bytes == bytes ? $0.asset : nil }
        }, emit: { asset, bytes in files.append(AssetFile(asset: asset, bytes: bytes)) })
        return (catalog, files)
    }

    /// Reads again what `paths` changed, and says which pages must be rendered again.
    func update(_ old: SiteState, changed paths: Set<String>) throws -> (SiteState, [Page]) {
        var site = old
        let tree = old.tree
        func under(_ folder: String) -> [String] { paths.filter { $0 == folder || $0.hasPrefix(folder + "/") } }
        var stale = Set<String>()
        func renderAgain(where affected: (PublishedPage) -> Bool) {
            for page in old.published.values where affected(page) { stale.insert(page.page.outputPath) }
        }

        if !under("site/i18n").isEmpty {
            site.strings = try Strings.load(languages: old.config.languages, from: tree)
            let languages = Set(old.config.languages.filter { old.strings[$0]?.values != site.strings[$0]?.values })
            renderAgain { languages.contains($0.page.language) }
        }
        if !(under("site/layouts") + under("site/partials")).isEmpty {
            site.templates = try Templates.load(from: tree)
            let files = Set(old.templates.sources.keys).union(site.templates.sources.keys)
                .filter { old.templates.sources[$0]?.text != site.templates.sources[$0]?.text }
            renderAgain { !$0.files.isDisjoint(with: files) }
        }
        let pageEdits = under("site/pages")
        var everyPage = false
        if !pageEdits.isEmpty {
            let known = Set(old.pages.map(\.source))
            if !pageEdits.allSatisfy({ known.contains($0) && tree.exists($0) }) {
                site.pages = try PageRoute.plan(sources: try tree.files(under: "site/pages"), languages: old.config.languages)
                everyPage = site.pages != old.pages
            }
            let edited = Set(pageEdits)
            renderAgain { edited.contains($0.page.source) }
        }
        if !under("assets").isEmpty {
            (site.catalog, site.assetFiles) = try Self.catalog(tree, previous: old.assetFiles)
            let urls = Set(old.catalog.assets.keys).union(site.catalog.assets.keys)
                .filter { old.catalog[$0] != site.catalog[$0] }
            let moduleNamesChanged = ImportMap.json(for: old.catalog) != ImportMap.json(for: site.catalog)
            renderAgain { !$0.assets.isDisjoint(with: urls) || (moduleNamesChanged && $0.usesModules) }
        }
        let render = everyPage ? site.pages : site.pages.filter { stale.contains($0.outputPath) || old.published[$0.outputPath] == nil }
        return (site, render)
    }
}
