import CSQLite
import Dispatch
import Foundation

// The local cloud's state lives in one SQLite file, reached through the few calls below: run SQL
// with bound arguments, read rows by column name, one transaction per write, and migrations. That
// is all it needs of a database library, so it talks to the system's libsqlite3 directly (as the
// build does to libcmark and zlib) instead of compiling one.

/// An open connection. Used only inside `SQLiteQueue`'s closures, on its queue.
final class Database {
    fileprivate let handle: OpaquePointer

    fileprivate init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// The rows the last INSERT, UPDATE or DELETE changed.
    var changesCount: Int { Int(sqlite3_changes(handle)) }

    /// Runs SQL: one statement or several, the arguments bound in order across them.
    func execute(sql: String, arguments: [(any SQLiteValue)?] = []) throws {
        _ = try rows(sql: sql, arguments: arguments, limit: 0)
    }

    /// Runs every statement of `sql`, binding `arguments` in order, and returns the rows of the
    /// last one that returns any (at most `limit` of them; nil for all).
    func rows(sql: String, arguments: [(any SQLiteValue)?], limit: Int?) throws -> [Row] {
        var result: [Row] = []
        var argumentIndex = 0
        try sql.utf8CString.withUnsafeBufferPointer { buffer in
            guard var next = buffer.baseAddress else { return }
            while next.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                try check(sqlite3_prepare_v2(handle, next, -1, &statement, &tail), sql: sql)
                next = tail ?? next.advanced(by: strlen(next))
                guard let statement else { continue }  // only whitespace or a comment was left
                defer { sqlite3_finalize(statement) }
                let parameters = Int(sqlite3_bind_parameter_count(statement))
                guard argumentIndex + parameters <= arguments.count else {
                    throw SQLiteError(code: SQLITE_RANGE, message: "\(parameters) parameters, \(arguments.count - argumentIndex) arguments left", sql: sql)
                }
                for parameter in 0..<parameters {
                    try bind(arguments[argumentIndex + parameter]?.storage ?? .null, at: Int32(parameter + 1), in: statement, sql: sql)
                }
                argumentIndex += parameters
                let rows = try step(statement, limit: limit, sql: sql)
                if sqlite3_column_count(statement) > 0 { result = rows }
            }
        }
        guard argumentIndex == arguments.count else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(arguments.count) arguments for \(argumentIndex) parameters", sql: sql)
        }
        return result
    }

    private func step(_ statement: OpaquePointer, limit: Int?, sql: String) throws -> [Row] {
        let count = Int(sqlite3_column_count(statement))
        let names = Row.index(columns: (0..<count).map { String(cString: sqlite3_column_name(statement, Int32($0))) })
        // A query stops once it has its rows; a statement that writes runs to its end.
        let readOnly = sqlite3_stmt_readonly(statement) != 0
        var rows: [Row] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { try check(status, sql: sql); return rows }
            if let limit, rows.count >= limit {
                if readOnly { return rows }
                continue
            }
            rows.append(Row(names: names, values: (0..<count).map { column(Int32($0), of: statement) }))
        }
    }

    private func column(_ index: Int32, of statement: OpaquePointer) -> SQLiteStorage {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob(Data()) }
            return .blob(Data(bytes: bytes, count: count))
        default: return .null
        }
    }

    private func bind(_ value: SQLiteStorage, at index: Int32, in statement: OpaquePointer, sql: String) throws {
        // SQLite copies the bytes before the call returns (SQLITE_TRANSIENT).
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let status: Int32
        switch value {
        case .null: status = sqlite3_bind_null(statement, index)
        case .integer(let integer): status = sqlite3_bind_int64(statement, index, integer)
        case .real(let real): status = sqlite3_bind_double(statement, index, real)
        case .text(let text):
            // By its byte count, so a text with a NUL in it is stored whole.
            var utf8 = text.utf8CString
            utf8.removeLast()
            status = utf8.withUnsafeBufferPointer { bytes in
                sqlite3_bind_text(statement, index, bytes.baseAddress, Int32(bytes.count), transient)
            }
        case .blob(let data) where data.isEmpty:
            // A NULL pointer would bind NULL; an empty blob is a value.
            status = sqlite3_bind_zeroblob(statement, index, 0)
        case .blob(let data):
            status = data.withUnsafeBytes { bytes in
                sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), transient)
            }
        }
        try check(status, sql: sql)
    }

    fileprivate func check(_ status: Int32, sql: String?) throws {
        guard status != SQLITE_OK && status != SQLITE_DONE && status != SQLITE_ROW else { return }
        throw SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    fileprivate func inTransaction<T>(_ kind: String, _ body: (Database) throws -> T) throws -> T {
        try execute(sql: "BEGIN \(kind)")
        do {
            let value = try body(self)
            try execute(sql: "COMMIT")
            return value
        } catch {
            try? execute(sql: "ROLLBACK")
            throw error
        }
    }
}

/// One connection to a database file, used by one closure at a time on a serial queue: every read
/// and every write is a transaction, and writes never interleave.
final class SQLiteQueue: @unchecked Sendable {
    // @unchecked: the connection is touched only on `queue`, which runs one closure at a time.
    private let database: Database
    private let queue = DispatchQueue(label: "sstech.local-cloud.sqlite")

    /// Opens (creating if needed) the file, waits up to `busyTimeout` for a lock another process
    /// holds, and runs `prepare` (pragmas) on the new connection.
    init(path: String, busyTimeout: TimeInterval, prepare: (Database) throws -> Void) throws {
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SQLiteError(code: status, message: "could not open \(path): \(message)", sql: nil)
        }
        database = Database(handle: handle)
        sqlite3_busy_timeout(handle, Int32(busyTimeout * 1000))
        sqlite3_extended_result_codes(handle, 1)
        try prepare(database)
    }

    deinit {
        sqlite3_close_v2(database.handle)
    }

    /// Reads in one transaction, waiting for the queue.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.sync { try database.inTransaction("DEFERRED", body) }
    }

    /// Writes in one transaction (all or nothing), waiting for the queue.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.sync { try database.inTransaction("IMMEDIATE", body) }
    }

    /// Runs `body` in a transaction (`write`: IMMEDIATE, taking the write lock at once; else
    /// DEFERRED) without blocking the caller's thread. What it returns may hold rows: they are
    /// copies no one else touches, so they may cross to the caller's task.
    func transaction<T>(write: Bool, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handover<T>, Error>) in
            queue.async {
                continuation.resume(with: Result {
                    Handover(value: try self.database.inTransaction(write ? "IMMEDIATE" : "DEFERRED", body))
                })
            }
        }.value
    }

    private struct Handover<T>: @unchecked Sendable {
        let value: T
    }
}

/// Named schema changes, applied once each, in order, each in its own transaction.
struct Migrations {
    private var steps: [(name: String, apply: (Database) throws -> Void)] = []

    mutating func add(_ name: String, _ apply: @escaping (Database) throws -> Void) {
        steps.append((name, apply))
    }

    /// Applies the steps the file has not had yet. The names applied are kept in `migrations`;
    /// a file from before (whose names are in `grdb_migrations`, the table the library the local
    /// cloud used then kept) is taken as it is, and that table is left in place.
    func apply(to queue: SQLiteQueue) throws {
        let applied = try queue.write { db -> Set<String> in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY NOT NULL)")
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") != nil {
                // Kept, so an earlier build can still open the folder.
                try db.execute(sql: "INSERT OR IGNORE INTO migrations (name) SELECT identifier FROM grdb_migrations")
            }
            return Set(try String.fetchAll(db, sql: "SELECT name FROM migrations"))
        }
        for step in steps where !applied.contains(step.name) {
            try queue.write { db in
                try step.apply(db)
                try db.execute(sql: "INSERT INTO migrations (name) VALUES (?)", arguments: [step.name])
            }
        }
    }
}
