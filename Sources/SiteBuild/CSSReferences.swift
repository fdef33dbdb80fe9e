/// Finds the URLs in a stylesheet: `url(…)` and `@import "…"`, outside comments.
enum CSSReferences {
    struct Found: Equatable {
        /// Byte range of the URL text (inside any quotes).
        let range: Range<Int>
        let text: String
    }

    static func scan(_ bytes: [UInt8]) -> [Found] {
        var found: [Found] = []
        var index = 0
        let count = bytes.count
        func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
        func matches(_ word: String, at position: Int) -> Bool {
            let utf8 = Array(word.utf8)
            guard position + utf8.count <= count else { return false }
            for offset in 0..<utf8.count where lower(bytes[position + offset]) != utf8[offset] { return false }
            return true
        }
        func skipSpace(_ position: inout Int) {
            while position < count, [9, 10, 12, 13, 32].contains(bytes[position]) { position += 1 }
        }
        /// Reads a quoted string starting at `position` (on the quote); returns the inner range.
        func quoted(_ position: inout Int) -> Range<Int>? {
            let quote = bytes[position]
            let start = position + 1
            var cursor = start
            while cursor < count, bytes[cursor] != quote, bytes[cursor] != 10 {
                if bytes[cursor] == UInt8(ascii: "\\") { cursor += 1 }
                cursor += 1
            }
            guard cursor < count, bytes[cursor] == quote else { position = cursor; return nil }
            position = cursor + 1
            return start..<cursor
        }
        func add(_ range: Range<Int>) {
            found.append(Found(range: range, text: String(decoding: bytes[range], as: UTF8.self)))
        }
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "/"), index + 1 < count, bytes[index + 1] == UInt8(ascii: "*") {
                index += 2
                while index + 1 < count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                index += 2
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                _ = quoted(&index)
            } else if byte == UInt8(ascii: "@"), matches("@import", at: index) {
                index += 7
                skipSpace(&index)
                if index < count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'"),
                   let range = quoted(&index) {
                    add(range)
                }
            } else if lower(byte) == UInt8(ascii: "u"), matches("url(", at: index),
                      index == 0 || !isNameByte(bytes[index - 1]) {
                index += 4
                skipSpace(&index)
                if index < count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                    if let range = quoted(&index) { add(range) }
                } else {
                    let start = index
                    while index < count, bytes[index] != UInt8(ascii: ")"), ![9, 10, 12, 13, 32].contains(bytes[index]) { index += 1 }
                    if index > start { add(start..<index) }
                }
            } else {
                index += 1
            }
        }
        return found
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45 || byte == 95 || byte >= 128
    }
}
