#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import VideoService

/// Each user's request bucket as the item `rate` in their partition of the table: its `fullAt`
/// moves by conditional `UpdateItem`s, so concurrent calls cannot both spend the last token. A
/// call on a full bucket costs one write request unit; a call on a bucket in use, or a refused
/// one, two (the first update's condition fails, and a failed condition is billed as a write).
extension DynamoDBLibrary: RequestRateStore {
    static let rateItemId = "rate"

    public func take(sub: String, rate: RequestRate, now: Int64) async throws -> RateDecision {
        let key = Self.key(sub: sub, id: Self.rateItemId)
        // A full bucket (never used, or full again): it starts from now.
        do {
            let next = now + rate.interval
            _ = try await call("UpdateItem", ["Key": key, "UpdateExpression": "SET fullAt = :next",
                                              "ConditionExpression": "attribute_not_exists(fullAt) OR fullAt <= :now",
                                              "ExpressionAttributeValues": [":next": Self.n(String(next)), ":now": Self.n(String(now))]])
            return .allowed(fullAt: next)
        } catch let error as AWSError where error.code == "ConditionalCheckFailedException" {}
        // A bucket in use: one interval later, while that leaves a token.
        do {
            let answer = try await call("UpdateItem", [
                "Key": key, "UpdateExpression": "SET fullAt = fullAt + :interval",
                "ConditionExpression": "fullAt <= :latest", "ReturnValues": "UPDATED_NEW",
                "ExpressionAttributeValues": [":interval": Self.n(String(rate.interval)),
                                              ":latest": Self.n(String(rate.latestAllowed(now: now)))]])
            let fullAt = answer["Attributes"]?["fullAt"]?["N"]?.stringValue.flatMap { Int64($0) }
            return .allowed(fullAt: fullAt ?? now + rate.interval)
        } catch let error as AWSError where error.code == "ConditionalCheckFailedException" {
            return .refused(retryAfter: rate.longestWait)
        }
    }
}
