/// Finds module specifiers in JavaScript: `import … from "x"`, `import "x"`, `export … from "x"` and
/// `import("x")` with a literal. Comments, strings, template literals and regular expressions are skipped.
enum JSImports {
    struct Found: Equatable {
        /// Byte offset of the specifier's text (inside the quotes).
        let offset: Int
        let specifier: String
    }

    static func scan(_ bytes: [UInt8]) -> [Found] {
        var scanner = Scanner(bytes: bytes)
        return scanner.run()
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var found: [Found] = []
        /// The last significant byte, to tell a regular expression from a division.
        var previous: UInt8 = UInt8(ascii: ";")
        var previousWord = ""

        init(bytes: [UInt8]) { self.bytes = bytes }

        static func isIdentifier(_ byte: UInt8) -> Bool {
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 36 || byte == 95 || byte >= 128
        }

        mutating func run() -> [Found] {
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case 9, 10, 13, 32:
                    index += 1
                case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/") || peek(1) == UInt8(ascii: "*"):
                    skipComment()
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    _ = readString()
                    previous = byte
                case UInt8(ascii: "`"):
                    skipTemplate()
                    previous = byte
                case UInt8(ascii: "/"):
                    let regexFollows = "(,=:[!&|?{};+-*%<>~^".utf8.contains(previous)
                        || ["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await"].contains(previousWord)
                    if regexFollows { skipRegex() } else { index += 1 }
                    previous = UInt8(ascii: "/")
                    previousWord = ""
                default:
                    if Self.isIdentifier(byte) {
                        let start = index
                        let word = readWord()
                        let afterDot = lastSignificant(before: start) == UInt8(ascii: ".")
                        if !afterDot && (word == "import" || word == "export") { specifier(after: word) }
                        previous = UInt8(ascii: "a")
                        previousWord = word
                    } else {
                        previous = byte
                        previousWord = ""
                        index += 1
                    }
                }
            }
            return found
        }

        func peek(_ distance: Int) -> UInt8? {
            index + distance < bytes.count ? bytes[index + distance] : nil
        }

        func lastSignificant(before position: Int) -> UInt8? {
            var cursor = position - 1
            while cursor >= 0, [9, 10, 13, 32].contains(bytes[cursor]) { cursor -= 1 }
            return cursor >= 0 ? bytes[cursor] : nil
        }

        mutating func readWord() -> String {
            let start = index
            while index < bytes.count, Self.isIdentifier(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func skipSpaceAndComments() {
            while index < bytes.count {
                if [9, 10, 13, 32].contains(bytes[index]) { index += 1 }
                else if bytes[index] == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") || peek(1) == UInt8(ascii: "*") { skipComment() }
                else { return }
            }
        }

        mutating func skipComment() {
            if peek(1) == UInt8(ascii: "/") {
                while index < bytes.count, bytes[index] != 10 { index += 1 }
            } else {
                index += 2
                while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                index += 2
            }
        }

        /// Reads a quoted string at `index`; returns its inner offset and text.
        mutating func readString() -> (Int, String)? {
            let quote = bytes[index]
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != quote, bytes[index] != 10 {
                if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                index += 1
            }
            defer { index += 1 }
            guard index < bytes.count, bytes[index] == quote else { return nil }
            return (start, String(decoding: bytes[start..<index], as: UTF8.self))
        }

        mutating func skipTemplate() {
            index += 1
            var depth = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if depth == 0 && byte == UInt8(ascii: "`") { index += 1; return }
                if byte == UInt8(ascii: "$"), peek(1) == UInt8(ascii: "{") { depth += 1; index += 2; continue }
                if depth > 0 && byte == UInt8(ascii: "}") { depth -= 1 }
                index += 1
            }
        }

        mutating func skipRegex() {
            index += 1
            var inClass = false
            while index < bytes.count, bytes[index] != 10 {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "[") { inClass = true }
                if byte == UInt8(ascii: "]") { inClass = false }
                index += 1
                if byte == UInt8(ascii: "/") && !inClass { break }
            }
            while index < bytes.count, Self.isIdentifier(bytes[index]) { index += 1 }
        }

        /// After `import`/`export`: records the specifier if the statement has one.
        mutating func specifier(after keyword: String) {
            skipSpaceAndComments()
            guard index < bytes.count else { return }
            let byte = bytes[index]
            if keyword == "import" && (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")) {
                if let (offset, text) = readString() { found.append(Found(offset: offset, specifier: text)) }
                return
            }
            if keyword == "import" && byte == UInt8(ascii: "(") {
                index += 1
                skipSpaceAndComments()
                if index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'"),
                   let (offset, text) = readString() {
                    skipSpaceAndComments()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ")") || bytes[index] == UInt8(ascii: ",") {
                        found.append(Found(offset: offset, specifier: text))
                    }
                }
                return
            }
            // Bindings: `x`, `{ a as b }`, `* as ns`, commas, then `from "…"`.
            var sawBindings = false
            while index < bytes.count {
                skipSpaceAndComments()
                guard index < bytes.count else { return }
                let current = bytes[index]
                if current == UInt8(ascii: "{") {
                    while index < bytes.count, bytes[index] != UInt8(ascii: "}") {
                        if bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") { _ = readString() } else { index += 1 }
                    }
                    index += 1
                    sawBindings = true
                } else if current == UInt8(ascii: "*") || current == UInt8(ascii: ",") {
                    index += 1
                    sawBindings = true
                } else if Self.isIdentifier(current) {
                    let start = index
                    let word = readWord()
                    if word == "from" && sawBindings {
                        skipSpaceAndComments()
                        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'"),
                           let (offset, text) = readString() {
                            found.append(Found(offset: offset, specifier: text))
                        }
                        return
                    }
                    if keyword == "export" && word != "as" && !sawBindings { index = start; return }
                    if keyword == "import" && word == "type" { continue }
                    sawBindings = true
                } else {
                    return
                }
            }
        }
    }
}
