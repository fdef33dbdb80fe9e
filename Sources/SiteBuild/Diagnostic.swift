/// Where in the project something is: a path relative to the project root, and a line and column when known.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?

    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        return text
    }
}

/// One problem found while building: what failed, where, and for which key.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation?
    public var key: String?
    public var message: String

    public init(_ message: String, at location: SourceLocation? = nil, key: String? = nil) {
        self.location = location
        self.key = key
        self.message = message
    }

    /// `file:line:column: key: message`, the form editors and terminals turn into links.
    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if let key { parts.append(key) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// A build that stopped: every diagnostic it found, in a stable order.
public struct BuildFailure: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.sorted { $0.description < $1.description }
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics from work that should report every problem, not just the first.
struct DiagnosticBag {
    private(set) var items: [Diagnostic] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }
    mutating func append(contentsOf diagnostics: [Diagnostic]) { items.append(contentsOf: diagnostics) }

    /// Runs `body`, keeping its diagnostic instead of stopping; other errors are blamed on `location`.
    mutating func collect<T>(at location: SourceLocation? = nil, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let diagnostic as Diagnostic {
            items.append(diagnostic)
        } catch let failure as BuildFailure {
            items.append(contentsOf: failure.diagnostics)
        } catch {
            items.append(Diagnostic("\(error)", at: location))
        }
        return nil
    }

    /// Throws every collected diagnostic at once, if there are any.
    func throwIfAny() throws {
        if !items.isEmpty { throw BuildFailure(items) }
    }
}
