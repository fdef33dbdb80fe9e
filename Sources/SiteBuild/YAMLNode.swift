import Yams

/// A YAML node together with where it came from, so every value read from it can be blamed precisely.
///
/// `lineOffset` shifts line numbers for YAML embedded in a larger file (front matter).
struct YAMLNode {
    let node: Node
    let file: String
    let keyPath: String
    let lineOffset: Int

    /// Parses `text` as one YAML document; an empty document is an empty mapping.
    static func parse(_ text: String, file: String, lineOffset: Int = 0) throws -> YAMLNode {
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return YAMLNode(node: node, file: file, keyPath: "", lineOffset: lineOffset)
        } catch let error as YamlError {
            throw diagnostic(for: error, file: file, lineOffset: lineOffset)
        }
    }

    private static func diagnostic(for error: YamlError, file: String, lineOffset: Int) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation {
            SourceLocation(file: file, line: mark.line + lineOffset, column: mark.column)
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map { "\($0.text) " } ?? ""
            return Diagnostic("invalid YAML: \(detail)\(problem)", at: at(mark))
        case let .duplicatedKeysInMapping(duplicates, context):
            return Diagnostic("invalid YAML: duplicate key \(duplicates.joined(separator: ", "))", at: at(context.mark))
        default:
            return Diagnostic("invalid YAML: \(error)", at: SourceLocation(file: file))
        }
    }

    var location: SourceLocation {
        guard let mark = node.mark else { return SourceLocation(file: file) }
        return SourceLocation(file: file, line: mark.line + lineOffset, column: mark.column)
    }

    /// A diagnostic pointing at this node and naming its key.
    func error(_ message: String) -> Diagnostic {
        Diagnostic(message, at: location, key: keyPath.isEmpty ? nil : keyPath)
    }

    private func child(_ node: Node, key: String) -> YAMLNode {
        YAMLNode(node: node, file: file, keyPath: keyPath.isEmpty ? key : keyPath + "." + key, lineOffset: lineOffset)
    }

    /// The entries of a mapping, in order; a key outside `allowed` is an error naming the allowed ones.
    func mapping(allowed: [String]? = nil) throws -> [(key: String, value: YAMLNode)] {
        guard case let .mapping(mapping) = node else {
            throw error("expected a mapping of keys to values")
        }
        var entries: [(key: String, value: YAMLNode)] = []
        var seen = Set<String>()
        for (keyNode, valueNode) in mapping {
            let keyText = keyNode.string ?? ""
            let keyed = child(valueNode, key: keyText)
            let keyLocation = YAMLNode(node: keyNode, file: file, keyPath: keyed.keyPath, lineOffset: lineOffset)
            if let allowed, !allowed.contains(keyText) {
                throw keyLocation.error("unknown key; expected one of: \(allowed.joined(separator: ", "))")
            }
            if !seen.insert(keyText).inserted {
                throw keyLocation.error("duplicate key")
            }
            entries.append((keyText, keyed))
        }
        return entries
    }

    /// The entries of a mapping by key, after checking that only `allowed` keys are present.
    func fields(allowed: [String]) throws -> [String: YAMLNode] {
        var fields: [String: YAMLNode] = [:]
        for entry in try mapping(allowed: allowed) { fields[entry.key] = entry.value }
        return fields
    }

    /// A scalar as text; a YAML null (`~`, `null`, nothing) is not text.
    func string() throws -> String {
        guard case let .scalar(scalar) = node else { throw error("expected a text value") }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            throw error("expected a text value, found nothing")
        }
        return scalar.string
    }

    /// A scalar as a non-empty text.
    func nonEmptyString() throws -> String {
        let text = try string().trimmingSpaces
        guard !text.isEmpty else { throw error("must not be empty") }
        return text
    }

    /// A scalar as a boolean (`true`/`false`).
    func bool() throws -> Bool {
        guard let value = node.bool else { throw error("expected true or false") }
        return value
    }

    /// The items of a sequence, or the node itself where a single value stands for a list of one.
    var listItems: [YAMLNode] {
        guard case .sequence = node else { return [self] }
        return (try? items()) ?? []
    }

    /// The items of a sequence.
    func items() throws -> [YAMLNode] {
        guard case let .sequence(sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { index, item in
            YAMLNode(node: item, file: file, keyPath: "\(keyPath)[\(index)]", lineOffset: lineOffset)
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
