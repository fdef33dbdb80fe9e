import Foundation
import VideoService

/// One user's limits as `LocalCloud.setLimits` leaves them.
public struct LocalUserLimits: Sendable {
    public var email: String
    public var sub: String
    public var limits: UsageLimits
    public var usage: Usage
}

/// Why `LocalCloud.setLimits` could not set a user's limits.
public struct LocalLimitsError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension LocalCloud {
    /// Sets the override of the user with `email` (the values `override` leaves nil keep theirs)
    /// and answers their limits with `defaults` under it and their usage. It writes the data
    /// folder's SQLite file, so it works whether or not the cloud is running: a running one
    /// applies the new limits to the next request.
    public static func setLimits(email: String, override: LimitOverride, defaults: UsageLimits,
                                 configuration: LocalCloudConfiguration) async throws -> LocalUserLimits {
        let folder = configuration.dataDirectory
        _ = try DataFolder(folder)
        let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
        let subs = try await database.read { db in
            try String.fetchAll(db, sql: "SELECT sub FROM users WHERE lower(email) = lower(?) OR lower(username) = lower(?)",
                                arguments: [email, email])
        }
        guard let sub = subs.first, subs.count == 1 else {
            throw LocalLimitsError(description: subs.isEmpty ? "there is no user with the e-mail \(email) in \(folder.path)"
                                   : "\(subs.count) users have the e-mail \(email); none was changed")
        }
        let library = LocalLibrary(database: database)
        if override != LimitOverride() { try await library.setLimitOverride(override, sub: sub) }
        let policy = UsagePolicy(defaults: defaults, ledger: library)
        return LocalUserLimits(email: email, sub: sub, limits: try await policy.limits(sub: sub),
                               usage: try await policy.usage(sub: sub, videos: try await library.videos(sub: sub)))
    }
}
