import Foundation
import Publish
import SigV4
import VideoService

/// A setting the function cannot start without.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The functions' settings, from the environment the stack gives them.
public struct FunctionSettings: Sendable {
    public var region: String
    public var table: String
    public var tempBucket: String
    public var mainBucket: String
    public var credentials: Credentials
    public var variables: [String: String]

    public init(environment: [String: String], needs extra: [String] = []) throws {
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigurationError("the environment variable \(name) is not set; the stack sets it for every function")
            }
            return value
        }
        for name in ["VIDEO_TABLE", "TEMP_BUCKET", "MAIN_BUCKET", "AWS_REGION"] + extra { _ = try required(name) }
        region = try required("AWS_REGION")
        table = try required("VIDEO_TABLE")
        tempBucket = try required("TEMP_BUCKET")
        mainBucket = try required("MAIN_BUCKET")
        // Lambda puts the role's temporary credentials in the environment.
        credentials = Credentials(accessKeyId: try required("AWS_ACCESS_KEY_ID"), secretAccessKey: try required("AWS_SECRET_ACCESS_KEY"),
                                  sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        variables = environment
    }

    /// The service's endpoint: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, else AWS's regional host.
    func endpoint(_ service: String, host: String) throws -> Endpoint {
        for name in ["AWS_ENDPOINT_URL_\(service.uppercased())", "AWS_ENDPOINT_URL"] {
            guard let value = variables[name], !value.isEmpty else { continue }
            guard let endpoint = Endpoint(url: value) else { throw ConfigurationError("\(name)='\(value)' is not an http(s) URL") }
            return endpoint
        }
        return Endpoint(scheme: "https", host: host)
    }

    public func services(transport: AWSTransport) throws -> AWSServices {
        let s3 = try endpoint("s3", host: "s3.\(region).amazonaws.com")
        let custom = variables["AWS_ENDPOINT_URL_S3"] != nil || variables["AWS_ENDPOINT_URL"] != nil
        return AWSServices(transport: transport, region: region, credentials: credentials, s3: s3,
                           s3PathStyle: custom || tempBucket.contains(".") || mainBucket.contains("."),
                           dynamoDB: try endpoint("dynamodb", host: "dynamodb.\(region).amazonaws.com"),
                           mediaConvert: try endpoint("mediaconvert", host: "mediaconvert.\(region).amazonaws.com"))
    }
}

/// The video service behind API Gateway's JWT authorizer.
public struct VideoFunction: Sendable {
    let service: VideoService

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) {
        service = VideoService(identity: AuthorizerClaims(clientId: settings.variables["COGNITO_CLIENT_ID"]),
                               library: DynamoDBLibrary(aws: aws, table: settings.table),
                               storage: S3Storage(aws: aws, tempBucket: settings.tempBucket, mainBucket: settings.mainBucket), log: log)
    }

    public func handle(_ event: [UInt8]) async throws -> [UInt8] {
        GatewayEvent.response(await service.handle(try GatewayEvent.request(event)))
    }
}

/// The MediaConvert trigger: S3 `ObjectCreated` → SNS → SQS batches. A message that fails is
/// reported alone, so SQS retries it (and, after the redrive limit, dead-letters it) without
/// redoing the rest of the batch.
public struct TriggerFunction: Sendable {
    let events: ConversionEvents
    let log: @Sendable (String) -> Void

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) throws {
        let role = settings.variables["MEDIACONVERT_ROLE_ARN"] ?? ""
        let queue = settings.variables["MEDIACONVERT_QUEUE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        events = ConversionEvents(library: DynamoDBLibrary(aws: aws, table: settings.table),
                                  storage: S3Storage(aws: aws, tempBucket: settings.tempBucket, mainBucket: settings.mainBucket),
                                  converter: MediaConvertConverter(aws: aws, role: role, queue: queue), log: log)
        self.log = log
    }

    public func handle(_ event: [UInt8]) async throws -> [UInt8] {
        var failed: [String] = []
        for message in try QueueEvent.messages(event) {
            do {
                for object in message.objects {
                    guard !object.bucket.isEmpty else { throw EventError("the message is not an S3 event notification") }
                    let outcome = try await events.objectCreated(bucket: object.bucket, key: object.key)
                    if case .ignored(let why) = outcome { log("\(object.key): ignored, \(why)") }
                }
            } catch {
                log("error: message \(message.messageId): \(error)")
                failed.append(message.messageId)
            }
        }
        return QueueEvent.response(failed: failed)
    }
}

/// The conversion-complete handler: MediaConvert's job events from EventBridge.
public struct CompletionFunction: Sendable {
    let events: ConversionEvents
    let log: @Sendable (String) -> Void

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) {
        events = ConversionEvents(library: DynamoDBLibrary(aws: aws, table: settings.table),
                                  storage: S3Storage(aws: aws, tempBucket: settings.tempBucket, mainBucket: settings.mainBucket),
                                  converter: NoConverter(), log: log)
        self.log = log
    }

    public func handle(_ event: [UInt8]) async throws -> [UInt8] {
        guard let job = try JobEvent.parse(event) else {
            log("ignored: a MediaConvert job without our ids in its user metadata")
            return Array("{}".utf8)
        }
        let applied: Bool
        switch job.change {
        case .progress(let percent): applied = try await events.progress(sub: job.sub, id: job.videoId, percent: percent)
        case .complete(let duration): applied = try await events.completed(sub: job.sub, id: job.videoId, durationSeconds: duration)
        case .error(let reason): applied = try await events.failed(sub: job.sub, id: job.videoId, reason: reason)
        case .other(let status): applied = false; log("video \(job.videoId): job \(job.jobId) is \(status)")
        }
        return Array("{\"applied\":\(applied)}".utf8)
    }
}

/// The completion handler converts nothing.
struct NoConverter: Converter {
    func submit(_ job: ConversionJob) async throws {
        throw ConfigurationError("the completion handler does not start conversions")
    }
}
