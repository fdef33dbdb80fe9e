#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SigV4
import VideoService

/// A Lambda event that is not the kind the function takes.
public struct EventError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private func object(_ bytes: some Collection<UInt8>, _ kind: String) throws -> JSONValue {
    guard let value = JSONValue.parse(bytes), value.objectValue != nil else {
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
        guard event["version"]?.stringValue == "2.0", let context = event["requestContext"],
              let method = context["http"]?["method"]?.stringValue, let rawPath = event["rawPath"]?.stringValue else {
            throw EventError("not an API Gateway HTTP API payload 2.0 event (no version 2.0, requestContext.http or rawPath)")
        }
        let rawQuery = event["rawQueryString"]?.stringValue ?? ""
        guard let target = SignableRequest(method: method, target: rawQuery.isEmpty ? rawPath : rawPath + "?" + rawQuery) else {
            throw EventError("the event's path or query is not valid UTF-8")
        }
        var path = target.path
        // A named stage appears in the path; the $default stage does not.
        if let stage = context["stage"]?.stringValue, stage != "$default", path.hasPrefix("/\(stage)/") {
            path.removeFirst(stage.utf8.count + 1)
        }
        // CloudFront's `/api/*` behaviour sends the API its calls under `/api`, as the site's origin names them.
        if path == "/api" || path.hasPrefix("/api/") { path.removeFirst(4) }
        let headers = (event["headers"]?.objectValue ?? [:]).compactMap { name, value in value.stringValue.map { (name, $0) } }
        var body: [UInt8] = []
        if let text = event["body"]?.stringValue {
            if case .bool(true)? = event["isBase64Encoded"] {
                guard let data = Data(base64Encoded: text) else { throw EventError("the event's body is not valid base64") }
                body = Array(data)
            } else {
                body = Array(text.utf8)
            }
        }
        // API Gateway passes every claim as a string.
        let claims = context["authorizer"]?["jwt"]?["claims"]?.objectValue?.compactMapValues { value -> JSONValue? in
            switch value {
            case .string: value
            case .integer(let number): .string(String(number))
            case .number(let number): .string(String(number))
            case .bool(let flag): .string(String(flag))
            default: nil
            }
        }
        return VideoRequest(method: method, path: path, query: target.query.map { ($0.name, $0.value) }, headers: headers,
                            body: body, bodyTooLarge: body.count > VideoService.maximumBodyBytes, authorizerClaims: claims)
    }

    /// The answer as API Gateway takes it from the function.
    public static func response(_ response: VideoResponse) -> [UInt8] {
        var object: [String: JSONValue] = [
            "statusCode": .integer(Int64(response.status)), "headers": .object(response.headers.mapValues(JSONValue.string)),
            "body": .string(String(decoding: response.body, as: UTF8.self)), "isBase64Encoded": false,
        ]
        // Payload 2.0 takes each Set-Cookie in `cookies`: a header map holds one value per name.
        if !response.cookies.isEmpty { object["cookies"] = .array(response.cookies.map(JSONValue.string)) }
        return JSONValue.object(object).bytes
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
        guard let records = event["Records"]?.arrayValue else { throw EventError("not an SQS event (no Records)") }
        return records.map { record in
            let id = record["messageId"]?.stringValue ?? ""
            return Message(messageId: id, objects: (try? objects(inBody: record["body"]?.stringValue ?? "")) ?? [("", "")])
        }
    }

    /// The S3 records inside one SQS body (an SNS envelope, or a raw S3 event). A body that is neither
    /// yields a record with an empty bucket, which the trigger reports as a failure.
    static func objects(inBody body: String) throws -> [(bucket: String, key: String)] {
        var event = try object(Array(body.utf8), "an SNS notification")
        if let message = event["Message"]?.stringValue { event = try object(Array(message.utf8), "an S3 event") }
        if event["Event"]?.stringValue == "s3:TestEvent" { return [] }
        guard let records = event["Records"]?.arrayValue else { throw EventError("not an S3 event") }
        return try records.map { record in
            // S3 writes the key form-encoded: `+` for a space, percent escapes for the rest.
            guard let bucket = record["s3"]?["bucket"]?["name"]?.stringValue, let encoded = record["s3"]?["object"]?["key"]?.stringValue,
                  let key = percentDecode(encoded.replacing("+", with: " ")) else {
                throw EventError("an S3 record without bucket and key")
            }
            return (bucket, key)
        }
    }

    /// Lambda's partial batch answer: only the failed messages come back.
    public static func response(failed: [String]) -> [UInt8] {
        JSONValue.object(["batchItemFailures": .array(failed.map { ["itemIdentifier": .string($0)] })]).bytes
    }
}

/// EventBridge's "MediaConvert Job State Change".
public enum JobEvent {
    public enum Change: Equatable {
        case progress(percent: Double)
        /// `ladder`: the job's user metadata says it wrote the HLS ladder; `cutFromSeconds`: that it
        /// converted only the beginning of a source this long.
        case complete(durationSeconds: Double?, ladder: Bool, cutFromSeconds: Double?)
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
        guard event["source"]?.stringValue == "aws.mediaconvert", event["detail-type"]?.stringValue == "MediaConvert Job State Change",
              let detail = event["detail"], detail["status"]?.stringValue != nil else {
            throw EventError("not a MediaConvert Job State Change event")
        }
        return job(detail)
    }

    /// A job as the event's `detail` and GetJob's `job` both give it (the same member names), or
    /// nil when it is not about one of our videos.
    public static func job(_ detail: JSONValue) -> Event? {
        guard let status = detail["status"]?.stringValue,
              let sub = detail["userMetadata"]?["sub"]?.stringValue, VideoRules.isSub(sub[...]),
              let videoId = detail["userMetadata"]?["videoId"]?.stringValue, VideoRules.isVideoId(videoId) else { return nil }
        let change: Change
        switch status {
        case "PROGRESSING":
            change = .progress(percent: 0)
        case "STATUS_UPDATE":
            change = .progress(percent: detail["jobProgress"]?["jobPercentComplete"]?.doubleValue ?? 0)
        case "COMPLETE":
            let outputs = (detail["outputGroupDetails"]?.arrayValue ?? []).flatMap { $0["outputDetails"]?.arrayValue ?? [] }
            let milliseconds = outputs.compactMap { $0["durationInMs"]?.doubleValue }.max()
            let ladder = detail["userMetadata"]?[ConversionSettings.ladderMetadataKey]?.stringValue.map { !$0.isEmpty } ?? false
            let cutFrom = detail["userMetadata"]?[ConversionSettings.cutMetadataKey]?.stringValue.flatMap(Double.init)
            change = .complete(durationSeconds: milliseconds.map { $0 / 1000 }, ladder: ladder, cutFromSeconds: cutFrom)
        case "ERROR":
            change = .error(reason: ConversionFailureReason.mediaConvert(code: detail["errorCode"]?.doubleValue.map { Int($0) },
                                                                         message: detail["errorMessage"]?.stringValue))
        default:
            change = .other(status)
        }
        // The event names it `jobId`, GetJob `id`.
        return Event(sub: sub, videoId: videoId, jobId: detail["jobId"]?.stringValue ?? detail["id"]?.stringValue ?? "", change: change)
    }
}
