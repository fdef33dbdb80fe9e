/// An HTTP request as SigV4 sees it: method, the decoded path, decoded query pairs and headers.
///
/// The path and query hold logical text (`/photos/my cat.jpg`, `prefix=a/b`); `target` gives the
/// encoded form to put on the wire, which is exactly what the signature covers.
public struct SignableRequest: Sendable, Equatable {
    public var method: String
    /// The decoded path, starting with `/`.
    public var path: String
    public var query: [QueryItem]
    /// Header fields in order; names compare case-insensitively.
    public var headers: [Header]

    public struct QueryItem: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public init(method: String, path: String, query: [QueryItem] = [], headers: [Header] = []) {
        self.method = method
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
    }

    /// Parses a request target as received on the wire (`/bucket/a%20b?list-type=2`), decoding the
    /// path and each query name and value (where `+` means a space). Nil when an escape decodes to bytes that are not UTF-8.
    public init?(method: String, target: String, headers: [Header] = []) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = percentDecode(parts[0]) else { return nil }
        var query: [QueryItem] = []
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                // Form-style `+` is a space in query strings (botocore sends spaces so); a plus is `%2B`.
                guard let name = percentDecode(nameValue[0].replacingPlus),
                      let value = nameValue.count == 2 ? percentDecode(nameValue[1].replacingPlus) : ""
                else { return nil }
                query.append(QueryItem(name, value))
            }
        }
        self.init(method: method, path: path, query: query, headers: headers)
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// The value of a query parameter.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// The encoded path and query to send: `/bucket/a%20b?list-type=2` (query items in order).
    public var target: String {
        let encodedPath = uriEncode(path, keepSlash: true)
        guard !query.isEmpty else { return encodedPath }
        return encodedPath + "?" + query.map { uriEncode($0.name) + "=" + uriEncode($0.value) }.joined(separator: "&")
    }
}

/// The pieces of SigV4's canonical request, each a pure function of the request.
enum Canonical {
    /// The canonical URI: each segment encoded once. With `normalize` (every service but S3) dot
    /// segments are resolved and empty segments dropped first; S3 signs the path exactly as given.
    static func uri(_ path: String, normalize: Bool) -> String {
        guard normalize else { return uriEncode(path, keepSlash: true) }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        let last = path.split(separator: "/", omittingEmptySubsequences: false).last
        let trailingSlash = !segments.isEmpty && (path.hasSuffix("/") || last == "." || last == "..")
        return "/" + segments.map { uriEncode(String($0)) }.joined(separator: "/") + (trailingSlash ? "/" : "")
    }

    /// Query pairs encoded and sorted by name, then value (byte order of the encoded form).
    static func query(_ items: [SignableRequest.QueryItem]) -> String {
        items.map { (uriEncode($0.name), uriEncode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { $0.0 + "=" + $0.1 }
            .joined(separator: "&")
    }

    /// Lower-case names, values trimmed with inner whitespace runs collapsed, repeats joined by `,`.
    /// Returns the canonical header block and the `SignedHeaders` list for the headers named.
    static func headers(_ headers: [SignableRequest.Header], signing names: Set<String>) -> (block: String, signed: String) {
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            guard names.contains(name) else { continue }
            values[name, default: []].append(collapseWhitespace(header.value))
        }
        let sorted = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = sorted.map { $0 + ":" + values[$0]!.joined(separator: ",") + "\n" }.joined()
        return (block, sorted.joined(separator: ";"))
    }

    static func collapseWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}

extension Substring {
    var replacingPlus: String { String(map { $0 == "+" ? " " : $0 }) }
}
