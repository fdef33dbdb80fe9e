/// The translated interface strings of one language, from `site/i18n/<lang>.json`.
///
/// Files are JSON objects of strings, nested for grouping: `{"nav": {"home": "Início"}}` is `t.nav.home`.
public struct Strings: Sendable {
    public let language: String
    public let file: String
    /// Dotted key → text.
    public let values: [String: String]
    /// Dotted key → where it is defined.
    let locations: [String: SourceLocation]

    /// The group of strings the app's scripts show (errors, statuses, hints): every key under `script.`.
    public static let scriptGroup = "script"

    /// The `script.*` strings as flat JSON (`{"errors.NetworkError": "…"}`, keys without the `script.` prefix),
    /// safe inside a `<script type="application/json">` element; what `site-strings` carries.
    public var scriptJSON: String {
        let prefix = Self.scriptGroup + "."
        var flat: [String: String] = [:]
        for (key, text) in values where key.hasPrefix(prefix) { flat[String(key.dropFirst(prefix.count))] = text }
        return AppConfig.scriptSafeJSON(flat)
    }

    /// The first `{{t.…}}` reference in `text` that names neither a string nor a group of strings, with where.
    func missingReference(in text: String, file: String, firstLine: Int = 1) -> (key: String, location: SourceLocation)? {
        var line = firstLine
        var lineStart = text.startIndex
        var index = text.startIndex
        while let open = text[index...].range(of: "{{") {
            var scan = index
            while scan < open.lowerBound {
                if text[scan] == "\n" { line += 1; lineStart = text.index(after: scan) }
                scan = text.index(after: scan)
            }
            var cursor = open.upperBound
            while cursor < text.endIndex, "{#^/&! ".contains(text[cursor]) { cursor = text.index(after: cursor) }
            index = cursor
            guard text[cursor...].hasPrefix("t.") else { continue }
            let nameEnd = text[cursor...].firstIndex(where: { $0 == "}" || $0 == " " }) ?? text.endIndex
            let key = String(text[text.index(cursor, offsetBy: 2)..<nameEnd])
            index = nameEnd
            if values[key] != nil || values.keys.contains(where: { $0.hasPrefix(key + ".") }) { continue }
            return (key, SourceLocation(file: file, line: line, column: text.distance(from: lineStart, to: open.lowerBound) + 1))
        }
        return nil
    }

    /// The nested form templates read as `t.*`.
    public var templateValue: [String: Any] {
        var root: [String: Any] = [:]
        for (key, text) in values {
            insert(text, at: key.split(separator: ".").map(String.init)[...], into: &root)
        }
        return root
    }

    private func insert(_ text: String, at path: ArraySlice<String>, into object: inout [String: Any]) {
        guard let head = path.first else { return }
        if path.count == 1 {
            object[head] = text
        } else {
            var child = object[head] as? [String: Any] ?? [:]
            insert(text, at: path.dropFirst(), into: &child)
            object[head] = child
        }
    }

    /// Parses one language's JSON file.
    public static func parse(_ text: String, language: String, file: String) throws -> Strings {
        var parser = JSONStringsParser(bytes: Array(text.utf8), file: file)
        let (values, locations) = try parser.parseDocument()
        return Strings(language: language, file: file, values: values, locations: locations)
    }

    /// Loads every language's strings; a key present in one language and missing in another is an error.
    static func load(languages: [String], from tree: SourceTree) throws -> [String: Strings] {
        var result: [String: Strings] = [:]
        var problems = DiagnosticBag()
        for language in languages {
            let file = "site/i18n/\(language).json"
            if tree.exists(file) {
                result[language] = problems.collect { try parse(try tree.readText(file), language: language, file: file) }
            } else {
                result[language] = Strings(language: language, file: file, values: [:], locations: [:])
            }
        }
        try problems.throwIfAny()
        let allKeys = Set(result.values.flatMap(\.values.keys))
        for language in languages {
            guard let strings = result[language] else { continue }
            for key in allKeys.subtracting(strings.values.keys).sorted() {
                let definedIn = languages.lazy.compactMap { result[$0]?.locations[key] }.first
                problems.append(Diagnostic(
                    "missing in \(language)\(definedIn.map { "; defined at \($0)" } ?? ""); every string needs a translation in each language",
                    at: SourceLocation(file: strings.file), key: "t.\(key)"))
            }
        }
        try problems.throwIfAny()
        return result
    }
}

/// A small JSON reader that keeps line and column of every key, for translation files.
struct JSONStringsParser {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1
    var lineStart = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    private var location: SourceLocation { SourceLocation(file: file, line: line, column: index - lineStart + 1) }

    private func error(_ message: String) -> Diagnostic { Diagnostic("invalid JSON: \(message)", at: location) }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"): line += 1; index += 1; lineStart = index
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    mutating func parseDocument() throws -> ([String: String], [String: SourceLocation]) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3; lineStart = 3 }
        var values: [String: String] = [:]
        var locations: [String: SourceLocation] = [:]
        try parseObject(prefix: "", values: &values, locations: &locations)
        skipSpace()
        guard index == bytes.count else { throw error("unexpected text after the object") }
        return (values, locations)
    }

    private mutating func parseObject(prefix: String, values: inout [String: String], locations: inout [String: SourceLocation]) throws {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return }
        while true {
            skipSpace()
            let keyLocation = location
            let key = try parseString()
            guard !key.isEmpty, !key.contains(".") else {
                throw Diagnostic("keys must be non-empty and contain no '.' (nest objects instead)", at: keyLocation, key: "t.\(prefix)\(key)")
            }
            let path = prefix + key
            guard locations[path] == nil else { throw Diagnostic("duplicate key", at: keyLocation, key: "t.\(path)") }
            try expect(UInt8(ascii: ":"))
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            if bytes[index] == UInt8(ascii: "{") {
                locations[path] = keyLocation
                try parseObject(prefix: path + ".", values: &values, locations: &locations)
                locations[path] = nil
            } else if bytes[index] == UInt8(ascii: "\"") {
                values[path] = try parseString()
                locations[path] = keyLocation
            } else {
                throw Diagnostic("translations must be text (or objects grouping text)", at: location, key: "t.\(path)")
            }
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return }
            throw error("expected ',' or '}'")
        }
    }

    private mutating func parseString() throws -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string") }
        index += 1
        var scalars = String.UnicodeScalarView()
        var pendingHigh: UInt32?
        var raw: [UInt8] = []
        func flushRaw() throws {
            guard !raw.isEmpty else { return }
            guard let text = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8") }
            scalars.append(contentsOf: text.unicodeScalars)
            raw.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                try flushRaw()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flushRaw()
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                let simple: [UInt8: Unicode.Scalar] = [
                    UInt8(ascii: "\""): "\"", UInt8(ascii: "\\"): "\\", UInt8(ascii: "/"): "/",
                    UInt8(ascii: "b"): "\u{8}", UInt8(ascii: "f"): "\u{c}", UInt8(ascii: "n"): "\n",
                    UInt8(ascii: "r"): "\r", UInt8(ascii: "t"): "\t",
                ]
                if let scalar = simple[escape] { scalars.append(scalar); continue }
                guard escape == UInt8(ascii: "u"), index + 4 <= bytes.count,
                      let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                    throw error("invalid escape")
                }
                index += 4
                if (0xD800..<0xDC00).contains(code) { pendingHigh = code; continue }
                var value = code
                if (0xDC00..<0xE000).contains(code), let high = pendingHigh {
                    value = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                }
                pendingHigh = nil
                guard let scalar = Unicode.Scalar(value) else { throw error("invalid \\u escape") }
                scalars.append(scalar)
            case UInt8(ascii: "\n"):
                throw error("unterminated string")
            default:
                raw.append(byte)
            }
        }
        throw error("unterminated string")
    }
}
