/// A URL written in a page, stylesheet or module, resolved against the file it appears in.
struct Reference: Equatable {
    /// The text as written (`../img/logo.png?v=2`).
    let written: String
    /// The absolute, decoded, normalised path on the site (`/assets/img/logo.png`).
    let path: String

    /// Resolves `written` against `base` (a site path like `/assets/css/app.css` or `/en/help/`).
    ///
    /// Returns nil for what is not a local file: other origins, `data:`, `mailto:`, fragments, empty text.
    static func resolve(_ written: String, against base: String) -> Reference? {
        let text = written.trimmingSpaces
        guard let first = text.first, first != "#", first != "?", !text.hasPrefix("//"), !hasScheme(text) else { return nil }
        let pathPart = text.prefix { $0 != "?" && $0 != "#" }
        guard let decoded = percentDecode(String(pathPart)) else { return nil }
        var segments: [Substring]
        if decoded.hasPrefix("/") {
            segments = []
        } else {
            segments = base.split(separator: "/", omittingEmptySubsequences: false).dropLast().filter { !$0.isEmpty }
        }
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { if !segments.isEmpty { segments.removeLast() }; continue }
            segments.append(segment)
        }
        var path = "/" + segments.joined(separator: "/")
        if decoded.hasSuffix("/") && path != "/" { path += "/" }
        return Reference(written: written, path: path)
    }

    /// `written` with the file name given a fingerprint: `../img/logo.png?v=2` → `../img/logo.3f2a9c1e.png?v=2`.
    func fingerprinted(_ fingerprint: String) -> String {
        let pathEnd = written.firstIndex { $0 == "?" || $0 == "#" } ?? written.endIndex
        let pathPart = written[..<pathEnd]
        let nameStart = pathPart.lastIndex(of: "/").map { pathPart.index(after: $0) } ?? pathPart.startIndex
        let name = pathPart[nameStart...]
        let renamed: String
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            renamed = name[..<dot] + "." + fingerprint + name[dot...]
        } else {
            renamed = name + "." + fingerprint
        }
        return written[..<nameStart] + renamed + written[pathEnd...]
    }

    static func hasScheme(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter else { return false }
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

    static func percentDecode(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// Turns byte offsets into line and column numbers for one text.
struct LineIndex {
    private let starts: [Int]

    init(_ bytes: some Collection<UInt8>) {
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
        self.starts = starts
    }

    /// 1-based line and column (in bytes) of `offset`.
    func position(of offset: Int) -> (line: Int, column: Int) {
        var low = 0, high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return (low + 1, offset - starts[low] + 1)
    }

    func location(of offset: Int, in file: String) -> SourceLocation {
        let (line, column) = position(of: offset)
        return SourceLocation(file: file, line: line, column: column)
    }
}
