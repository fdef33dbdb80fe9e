import CSQLite
import Foundation

/// A value SQLite stores and gives back: the types the local cloud binds and reads.
protocol SQLiteValue: Sendable {
    /// How the value is bound to a statement.
    var storage: SQLiteStorage { get }
    /// The value of a column, or nil when it holds NULL or something of another kind.
    init?(storage: SQLiteStorage)
}

/// One of SQLite's storage classes.
enum SQLiteStorage: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

extension String: SQLiteValue {
    var storage: SQLiteStorage { .text(self) }
    init?(storage: SQLiteStorage) {
        guard case .text(let text) = storage else { return nil }
        self = text
    }
}

extension Int64: SQLiteValue {
    var storage: SQLiteStorage { .integer(self) }
    init?(storage: SQLiteStorage) {
        switch storage {
        case .integer(let value): self = value
        case .real(let value): guard let exact = Int64(exactly: value) else { return nil }; self = exact
        default: return nil
        }
    }
}

extension Int: SQLiteValue {
    var storage: SQLiteStorage { .integer(Int64(self)) }
    init?(storage: SQLiteStorage) {
        guard let value = Int64(storage: storage) else { return nil }
        self = Int(value)
    }
}

extension Int32: SQLiteValue {
    var storage: SQLiteStorage { .integer(Int64(self)) }
    init?(storage: SQLiteStorage) {
        guard let value = Int64(storage: storage), let narrow = Int32(exactly: value) else { return nil }
        self = narrow
    }
}

extension Double: SQLiteValue {
    var storage: SQLiteStorage { .real(self) }
    init?(storage: SQLiteStorage) {
        switch storage {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension Bool: SQLiteValue {
    var storage: SQLiteStorage { .integer(self ? 1 : 0) }
    init?(storage: SQLiteStorage) {
        guard let value = Int64(storage: storage) else { return nil }
        self = value != 0
    }
}

extension Data: SQLiteValue {
    var storage: SQLiteStorage { .blob(self) }
    init?(storage: SQLiteStorage) {
        guard case .blob(let data) = storage else { return nil }
        self = data
    }
}

/// What SQLite said when a call failed, with the statement it was running.
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    let sql: String?

    var description: String {
        "SQLite error \(code): \(message)" + (sql.map { " (in `\($0)`)" } ?? "")
    }
}

/// One result row: its values by column, read by column name (case-insensitively, as SQL does).
struct Row: Sendable {
    private let names: [String: Int]
    private let values: [SQLiteStorage]

    /// A row of a statement whose columns `index(columns:)` indexed once for all its rows.
    init(names: [String: Int], values: [SQLiteStorage]) {
        self.names = names
        self.values = values
    }

    /// Each column's position by its lowercased name (the first, where two share a name).
    static func index(columns: [String]) -> [String: Int] {
        var names: [String: Int] = [:]
        for (index, column) in columns.enumerated() where names[column.lowercased()] == nil {
            names[column.lowercased()] = index
        }
        return names
    }

    /// The column's value, nil when it is NULL. A column the query does not return, or a value of
    /// another kind, is a mistake in the query itself and stops the program.
    subscript<Value: SQLiteValue>(_ column: String) -> Value? {
        guard let index = names[column.lowercased()] else {
            preconditionFailure("no column \(column) in this row (\(names.keys.sorted().joined(separator: ", ")))")
        }
        let storage = values[index]
        if storage == .null { return nil }
        guard let value = Value(storage: storage) else {
            preconditionFailure("column \(column) holds \(storage), not \(Value.self)")
        }
        return value
    }

    /// The column's value, which must not be NULL.
    subscript<Value: SQLiteValue>(_ column: String) -> Value {
        guard let value: Value = self[column] else { preconditionFailure("column \(column) is NULL") }
        return value
    }

    /// The first column's value.
    var first: SQLiteStorage { values.first ?? .null }

    /// Every row of the query.
    static func fetchAll(_ db: Database, sql: String, arguments: [(any SQLiteValue)?] = []) throws -> [Row] {
        try db.rows(sql: sql, arguments: arguments, limit: nil)
    }

    /// The query's first row, or nil when it has none.
    static func fetchOne(_ db: Database, sql: String, arguments: [(any SQLiteValue)?] = []) throws -> Row? {
        try db.rows(sql: sql, arguments: arguments, limit: 1).first
    }
}

extension SQLiteValue {
    /// The first column of the query's first row; nil when there is no row or it is NULL.
    static func fetchOne(_ db: Database, sql: String, arguments: [(any SQLiteValue)?] = []) throws -> Self? {
        guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments), row.first != .null else { return nil }
        return try firstColumn(of: row, sql: sql)
    }

    /// The first column of every row of the query.
    static func fetchAll(_ db: Database, sql: String, arguments: [(any SQLiteValue)?] = []) throws -> [Self] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { try firstColumn(of: $0, sql: sql) }
    }

    private static func firstColumn(of row: Row, sql: String) throws -> Self {
        guard let value = Self(storage: row.first) else {
            throw SQLiteError(code: SQLITE_MISMATCH, message: "the value \(row.first) is not a \(Self.self)", sql: sql)
        }
        return value
    }
}
