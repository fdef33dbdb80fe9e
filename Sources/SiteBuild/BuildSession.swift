import Synchronization

/// What one build did.
public struct Rebuild: Sendable {
    public var report: BuildReport
    /// Pages rendered this time; the others were carried over from the build before.
    public var rendered: Int
    /// Whether the whole project was read and every page rendered: the first build, after a
    /// `site.yml` change, or after a failed first build.
    public var full: Bool
}

/// Thrown by `BuildSession.prepare` when its caller cancelled the rendering.
public struct BuildCancelled: Error, CustomStringConvertible {
    public var description: String { "the build was cancelled" }
}

/// Builds a project again and again, remembering what the last successful build read and made, so
/// that a rebuild after an edit redoes only what the edit reaches (the dev server's rebuilds):
///
/// - a page: that page, in each language it is published in;
/// - a layout or partial: the pages whose layout, partials or own text reach it;
/// - an asset: the catalog is fingerprinted again, and only pages referencing an asset whose name
///   changed are rendered again (every page with the import map, when a module's name changed);
/// - `site/i18n/<lang>.json`: the pages of the languages whose strings changed;
/// - a page added, removed or renamed: every page (links are checked and translations listed
///   against the whole set);
/// - `site.yml`, or anything it cannot place: everything, as a first build would.
///
/// The result is the same, byte for byte, as a clean build of the same sources. A failed build
/// changes nothing: its edits are kept and retried with the next, and `dist/` stays as it was.
public final class BuildSession: Sendable {
    public let options: BuildOptions
    private let memory = Mutex(Memory())
    /// The manifests of the last two builds written, newest last; the older is what the spare holds.
    /// Apart from `memory`, so that the next change can be staged and rendered while one is written.
    private let written = Mutex<[Manifest.Written]>([])

    public init(_ options: BuildOptions) { self.options = options }

    private struct Memory {
        var site: SiteState?
        /// Project-relative paths changed since the last successful build.
        var pending = Set<String>()
        /// Counts the builds prepared, so a stale `Staged` is noticed.
        var generation = 0
    }

    /// Everything a build reads, and the pages it made.
    fileprivate struct SiteState: Sendable {
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

    fileprivate struct AssetFile: Sendable {
        let asset: Asset
        let bytes: [UInt8]
    }

    /// One page as published, with what it was made from (a class: a thousand of them are carried
    /// from build to build).
    fileprivate final class PublishedPage: Sendable {
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

    /// A build rendered in memory and not yet written: every output file with its bytes, and the
    /// headers. The dev server serves it while `write` puts it on disk.
    public struct Prepared: Sendable {
        public struct File: Sendable {
            /// Path under the output folder.
            public let path: String
            public let bytes: [UInt8]
            public let sha256: String
            public let contentType: String
            public let source: String
            public let cache: Manifest.CacheClass
        }

        /// Assets first, then pages in URL order.
        public let files: [File]
        /// The security headers, as `.site/headers.json` will hold them.
        public let headers: [String: String]
        public let pages: Int
        /// Pages rendered this time; the others were carried over.
        public let rendered: Int
        public let full: Bool
        fileprivate let site: SiteState
    }

    /// What a change reaches, read but not rendered yet; `prepare(_:)` renders it.
    public struct Staged: Sendable {
        /// The new build's files that are known before any page is rendered, when the change reaches
        /// nothing but stylesheets (and so the pages linking them); nil for any other change.
        public let early: Early?
        /// The project-relative paths it takes in: this change's, and those of earlier changes not
        /// built yet (failed or cancelled); empty when everything is read again.
        public var changed: Set<String> { full ? [] : pending }
        fileprivate let site: SiteState
        fileprivate let render: [Page]
        fileprivate let full: Bool
        /// The session's state it was read from, so that `prepare(_:)` can tell it is still current.
        fileprivate let generation: Int
        fileprivate let pending: Set<String>
    }

    /// A build whose stylesheets are ready before its pages: every asset, the pages the change does
    /// not reach, and the paths of the pages still to render. The dev server serves the new
    /// stylesheets from it (and tells the browser) while those pages are rendered.
    public struct Early: Sendable {
        /// Assets first, then the pages carried over unchanged, in URL order.
        public let files: [Prepared.File]
        /// Output paths of the pages that `prepare(_:)` renders (they link a renamed stylesheet).
        public let pending: Set<String>
        /// The security headers, as the finished build will have them.
        public let headers: [String: String]
    }

    /// Builds the project: `prepare`, then `write`. `changed` lists the project-relative paths
    /// changed since the last call (files or folders, as a watcher reports them); nil reads
    /// everything again.
    public func build(changed: [String]? = nil) throws -> Rebuild {
        try write(try prepare(changed: changed))
    }

    /// Reads what changed and renders what it reaches, in memory: `stage`, then `prepare(_:)`.
    public func prepare(changed: [String]? = nil) throws -> Prepared {
        try prepare(try stage(changed: changed))
    }

    /// Reads what changed and works out which pages it reaches, without rendering them. The changes
    /// are kept until a `prepare(_:)` succeeds, so a failure at either step retries them next time.
    public func stage(changed: [String]? = nil) throws -> Staged {
        try memory.withLock { memory in
            if let changed { memory.pending.formUnion(changed.filter(Self.isRead)) }
            return try stage(memory, everything: changed == nil)
        }
    }

    /// Renders what `staged` reaches and moves the session on to this build (the next `stage` starts
    /// from it). If the session moved on since `staged` was read, its changes are read again first.
    /// On failure the session stays where it was and keeps the changes for the next call.
    ///
    /// `isCancelled` is asked as pages are rendered: once it says yes, rendering stops and
    /// `BuildCancelled` is thrown (the changes are kept, as for any failure).
    public func prepare(_ staged: Staged, isCancelled: @Sendable () -> Bool = { false }) throws -> Prepared {
        try memory.withLock { memory in
            var staged = staged
            if staged.generation != memory.generation || staged.pending != memory.pending {
                staged = try stage(memory, everything: staged.full)
            }
            var site = staged.site
            for page in try renderPages(staged.render, of: site, isCancelled: isCancelled) { site.published[page.page.outputPath] = page }
            if !staged.full {
                let current = Set(site.pages.map(\.outputPath))
                site.published = site.published.filter { current.contains($0.key) }
            }
            memory.site = site
            memory.pending = []
            memory.generation += 1
            let pages = site.pages.map { site.published[$0.outputPath]! }
            let files = Self.assetFiles(of: site) + pages.map(Self.file)
            return Prepared(files: files, headers: Self.headers(site, pages: pages), pages: pages.count,
                            rendered: staged.render.count, full: staged.full, site: site)
        }
    }

    /// The next build's sources and the pages to render, from the last build and the pending changes.
    private func stage(_ memory: Memory, everything: Bool) throws -> Staged {
        if let old = memory.site, !everything, !memory.pending.contains(where: Self.needsFullBuild) {
            let (site, render) = try update(old, changed: memory.pending)
            let early = Self.stylesheetsOnly(memory.pending, from: old, to: site)
                ? Self.early(site, rendering: render) : nil
            return Staged(early: early, site: site, render: render, full: false, generation: memory.generation, pending: memory.pending)
        }
        let site = try load()
        return Staged(early: nil, site: site, render: site.pages, full: true, generation: memory.generation, pending: memory.pending)
    }

    /// Whether `changed` reaches nothing but stylesheets: only files under `assets/` changed, no asset
    /// was added or removed, and only stylesheets were renamed.
    private static func stylesheetsOnly(_ changed: Set<String>, from old: SiteState, to new: SiteState) -> Bool {
        guard !changed.isEmpty, changed.allSatisfy({ $0.hasPrefix("assets/") }),
              Set(old.catalog.assets.keys) == Set(new.catalog.assets.keys) else { return false }
        let renamed = new.catalog.assets.filter { old.catalog[$0.key] != $0.value }
        return !renamed.isEmpty && renamed.allSatisfy { ContentType.fileExtension(of: $0.key) == "css" }
    }

    /// The build as far as it is known before `render` is rendered.
    private static func early(_ site: SiteState, rendering render: [Page]) -> Early {
        let pending = Set(render.map(\.outputPath))
        let carried = site.pages.filter { !pending.contains($0.outputPath) }.compactMap { site.published[$0.outputPath] }
        // A stylesheet's new name changes no page's inline scripts or styles, so the headers stay.
        let published = site.pages.compactMap { site.published[$0.outputPath] }
        return Early(files: assetFiles(of: site) + carried.map(file), pending: pending, headers: headers(site, pages: published))
    }

    private static func assetFiles(of site: SiteState) -> [Prepared.File] {
        site.assetFiles.map {
            Prepared.File(path: String($0.asset.outputURL.dropFirst()), bytes: $0.bytes, sha256: $0.asset.sha256,
                          contentType: ContentType.of($0.asset.outputURL), source: $0.asset.source, cache: .immutable)
        }
    }

    private static func file(_ page: PublishedPage) -> Prepared.File {
        Prepared.File(path: page.page.outputPath, bytes: page.bytes, sha256: page.sha256,
                      contentType: ContentType.of(page.page.outputPath), source: page.page.source, cache: .revalidate)
    }

    private static func headers(_ site: SiteState, pages: [PublishedPage]) -> [String: String] {
        SiteBuilder.headers(environment: site.environment,
                            scriptHashes: pages.reduce(into: Set<String>()) { $0.formUnion($1.scriptHashes) },
                            styleHashes: pages.reduce(into: Set<String>()) { $0.formUnion($1.styleHashes) })
    }

    /// Writes a prepared build into the spare and swaps it in as the output folder. A failed write
    /// leaves the output folder as it was; the next write makes it whole. Writes are made one at a
    /// time, and may overlap the staging and rendering of the next build.
    public func write(_ prepared: Prepared) throws -> Rebuild {
        try written.withLock { written in
            let (report, manifest) = try write(prepared, knownSpare: written.count == 2 ? written[0] : nil, last: written.last)
            written = Array((written + [manifest]).suffix(2))
            return Rebuild(report: report, rendered: prepared.rendered, full: prepared.full)
        }
    }

    /// Whether a build reads what is at `path`: hidden files (editors' swap files) and files beside
    /// the folders it reads are not.
    private static func isRead(_ path: String) -> Bool {
        if path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { return false }
        guard path.hasPrefix("site/") else { return true }
        return path == SiteConfig.file || ["site/pages", "site/layouts", "site/partials", "site/i18n"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// `site.yml` reaches everything; a path outside the folders the build reads (the folders
    /// themselves, say, when moved) cannot be placed.
    private static func needsFullBuild(_ path: String) -> Bool {
        path == SiteConfig.file || !(path.hasPrefix("site/") || path.hasPrefix("assets/"))
    }

    /// Reads the whole project.
    private func load() throws -> SiteState {
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
    private func update(_ old: SiteState, changed paths: Set<String>) throws -> (SiteState, [Page]) {
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

    /// Renders and finishes `pages` on all cores.
    private func renderPages(_ pages: [Page], of site: SiteState, isCancelled: @Sendable () -> Bool = { false }) throws -> [PublishedPage] {
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

    /// Writes the whole site into the spare and swaps it in; returns the report and the manifest written.
    ///
    /// When the spare is the build before last and `last` the last build, a file whose bytes, source
    /// and cache class are the last build's and whose spare copy is already the same is carried over
    /// without being touched.
    private func write(_ prepared: Prepared, knownSpare: Manifest.Written?, last: Manifest.Written?) throws -> (BuildReport, Manifest.Written) {
        let site = prepared.site
        let output = try OutputFolder(destination: options.output ?? site.tree.absolute("dist"), project: site.tree.root,
                                      knownSpare: knownSpare)
        let writer = BuildOutput(folder: output, compress: options.compress)
        let files = prepared.files
        var changed = files
        if output.trusted, let last {
            let lastEntries = Dictionary(last.manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            var carried: [Manifest.Entry] = []
            changed = files.filter { file in
                guard let entry = lastEntries[file.path], entry.sha256 == file.sha256, entry.source == file.source,
                      entry.cache == file.cache, output.previous[file.path] == entry else { return true }
                carried.append(entry)
                return false
            }
            writer.carry(carried)
        }
        let problems = Mutex(Set<Diagnostic>())
        parallelForEach(count: changed.count, makeLocal: { GzipCompressor() }) { index, compressor in
            let file = changed[index]
            do {
                try writer.write(file.bytes, to: file.path, source: file.source, cache: file.cache, compressor: compressor, sha256: file.sha256)
            } catch {
                let diagnostic = error as? Diagnostic ?? Diagnostic("\(error)")
                problems.withLock { _ = $0.insert(diagnostic) }
            }
        }
        let failures = problems.withLock { $0 }
        if !failures.isEmpty { throw BuildFailure(Array(failures)) }

        let state = writer.snapshot
        let manifest = Manifest(generator: SiteBuilder.generator, environment: site.environment?.name,
                                compression: options.compress ? GzipCompressor.settings : nil,
                                files: state.entries.sorted { $0.path < $1.path })
        let manifestBytes = try manifest.encoded()
        try output.write(manifestBytes, to: Manifest.path)
        try output.write(try SiteBuilder.headersFile(environment: site.environment, headers: prepared.headers), to: ".site/headers.json")
        try output.commit()
        let report = BuildReport(output: output.destination, environment: site.environment?.name, pages: prepared.pages,
                                 languages: site.config.languages, assets: site.catalog.assets.count, files: manifest.files.count,
                                 compressibleBytes: state.compressibleBytes, compressedBytes: state.compressedBytes,
                                 manifest: manifest)
        return (report, Manifest.Written(bytes: manifestBytes, manifest: manifest))
    }
}
