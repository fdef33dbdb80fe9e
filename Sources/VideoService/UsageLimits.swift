#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What one user may keep and convert: the caps on the owner's bill. A deployment sets its
/// defaults (`personal` unless configured); a user may have an override (`LimitOverride`).
public struct UsageLimits: Sendable, Equatable {
    /// The sum of the sizes of the user's videos (each upload's size, every video not deleted).
    public var storedBytes: Int64
    public var videos: Int64
    /// The largest single upload.
    public var fileBytes: Int64
    /// Minutes of video converted per calendar month (UTC), counted when a conversion completes.
    public var convertedMinutesPerMonth: Int64
    /// The longest video converted, in minutes: a longer one is cut there (only its beginning is
    /// converted and counted) and its owner is told. The deployment's, for everyone (no override).
    public var longestMinutes: Double

    public init(storedBytes: Int64, videos: Int64, fileBytes: Int64, convertedMinutesPerMonth: Int64,
                longestMinutes: Double = UsageLimits.defaultLongestMinutes) {
        self.storedBytes = storedBytes
        self.videos = videos
        self.fileBytes = fileBytes
        self.convertedMinutesPerMonth = convertedMinutesPerMonth
        self.longestMinutes = longestMinutes
    }

    /// Three hours: a feature film with room to spare, a fifth of a month's minutes.
    public static let defaultLongestMinutes: Double = 180

    /// `longestMinutes` in seconds.
    public var longestSeconds: Double { longestMinutes * 60 }

    public static let gibibyte: Int64 = 1 << 30

    /// Defaults that suit a person: 200 GiB, 1,000 videos, 50 GiB a file, 600 minutes a month, and
    /// no video converted past three hours.
    public static let personal = UsageLimits(storedBytes: 200 * gibibyte, videos: 1_000, fileBytes: 50 * gibibyte,
                                             convertedMinutesPerMonth: 600)

    /// The environment variables of the deployment's limits: the functions' in production (from
    /// the stack's parameters); locally `site cloud`/`site serve` take flags (`--stored-gib`…).
    /// All are whole numbers but the longest duration, which takes decimals (`0.5`: 30 seconds).
    public static let settingNames = (storedGiB: "LIMIT_STORED_GIB", videos: "LIMIT_VIDEOS", largestGiB: "LIMIT_LARGEST_GIB",
                                      minutes: "LIMIT_MINUTES_PER_MONTH", longestMinutes: "LIMIT_LONGEST_MINUTES")

    /// The defaults with the environment's `LIMIT_*` variables applied; an unset or empty one keeps
    /// `base`'s value. Throws a sentence naming the variable when one is not a whole number ≥ 0.
    public static func from(environment: [String: String], base: UsageLimits = .personal) throws -> UsageLimits {
        func number(_ name: String) throws -> Int64? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int64(text), value >= 0, value < Int64.max / gibibyte else {
                throw LimitSettingError(description: "\(name) must be a whole number of at least 0, not “\(text)”.")
            }
            return value
        }
        let names = settingNames
        var limits = LimitOverride(storedGiB: try number(names.storedGiB), videos: try number(names.videos),
                                   largestGiB: try number(names.largestGiB), minutesPerMonth: try number(names.minutes)).applied(to: base)
        if let text = environment[names.longestMinutes], !text.isEmpty {
            guard let minutes = Double(text), minutes.isFinite, minutes > 0, minutes <= 100_000 else {
                throw LimitSettingError(description: "\(names.longestMinutes) must be a number of minutes above 0 (decimals allowed), not “\(text)”.")
            }
            limits.longestMinutes = minutes
        }
        return limits
    }

    /// `2026-12`: the calendar month (UTC) of `seconds` since 1970, the period of converted minutes.
    public static func month(of seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let month = Int(parts.tm_mon) + 1
        return "\(Int(parts.tm_year) + 1900)-\(month < 10 ? "0" : "")\(month)"
    }
}

/// A deployment setting for the limits that is not a number.
public struct LimitSettingError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// One user's limits where they differ from the deployment's: set by the owner with
/// `site cloud limits` locally or `infra/limits` in production. Nil keeps the default.
public struct LimitOverride: Sendable, Equatable {
    public var storedGiB: Int64?
    public var videos: Int64?
    public var largestGiB: Int64?
    public var minutesPerMonth: Int64?

    public init(storedGiB: Int64? = nil, videos: Int64? = nil, largestGiB: Int64? = nil, minutesPerMonth: Int64? = nil) {
        self.storedGiB = storedGiB
        self.videos = videos
        self.largestGiB = largestGiB
        self.minutesPerMonth = minutesPerMonth
    }

    public func applied(to limits: UsageLimits) -> UsageLimits {
        var limits = limits
        if let storedGiB { limits.storedBytes = storedGiB * UsageLimits.gibibyte }
        if let videos { limits.videos = videos }
        if let largestGiB { limits.fileBytes = largestGiB * UsageLimits.gibibyte }
        if let minutesPerMonth { limits.convertedMinutesPerMonth = minutesPerMonth }
        return limits
    }
}

/// What a user has used, as `GET /videos/usage` reports it.
public struct Usage: Sendable, Equatable {
    public var storedBytes: Int64
    public var videos: Int64
    /// Seconds of video converted in `month`.
    public var convertedSeconds: Double
    public var month: String

    /// Whole minutes, rounded up: a started minute counts.
    public var convertedMinutes: Int64 { Int64((convertedSeconds / 60).rounded(.up)) }

    /// The user's videos summed; `convertedSeconds` from the library's monthly counter.
    public init(videos: [VideoRecord], month: String, convertedSeconds: Double) {
        storedBytes = videos.reduce(0) { $0 + $1.sizeBytes }
        self.videos = Int64(videos.count)
        self.convertedSeconds = convertedSeconds
        self.month = month
    }
}

/// A request refused because it would take the user past one of their limits: HTTP 403 with
/// `code` `LimitExceeded` and the numbers, so the app can say which limit and by how much.
public struct LimitExceeded: Error, Sendable, Equatable {
    public enum Limit: String, Sendable {
        case storedBytes, videos, fileBytes, convertedMinutes
    }

    public var limit: Limit
    public var allowed: Int64
    public var used: Int64
    /// What this request would add: bytes, one video, or minutes (0 for an upload, whose minutes
    /// are known only once it is converted).
    public var requested: Int64

    /// A sentence for a person.
    public var message: String {
        func gib(_ bytes: Int64) -> String {
            let value = Double(bytes) / Double(UsageLimits.gibibyte)
            return value >= 10 || value == value.rounded() ? "\(Int64(value.rounded())) GiB" : "\((value * 10).rounded() / 10) GiB"
        }
        switch limit {
        case .storedBytes:
            return "This upload would take your library past its storage limit of \(gib(allowed)) (\(gib(used)) used). "
                + "Delete videos you no longer need, or ask the site's owner for more space."
        case .videos:
            return "Your library has reached its limit of \(allowed) videos. Delete videos you no longer need, "
                + "or ask the site's owner for a higher limit."
        case .fileBytes:
            return "This file is larger than the largest upload allowed, \(gib(allowed)). Shorten or compress it first."
        case .convertedMinutes:
            return "You have converted \(used) of your \(allowed) minutes of video this month (UTC); "
                + "no new conversion starts until next month unless the site's owner raises the limit."
        }
    }

    public var response: VideoResponse {
        .json(403, ["error": .string(message), "code": "LimitExceeded", "limit": .string(limit.rawValue),
                    "allowed": .integer(allowed), "used": .integer(used), "requested": .integer(requested)])
    }

    /// The first limit a new upload of `bytes` would pass: the file's size, the number of videos,
    /// the stored bytes, then this month's minutes (already spent, no conversion would start).
    public static func forNewUpload(bytes: Int64, usage: Usage, limits: UsageLimits) -> LimitExceeded? {
        if bytes > limits.fileBytes { return LimitExceeded(limit: .fileBytes, allowed: limits.fileBytes, used: 0, requested: bytes) }
        if usage.videos + 1 > limits.videos { return LimitExceeded(limit: .videos, allowed: limits.videos, used: usage.videos, requested: 1) }
        if let stored = forStoredBytes(bytes, storedBefore: usage.storedBytes, limits: limits) { return stored }
        return forConversion(usage: usage, limits: limits, requested: 0)
    }

    /// Refused when `storedBefore` (the user's other videos) and `bytes` together pass the limit.
    public static func forStoredBytes(_ bytes: Int64, storedBefore: Int64, limits: UsageLimits) -> LimitExceeded? {
        storedBefore + bytes > limits.storedBytes
            ? LimitExceeded(limit: .storedBytes, allowed: limits.storedBytes, used: storedBefore, requested: bytes) : nil
    }

    /// Refused once the month's converted minutes have reached the limit.
    public static func forConversion(usage: Usage, limits: UsageLimits, requested: Int64 = 0) -> LimitExceeded? {
        usage.convertedSeconds >= Double(limits.convertedMinutesPerMonth) * 60
            ? LimitExceeded(limit: .convertedMinutes, allowed: limits.convertedMinutesPerMonth, used: usage.convertedMinutes,
                            requested: requested) : nil
    }
}

/// Where a host keeps what the videos alone do not tell: the minutes converted each month (a
/// deleted video's minutes stay spent) and each user's override. SQLite locally, DynamoDB items
/// beside the user's videos in production.
public protocol UsageLedger: Sendable {
    /// Seconds converted by `sub` in `month` (`2026-12`); 0 when none.
    func convertedSeconds(sub: String, month: String) async throws -> Double
    /// Adds one completed conversion's seconds to the month's total.
    func addConverted(sub: String, month: String, seconds: Double) async throws
    /// The user's override; nil when they have the deployment's limits.
    func limitOverride(sub: String) async throws -> LimitOverride?
}

/// The limits and the ledger together: what the video service and the conversion events consult.
public struct UsagePolicy: Sendable {
    public let defaults: UsageLimits
    public let ledger: any UsageLedger

    public init(defaults: UsageLimits, ledger: any UsageLedger) {
        self.defaults = defaults
        self.ledger = ledger
    }

    /// The user's limits: the deployment's, with their override applied.
    public func limits(sub: String) async throws -> UsageLimits {
        (try await ledger.limitOverride(sub: sub))?.applied(to: defaults) ?? defaults
    }

    /// The user's usage now, from `videos` (their library) and this month's counter.
    public func usage(sub: String, videos: [VideoRecord], now: Double = Date().timeIntervalSince1970) async throws -> Usage {
        let month = UsageLimits.month(of: now)
        return Usage(videos: videos, month: month, convertedSeconds: try await ledger.convertedSeconds(sub: sub, month: month))
    }
}
