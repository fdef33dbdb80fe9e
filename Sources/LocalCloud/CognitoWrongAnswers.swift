import Foundation

/// Wrong answers to the six digits a user must give — a confirmation or reset code (`kind` is the
/// code's purpose) and the TOTP of a sign-in (`totp`) — counted per user and kind, never per code or
/// challenge session: a resent code or a new sign-in brings no fresh guesses. A user has
/// `answerAttempts` of them per `guessWindow`, which starts at the first wrong one; once they are
/// spent every answer of that kind, the right one too, is refused until the window is over. Each
/// call runs inside the transaction that checks the answer, so answers sent at once are each counted.
struct WrongAnswers {
    var limit: Int
    var window: TimeInterval

    /// Whether `username` has no wrong answers of `kind` left (then every answer is refused).
    func exhausted(_ db: Database, username: String, kind: String, now: TimeInterval) throws -> Bool {
        guard let row = try Row.fetchOne(db, sql: "SELECT count, since FROM wrongAnswers WHERE username = ? AND kind = ?",
                                         arguments: [username, kind]) else { return false }
        return (row["since"] as Double) + window > now && (row["count"] as Int) >= limit
    }

    /// Counts a wrong answer; true when it was the last one allowed (the caller spends what was asked).
    func count(_ db: Database, username: String, kind: String, now: TimeInterval) throws -> Bool {
        try db.execute(sql: """
            INSERT INTO wrongAnswers (username, kind, count, since) VALUES (?, ?, 1, ?)
            ON CONFLICT (username, kind) DO UPDATE SET
                count = CASE WHEN since + ? > excluded.since THEN count + 1 ELSE 1 END,
                since = CASE WHEN since + ? > excluded.since THEN since ELSE excluded.since END
            """, arguments: [username, kind, now, window, window])
        let count = try Int.fetchOne(db, sql: "SELECT count FROM wrongAnswers WHERE username = ? AND kind = ?",
                                     arguments: [username, kind]) ?? 0
        return count >= limit
    }

    /// A right answer starts the count again.
    func clear(_ db: Database, username: String, kind: String) throws {
        try db.execute(sql: "DELETE FROM wrongAnswers WHERE username = ? AND kind = ?", arguments: [username, kind])
    }
}
