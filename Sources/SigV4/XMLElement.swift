/// A parsed XML element: enough of XML for AWS's REST-XML responses (elements, text, the five
/// named entities and numeric references; declarations, comments and CDATA handled; no DTDs).
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var children: [XMLElement] = []
    public var text: String = ""

    /// The first child with this (local) name.
    public subscript(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// All children with this name.
    public func all(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// The text of the first child with this name.
    public func value(_ name: String) -> String? { self[name]?.text }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var offset: Int
        public var reason: String
        public var description: String { "malformed XML at byte \(offset): \(reason)" }
    }

    /// Parses a document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> XMLElement {
        var parser = XMLReader(bytes: bytes)
        return try parser.document()
    }
}

/// Builds the XML AWS request bodies need, escaping text.
public func xmlEscape(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(character)
        }
    }
    return out
}

private struct XMLReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(XMLElement.ParseError) -> XMLElement {
        skipMisc()
        guard peek(0) == UInt8(ascii: "<") else { throw fail("expected a root element") }
        return try element()
    }

    private func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    private func fail(_ reason: String) -> XMLElement.ParseError { .init(offset: index, reason: reason) }

    private func starts(with text: String) -> Bool {
        let pattern = Array(text.utf8)
        return index + pattern.count <= bytes.count && Array(bytes[index..<index + pattern.count]) == pattern
    }

    /// Skips whitespace, `<?…?>` declarations and comments between elements.
    private mutating func skipMisc() {
        while index < bytes.count {
            if isSpace(bytes[index]) { index += 1 }
            else if starts(with: "<?") { skip(past: "?>") }
            else if starts(with: "<!--") { skip(past: "-->") }
            else if starts(with: "<!DOCTYPE") { skip(past: ">") }
            else { return }
        }
    }

    private mutating func skip(past terminator: String) {
        while index < bytes.count, !starts(with: terminator) { index += 1 }
        index = min(bytes.count, index + terminator.utf8.count)
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 10 || byte == 13 }

    private mutating func name() throws(XMLElement.ParseError) -> String {
        let start = index
        while let byte = peek(0), !isSpace(byte), byte != UInt8(ascii: ">"), byte != UInt8(ascii: "/"),
              byte != UInt8(ascii: "=") { index += 1 }
        guard index > start else { throw fail("expected a name") }
        let full = String(decoding: bytes[start..<index], as: UTF8.self)
        return full.split(separator: ":").last.map(String.init) ?? full
    }

    private mutating func element() throws(XMLElement.ParseError) -> XMLElement {
        index += 1 // <
        var element = XMLElement(name: try name())
        // Attributes are skipped: AWS responses carry only namespaces there.
        while true {
            guard let byte = peek(0) else { throw fail("unterminated start tag <\(element.name)>") }
            if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: ">") { index += 2; return element }
            if byte == UInt8(ascii: ">") { index += 1; break }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                index += 1
                while let inner = peek(0), inner != byte { index += 1 }
            }
            index += 1
        }
        var text: [UInt8] = []
        while true {
            guard let byte = peek(0) else { throw fail("unterminated element <\(element.name)>") }
            if byte == UInt8(ascii: "<") {
                if starts(with: "</") {
                    index += 2
                    let closing = try name()
                    guard closing == element.name else { throw fail("</\(closing)> closes <\(element.name)>") }
                    while let inner = peek(0), inner != UInt8(ascii: ">") { index += 1 }
                    index += 1
                    element.text = String(decoding: text, as: UTF8.self)
                    return element
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    while index < bytes.count, !starts(with: "]]>") { text.append(bytes[index]); index += 1 }
                    index += 3
                } else if starts(with: "<!--") || starts(with: "<?") {
                    skipMisc()
                } else {
                    element.children.append(try self.element())
                }
            } else if byte == UInt8(ascii: "&") {
                text += try entity()
            } else {
                text.append(byte)
                index += 1
            }
        }
    }

    private mutating func entity() throws(XMLElement.ParseError) -> [UInt8] {
        guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ";")), end - index <= 10 else {
            throw fail("unterminated entity")
        }
        let body = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        index = end + 1
        switch body {
        case "amp": return [UInt8(ascii: "&")]
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            let scalar: UInt32?
            if body.hasPrefix("#x") { scalar = UInt32(body.dropFirst(2), radix: 16) }
            else if body.hasPrefix("#") { scalar = UInt32(body.dropFirst(), radix: 10) }
            else { scalar = nil }
            guard let scalar, let character = Unicode.Scalar(scalar) else { throw fail("unknown entity &\(body);") }
            return Array(String(Character(character)).utf8)
        }
    }
}
