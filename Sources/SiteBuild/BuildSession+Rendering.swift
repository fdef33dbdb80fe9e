import Synchronization

// BuildSession's rendering: pages rendered and finished on all cores, each kept with what it was
// made from, so a later build knows what an edit reaches.

extension BuildSession {
    /// One page as published, with what it was made from (a class: a thousand of them are carried
    /// from build to build).
    final class PublishedPage: Sendable {
        let page: Page
        let bytes: [UInt8]
        let sha256: String
        let scriptHashes: Set<String>
        let styleHashes: Set<String>
        /// The project files its HTML depends on: its source, its layout and the partials reached.
        let files: Set<String>
        /// The asset URLs it references.
        let assets: Set<String>
        let usesModules: Bool

        init(page: Page, bytes: [UInt8], sha256: String, scriptHashes: Set<String>, styleHashes: Set<String>,
             files: Set<String>, assets: Set<String>, usesModules: Bool) {
            self.page = page
            self.bytes = bytes
            self.sha256 = sha256
            self.scriptHashes = scriptHashes
            self.styleHashes = styleHashes
            self.files = files
            self.assets = assets
            self.usesModules = usesModules
        }
    }

    /// Renders and finishes `pages` on all cores.
    func renderPages(_ pages: [Page], of site: SiteState, isCancelled: @Sendable () -> Bool = { false }) throws -> [PublishedPage] {
        let tree = site.tree
        let renderer = PageRenderer(
            config: site.config, environment: site.environment, templates: site.templates,
            strings: site.strings.mapValues(\.templateValue), stringTables: site.strings,
            pagesByRoute: Dictionary(grouping: site.pages, by: \.route),
            configValue: AppConfig.templateValue(site.environment))
        let finisher = PageFinisher(catalog: site.catalog, pageURLs: Set(site.pages.map(\.url)),
                                    policy: SecurityPolicy(environment: site.environment),
                                    configJSON: site.environment.map(AppConfig.json),
                                    stringsJSON: site.strings.mapValues(\.scriptJSON))
        struct Collected {
            var problems = Set<Diagnostic>()
            var pages: [PublishedPage] = []
        }
        let collected = Mutex(Collected())
        let cancelled = Atomic<Bool>(false)
        parallelForEach(count: pages.count, makeLocal: {}) { index, _ in
            if index % 16 == 0, isCancelled() { cancelled.store(true, ordering: .relaxed) }
            guard !cancelled.load(ordering: .relaxed) else { return }
            let page = pages[index]
            var problems = DiagnosticBag()
            problems.collect(at: SourceLocation(file: page.source)) {
                let text = try tree.readText(page.source)
                let rendered = try renderer.render(page, text: text)
                let result = try finisher.finish(rendered.html, url: page.url, language: page.language) { needle in
                    locate(needle, in: rendered.sources, tree: tree, fallback: page.source)
                }
                let published = PublishedPage(page: page, bytes: result.bytes, sha256: Digest.sha256Hex(result.bytes),
                                              scriptHashes: result.scriptHashes, styleHashes: result.styleHashes,
                                              files: rendered.files, assets: result.assets, usesModules: result.usesModules)
                collected.withLock { $0.pages.append(published) }
            }
            if !problems.isEmpty { collected.withLock { $0.problems.formUnion(problems.items) } }
        }
        if cancelled.load(ordering: .relaxed) { throw BuildCancelled() }
        let result = collected.withLock { $0 }
        // A set: a page shared by several languages fails the same way in each, and is reported once.
        if !result.problems.isEmpty { throw BuildFailure(Array(result.problems)) }
        return result.pages
    }
}
