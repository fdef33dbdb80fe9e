import Foundation
import Mustache

/// Renders one page: front matter, body (markdown, or HTML with Mustache tags), then its layout.
struct PageRenderer: @unchecked Sendable {
    let config: SiteConfig
    let environment: Environment?
    let templates: Templates
    /// `t.*` per language.
    let strings: [String: [String: Any]]
    /// The same strings as loaded, to check that every `{{t.…}}` a page uses exists.
    let stringTables: [String: Strings]
    /// Every page of the site, by route, for the translation links.
    let pagesByRoute: [String: [Page]]
    let configValue: [String: Any]

    struct Rendered {
        let html: String
        /// The files that made it (page, layout, partials), to say where a problem was written.
        let sources: [String]
        /// Every project file its HTML depends on: `sources` and the partials its own text includes.
        let files: Set<String>
    }

    func render(_ page: Page, text: String) throws -> Rendered {
        var (matter, body, bodyLine) = try FrontMatter.parse(text, file: page.source)
        var partials: [String] = []
        // A title may be translated: `title: "{{t.login.title}}"` renders per language.
        if matter.title.contains("{{") {
            matter.title = try renderBody(Substring(matter.title), bodyLine: 2, page: page, context: context(for: page, matter: matter),
                                          partials: &partials)
        }
        if let description = matter.description, description.contains("{{") {
            matter.description = try renderBody(Substring(description), bodyLine: 2, page: page,
                                                context: self.context(for: page, matter: matter), partials: &partials)
        }
        var context = self.context(for: page, matter: matter)
        let (layout, layoutFiles) = try templates.layout(named: matter.layout, for: page.source, at: matter.layoutLocation)
        let content: String
        switch page.format {
        case .markdown:
            content = Markdown.render(String(body), options: config.markdown)
        case .html:
            content = try renderBody(body, bodyLine: bodyLine, page: page, context: context, partials: &partials)
        }
        context["content"] = content
        let sources = [page.source] + layoutFiles
        try checkStrings(page: page, text: text, body: body, templateFiles: layoutFiles + templates.files(ofPartials: partials))
        return Rendered(html: layout.render(context, library: templates.library), sources: sources,
                        files: Set(sources).union(templates.files(ofPartials: partials)))
    }

    /// Fails on a `{{t.…}}` that names no string of the page's language, in the page (its front matter,
    /// and its body when that is a template) or in a layout or partial it uses.
    private func checkStrings(page: Page, text: String, body: Substring, templateFiles: [String]) throws {
        guard let table = stringTables[page.language] else { return }
        let checked = page.format == .html ? text : String(text[..<body.startIndex])
        var found = table.missingReference(in: checked, file: page.source)
        for file in templateFiles where found == nil {
            if let source = templates.sources[file]?.text { found = table.missingReference(in: source, file: file) }
        }
        if let (key, location) = found {
            throw Diagnostic("no string t.\(key) in \(table.file); add it to every site/i18n/*.json", at: location, key: "t.\(key)")
        }
    }

    /// An HTML body is a Mustache template too, so app pages can use `t.*` and `config.*`. The
    /// partials it names are added to `partials`.
    private func renderBody(_ body: Substring, bodyLine: Int, page: Page, context: [String: Any], partials: inout [String]) throws -> String {
        let text = String(body)
        let references = Templates.partialReferences(in: text, file: page.source)
        partials += references.map(\.name)
        for reference in references where templates.library.getTemplate(named: reference.name) == nil {
            var location = reference.location
            location.line = (location.line ?? 1) + bodyLine - 1
            throw Diagnostic("partial '\(reference.name)' not found (looked for site/partials/\(reference.name).mustache)", at: location)
        }
        do {
            return try MustacheTemplate(string: text).render(context, library: templates.library)
        } catch let error as MustacheTemplate.ParserError {
            throw Diagnostic("template syntax error: \(error.error)",
                             at: SourceLocation(file: page.source, line: error.context.lineNumber + bodyLine - 1, column: error.context.columnNumber))
        }
    }

    private func context(for page: Page, matter: FrontMatter) -> [String: Any] {
        let translations: [[String: Any]] = (pagesByRoute[page.route] ?? []).map {
            ["language": $0.language, "url": $0.url, "current": $0.language == page.language]
        }
        var pageValue: [String: Any] = [
            "title": matter.title,
            "url": page.url,
            "language": page.language,
            "route": page.route,
            "auth": matter.auth.rawValue,
            "scripts": matter.scripts.map(\.url),
            "translations": translations,
            "hasTranslations": translations.count > 1,
            "isFallback": page.isFallback,
            "source": page.source,
        ]
        var siteValue: [String: Any] = [
            "title": config.title,
            "languages": config.languages,
            "defaultLanguage": config.defaultLanguage,
            "home": PageRoute.url(route: "index", language: page.language, defaultLanguage: config.defaultLanguage),
        ]
        // Absent values stay absent, so `{{#page.description}}` sections are skipped.
        pageValue["description"] = matter.description
        siteValue["description"] = config.description
        siteValue["environment"] = environment?.name
        return [
            "title": matter.title,
            "lang": page.language,
            "page": pageValue,
            "site": siteValue,
            "config": configValue,
            "t": strings[page.language] ?? [:],
        ]
    }
}

/// Finds where `needle` was written among `files` (first match), for pointing errors at a line.
func locate(_ needle: String, in files: [String], tree: SourceTree, fallback: String) -> SourceLocation {
    for file in files {
        guard let text = try? tree.readText(file), let range = text.range(of: needle) else { continue }
        let before = text[..<range.lowerBound]
        let line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        let lineStart = before.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
        return SourceLocation(file: file, line: line, column: text[lineStart..<range.lowerBound].count + 1)
    }
    return SourceLocation(file: fallback)
}
