import Foundation
import SigV4
import VideoService

/// A Lambda event that is not the kind the function takes.
public struct EventError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private func object(_ bytes: [UInt8], _ kind: String) throws -> [String: Any] {
    guard let value = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
        throw EventError("the event is not a JSON object (expected \(kind))")
    }
    return value
}

/// API Gateway HTTP API events (payload format 2.0) in and out of the video service.
public enum GatewayEvent {
    /// The request the event carries. Headers come from the client; the claims come only from the
    /// authorizer's `requestContext`.
    public static func request(_ event: [UInt8]) throws -> VideoRequest {
        let event = try object(event, "an API Gateway HTTP API event")
        guard event["version"] as? String == "2.0", let context = event["requestContext"] as? [String: Any],
              let http = context["http"] as? [String: Any], let method = http["method"] as? String,
              let rawPath = event["rawPath"] as? String else {
            throw EventError("not an API Gateway HTTP API payload 2.0 event (no version 2.0, requestContext.http or rawPath)")
        }
        let rawQuery = event["rawQueryString"] as? String ?? ""
        guard let target = SignableRequest(method: method, target: rawQuery.isEmpty ? rawPath : rawPath + "?" + rawQuery) else {
            throw EventError("the event's path or query is not valid UTF-8")
        }
        var path = target.path
        // A named stage appears in the path; the $default stage does not.
        if let stage = context["stage"] as? String, stage != "$default", path.hasPrefix("/\(stage)/") {
            path.removeFirst(stage.utf8.count + 1)
        }
        var headers: [(name: String, value: String)] = []
        for (name, value) in event["headers"] as? [String: String] ?? [:] { headers.append((name, value)) }
        var body: [UInt8] = []
        if let text = event["body"] as? String {
            if event["isBase64Encoded"] as? Bool == true {
                guard let data = Data(base64Encoded: text) else { throw EventError("the event's body is not valid base64") }
                body = Array(data)
            } else {
                body = Array(text.utf8)
            }
        }
        var claims: [String: JSONValue]?
        if let jwt = (context["authorizer"] as? [String: Any])?["jwt"] as? [String: Any], let values = jwt["claims"] as? [String: Any] {
            claims = values.compactMapValues { ($0 as? String).map(JSONValue.string) ?? ($0 as? NSNumber).map { .string($0.stringValue) } }
        }
        return VideoRequest(method: method, path: path, query: target.query.map { ($0.name, $0.value) }, headers: headers,
                            body: body, bodyTooLarge: body.count > VideoService.maximumBodyBytes, authorizerClaims: claims)
    }

    /// The answer as API Gateway takes it from the function.
    public static func response(_ response: VideoResponse) -> [UInt8] {
        let value: [String: Any] = [
            "statusCode": response.status, "headers": response.headers,
            "body": String(decoding: response.body, as: UTF8.self), "isBase64Encoded": false,
        ]
        return Array((try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}

/// An SQS batch of SNS notifications, each wrapping an S3 event.
public enum QueueEvent {
    public struct Message {
        public var messageId: String
        /// The objects created, keys decoded; empty for S3's test event.
        public var objects: [(bucket: String, key: String)]
    }

    public static func messages(_ event: [UInt8]) throws -> [Message] {
        let event = try object(event, "an SQS event")
        guard let records = event["Records"] as? [[String: Any]] else { throw EventError("not an SQS event (no Records)") }
        return records.map { record in
            let id = record["messageId"] as? String ?? ""
            return Message(messageId: id, objects: (try? objects(inBody: record["body"] as? String ?? "")) ?? [("", "")])
        }
    }

    /// The S3 records inside one SQS body (an SNS envelope, or a raw S3 event). A body that is neither
    /// yields a record with an empty bucket, which the trigger reports as a failure.
    static func objects(inBody body: String) throws -> [(bucket: String, key: String)] {
        var event = try object(Array(body.utf8), "an SNS notification")
        if let message = event["Message"] as? String { event = try object(Array(message.utf8), "an S3 event") }
        if event["Event"] as? String == "s3:TestEvent" { return [] }
        guard let records = event["Records"] as? [[String: Any]] else { throw EventError("not an S3 event") }
        return try records.map { record in
            guard let s3 = record["s3"] as? [String: Any], let bucket = (s3["bucket"] as? [String: Any])?["name"] as? String,
                  let encoded = (s3["object"] as? [String: Any])?["key"] as? String,
                  let key = percentDecode(encoded.replacingOccurrences(of: "+", with: " ")) else {
                throw EventError("an S3 record without bucket and key")
            }
            return (bucket, key)
        }
    }

    /// Lambda's partial batch answer: only the failed messages come back.
    public static func response(failed: [String]) -> [UInt8] {
        let value = ["batchItemFailures": failed.map { ["itemIdentifier": $0] }]
        return Array((try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data())
    }
}

/// EventBridge's "MediaConvert Job State Change".
public enum JobEvent {
    public enum Change: Equatable {
        case progress(percent: Double)
        case complete(durationSeconds: Double?)
        case error(reason: String)
        case other(String)
    }

    public struct Event: Equatable {
        public var sub: String
        public var videoId: String
        public var jobId: String
        public var change: Change
    }

    /// The event, or nil when it is not about one of our videos (no ids in its user metadata).
    public static func parse(_ bytes: [UInt8]) throws -> Event? {
        let event = try object(bytes, "an EventBridge event")
        guard event["source"] as? String == "aws.mediaconvert", event["detail-type"] as? String == "MediaConvert Job State Change",
              let detail = event["detail"] as? [String: Any], let status = detail["status"] as? String else {
            throw EventError("not a MediaConvert Job State Change event")
        }
        let metadata = detail["userMetadata"] as? [String: Any] ?? [:]
        guard let sub = metadata["sub"] as? String, VideoRules.isSub(sub[...]),
              let videoId = metadata["videoId"] as? String, VideoRules.isVideoId(videoId) else { return nil }
        let change: Change
        switch status {
        case "PROGRESSING":
            change = .progress(percent: 0)
        case "STATUS_UPDATE":
            let progress = detail["jobProgress"] as? [String: Any]
            change = .progress(percent: (progress?["jobPercentComplete"] as? NSNumber)?.doubleValue ?? 0)
        case "COMPLETE":
            let outputs = (detail["outputGroupDetails"] as? [[String: Any]] ?? []).flatMap { $0["outputDetails"] as? [[String: Any]] ?? [] }
            let milliseconds = outputs.compactMap { ($0["durationInMs"] as? NSNumber)?.doubleValue }.max()
            change = .complete(durationSeconds: milliseconds.map { $0 / 1000 })
        case "ERROR":
            change = .error(reason: ConversionFailureReason.mediaConvert(code: (detail["errorCode"] as? NSNumber)?.intValue,
                                                                         message: detail["errorMessage"] as? String))
        default:
            change = .other(status)
        }
        return Event(sub: sub, videoId: videoId, jobId: detail["jobId"] as? String ?? "", change: change)
    }
}
