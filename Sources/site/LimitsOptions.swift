import ArgumentParser
import Foundation
import LocalCloud
import VideoService

/// `--stored-gib`, `--videos`, `--largest-gib`, `--minutes` of `site serve` and `site cloud`: the
/// local cloud's per-user limits (production's `Limit*` stack parameters); unset, production's
/// defaults.
struct LimitsOptions: ParsableArguments {
    @Option(name: .customLong("stored-gib"), help: ArgumentHelp(
        "The storage limit in GiB: the sum of a user's uploads' sizes (default 200).", valueName: "N"))
    var storedGiB: Int64?

    @Option(name: .customLong("videos"), help: ArgumentHelp("The number of videos a user may keep (default 1000).", valueName: "N"))
    var videos: Int64?

    @Option(name: .customLong("largest-gib"), help: ArgumentHelp("The largest file a user may upload, in GiB (default 50).", valueName: "N"))
    var largestGiB: Int64?

    @Option(name: .customLong("minutes"), help: ArgumentHelp(
        "Minutes of video a user may convert per calendar month, UTC (default 600).", valueName: "N"))
    var minutes: Int64?

    @Option(name: .customLong("longest-minutes"), help: ArgumentHelp(
        "The longest video converted, in minutes (decimals allowed; default 180): a longer one is cut there, and its owner told.",
        valueName: "N"))
    var longestMinutes: Double?

    var override: LimitOverride { LimitOverride(storedGiB: storedGiB, videos: videos, largestGiB: largestGiB, minutesPerMonth: minutes) }

    /// Production's defaults with these flags applied.
    var limits: UsageLimits {
        var limits = override.applied(to: .personal)
        if let longestMinutes { limits.longestMinutes = longestMinutes }
        return limits
    }

    func validate() throws {
        for (name, value) in [("--stored-gib", storedGiB), ("--videos", videos), ("--largest-gib", largestGiB), ("--minutes", minutes)] {
            if let value, !(0...1_000_000_000).contains(value) {
                throw ValidationError("\(name) must be a whole number from 0 to 1000000000.")
            }
        }
        if let longestMinutes, !(longestMinutes > 0 && longestMinutes <= 100_000) {
            throw ValidationError("--longest-minutes must be a number of minutes above 0 and at most 100000.")
        }
    }
}

/// `site cloud limits EMAIL [--stored-gib N] …`: one user's own limits, as `infra/limits` sets them in production.
struct CloudLimits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Show or change one user's limits: storage, videos, largest file, converted minutes a month.",
        discussion: """
        Sets the user's own limits where they differ from everyone's (what `infra/limits` writes in \
        production); the values not given keep what the user had. With no value it shows the \
        user's limits and usage. It writes the data folder (`site cloud`'s --data, .local-cloud \
        unless given), so the cloud may be running or not; the next request uses the new limits. \
        Everyone's limits are `site cloud`'s (or `site serve`'s) --stored-gib, --videos, \
        --largest-gib and --minutes, given to `site cloud` before `limits`.

        Examples:
          site cloud limits ana@example.com
          site cloud limits ana@example.com --stored-gib 500 --minutes 1200
          site cloud --data /tmp/cloud limits ana@example.com --videos 10
        """)

    @Argument(help: ArgumentHelp("The user's e-mail address.", valueName: "EMAIL"))
    var email: String

    @OptionGroup var limits: LimitsOptions

    /// `site cloud`'s options: its --data names the data folder, its limits are everyone's.
    @ParentCommand var cloud: CloudCommand

    func validate() throws {
        if limits.longestMinutes != nil {
            throw ValidationError("--longest-minutes is everyone's, not one user's: give it to `site cloud` (or `site serve`) itself.")
        }
    }

    func run() async throws {
        let configuration = LocalCloudConfiguration(dataDirectory: URL(fileURLWithPath: cloud.data).standardizedFileURL)
        do {
            let user = try await LocalCloud.setLimits(email: email, override: limits.override, defaults: cloud.limits.limits,
                                                      configuration: configuration)
            let gib = { (bytes: Int64) in "\(bytes / UsageLimits.gibibyte) GiB" }
            print("""
                \(user.email) (\(user.sub))
                  stored:    \(gib(user.usage.storedBytes)) of \(gib(user.limits.storedBytes)) (\(user.usage.storedBytes) bytes)
                  videos:    \(user.usage.videos) of \(user.limits.videos)
                  largest:   \(gib(user.limits.fileBytes))
                  converted: \(user.usage.convertedMinutes) of \(user.limits.convertedMinutesPerMonth) minutes in \(user.usage.month)
                """)
        } catch let error as LocalLimitsError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
