import Foundation
import VideoService

/// Each user's request bucket in the `requestRates` table: one row per user, read and moved in
/// one write transaction, so concurrent requests queue for it.
extension LocalLibrary: RequestRateStore {
    func take(sub: String, rate: RequestRate, now: Int64) async throws -> RateDecision {
        try await database.write { db in
            let fullAt = try Int64.fetchOne(db, sql: "SELECT fullAt FROM requestRates WHERE sub = ?", arguments: [sub])
            let decision = rate.take(fullAt: fullAt, now: now)
            if case .allowed(let next) = decision {
                try db.execute(sql: "INSERT OR REPLACE INTO requestRates (sub, fullAt) VALUES (?, ?)", arguments: [sub, next])
            }
            return decision
        }
    }
}
