/// A small HTML tokenizer that finds start tags, their attributes and the raw text of `<script>` and
/// `<style>`, with byte ranges so the build can rewrite values in place. Comments and end tags are skipped.
///
/// It runs on every page of every build, so it works on bytes and creates strings only for names.
struct HTMLScanner {
    struct Attribute {
        /// Lowercased.
        let name: String
        /// Byte range of the value inside any quotes; nil when written without a value.
        let valueRange: Range<Int>?
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
        let bytes: [UInt8]
        let tags: [Tag]
        /// Just past a leading `<!DOCTYPE …>`, or 0.
        let afterDoctype: Int

        /// An attribute's value with character references decoded ("" when it has none).
        func value(_ attribute: Attribute?) -> String {
            guard let range = attribute?.valueRange else { return "" }
            return HTMLScanner.decodeEntities(String(decoding: bytes[range], as: UTF8.self))
        }

        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
    }

    static func scan(_ bytes: [UInt8]) -> Document {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = HTMLScanner(bytes: buffer)
            scanner.run()
            return Document(bytes: bytes, tags: scanner.tags, afterDoctype: scanner.afterDoctype)
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var tags: [Tag] = []
    private var afterDoctype = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 10 || byte == 12 || byte == 13 }
    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }

    /// Lowercased text of a short byte range (names), without intermediate arrays.
    private func name(_ range: Range<Int>) -> String {
        String(unsafeUninitializedCapacity: range.count) { output in
            for (offset, position) in range.enumerated() { output[offset] = Self.lower(bytes[position]) }
            return range.count
        }
    }

    private func startsWith(_ text: StaticString, at position: Int, caseInsensitive: Bool) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = text.utf8Start
        for offset in 0..<count {
            let byte = caseInsensitive ? Self.lower(bytes[position + offset]) : bytes[position + offset]
            if byte != pointer[offset] { return false }
        }
        return true
    }

    private mutating func run() {
        let count = bytes.count
        while index < count {
            guard bytes[index] == UInt8(ascii: "<"), index + 1 < count else { index += 1; continue }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "!") {
                skipMarkup()
            } else if (next >= 97 && next <= 122) || (next >= 65 && next <= 90) {
                readTag()
            } else {
                index += 1
            }
        }
    }

    /// Comments, doctype and other `<!…>` markup.
    private mutating func skipMarkup() {
        if startsWith("<!--", at: index, caseInsensitive: false) {
            var cursor = index + 4
            while cursor < bytes.count, !startsWith("-->", at: cursor, caseInsensitive: false) { cursor += 1 }
            index = min(cursor + 3, bytes.count)
            return
        }
        let isDoctype = tags.isEmpty && startsWith("<!doctype", at: index, caseInsensitive: true)
        while index < bytes.count, bytes[index] != UInt8(ascii: ">") { index += 1 }
        index = min(index + 1, bytes.count)
        if isDoctype { afterDoctype = index }
    }

    private mutating func readTag() {
        let count = bytes.count
        let start = index
        var cursor = index + 1
        while cursor < count, !Self.isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: ">"), bytes[cursor] != UInt8(ascii: "/") { cursor += 1 }
        let tagName = name((start + 1)..<cursor)
        var attributes: [Attribute] = []
        var insertionPoint = count
        while cursor < count {
            while cursor < count, Self.isSpace(bytes[cursor]) { cursor += 1 }
            guard cursor < count else { break }
            if bytes[cursor] == UInt8(ascii: ">") { insertionPoint = cursor; cursor += 1; break }
            if bytes[cursor] == UInt8(ascii: "/") {
                if cursor + 1 < count, bytes[cursor + 1] == UInt8(ascii: ">") { insertionPoint = cursor; cursor += 2; break }
                cursor += 1
                continue
            }
            let nameStart = cursor
            while cursor < count, !Self.isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: "="), bytes[cursor] != UInt8(ascii: ">"),
                  !(bytes[cursor] == UInt8(ascii: "/") && cursor + 1 < count && bytes[cursor + 1] == UInt8(ascii: ">")) { cursor += 1 }
            let attributeName = name(nameStart..<cursor)
            var probe = cursor
            while probe < count, Self.isSpace(bytes[probe]) { probe += 1 }
            guard probe < count, bytes[probe] == UInt8(ascii: "=") else {
                attributes.append(Attribute(name: attributeName, valueRange: nil))
                continue
            }
            cursor = probe + 1
            while cursor < count, Self.isSpace(bytes[cursor]) { cursor += 1 }
            let valueRange: Range<Int>
            if cursor < count, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") {
                let quote = bytes[cursor]
                let valueStart = cursor + 1
                cursor = valueStart
                while cursor < count, bytes[cursor] != quote { cursor += 1 }
                valueRange = valueStart..<cursor
                cursor = min(cursor + 1, count)
            } else {
                let valueStart = cursor
                while cursor < count, !Self.isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: ">") { cursor += 1 }
                valueRange = valueStart..<cursor
            }
            attributes.append(Attribute(name: attributeName, valueRange: valueRange))
        }
        var content: Range<Int>?
        if tagName == "script" || tagName == "style" {
            // Raw text: runs to the matching end tag, whatever it contains.
            var end = cursor
            while end < count, !(startsWith("</", at: end, caseInsensitive: false) && endTagMatches(tagName, at: end + 2)) { end += 1 }
            content = cursor..<end
            index = end
        } else {
            index = cursor
        }
        tags.append(Tag(name: tagName, range: start..<cursor, attributes: attributes, insertionPoint: insertionPoint, content: content))
    }

    private func endTagMatches(_ tagName: String, at position: Int) -> Bool {
        tagName == "script" ? startsWith("script", at: position, caseInsensitive: true) : startsWith("style", at: position, caseInsensitive: true)
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
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else {
            return text
        }
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
