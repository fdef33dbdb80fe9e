import Mustache

/// The site's Mustache layouts (`site/layouts/*.mustache`) and partials (`site/partials/**.mustache`).
///
/// Loading never stops at the first broken template: problems are kept per template and reported,
/// with the pages that use it, only when a page needs it.
struct Templates: Sendable {
    struct Source: Sendable {
        let file: String
        let text: String
        /// Partials it includes (`{{> name}}`, `{{< name}}`), with where.
        let partials: [(name: String, location: SourceLocation)]
    }

    private(set) var layouts: [String: MustacheTemplate] = [:]
    private(set) var sources: [String: Source] = [:]
    private(set) var partialFiles: [String: String] = [:]
    private(set) var layoutFiles: [String: String] = [:]
    private(set) var brokenTemplates: [String: Diagnostic] = [:]
    private(set) var library = MustacheLibrary()

    static func load(from tree: SourceTree) throws -> Templates {
        var templates = Templates()
        var problems = DiagnosticBag()
        for file in try tree.files(under: "site/partials") where file.hasSuffix(".mustache") {
            let name = String(file.dropFirst("site/partials/".count).dropLast(".mustache".count))
            templates.partialFiles[name] = file
            if case let template?? = problems.collect({ try templates.add(file, from: tree) }) {
                templates.library.register(template, named: name)
            }
        }
        for file in try tree.files(under: "site/layouts") where file.hasSuffix(".mustache") {
            let name = String(file.dropFirst("site/layouts/".count).dropLast(".mustache".count))
            templates.layoutFiles[name] = file
            if case let template?? = problems.collect({ try templates.add(file, from: tree) }) {
                templates.layouts[name] = template
            }
        }
        try problems.throwIfAny()
        return templates
    }

    /// Reads and parses one template file; a syntax error is remembered, not thrown.
    private mutating func add(_ file: String, from tree: SourceTree) throws -> MustacheTemplate? {
        let text = try tree.readText(file)
        sources[file] = Source(file: file, text: text, partials: Self.partialReferences(in: text, file: file))
        do {
            return try MustacheTemplate(string: text)
        } catch let error as MustacheTemplate.ParserError {
            brokenTemplates[file] = Diagnostic(
                "template syntax error: \(Self.describe(error.error))",
                at: SourceLocation(file: file, line: error.context.lineNumber, column: error.context.columnNumber))
            return nil
        }
    }

    private static func describe(_ error: Swift.Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect?: return "a section is closed with a different name than it was opened"
        case .unfinishedName?: return "a tag is not closed with }}"
        case .expectedSectionEnd?: return "a section is opened but never closed"
        case .invalidSetDelimiter?: return "invalid delimiter change"
        default: return "\(error)"
        }
    }

    /// `{{> name}}` and `{{< name}}` tags in a template's text.
    static func partialReferences(in text: String, file: String) -> [(name: String, location: SourceLocation)] {
        var found: [(String, SourceLocation)] = []
        var line = 1
        var column = 1
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "{", index + 2 < scalars.count, scalars[index + 1] == "{", scalars[index + 2] == ">" || scalars[index + 2] == "<" {
                var cursor = index + 3
                while cursor < scalars.count, scalars[cursor] == " " { cursor += 1 }
                var name = ""
                while cursor < scalars.count, scalars[cursor] != "}", scalars[cursor] != " " {
                    name.unicodeScalars.append(scalars[cursor])
                    cursor += 1
                }
                if !name.isEmpty { found.append((name, SourceLocation(file: file, line: line, column: column))) }
            }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }
        return found
    }

    /// The layout for a page, after checking it and every partial it reaches exist and parse.
    ///
    /// Returns the template and the files it reaches (for locating references in errors).
    func layout(named name: String, for page: String, at location: SourceLocation) throws -> (MustacheTemplate, [String]) {
        guard let file = layoutFiles[name] else {
            let known = layoutFiles.keys.sorted().joined(separator: ", ")
            throw Diagnostic("layout '\(name)' not found (looked for site/layouts/\(name).mustache; have: \(known.isEmpty ? "none" : known))",
                             at: location, key: "layout")
        }
        let (visited, problems) = reach(from: [file], usedBy: page)
        try problems.throwIfAny()
        return (layouts[name]!, visited)
    }

    /// The template files of the partials named in a page's own text, and every partial they reach.
    func files(ofPartials names: [String]) -> [String] {
        reach(from: names.compactMap { partialFiles[$0] }, usedBy: "").files
    }

    /// The template files `start` reaches through partial tags, themselves included, and the
    /// problems on the way: broken templates and missing partials.
    private func reach(from start: [String], usedBy page: String) -> (files: [String], problems: DiagnosticBag) {
        var problems = DiagnosticBag()
        var visited: [String] = []
        var queue = start.reversed() as [String]
        while let current = queue.popLast() {
            guard !visited.contains(current) else { continue }
            visited.append(current)
            if var broken = brokenTemplates[current] {
                broken.message += " (used by \(page))"
                problems.append(broken)
            }
            for reference in sources[current]?.partials ?? [] {
                if let partial = partialFiles[reference.name] {
                    queue.append(partial)
                } else {
                    problems.append(Diagnostic(
                        "partial '\(reference.name)' not found (looked for site/partials/\(reference.name).mustache; used by \(page))",
                        at: reference.location))
                }
            }
        }
        return (visited, problems)
    }
}
