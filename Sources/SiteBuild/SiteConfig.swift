/// `site/site.yml`: the site's title, languages, markdown options and deployment environments.
public struct SiteConfig: Sendable {
    public var title: String
    public var description: String?
    /// Language codes; the first is the default, served at `/`, the others under `/<lang>/`.
    public var languages: [String]
    public var markdown: MarkdownOptions
    /// Environments by name, in the order `site.yml` lists them.
    public var environments: [Environment]

    public var defaultLanguage: String { languages[0] }

    /// The environment named `name`.
    public func environment(named name: String) -> Environment? {
        environments.first { $0.name == name }
    }

    public static let file = "site/site.yml"

    /// Parses and validates `site.yml` text; every error names `file:line:column` and the key.
    public static func parse(_ text: String, file: String = SiteConfig.file) throws -> SiteConfig {
        let root = try YAMLNode.parse(text, file: file)
        let fields = try root.fields(allowed: ["title", "description", "languages", "markdown", "environments"])
        guard let titleNode = fields["title"] else {
            throw Diagnostic("missing required key; add e.g. `title: My Site`", at: SourceLocation(file: file, line: 1, column: 1), key: "title")
        }
        var config = SiteConfig(
            title: try titleNode.nonEmptyString(),
            description: try fields["description"]?.string(),
            languages: ["en"],
            markdown: MarkdownOptions(),
            environments: [])
        if let node = fields["languages"] {
            config.languages = try parseLanguages(node)
        }
        if let node = fields["markdown"] {
            let options = try node.fields(allowed: ["unsafeHTML", "smartPunctuation"])
            config.markdown.unsafeHTML = try options["unsafeHTML"]?.bool() ?? false
            config.markdown.smartPunctuation = try options["smartPunctuation"]?.bool() ?? false
        }
        if let node = fields["environments"] {
            config.environments = try node.mapping().map { name, value in
                guard Environment.isValidName(name) else {
                    throw value.error("environment names are letters, digits, '-' and '_'")
                }
                return try Environment.parse(name: name, node: value)
            }
        }
        return config
    }

    private static func parseLanguages(_ node: YAMLNode) throws -> [String] {
        let items = try node.items()
        guard !items.isEmpty else { throw node.error("list at least one language; the first is the default") }
        var languages: [String] = []
        for item in items {
            let code = try item.nonEmptyString()
            guard isLanguageTag(code) else {
                throw item.error("'\(code)' is not a language tag like en or pt-BR")
            }
            guard !languages.contains(code) else { throw item.error("language '\(code)' is listed twice") }
            languages.append(code)
        }
        return languages
    }

    /// A BCP 47-style tag: two or three letters, then optional `-` subtags of letters or digits.
    static func isLanguageTag(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return false
        }
        return parts.dropFirst().allSatisfy { part in
            (2...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }
}

/// How markdown is rendered.
public struct MarkdownOptions: Sendable, Equatable {
    /// Pass raw HTML in markdown through; off by default, so markdown cannot inject markup.
    public var unsafeHTML = false
    /// Curly quotes and dashes.
    public var smartPunctuation = false

    public init(unsafeHTML: Bool = false, smartPunctuation: Bool = false) {
        self.unsafeHTML = unsafeHTML
        self.smartPunctuation = smartPunctuation
    }
}
