#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import Synchronization
import SigV4
import VideoService

/// A setting the function cannot start without, or one it cannot use.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var missing: [String]
    public var description: String

    public init(missing: [String] = [], _ description: String) {
        self.missing = missing
        self.description = description
    }
}

/// The functions' settings, from the environment the stack gives them; AWS is reached through the
/// shared transport with the credential chain (Lambda's environment credentials, session token
/// included).
public struct FunctionSettings: Sendable {
    public var region: String
    public var table: String
    public var tempBucket: String
    public var mainBucket: String
    /// The deployment's per-user limits (`LIMIT_*`, from the stack's parameters).
    public var limits: UsageLimits
    /// Each user's request rate on the video API (`RATE_LIMIT_*`; unset, `RequestRate.person`).
    public var requestRate: RequestRate
    public var variables: [String: String]

    /// Every variable `function` needs, the missing ones named together.
    public init(function: String, environment: [String: String], needs extra: [String] = []) throws {
        let names = ["VIDEO_TABLE", "TEMP_BUCKET", "MAIN_BUCKET", "AWS_REGION"] + extra
        let missing = names.filter { environment[$0]?.isEmpty ?? true }
        guard missing.isEmpty else {
            throw ConfigurationError(missing: missing, """
                The \(function) function needs the environment variable\(missing.count == 1 ? "" : "s") \
                \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not set; \
                the stack's template sets \(missing.count == 1 ? "it" : "them").
                """)
        }
        region = environment["AWS_REGION"]!
        table = environment["VIDEO_TABLE"]!
        tempBucket = environment["TEMP_BUCKET"]!
        mainBucket = environment["MAIN_BUCKET"]!
        do {
            limits = try UsageLimits.from(environment: environment)
            requestRate = try RequestRate.from(environment: environment)
        } catch let error as LimitSettingError {
            throw ConfigurationError("The \(function) function's limits are not set right: \(error.description)")
        }
        variables = environment
    }

    /// The AWS side: endpoints (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, else the regional
    /// hosts — MediaConvert's regional endpoint, no DescribeEndpoints), credentials resolved once
    /// to check them (and for presigning), and the transport.
    public func services() async throws -> AWSServices {
        let http = AWSTransport.makeHTTPClient(concurrency: 8)
        do {
            let provider = CredentialProvider(chain: CredentialChain(
                variables: variables, profile: nil, region: region,
                sts: try Endpoint.resolve(service: "sts", region: region, variables: variables), http: http))
            let credentials = try await provider.current().credentials.credentials
            let transport = AWSTransport(http: http) { try await provider.current().credentials.credentials }
            let s3 = try S3.addressing(region: region, buckets: [tempBucket, mainBucket], variables: variables)
            return AWSServices(transport: transport, region: region, credentials: credentials,
                               s3: S3(transport: transport, region: region, endpoint: s3.endpoint, pathStyle: s3.pathStyle),
                               dynamoDB: try Endpoint.resolve(service: "dynamodb", region: region, variables: variables),
                               mediaConvert: try Endpoint.resolve(service: "mediaconvert", region: region, variables: variables),
                               // The SDKs' variable for it is AWS_ENDPOINT_URL_SECRETS_MANAGER (its service id has a space).
                               secretsManager: try Endpoint.custom(service: "secrets manager", variables: variables)
                                   ?? Endpoint(scheme: "https", host: "secretsmanager.\(region).amazonaws.com"))
        } catch {
            try? await http.shutdown()
            throw ConfigurationError("The function cannot reach AWS: \(error)")
        }
    }
}

/// The video service behind API Gateway's JWT authorizer.
public struct VideoFunction: Sendable {
    let service: VideoService

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) {
        let variables = settings.variables
        let media = MediaSettings(keys: SecretMediaKey(aws: aws, keyPairId: variables["MEDIA_KEY_PAIR_ID"] ?? "",
                                                       secret: variables["MEDIA_KEY_SECRET"] ?? ""),
                                  origin: variables["MEDIA_ORIGIN"], secure: true)
        let library = DynamoDBLibrary(aws: aws, table: settings.table)
        service = VideoService(identity: AuthorizerClaims(clientId: variables["COGNITO_CLIENT_ID"]), library: library,
                               storage: S3Storage(aws: aws, tempBucket: settings.tempBucket, mainBucket: settings.mainBucket,
                                                  accelerateUploads: variables["UPLOAD_ACCELERATION"] == "true"),
                               media: media, usage: UsagePolicy(defaults: settings.limits, ledger: library),
                               rateLimit: RateLimit(rate: settings.requestRate, store: library), log: log)
    }

    public func handle(_ event: [UInt8]) async throws -> [UInt8] {
        GatewayEvent.response(await service.handle(try GatewayEvent.request(event)))
    }
}

/// The media cookies' private key, read from its one Secrets Manager secret on first use and kept
/// for the life of the execution environment (a rotation changes the stack's variables, so new
/// environments read the new key).
final class SecretMediaKey: MediaKeySource {
    let aws: AWSServices
    let keyPairId: String
    let secret: String
    private let cached = Mutex<MediaSigningKey?>(nil)

    init(aws: AWSServices, keyPairId: String, secret: String) {
        self.aws = aws
        self.keyPairId = keyPairId
        self.secret = secret
    }

    func signingKey() async throws -> MediaSigningKey {
        if let key = cached.withLock({ $0 }) { return key }
        let answer = try await aws.json(service: "secretsmanager", endpoint: aws.secretsManager, target: "secretsmanager.GetSecretValue",
                                        contentType: "application/x-amz-json-1.1", body: ["SecretId": .string(secret)],
                                        operation: "Secrets Manager GetSecretValue \(secret)")
        guard let pem = answer["SecretString"]?.stringValue else {
            throw ConfigurationError("The secret \(secret) holds no SecretString with the media key's PEM.")
        }
        guard let key = try? MediaSigningKey(keyPairId: keyPairId, pem: pem) else {
            throw ConfigurationError("The secret \(secret) holds no RSA private key in PEM (PKCS#1 or PKCS#8) for the media cookies.")
        }
        cached.withLock { $0 = key }
        return key
    }
}

/// The MediaConvert trigger: S3 `ObjectCreated` → SNS → SQS batches. A message that fails is
/// reported alone, so SQS retries it (and, after the redrive limit, dead-letters it) without
/// redoing the rest of the batch.
public struct TriggerFunction: Sendable {
    let events: ConversionEvents
    let log: @Sendable (String) -> Void

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) {
        let role = settings.variables["MEDIACONVERT_ROLE_ARN"] ?? ""
        let queue = settings.variables["MEDIACONVERT_QUEUE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        let library = DynamoDBLibrary(aws: aws, table: settings.table)
        events = ConversionEvents(library: library,
                                  storage: S3Storage(aws: aws, tempBucket: settings.tempBucket, mainBucket: settings.mainBucket),
                                  converter: MediaConvertConverter(aws: aws, role: role, queue: queue, log: log),
                                  usage: UsagePolicy(defaults: settings.limits, ledger: library), log: log)
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

/// The conversion-complete handler: MediaConvert's job events from EventBridge, and the sweeper
/// (`ConversionSweep`) on the stack's schedule, for the videos whose end event was lost.
public struct CompletionFunction: Sendable {
    let events: ConversionEvents
    let sweep: ConversionSweep
    let log: @Sendable (String) -> Void

    /// The variable of how long a video waits before the sweeper asks about it (seconds; an hour unset).
    public static let sweepAfterVariable = "SWEEP_AFTER_SECONDS"

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) throws {
        let library = DynamoDBLibrary(aws: aws, table: settings.table)
        events = ConversionEvents(library: library,
                                  storage: S3Storage(aws: aws, tempBucket: settings.tempBucket, mainBucket: settings.mainBucket),
                                  converter: NoConverter(), usage: UsagePolicy(defaults: settings.limits, ledger: library), log: log)
        var after = ConversionSweep.defaultAfter
        if let text = settings.variables[Self.sweepAfterVariable], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                throw ConfigurationError("\(Self.sweepAfterVariable) must be a number of seconds of at least 0, not “\(text)”.")
            }
            after = seconds
        }
        sweep = ConversionSweep(events: events, pending: library, lookup: MediaConvertLookup(aws: aws), after: after, log: log)
        self.log = log
    }

    public func handle(_ event: [UInt8]) async throws -> [UInt8] {
        if ScheduleEvent.isSchedule(event) {
            let report = try await sweep.run()
            log("sweep: \(report.looked) waiting, \(report.running) still converting, \(report.ready) now ready, "
                + "\(report.failed) failed, \(report.errors) not reached")
            return JSONValue.object(["swept": .integer(Int64(report.looked)), "ready": .integer(Int64(report.ready)),
                                     "failed": .integer(Int64(report.failed)), "running": .integer(Int64(report.running)),
                                     "errors": .integer(Int64(report.errors))]).bytes
        }
        guard let job = try JobEvent.parse(event) else {
            log("ignored: a MediaConvert job without our ids in its user metadata")
            return Array("{}".utf8)
        }
        let applied: Bool
        switch job.change {
        case .progress(let percent): applied = try await events.progress(sub: job.sub, id: job.videoId, percent: percent)
        case .complete(let duration, let ladder, let cutFrom):
            applied = try await events.completed(sub: job.sub, id: job.videoId, durationSeconds: duration, ladder: ladder,
                                                 cutFromSeconds: cutFrom)
        case .error(let reason): applied = try await events.failed(sub: job.sub, id: job.videoId, reason: reason)
        case .other(let status): applied = false; log("video \(job.videoId): job \(job.jobId) is \(status)")
        }
        return Array("{\"applied\":\(applied)}".utf8)
    }
}

