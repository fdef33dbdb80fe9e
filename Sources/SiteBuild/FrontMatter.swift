/// The YAML block between `---` lines at the top of a page, and what it may say.
public struct FrontMatter: Sendable {
    public enum Auth: String, Sendable, CaseIterable {
        /// Only signed-in users; the app redirects others to sign-in.
        case required
        /// Only signed-out users (sign-in, sign-up).
        case guest
        /// Anyone.
        case `public`
    }

    public static let keys = ["title", "layout", "description", "scripts", "auth"]

    public var title: String
    public var layout: String = "page"
    public var description: String?
    /// Entry modules as asset URLs (`/assets/js/pages/login.js`), each with where it was written.
    public var scripts: [(url: String, location: SourceLocation)] = []
    public var auth: Auth = .public
    /// Where `layout:` was written, for a missing-layout error (the file's first line when defaulted).
    public var layoutLocation: SourceLocation

    /// Splits `text` into front matter and body; the body's first line number is returned too.
    public static func parse(_ text: String, file: String) throws -> (FrontMatter, body: Substring, bodyLine: Int) {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard text.hasPrefix("---\n") || text.hasPrefix("---\r\n") else { throw missingTitle(file) }
        var yamlLines: [Substring] = []
        var lineNumber = 1
        var rest = text[text.index(after: text.firstIndex(of: "\n")!)...]
        var closed = false
        while !rest.isEmpty {
            let end = rest.firstIndex(of: "\n")
            let line = rest[..<(end ?? rest.endIndex)]
            rest = end.map { rest[rest.index(after: $0)...] } ?? rest[rest.endIndex...]
            lineNumber += 1
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed == "---" || trimmed == "..." { closed = true; break }
            yamlLines.append(line)
        }
        guard closed else {
            throw Diagnostic("front matter is not closed; end it with a --- line", at: start)
        }
        let matter = try simple(yamlLines, file: file) ?? yaml(yamlLines, file: file)
        return (matter, rest, lineNumber + 1)
    }

    /// Reads the front matter lines with the YAML parser.
    static func yaml(_ lines: [Substring], file: String) throws -> FrontMatter {
        let start = SourceLocation(file: file, line: 1, column: 1)
        let missing = missingTitle(file)
        let node = try YAMLNode.parse(lines.joined(separator: "\n"), file: file, lineOffset: 1)
        if case .scalar = node.node, (try? node.string()) == nil {
            throw missing
        }
        let fields = try node.fields(allowed: keys)
        guard let titleNode = fields["title"] else { throw missing }
        var matter = FrontMatter(title: try titleNode.nonEmptyString(), layoutLocation: start)
        if let layout = fields["layout"] {
            let name = try layout.nonEmptyString()
            guard !name.contains("..") && !name.hasPrefix("/") else { throw layout.error("layout is a name like page or app") }
            matter.layout = name
            matter.layoutLocation = layout.location
        }
        matter.description = try fields["description"]?.string()
        if let auth = fields["auth"] {
            let value = try auth.nonEmptyString()
            guard let parsed = Auth(rawValue: value) else {
                throw auth.error("'\(value)' is not one of: \(Auth.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            matter.auth = parsed
        }
        if let scripts = fields["scripts"] {
            matter.scripts = try scripts.listItems.map { item in
                let path = try item.nonEmptyString()
                guard path.hasSuffix(".js") || path.hasSuffix(".mjs") else {
                    throw item.error("'\(path)' is not a JavaScript module (.js or .mjs)")
                }
                let url = path.hasPrefix("/assets/") ? path : "/assets/" + (path.hasPrefix("/") ? String(path.dropFirst()) : path)
                return (url, item.location)
            }
        }
        return matter
    }

    private static func missingTitle(_ file: String) -> Diagnostic {
        Diagnostic("missing front matter; start the file with ---, a `title:` line and ---",
                   at: SourceLocation(file: file, line: 1, column: 1), key: "title")
    }

    /// Reads the common front matter — `key: plain text` lines of title, layout, description and
    /// auth — without a YAML parser, which costs more than the rest of a page's rendering.
    /// Anything else, including every kind of mistake, returns nil and goes through YAML, which
    /// gives the precise error.
    static func simple(_ lines: [Substring], file: String) -> FrontMatter? {
        var values: [String: String] = [:]
        for line in lines {
            if line.allSatisfy({ $0 == " " }) { continue }
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let key = String(line[..<colon])
            guard ["title", "layout", "description", "auth"].contains(key), values[key] == nil else { return nil }
            let afterColon = line[line.index(after: colon)...]
            guard afterColon.first == " " else { return nil }
            let value = afterColon.trimmingSpaces
            guard let first = value.first, !"-?:,[]{}#&*!|>'\"%@`~".contains(first),
                  !value.contains(": "), !value.contains(" #"), !value.hasSuffix(":"), !value.contains("\t"),
                  !["null", "Null", "NULL"].contains(value) else { return nil }
            values[key] = value
        }
        guard let title = values["title"] else { return nil }
        var matter = FrontMatter(title: title, layoutLocation: SourceLocation(file: file, line: 1, column: 1))
        if let layout = values["layout"] {
            guard !layout.contains(".."), let line = lines.firstIndex(where: { $0.hasPrefix("layout:") }) else { return nil }
            matter.layout = layout
            let column = lines[line].distance(from: lines[line].startIndex, to: lines[line].firstIndex(of: layout.first!)!) + 1
            matter.layoutLocation = SourceLocation(file: file, line: line - lines.startIndex + 2, column: column)
        }
        if let auth = values["auth"] {
            guard let parsed = Auth(rawValue: auth) else { return nil }
            matter.auth = parsed
        }
        matter.description = values["description"]
        return matter
    }
}
