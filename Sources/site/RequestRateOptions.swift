import ArgumentParser
import VideoService

/// `--requests-at-once N --requests-per-second N`: each user's request rate on the video API, as
/// production's `RATE_LIMIT_*` variables set it.
struct RequestRateOptions: ParsableArguments {
    @Option(name: .customLong("requests-at-once"), help: ArgumentHelp(
        "The API calls a user may make at once, after a pause (default \(RequestRate.person.capacity)).", valueName: "N"))
    var capacity: Int64?

    @Option(name: .customLong("requests-per-second"), help: ArgumentHelp(
        "The API calls a second a user may keep up (default \(RequestRate.person.perSecond)).", valueName: "N"))
    var perSecond: Int64?

    var rate: RequestRate {
        RequestRate(capacity: capacity ?? RequestRate.person.capacity, perSecond: perSecond ?? RequestRate.person.perSecond)
    }

    func validate() throws {
        for (name, value) in [("--requests-at-once", capacity), ("--requests-per-second", perSecond)] {
            if let value, !(1...1_000_000).contains(value) { throw ValidationError("\(name) must be a whole number from 1 to 1000000.") }
        }
    }
}
