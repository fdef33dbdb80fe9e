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
///
/// This file holds the session's memory and its steps (stage, prepare, write); what the steps do
/// is beside it: reading the sources and what a change reaches (BuildSession+Reading.swift),
/// rendering pages (+Rendering) and writing the output folder (+Writing).
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
        let site: SiteState
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
}
