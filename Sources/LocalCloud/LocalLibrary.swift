import Foundation
import VideoService

/// The library in the local cloud's SQLite file. A status change is one `UPDATE … WHERE` the
/// change's condition holds, so it applies only where the shared status machine allows it.
struct LocalLibrary: VideoLibrary {
    let database: CloudDatabase

    func insert(_ video: VideoRecord) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO videos (id, sub, title, fileName, contentType, sizeBytes, uploadKey, uploadId, partSize, status, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [video.id, video.sub, video.title, video.fileName, video.contentType, video.sizeBytes,
                                 video.uploadKey, video.uploadId, video.partSize, video.status.rawValue, video.createdAt])
        }
    }

    func video(sub: String, id: String) async throws -> VideoRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM videos WHERE id = ? AND sub = ?", arguments: [id, sub]).map(Self.record)
        }
    }

    func videos(sub: String) async throws -> [VideoRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM videos WHERE sub = ? ORDER BY createdAt DESC, id", arguments: [sub]).map(Self.record)
        }
    }

    /// Also cancels the video's conversion, so a running ffmpeg's result is thrown away.
    func remove(sub: String, id: String) async throws -> VideoRecord? {
        try await database.write { db -> VideoRecord? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM videos WHERE id = ? AND sub = ?", arguments: [id, sub]) else { return nil }
            try db.execute(sql: "UPDATE jobs SET state = 'cancelled', updatedAt = ? WHERE videoId = ? AND state IN ('queued', 'running')",
                           arguments: [Date().timeIntervalSince1970, id])
            try db.execute(sql: "DELETE FROM videos WHERE id = ?", arguments: [id])
            return Self.record(row)
        }
    }

    func apply(_ change: VideoChange, sub: String, id: String) async throws -> Bool {
        try await database.write { db in try Self.apply(change, sub: sub, id: id, db) }
    }

    /// The change inside a transaction the caller holds (the pipeline's, with its job's state): one
    /// `UPDATE` of the change's writes, `WHERE` its condition holds.
    static func apply(_ change: VideoChange, sub: String, id: String, _ db: Database) throws -> Bool {
        let condition = change.condition
        var clauses: [String] = []
        var conditionArguments: [(any SQLiteValue)?] = []
        if !condition.statuses.isEmpty {
            clauses.append("status IN (\(condition.statuses.map { _ in "?" }.joined(separator: ", ")))")
            conditionArguments += condition.statuses.map(\.rawValue)
        }
        if let rising = condition.rising {
            clauses.append("(status = ? AND (progress IS NULL OR progress < ?))")
            conditionArguments += [rising.status.rawValue, rising.progressBelow]
        }
        guard !clauses.isEmpty else { return false }
        let writes = change.writes
        let values = writes.map { write -> (any SQLiteValue)? in
            switch write.value {
            case .text(let text): text
            case .number(let number): number
            case nil: nil
            }
        }
        try db.execute(sql: """
            UPDATE videos SET \(writes.map { "\($0.field) = ?" }.joined(separator: ", "))
            WHERE id = ? AND sub = ? AND (\(clauses.joined(separator: " OR ")))
            """, arguments: values + [id, sub] + conditionArguments)
        return db.changesCount > 0
    }

    static func record(_ row: Row) -> VideoRecord {
        VideoRecord(id: row["id"], sub: row["sub"], title: row["title"], fileName: row["fileName"], contentType: row["contentType"],
                    sizeBytes: row["sizeBytes"], uploadKey: row["uploadKey"], uploadId: row["uploadId"], partSize: row["partSize"],
                    status: VideoStatus(rawValue: row["status"]) ?? .failed, durationSeconds: row["durationSeconds"],
                    progress: row["progress"], error: row["error"], createdAt: row["createdAt"],
                    hlsLadder: (row["hlsLadder"] as Int?) == 1, cutFromSeconds: row["cutFromSeconds"],
                    jobId: row["jobId"])
    }
}

/// The minutes converted each month and each user's override, in tables of their own
/// (`convertedMonths`, `userLimits`): a deleted video's minutes stay spent.
extension LocalLibrary: UsageLedger {
    func convertedSeconds(sub: String, month: String) async throws -> Double {
        try await database.read { db in
            try Double.fetchOne(db, sql: "SELECT seconds FROM convertedMonths WHERE sub = ? AND month = ?", arguments: [sub, month]) ?? 0
        }
    }

    func addConverted(sub: String, month: String, seconds: Double) async throws {
        try await database.write { db in try Self.addConverted(sub: sub, month: month, seconds: seconds, db) }
    }

    /// Inside the caller's transaction (the pipeline's completion).
    static func addConverted(sub: String, month: String, seconds: Double, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO convertedMonths (sub, month, seconds) VALUES (?, ?, ?)
            ON CONFLICT (sub, month) DO UPDATE SET seconds = seconds + excluded.seconds
            """, arguments: [sub, month, seconds])
    }

    func limitOverride(sub: String) async throws -> LimitOverride? {
        try await database.read { db in try Self.limitOverride(sub: sub, db) }
    }

    static func limitOverride(sub: String, _ db: Database) throws -> LimitOverride? {
        try Row.fetchOne(db, sql: "SELECT * FROM userLimits WHERE sub = ?", arguments: [sub]).map {
            LimitOverride(storedGiB: $0["storedGiB"], videos: $0["videos"], largestGiB: $0["largestGiB"], minutesPerMonth: $0["minutesPerMonth"])
        }
    }

    /// Sets the user's override, keeping the values `override` leaves nil; all nil removes it.
    func setLimitOverride(_ override: LimitOverride, sub: String) async throws {
        try await database.write { db in
            let old = try Self.limitOverride(sub: sub, db) ?? LimitOverride()
            let new = LimitOverride(storedGiB: override.storedGiB ?? old.storedGiB, videos: override.videos ?? old.videos,
                                    largestGiB: override.largestGiB ?? old.largestGiB,
                                    minutesPerMonth: override.minutesPerMonth ?? old.minutesPerMonth)
            try db.execute(sql: """
                INSERT OR REPLACE INTO userLimits (sub, storedGiB, videos, largestGiB, minutesPerMonth) VALUES (?, ?, ?, ?, ?)
                """, arguments: [sub, new.storedGiB, new.videos, new.largestGiB, new.minutesPerMonth])
        }
    }
}
