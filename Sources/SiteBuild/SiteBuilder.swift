import Foundation
import Synchronization

/// What to build and where.
public struct BuildOptions: Sendable {
    /// The project folder (holding `site/` and `assets/`).
    public var projectRoot: String
    /// The environment from `site.yml` whose config the app gets; nil picks `local` if defined.
    public var environment: String?
    /// Output folder; defaults to `dist` in the project.
    public var output: String?
    /// Variables consulted for `SITE_*` overrides.
    public var processEnvironment: [String: String]
    /// Write `.gz` siblings.
    public var compress: Bool

    public init(projectRoot: String = ".", environment: String? = nil, output: String? = nil,
                processEnvironment: [String: String] = [:], compress: Bool = true) {
        self.projectRoot = projectRoot
        self.environment = environment
        self.output = output
        self.processEnvironment = processEnvironment
        self.compress = compress
    }
}

/// What a finished build made.
public struct BuildReport: Sendable {
    public var output: String
    public var environment: String?
    public var pages: Int
    public var languages: [String]
    public var assets: Int
    public var files: Int
    /// Compressible bytes before compression, and what they take with `.gz` (each file's smaller form).
    public var compressibleBytes: Int
    public var compressedBytes: Int
    public var manifest: Manifest
}

/// `site build`: reads the project, renders every page in every language, fingerprints assets,
/// writes `dist/` atomically with a manifest and the security headers.
public enum SiteBuilder {
    public static let generator = "site \(siteVersion)"

    public static func build(_ options: BuildOptions) throws -> BuildReport {
        let tree = try SourceTree(root: options.projectRoot)
        let config = try loadConfig(from: tree)
        let environment = try selectEnvironment(options.environment, in: config, overrides: options.processEnvironment)
        let strings = try Strings.load(languages: config.languages, from: tree)
        let templates = try Templates.load(from: tree)
        let pages = try PageRoute.plan(sources: try tree.files(under: "site/pages"), languages: config.languages)

        let output = try OutputFolder(destination: options.output ?? tree.absolute("dist"), project: tree.root)
        let writer = BuildOutput(folder: output, compress: options.compress)
        let compressor = GzipCompressor()
        let catalog = try AssetCatalog.build(from: tree) { asset, bytes in
            try writer.write(bytes, to: String(asset.outputURL.dropFirst()), source: asset.source,
                             cache: .immutable, compressor: compressor)
        }
        let renderer = PageRenderer(
            config: config, environment: environment, templates: templates,
            strings: strings.mapValues(\.templateValue),
            pagesByRoute: Dictionary(grouping: pages, by: \.route),
            configValue: AppConfig.templateValue(environment))
        let finisher = PageFinisher(catalog: catalog, pageURLs: Set(pages.map(\.url)),
                                    policy: SecurityPolicy(environment: environment),
                                    configJSON: environment.map(AppConfig.json))
        let hashes = try renderPages(pages, tree: tree, renderer: renderer, finisher: finisher, writer: writer)
        let state = writer.snapshot
        let manifest = Manifest(generator: generator, environment: environment?.name,
                                compression: options.compress ? GzipCompressor.settings : nil,
                                files: state.entries.sorted { $0.path < $1.path })
        try output.write(try manifest.encoded(), to: Manifest.path)
        try output.write(try headersFile(environment: environment, hashes: hashes), to: ".site/headers.json")
        try output.commit()
        return BuildReport(output: output.destination, environment: environment?.name, pages: pages.count,
                           languages: config.languages, assets: catalog.assets.count, files: manifest.files.count,
                           compressibleBytes: state.compressibleBytes, compressedBytes: state.compressedBytes,
                           manifest: manifest)
    }

    static func loadConfig(from tree: SourceTree) throws -> SiteConfig {
        guard tree.exists(SiteConfig.file) else {
            throw Diagnostic("no \(SiteConfig.file) in \(tree.root); run from the project folder or pass --site",
                             at: SourceLocation(file: SiteConfig.file))
        }
        return try SiteConfig.parse(try tree.readText(SiteConfig.file))
    }

    /// The environment `name` (default: `local` when defined) of the project's site.yml, with the
    /// `SITE_*` overrides in `overrides` applied: what `site publish` reads its target from.
    public static func environment(_ name: String?, projectRoot: String, overrides: [String: String]) throws -> Environment? {
        let tree = try SourceTree(root: projectRoot)
        return try selectEnvironment(name, in: try loadConfig(from: tree), overrides: overrides)
    }

    /// The environment to build for, with `SITE_*` overrides applied.
    static func selectEnvironment(_ name: String?, in config: SiteConfig, overrides: [String: String]) throws -> Environment? {
        let known = config.environments.map(\.name)
        let selected: Environment?
        if let name {
            guard let environment = config.environment(named: name) else {
                throw Diagnostic(known.isEmpty
                                 ? "unknown environment '\(name)': \(SiteConfig.file) defines no environments"
                                 : "unknown environment '\(name)'; \(SiteConfig.file) defines: \(known.joined(separator: ", "))",
                                 at: SourceLocation(file: SiteConfig.file), key: "--env")
            }
            selected = environment
        } else if let local = config.environment(named: "local") {
            selected = local
        } else if known.isEmpty {
            selected = nil
        } else {
            throw Diagnostic("choose an environment with --env; \(SiteConfig.file) defines: \(known.joined(separator: ", "))",
                             at: SourceLocation(file: SiteConfig.file), key: "--env")
        }
        return try selected?.applying(overrides: overrides)
    }

    /// Renders and writes every page on all cores; returns the inline-block hashes the header policy must allow.
    private static func renderPages(_ pages: [Page], tree: SourceTree, renderer: PageRenderer, finisher: PageFinisher,
                                    writer: BuildOutput) throws -> (scripts: Set<String>, styles: Set<String>) {
        struct Collected {
            var problems = Set<Diagnostic>()
            var scripts = Set<String>()
            var styles = Set<String>()
        }
        let collected = Mutex(Collected())
        parallelForEach(count: pages.count, makeLocal: { GzipCompressor() }) { index, compressor in
            let page = pages[index]
            var problems = DiagnosticBag()
            problems.collect(at: SourceLocation(file: page.source)) {
                let text = try tree.readText(page.source)
                let rendered = try renderer.render(page, text: text)
                let result = try finisher.finish(rendered.html, url: page.url) { needle in
                    locate(needle, in: rendered.sources, tree: tree, fallback: page.source)
                }
                try writer.write(result.bytes, to: page.outputPath, source: page.source, cache: .revalidate, compressor: compressor)
                collected.withLock {
                    $0.scripts.formUnion(result.scriptHashes)
                    $0.styles.formUnion(result.styleHashes)
                }
            }
            if !problems.isEmpty { collected.withLock { $0.problems.formUnion(problems.items) } }
        }
        let result = collected.withLock { $0 }
        // A set: a page shared by several languages fails the same way in each, and is reported once.
        if !result.problems.isEmpty { throw BuildFailure(Array(result.problems)) }
        return (result.scripts, result.styles)
    }

    private static func headersFile(environment: Environment?, hashes: (scripts: Set<String>, styles: Set<String>)) throws -> [UInt8] {
        struct HeadersFile: Encodable {
            let environment: String?
            let headers: [String: String]
        }
        let policy = SecurityPolicy(environment: environment)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let file = HeadersFile(environment: environment?.name,
                               headers: policy.headers(scriptHashes: hashes.scripts, styleHashes: hashes.styles))
        return Array(try encoder.encode(file)) + [UInt8(ascii: "\n")]
    }
}

/// The tool's version, shown by `site --version` and recorded in the manifest.
public let siteVersion = "0.1.0"
