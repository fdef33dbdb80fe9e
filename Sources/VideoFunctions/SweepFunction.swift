#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import VideoService

/// The sweeper's reads in production: a `Scan` of the table for videos `queued` or `converting`
/// since before a time (the only read across users; the table holds a person's few thousand items,
/// so each quarter hour's scan reads about a megabyte), and MediaConvert's `GetJob` for each one's job.
extension DynamoDBLibrary: PendingVideos {
    public func pendingVideos(createdBefore: Double) async throws -> [VideoRecord] {
        try await records("Scan", [
            "FilterExpression": "#status IN (:queued, :converting) AND createdAt < :before",
            "ExpressionAttributeNames": ["#status": "status"],
            "ExpressionAttributeValues": [":queued": ["S": "queued"], ":converting": ["S": "converting"],
                                          ":before": Self.n(String(createdBefore))],
            "ConsistentRead": true,
        ])
    }
}

/// MediaConvert's answer for a video's job (`GetJob`, by the id the trigger recorded).
struct MediaConvertLookup: ConversionLookup {
    let aws: AWSServices
    var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    /// How long a video with no job id is taken to be converting: one submitted before job ids were
    /// recorded may still have its job running (and its end event coming), so only after a day,
    /// longer than any conversion the caps allow, is it lost.
    static let withoutJobId: Double = 86_400

    func state(of video: VideoRecord) async throws -> ConversionState {
        guard let jobId = video.jobId, jobId.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            return now() - video.createdAt > Self.withoutJobId ? .unknown : .running
        }
        let answer: JSONValue
        do {
            answer = try await aws.json(service: "mediaconvert", endpoint: aws.mediaConvert, method: "GET", path: "/2017-08-29/jobs/\(jobId)",
                                        contentType: "application/json", body: nil, operation: "MediaConvert GetJob \(jobId)")
        } catch let error as AWSError where error.status == 404 {
            return .unknown
        }
        guard let job = answer["job"], let event = JobEvent.job(job), event.sub == video.sub, event.videoId == video.id else {
            // A job of another video under this id: not this video's conversion.
            return .unknown
        }
        switch event.change {
        case .complete(let duration, let ladder, let cutFrom): return .complete(durationSeconds: duration, ladder: ladder, cutFromSeconds: cutFrom)
        case .error(let reason): return .failed(reason: reason)
        case .other("CANCELED"): return .failed(reason: "The conversion was cancelled; delete the video and upload it again.")
        case .progress, .other: return .running
        }
    }
}

/// An EventBridge schedule's event (`Scheduled Event` from `aws.events`): the sweeper's tick.
public enum ScheduleEvent {
    public static func isSchedule(_ bytes: [UInt8]) -> Bool {
        guard let event = JSONValue.parse(bytes) else { return false }
        return event["source"]?.stringValue == "aws.events" && event["detail-type"]?.stringValue == "Scheduled Event"
    }
}
