/// One page to render: a source under `site/pages/` in one language, and where it is published.
public struct Page: Sendable, Equatable {
    public enum Format: Sendable { case markdown, html }

    /// Project-relative source file.
    public var source: String
    public var format: Format
    /// Path under `site/pages/` without extension and language suffix: `help`, `posts/p1`, `index`.
    public var route: String
    public var language: String
    /// True when no translation exists and the default-language source stands in.
    public var isFallback: Bool
    /// Public URL: `/`, `/help/`, `/en/help/`, `/404.html`.
    public var url: String

    /// The file under the output folder: `help/index.html`.
    public var outputPath: String {
        url.hasSuffix("/") ? String(url.dropFirst()) + "index.html" : String(url.dropFirst())
    }
}

/// Maps page sources to URLs: the pure rules of DESIGN.md's "A page's URL is its path".
public enum PageRoute {
    /// The URL of `route` in `language`: the default language at `/…`, others at `/<lang>/…`.
    public static func url(route: String, language: String, defaultLanguage: String) -> String {
        var path: String
        if route == "index" {
            path = "/"
        } else if route == "404" {
            path = "/404.html"
        } else if route.hasSuffix("/index") {
            path = "/" + route.dropLast("index".count)
        } else {
            path = "/" + route + "/"
        }
        if language != defaultLanguage { path = "/" + language + path }
        return path
    }

    /// Splits `site/pages/help.en.md` into its route (`help`), explicit language (`en`) and format.
    static func parse(source: String, languages: [String]) -> (route: String, language: String?, format: Page.Format)? {
        let prefix = "site/pages/"
        guard source.hasPrefix(prefix) else { return nil }
        var name = String(source.dropFirst(prefix.count))
        let format: Page.Format
        if name.hasSuffix(".md") {
            format = .markdown
            name.removeLast(3)
        } else if name.hasSuffix(".html") {
            format = .html
            name.removeLast(5)
        } else {
            return nil
        }
        if let dot = name.lastIndex(of: "."), !name[dot...].contains("/") {
            let suffix = String(name[name.index(after: dot)...])
            if languages.contains(suffix) { return (String(name[..<dot]), suffix, format) }
        }
        return (name, nil, format)
    }

    /// Every page of the site in every language, from the source list.
    ///
    /// A route with a default-language source is published in every language, standing in where a
    /// translation is missing; a route with only translations is published in those languages.
    static func plan(sources: [String], languages: [String]) throws -> [Page] {
        let defaultLanguage = languages[0]
        var byRoute: [String: [String: (String, Page.Format)]] = [:]
        var problems = DiagnosticBag()
        for source in sources {
            guard let parsed = parse(source: source, languages: languages) else {
                problems.append(Diagnostic("pages are .md or .html files; put other files under assets/",
                                           at: SourceLocation(file: source)))
                continue
            }
            let language = parsed.language ?? defaultLanguage
            if let other = byRoute[parsed.route]?[language] {
                problems.append(Diagnostic("same page and language as \(other.0)", at: SourceLocation(file: source)))
                continue
            }
            byRoute[parsed.route, default: [:]][language] = (source, parsed.format)
        }
        var pages: [Page] = []
        var urls: [String: String] = [:]
        var reportedClashes = Set<[String]>()
        for route in byRoute.keys.sorted() {
            let variants = byRoute[route]!
            for language in languages {
                let own = variants[language]
                guard let (source, format) = own ?? variants[defaultLanguage] else { continue }
                let url = url(route: route, language: language, defaultLanguage: defaultLanguage)
                if let other = urls[url] {
                    // The same two files clash in every language; say so once.
                    if reportedClashes.insert([other, source]).inserted {
                        problems.append(Diagnostic("two pages have the URL \(url): \(other) and \(source)",
                                                   at: SourceLocation(file: source)))
                    }
                    continue
                }
                urls[url] = source
                pages.append(Page(source: source, format: format, route: route, language: language,
                                  isFallback: own == nil, url: url))
            }
        }
        try problems.throwIfAny()
        return pages
    }
}
