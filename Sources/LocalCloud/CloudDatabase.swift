import Foundation

/// The local cloud's state: one SQLite file under the data folder, so users, tokens, objects, videos
/// and the conversion queue survive a restart (and a crash: every change is one transaction).
public final class CloudDatabase: Sendable {
    let queue: SQLiteQueue

    public init(path: String) throws {
        queue = try SQLiteQueue(path: path, busyTimeout: 10) { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        }
        try Self.migrations.apply(to: queue)
    }

    /// Reads in one transaction. The result may hold rows: fetched rows are copies that no one else
    /// touches, so they may cross to the caller's task.
    func read<T>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await queue.transaction(write: false, body)
    }

    /// Writes in one transaction (all or nothing).
    func write<T>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await queue.transaction(write: true, body)
    }

    static var migrations: Migrations {
        var migrations = Migrations()
        migrations.add("v1") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    sub TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    email TEXT NOT NULL,
                    emailVerified INTEGER NOT NULL DEFAULT 0,
                    salt TEXT NOT NULL,
                    verifier TEXT NOT NULL,
                    status TEXT NOT NULL,
                    totpSecret TEXT,
                    pendingTotpSecret TEXT,
                    lastTotpCounter INTEGER NOT NULL DEFAULT -1,
                    failedAttempts INTEGER NOT NULL DEFAULT 0,
                    lockedUntil REAL NOT NULL DEFAULT 0,
                    createdAt REAL NOT NULL
                );
                CREATE TABLE codes (
                    username TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    code TEXT NOT NULL,
                    expiresAt REAL NOT NULL,
                    PRIMARY KEY (username, purpose)
                );
                CREATE TABLE challenges (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    state TEXT NOT NULL,
                    createdAt REAL NOT NULL,
                    used INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE refreshTokens (
                    tokenHash TEXT PRIMARY KEY,
                    sub TEXT NOT NULL,
                    originJti TEXT NOT NULL,
                    authTime INTEGER NOT NULL,
                    createdAt REAL NOT NULL,
                    revoked INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE revokedOrigins (originJti TEXT PRIMARY KEY);
                CREATE TABLE mailbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    recipient TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    body TEXT NOT NULL,
                    code TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    createdAt REAL NOT NULL
                );
                CREATE TABLE objects (
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    file TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    etag TEXT NOT NULL,
                    contentType TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    lastModified REAL NOT NULL,
                    PRIMARY KEY (bucket, key)
                );
                CREATE TABLE uploads (
                    uploadId TEXT PRIMARY KEY,
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    contentType TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    createdAt REAL NOT NULL
                );
                CREATE TABLE parts (
                    uploadId TEXT NOT NULL REFERENCES uploads(uploadId) ON DELETE CASCADE,
                    partNumber INTEGER NOT NULL,
                    file TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    etag TEXT NOT NULL,
                    lastModified REAL NOT NULL,
                    PRIMARY KEY (uploadId, partNumber)
                );
                CREATE TABLE videos (
                    id TEXT PRIMARY KEY,
                    sub TEXT NOT NULL,
                    title TEXT NOT NULL,
                    fileName TEXT NOT NULL,
                    contentType TEXT NOT NULL,
                    sizeBytes INTEGER NOT NULL,
                    uploadKey TEXT NOT NULL UNIQUE,
                    uploadId TEXT,
                    partSize INTEGER,
                    status TEXT NOT NULL,
                    durationSeconds REAL,
                    progress REAL,
                    error TEXT,
                    createdAt REAL NOT NULL
                );
                CREATE INDEX videosBySub ON videos(sub, createdAt);
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    videoId TEXT NOT NULL,
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    notBefore REAL NOT NULL DEFAULT 0,
                    lastError TEXT,
                    command TEXT,
                    pid INTEGER,
                    createdAt REAL NOT NULL,
                    updatedAt REAL NOT NULL
                );
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    createdAt REAL NOT NULL
                );
                """)
        }
        // Wrong answers are counted, so a code or an MFA session allows only a few guesses.
        migrations.add("v2") { db in
            try db.execute(sql: """
                ALTER TABLE codes ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE challenges ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // SHA-256 checksums: an object's (a plain digest or S3's composite of its parts'), the
        // algorithm a multipart upload was created with, and each part's.
        migrations.add("v3-checksums") { db in
            try db.execute(sql: """
                ALTER TABLE objects ADD COLUMN checksumSHA256 TEXT;
                ALTER TABLE objects ADD COLUMN checksumType TEXT;
                ALTER TABLE uploads ADD COLUMN checksumAlgorithm TEXT;
                ALTER TABLE parts ADD COLUMN checksumSHA256 TEXT;
                """)
        }
        // Videos converted with the HLS ladder say so; those converted before keep NULL (MP4 only).
        migrations.add("v4-hls-ladder") { db in
            try db.execute(sql: "ALTER TABLE videos ADD COLUMN hlsLadder INTEGER")
        }
        // Wrong answers to codes and TOTP, counted per user over a window (WrongAnswers); the
        // per-code and per-challenge `attempts` of v2 are no longer read.
        migrations.add("v5-wrong-answers") { db in
            try db.execute(sql: """
                CREATE TABLE wrongAnswers (
                    username TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    since REAL NOT NULL,
                    PRIMARY KEY (username, kind)
                );
                """)
        }
        // Refresh-token rotation: when GetTokensFromRefreshToken replaced a token (it works a
        // grace period longer, then no more).
        migrations.add("v6-refresh-rotation") { db in
            try db.execute(sql: "ALTER TABLE refreshTokens ADD COLUMN replacedAt REAL")
        }
        // Per-user limits: the seconds converted each calendar month (UTC), counted at completion,
        // and the owner's per-user overrides (`site cloud limits`).
        migrations.add("v7-usage-limits") { db in
            try db.execute(sql: """
                CREATE TABLE convertedMonths (
                    sub TEXT NOT NULL,
                    month TEXT NOT NULL,
                    seconds REAL NOT NULL,
                    PRIMARY KEY (sub, month)
                );
                CREATE TABLE userLimits (
                    sub TEXT PRIMARY KEY,
                    storedGiB INTEGER,
                    videos INTEGER,
                    largestGiB INTEGER,
                    minutesPerMonth INTEGER
                );
                """)
        }
        // Each user's request bucket (`RequestRate`): the time it is full again, in ms since 1970.
        migrations.add("v8-request-rates") { db in
            try db.execute(sql: "CREATE TABLE requestRates (sub TEXT PRIMARY KEY, fullAt INTEGER NOT NULL)")
        }
        // The source's duration of a video cut at the longest-duration limit (`VideoRecord.cutFromSeconds`),
        // and the converter's job id (production's; kept for the one status machine).
        migrations.add("v9-cut-videos") { db in
            try db.execute(sql: "ALTER TABLE videos ADD COLUMN cutFromSeconds REAL")
            try db.execute(sql: "ALTER TABLE videos ADD COLUMN jobId TEXT")
        }
        return migrations
    }
}
