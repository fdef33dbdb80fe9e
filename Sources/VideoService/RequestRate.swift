#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How often one user may call the video API: a token bucket of `capacity` calls that refills
/// `perSecond` calls a second, checked before every authenticated route does its work.
///
/// The bucket is kept as one number, `fullAt`: the time (milliseconds since 1970) at which it is
/// full again. Each call moves it one `interval` later, starting from now if it lies in the past;
/// a call is let through while `fullAt` is at most `capacity - 1` intervals ahead. That is the
/// token bucket (tokens = capacity − (fullAt − now) / interval), stored so that DynamoDB can
/// update it with an addition and a condition, which is all its update expressions can do.
public struct RequestRate: Sendable, Equatable {
    /// The calls a user may make at once, after a pause.
    public var capacity: Int64
    /// The calls a second a user may keep up once the bucket is empty.
    public var perSecond: Int64

    public init(capacity: Int64, perSecond: Int64) {
        self.capacity = capacity
        self.perSecond = perSecond
    }

    /// Defaults that never hold a person back: an upload makes one call per part (at most 100
    /// parts up to 6.4 GiB; a 50 GiB file has 800 parts of 64 MiB, one call each as its parts are
    /// sent), so 100 at once and 5 a second keep up with an upload at 2.8 Gbit/s; the library
    /// page polls every few seconds.
    public static let person = RequestRate(capacity: 100, perSecond: 5)

    /// The environment variables that change it: the functions' in production, the local
    /// cloud's process environment locally.
    public static let settingNames = (capacity: "RATE_LIMIT_CAPACITY", perSecond: "RATE_LIMIT_PER_SECOND")

    /// `base` with the environment's `RATE_LIMIT_*` variables applied; an unset or empty one keeps
    /// `base`'s value. Throws a sentence naming the variable when one is not a whole number ≥ 1.
    public static func from(environment: [String: String], base: RequestRate = .person) throws -> RequestRate {
        func number(_ name: String, _ fallback: Int64) throws -> Int64 {
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let value = Int64(text), (1...1_000_000).contains(value) else {
                throw LimitSettingError(description: "\(name) must be a whole number from 1 to 1000000, not “\(text)”.")
            }
            return value
        }
        return RequestRate(capacity: try number(settingNames.capacity, base.capacity),
                           perSecond: try number(settingNames.perSecond, base.perSecond))
    }

    /// Milliseconds for one call to come back.
    public var interval: Int64 { max(1, 1000 / max(1, perSecond)) }

    /// The latest `fullAt` that still lets a call through at `now`.
    public func latestAllowed(now: Int64) -> Int64 { now + (max(1, capacity) - 1) * interval }

    /// The longest a refused call waits, in whole seconds: a refusal means `fullAt` is past
    /// `latestAllowed`, and no call ever moved it more than one interval beyond that.
    public var longestWait: Int64 { max(1, (interval + 999) / 1000) }

    /// The calls left in the bucket at `now` (fractions are a call on its way back).
    public func tokens(fullAt: Int64?, now: Int64) -> Double {
        Double(max(1, capacity)) - Double(max(0, (fullAt ?? now) - now)) / Double(interval)
    }

    /// One call at `now` against a bucket full at `fullAt` (nil: never used).
    public func take(fullAt: Int64?, now: Int64) -> RateDecision {
        let start = max(fullAt ?? now, now)
        let latest = latestAllowed(now: now)
        guard start <= latest else {
            return .refused(retryAfter: max(1, (start - latest + 999) / 1000))
        }
        return .allowed(fullAt: start + interval)
    }
}

/// What the bucket answers a call.
public enum RateDecision: Sendable, Equatable {
    /// Let through; the bucket is now full at `fullAt`.
    case allowed(fullAt: Int64)
    /// Refused; a call is back in `retryAfter` whole seconds.
    case refused(retryAfter: Int64)
}

/// Where the hosts keep each user's bucket: one row per user in the local cloud's SQLite file,
/// one item per user in production's DynamoDB table. `take` reads and moves it atomically, so
/// concurrent calls cannot both spend the last token.
public protocol RequestRateStore: Sendable {
    func take(sub: String, rate: RequestRate, now: Int64) async throws -> RateDecision
}

/// The rate a host applies and where it keeps the buckets; `now` is milliseconds since 1970.
public struct RateLimit: Sendable {
    public var rate: RequestRate
    public var store: any RequestRateStore
    public var now: @Sendable () -> Int64

    public init(rate: RequestRate, store: any RequestRateStore, now: @escaping @Sendable () -> Int64 = RateLimit.clock) {
        self.rate = rate
        self.store = store
        self.now = now
    }

    @Sendable public static func clock() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Spends one of the caller's calls, or throws 429 with `Retry-After`.
    func check(sub: String) async throws {
        if case .refused(let seconds) = try await store.take(sub: sub, rate: rate, now: now()) {
            throw APIFailure.tooManyRequests(retryAfter: seconds)
        }
    }
}

extension APIFailure {
    /// 429: the caller has used their calls for now.
    public static func tooManyRequests(retryAfter seconds: Int64) -> APIFailure {
        APIFailure(status: 429, code: "TooManyRequests",
                   message: "Too many requests in a short time. Please wait \(seconds) second\(seconds == 1 ? "" : "s") and try again.",
                   headers: ["Retry-After": String(seconds)])
    }
}
