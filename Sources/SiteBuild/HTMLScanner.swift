/// A small HTML tokenizer that finds start tags, their attributes and the raw text of `<script>` and
/// `<style>`, with byte ranges so the build can rewrite values in place. Comments and end tags are skipped.
enum HTMLScanner {
    struct Attribute {
        /// Lowercased.
        let name: String
        /// Byte range of the value inside any quotes; nil when written without a value.
        let valueRange: Range<Int>?
        /// The value with character references decoded.
        let value: String
    }

    struct Tag {
        /// Lowercased.
        let name: String
        /// From `<` to just past `>`.
        let range: Range<Int>
        let attributes: [Attribute]
        /// Where a new attribute can be inserted (before `>` or `/>`).
        let insertionPoint: Int
        /// For `<script>` and `<style>`: the raw text up to the end tag.
        let content: Range<Int>?

        func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }
    }

    struct Document {
        let tags: [Tag]
        /// Just past a leading `<!DOCTYPE …>`, or 0.
        let afterDoctype: Int
    }

    static func scan(_ bytes: [UInt8]) -> Document {
        var tags: [Tag] = []
        var afterDoctype = 0
        var index = 0
        let count = bytes.count
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 10 || byte == 12 || byte == 13 }
        func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
        while index < count {
            guard bytes[index] == UInt8(ascii: "<"), index + 1 < count else { index += 1; continue }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "!") {
                if index + 3 < count, bytes[index + 2] == UInt8(ascii: "-"), bytes[index + 3] == UInt8(ascii: "-") {
                    var cursor = index + 4
                    while cursor + 2 < count, !(bytes[cursor] == UInt8(ascii: "-") && bytes[cursor + 1] == UInt8(ascii: "-") && bytes[cursor + 2] == UInt8(ascii: ">")) { cursor += 1 }
                    index = min(cursor + 3, count)
                } else {
                    let isDoctype = tags.isEmpty && index + 9 <= count
                        && String(decoding: bytes[(index + 2)..<(index + 9)].map(lower), as: UTF8.self) == "doctype"
                    while index < count, bytes[index] != UInt8(ascii: ">") { index += 1 }
                    index += 1
                    if isDoctype { afterDoctype = min(index, count) }
                }
                continue
            }
            guard (next >= 97 && next <= 122) || (next >= 65 && next <= 90) else { index += 1; continue }
            let start = index
            var cursor = index + 1
            while cursor < count, !isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: ">"), bytes[cursor] != UInt8(ascii: "/") { cursor += 1 }
            let name = String(decoding: bytes[(start + 1)..<cursor].map(lower), as: UTF8.self)
            var attributes: [Attribute] = []
            var insertionPoint = count
            while cursor < count {
                while cursor < count, isSpace(bytes[cursor]) { cursor += 1 }
                guard cursor < count else { break }
                if bytes[cursor] == UInt8(ascii: ">") { insertionPoint = cursor; cursor += 1; break }
                if bytes[cursor] == UInt8(ascii: "/") {
                    if cursor + 1 < count, bytes[cursor + 1] == UInt8(ascii: ">") { insertionPoint = cursor; cursor += 2; break }
                    cursor += 1
                    continue
                }
                let nameStart = cursor
                while cursor < count, !isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: "="), bytes[cursor] != UInt8(ascii: ">"),
                      !(bytes[cursor] == UInt8(ascii: "/") && cursor + 1 < count && bytes[cursor + 1] == UInt8(ascii: ">")) { cursor += 1 }
                let attributeName = String(decoding: bytes[nameStart..<cursor].map(lower), as: UTF8.self)
                var probe = cursor
                while probe < count, isSpace(bytes[probe]) { probe += 1 }
                guard probe < count, bytes[probe] == UInt8(ascii: "=") else {
                    attributes.append(Attribute(name: attributeName, valueRange: nil, value: ""))
                    continue
                }
                cursor = probe + 1
                while cursor < count, isSpace(bytes[cursor]) { cursor += 1 }
                var valueRange: Range<Int>
                if cursor < count, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") {
                    let quote = bytes[cursor]
                    let valueStart = cursor + 1
                    cursor = valueStart
                    while cursor < count, bytes[cursor] != quote { cursor += 1 }
                    valueRange = valueStart..<min(cursor, count)
                    cursor += 1
                } else {
                    let valueStart = cursor
                    while cursor < count, !isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: ">") { cursor += 1 }
                    valueRange = valueStart..<cursor
                }
                attributes.append(Attribute(name: attributeName, valueRange: valueRange,
                                            value: decodeEntities(String(decoding: bytes[valueRange], as: UTF8.self))))
            }
            var content: Range<Int>?
            if name == "script" || name == "style" {
                let closing = Array("</\(name)".utf8)
                var end = cursor
                search: while end < count {
                    if bytes[end] == UInt8(ascii: "<"), end + closing.count <= count {
                        for offset in 1..<closing.count where lower(bytes[end + offset]) != closing[offset] {
                            end += 1
                            continue search
                        }
                        break
                    }
                    end += 1
                }
                content = cursor..<min(end, count)
                tags.append(Tag(name: name, range: start..<cursor, attributes: attributes, insertionPoint: insertionPoint, content: content))
                index = min(end, count)
                continue
            }
            tags.append(Tag(name: name, range: start..<cursor, attributes: attributes, insertionPoint: insertionPoint, content: nil))
            index = cursor
        }
        return Document(tags: tags, afterDoctype: afterDoctype)
    }

    /// Decodes the character references Mustache and authors put in URLs.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        let named = ["amp": "&", "quot": "\"", "apos": "'", "lt": "<", "gt": ">"]
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            let after = rest[rest.index(after: ampersand)...]
            if let semicolon = after.prefix(10).firstIndex(of: ";") {
                let entity = after[..<semicolon]
                var replacement: String?
                if let text = named[String(entity)] {
                    replacement = text
                } else if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let code = UInt32(entity.dropFirst(2), radix: 16) {
                    replacement = Unicode.Scalar(code).map { String(Character($0)) }
                } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()) {
                    replacement = Unicode.Scalar(code).map { String(Character($0)) }
                }
                if let replacement {
                    result += replacement
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "&"
            rest = after
        }
        return result + rest
    }

    /// Escapes text for a double-quoted attribute value.
    static func escapeAttribute(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.append(character)
            }
        }
        return result
    }
}
