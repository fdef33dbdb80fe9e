import Foundation
import Testing
@testable import LocalCloud

@Suite("The local cloud's SQLite store")
struct SQLiteTests {
    static func temporaryFile() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("state.sqlite").path
    }

    static func queue() throws -> SQLiteQueue {
        try SQLiteQueue(path: temporaryFile(), busyTimeout: 1) { _ in }
    }

    @Test("every bound type reads back as itself, and NULL as nil")
    func roundTrip() throws {
        let queue = try Self.queue()
        let blob = Data([0, 1, 2, 255])
        let withNul = "before\u{0}after"
        let row = try queue.write { db -> Row? in
            try db.execute(sql: "CREATE TABLE t (s TEXT, i INTEGER, big INTEGER, small INTEGER, d REAL, b INTEGER, x BLOB, n TEXT, e BLOB, z TEXT, empty TEXT)")
            let missing: String? = nil
            try db.execute(sql: "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: ["vídeo 🎬", 42, Int64.max, Int32(-7), 2.5, true, blob, missing, Data(), withNul, ""])
            return try Row.fetchOne(db, sql: "SELECT * FROM t")
        }
        let values = try #require(row)
        #expect(values["s"] as String == "vídeo 🎬")
        #expect(values["I"] as Int == 42)  // column names are case-insensitive, as in SQL
        #expect(values["big"] as Int64 == Int64.max)
        #expect(values["small"] as Int32? == -7)
        #expect(values["d"] as Double == 2.5)
        #expect(values["i"] as Double == 42)  // an integer column read as a number
        #expect(values["b"] as Int == 1)
        #expect(values["x"] as Data == blob)
        #expect(values["n"] as String? == nil)
        #expect(values["s"] as String? == "vídeo 🎬")
        #expect(values["e"] as Data? == Data())  // an empty blob is a value, not NULL
        #expect(values["z"] as String == withNul)  // a NUL does not cut the text
        #expect(values["empty"] as String? == "")
    }

    @Test("scalar fetches: first column of the first row; nil for no row or NULL; every row")
    func scalars() throws {
        let queue = try Self.queue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (name TEXT, size INTEGER); INSERT INTO t VALUES ('a', 1), ('b', NULL), ('c', 3)")
            #expect(try Int.fetchOne(db, sql: "SELECT size FROM t WHERE name = ?", arguments: ["c"]) == 3)
            #expect(try Int.fetchOne(db, sql: "SELECT size FROM t WHERE name = ?", arguments: ["b"]) == nil)
            #expect(try Int.fetchOne(db, sql: "SELECT size FROM t WHERE name = ?", arguments: ["z"]) == nil)
            #expect(try String.fetchAll(db, sql: "SELECT name FROM t ORDER BY name") == ["a", "b", "c"])
            #expect(try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM t WHERE size > 2)") == true)
            #expect(try Row.fetchAll(db, sql: "SELECT * FROM t WHERE size IS NOT NULL").count == 2)
            try db.execute(sql: "UPDATE t SET size = 0 WHERE size IS NULL OR size < ?", arguments: [2])
            #expect(db.changesCount == 2)
            #expect(throws: SQLiteError.self) { try Int.fetchOne(db, sql: "SELECT name FROM t") }
        }
    }

    @Test("several statements take the arguments in order; too few or too many is an error")
    func statementsAndArguments() throws {
        let queue = try Self.queue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT, b TEXT)")
            try db.execute(sql: "INSERT INTO t VALUES (?, ?); UPDATE t SET b = ? WHERE a = ?", arguments: ["x", "y", "z", "x"])
            #expect(try String.fetchOne(db, sql: "SELECT b FROM t") == "z")
            #expect(throws: SQLiteError.self) { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: ["only one"]) }
            #expect(throws: SQLiteError.self) { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: ["1", "2", "3"]) }
        }
    }

    @Test("a write that throws leaves nothing behind; a bad statement names itself")
    func rollback() async throws {
        let queue = try Self.queue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (a TEXT UNIQUE)") }
        struct Stop: Error {}
        await #expect(throws: Stop.self) {
            try await queue.transaction(write: true) { db in
                try db.execute(sql: "INSERT INTO t VALUES ('kept?')")
                throw Stop()
            }
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
        let error = try #require(throws: SQLiteError.self) {
            try queue.write { db in try db.execute(sql: "INSERT INTO t VALUES ('a'); INSERT INTO t VALUES ('a')") }
        }
        #expect(error.description.contains("UNIQUE"))
        #expect(error.description.contains("INSERT INTO t"))
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
    }

    @Test("concurrent writes from many tasks never interleave")
    func serialWrites() async throws {
        let queue = try Self.queue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await queue.transaction(write: true) { db in
                        let n = try Int.fetchOne(db, sql: "SELECT n FROM counter") ?? 0
                        try db.execute(sql: "UPDATE counter SET n = ?", arguments: [n + 1])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT n FROM counter") } == 200)
    }

    @Test("a data folder from before keeps its data: applied migrations are read from grdb_migrations")
    func earlierFile() throws {
        let path = try Self.temporaryFile()
        // The file as the earlier local cloud left it after "v1" and "v2": that schema (made here by
        // taking the later migrations' columns off again), a user, a converted video, and the table
        // where the library it used then recorded the migrations it had applied.
        let earlier = try CloudDatabase(path: path)
        try earlier.queue.write { db in
            try db.execute(sql: """
                ALTER TABLE objects DROP COLUMN checksumSHA256;
                ALTER TABLE objects DROP COLUMN checksumType;
                ALTER TABLE uploads DROP COLUMN checksumAlgorithm;
                ALTER TABLE parts DROP COLUMN checksumSHA256;
                ALTER TABLE videos DROP COLUMN hlsLadder;
                ALTER TABLE videos DROP COLUMN cutFromSeconds;
                ALTER TABLE videos DROP COLUMN jobId;
                DROP TABLE wrongAnswers;
                ALTER TABLE refreshTokens DROP COLUMN replacedAt;
                DROP TABLE convertedMonths;
                DROP TABLE userLimits;
                DROP TABLE requestRates;
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1'), ('v2');
                DROP TABLE migrations;
                INSERT INTO users (sub, username, email, salt, verifier, status, createdAt)
                VALUES ('sub-1', 'ana', 'ana@example.com', 's', 'v', 'CONFIRMED', 0);
                INSERT INTO videos (id, sub, title, fileName, contentType, sizeBytes, uploadKey, status, createdAt)
                VALUES ('video-1', 'sub-1', 'clip', 'clip.mp4', 'video/mp4', 10, 'uploads/sub-1/video-1/clip.mp4', 'ready', 0);
                """)
        }

        let database = try CloudDatabase(path: path)
        let (users, applied, checksumColumn) = try database.queue.read { db in
            (try String.fetchAll(db, sql: "SELECT username FROM users"),
             try String.fetchAll(db, sql: "SELECT name FROM migrations ORDER BY name"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM pragma_table_info('objects') WHERE name = 'checksumSHA256'"))
        }
        #expect(users == ["ana"])
        #expect(applied == ["v1", "v2", "v3-checksums", "v4-hls-ladder", "v5-wrong-answers", "v6-refresh-rotation",
                            "v7-usage-limits", "v8-request-rates", "v9-cut-videos"])
        // A video converted before the ladder has none (it plays its MP4).
        let video = try database.queue.read { db in try Row.fetchOne(db, sql: "SELECT * FROM videos").map(LocalLibrary.record) }
        #expect(video?.status == .ready && video?.hlsLadder == false && video?.cutFromSeconds == nil && video?.jobId == nil)
        // The earlier table stays, so an earlier build still opens the folder.
        #expect(try database.queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY 1") } == ["v1", "v2"])
        #expect(checksumColumn == 1)
        // Opening it again applies nothing more.
        _ = try CloudDatabase(path: path)
    }
}
