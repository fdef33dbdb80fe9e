import Foundation
import VideoService

/// The sweeper's reads in the local cloud: the videos waiting in SQLite, and the pipeline's job
/// queue as the converter's answer.
extension LocalLibrary: PendingVideos {
    func pendingVideos(createdBefore: Double) async throws -> [VideoRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM videos WHERE status IN ('queued', 'converting') AND createdAt < ? ORDER BY createdAt",
                             arguments: [createdBefore]).map(Self.record)
        }
    }
}

/// What the job queue says of a video's newest job: queued or running (a worker has it, or will),
/// done, failed with its reason, or none (cancelled, or never enqueued).
struct LocalConversionLookup: ConversionLookup {
    let database: CloudDatabase

    func state(of video: VideoRecord) async throws -> ConversionState {
        let job = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT state, lastError FROM jobs WHERE videoId = ? ORDER BY id DESC LIMIT 1", arguments: [video.id])
        }
        guard let job else { return .unknown }
        switch job["state"] as String {
        case "queued", "running": return .running
        case "done": return .complete(durationSeconds: nil, ladder: true, cutFromSeconds: nil)
        case "failed": return .failed(reason: job["lastError"] ?? "The conversion failed.")
        default: return .unknown
        }
    }
}

extension Pipeline {
    /// The local sweeper: every `interval` seconds, `ConversionSweep` over the videos waiting longer
    /// than `after`, until cancelled.
    static func sweepForever(_ sweep: ConversionSweep, interval: Double, log: @Sendable (String) -> Void) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(interval))
                let report = try await sweep.run()
                if report.ready + report.failed > 0 {
                    log("sweep: \(report.ready) video(s) now ready, \(report.failed) failed, of \(report.looked) waiting")
                }
            } catch is CancellationError {
                return
            } catch {
                log("error: the sweep could not read the library: \(error)")
            }
        }
    }
}

