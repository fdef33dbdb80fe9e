#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a converter says of one video's conversion when asked: still at work (leave it), done or
/// failed (settle the video as the lost event would have), or unknown to it (the conversion was
/// lost: nothing will ever settle the video).
public enum ConversionState: Equatable, Sendable {
    case running
    case complete(durationSeconds: Double?, ladder: Bool, cutFromSeconds: Double?)
    case failed(reason: String)
    case unknown
}

/// Asks the converter about one video's conversion: MediaConvert's GetJob in production, the
/// local cloud's job queue locally.
public protocol ConversionLookup: Sendable {
    func state(of video: VideoRecord) async throws -> ConversionState
}

/// The videos every user has waiting for a conversion (`queued` or `converting`) since before a
/// time: the one read across users, the sweeper's alone (the video service never calls it).
public protocol PendingVideos: Sendable {
    func pendingVideos(createdBefore: Double) async throws -> [VideoRecord]
}

/// The sweeper: a conversion whose end event was lost (a completion handler that failed past its
/// retries, a crash between the conversion and its record) would leave its video `converting`
/// forever. Run on a schedule, it asks the converter about every video waiting longer than
/// `after` seconds since its upload was asked for, and settles those whose conversion has ended
/// through the same `ConversionEvents` the end events use, so a late event and the sweeper cannot
/// both count a conversion.
public struct ConversionSweep: Sendable {
    let events: ConversionEvents
    let pending: any PendingVideos
    let lookup: any ConversionLookup
    let after: Double
    let log: @Sendable (String) -> Void

    /// One hour: a conversion asked for since is only looked at, never disturbed, while its job runs.
    public static let defaultAfter: Double = 3600

    public static let lostReason = "The conversion was lost and will not finish; delete the video and upload it again."

    public init(events: ConversionEvents, pending: any PendingVideos, lookup: any ConversionLookup, after: Double = defaultAfter,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.events = events
        self.pending = pending
        self.lookup = lookup
        self.after = after
        self.log = log
    }

    /// What one sweep did.
    public struct Report: Equatable, Sendable {
        public var looked = 0, running = 0, ready = 0, failed = 0, errors = 0
    }

    /// One sweep. A video the converter cannot be asked about now (an error) is left to the next.
    public func run(now: Double = Date().timeIntervalSince1970) async throws -> Report {
        var report = Report()
        for video in try await pending.pendingVideos(createdBefore: now - after) {
            report.looked += 1
            do {
                switch try await lookup.state(of: video) {
                case .running:
                    report.running += 1
                case .complete(let duration, let ladder, let cutFrom):
                    if try await events.completed(sub: video.sub, id: video.id, durationSeconds: duration, ladder: ladder, cutFromSeconds: cutFrom) {
                        report.ready += 1
                        log("sweep: video \(video.id) was \(video.status.rawValue), its conversion had completed: now ready")
                    }
                case .failed(let reason):
                    if try await events.failed(sub: video.sub, id: video.id, reason: reason) {
                        report.failed += 1
                        log("sweep: video \(video.id) was \(video.status.rawValue), its conversion had failed: \(reason)")
                    }
                case .unknown:
                    if try await events.failed(sub: video.sub, id: video.id, reason: Self.lostReason) {
                        report.failed += 1
                        log("sweep: video \(video.id) was \(video.status.rawValue) with no conversion the converter knows: failed")
                    }
                }
            } catch {
                report.errors += 1
                log("error: sweep: video \(video.id): \(error)")
            }
        }
        return report
    }
}
