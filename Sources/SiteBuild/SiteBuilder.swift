import Foundation

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
    /// A deployed stack's outputs, applied before the `SITE_*` overrides (`--stack`).
    public var stackOutputs: StackOutputs?
    /// Write `.gz` siblings.
    public var compress: Bool

    public init(projectRoot: String = ".", environment: String? = nil, output: String? = nil,
                processEnvironment: [String: String] = [:], stackOutputs: StackOutputs? = nil, compress: Bool = true) {
        self.projectRoot = projectRoot
        self.environment = environment
        self.output = output
        self.processEnvironment = processEnvironment
        self.stackOutputs = stackOutputs
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
        try BuildSession(options).build().report
    }

    static func loadConfig(from tree: SourceTree) throws -> SiteConfig {
        guard tree.exists(SiteConfig.file) else {
            throw Diagnostic("no \(SiteConfig.file) in \(tree.root); run from the project folder or pass --site",
                             at: SourceLocation(file: SiteConfig.file))
        }
        return try SiteConfig.parse(try tree.readText(SiteConfig.file))
    }

    /// The environment `name` (default: `local` when defined) of the project's site.yml, with
    /// `stack`'s outputs and then the `SITE_*` overrides in `overrides` applied: what `site publish`
    /// reads its target from.
    public static func environment(_ name: String?, projectRoot: String, stack: StackOutputs? = nil,
                                   overrides: [String: String]) throws -> Environment? {
        let tree = try SourceTree(root: projectRoot)
        return try selectEnvironment(name, in: try loadConfig(from: tree), stack: stack, overrides: overrides)
    }

    /// The environment to build for: site.yml's, then the stack's outputs, then the `SITE_*`
    /// overrides, each later source winning.
    static func selectEnvironment(_ name: String?, in config: SiteConfig, stack: StackOutputs? = nil,
                                  overrides: [String: String]) throws -> Environment? {
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
        guard var environment = selected else {
            if let stack {
                throw Diagnostic("stack '\(stack.stack)' needs an environment to apply to; choose one with --env", key: "--stack")
            }
            return nil
        }
        if let stack {
            environment = try environment.applying(stack: stack, except: Environment.overriddenKeys(overrides))
        }
        return try environment.applying(overrides: overrides)
    }

    /// The security headers production sends with every file, as `dist/.site/headers.json` records them.
    static func headers(environment: Environment?, scriptHashes: Set<String>, styleHashes: Set<String>) -> [String: String] {
        SecurityPolicy(environment: environment).headers(scriptHashes: scriptHashes, styleHashes: styleHashes)
    }

    static func headersFile(environment: Environment?, headers: [String: String]) throws -> [UInt8] {
        struct HeadersFile: Encodable {
            let environment: String?
            let headers: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(HeadersFile(environment: environment?.name, headers: headers))) + [UInt8(ascii: "\n")]
    }
}

/// The tool's version, shown by `site --version` and recorded in the manifest.
public let siteVersion = "0.1.0"
