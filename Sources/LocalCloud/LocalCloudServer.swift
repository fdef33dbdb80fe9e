import Foundation
import HTTPServing
import Hummingbird
import Logging
import NIOCore
import SigV4
import Synchronization
import VideoService
import _CryptoExtras

/// How to run the local cloud.
public struct LocalCloudConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 9400
    public var dataDirectory: URL
    /// Origins whose pages may call the local cloud (the dev server's), as production's CORS rules allow the site's.
    public var allowedOrigins: [String] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    /// The `Host` names answered besides loopback ones and IP addresses; others get 403, so a page
    /// on another site cannot read `/_local/` (every code and temporary password) through DNS
    /// rebinding (`AllowedHosts`).
    public var allowedHosts: [String] = []
    public var userPoolId = "us-east-1_LocalPool"
    public var clientId = "localappclient0000000000000"
    public var region = "us-east-1"
    public var workers = 1
    public var ffmpeg = "ffmpeg"
    public var ffprobe = "ffprobe"
    public var retryBackoff: [Double] = [2, 8]
    /// Every user's limits unless `site cloud limits` set their own (production's defaults).
    public var limits = UsageLimits.personal
    /// Each user's request rate on the video API (production's defaults).
    public var requestRate = RequestRate.person
    /// The sweeper (`ConversionSweep`): how often it runs, and how long a video waits (since its
    /// upload was asked for) before it asks the job queue about it. Production's run every 15
    /// minutes after an hour; locally every minute after ten.
    public var sweepInterval: Double = 60
    public var sweepAfter: Double = 600
    /// Seconds an access or ID token lives (15 minutes, as production's); shorter to try the app's refresh.
    public var tokenLifetime: Int = 900
    /// Whether anyone may call `SignUp`; false answers it as a pool with `AllowAdminCreateUserOnly`
    /// does, and accounts are made with AdminCreateUser (`site cloud invite`).
    public var selfSignUp = true

    public init(dataDirectory: URL) { self.dataDirectory = dataDirectory }
}

/// The endpoints a started local cloud answers on.
public struct LocalCloudEndpoints: Sendable {
    public var origin: String
    public var userPoolId: String
    public var clientId: String
    public var credentialsFile: String
    public var cognito: String { origin }
    public var api: String { origin + "/api" }
    public var s3: String { origin }
    public var mailbox: String { origin + "/_local/mailbox" }
    public var overview: String { origin + "/_local/" }

    /// The lines `site cloud` prints, one per endpoint.
    public var lines: [String] {
        ["cognito: \(cognito)", "api: \(api)", "s3: \(s3)", "mailbox: \(mailbox)",
         "userPoolId: \(userPoolId)", "clientId: \(clientId)", "credentials: \(credentialsFile) (profile localcloud)"]
    }
}

public enum LocalCloudError: Error, CustomStringConvertible {
    case dataFolder(String, String)
    case notLoopback(String)
    /// An invitation that could not be made: the address, and why.
    case invitation(String, String)

    public var description: String {
        switch self {
        case .invitation(let email, let reason): "cannot invite \(email): \(reason)"
        case .dataFolder(let path, let reason): "the local cloud's data folder \(path) cannot be used: \(reason)"
        case .notLoopback(let host): "the local cloud listens on loopback only; \(host) is not a loopback address"
        }
    }
}

/// The local cloud: Cognito, the video API, S3 and the conversion pipeline on one loopback origin.
public enum LocalCloud {
    /// Starts the server and the pipeline and runs until cancelled (or SIGINT/SIGTERM when
    /// `handleSignals`); `onReady` gets the endpoints once the port is bound.
    public static func run(_ configuration: LocalCloudConfiguration, handleSignals: Bool = true, gateway: LocalCloudGateway = .init(),
                           log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
                           onReady: @escaping @Sendable (LocalCloudEndpoints) -> Void) async throws {
        guard ["127.0.0.1", "::1", "localhost"].contains(configuration.host) else {
            throw LocalCloudError.notLoopback(configuration.host)
        }
        let folder = configuration.dataDirectory
        let state = try DataFolder(folder)
        let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
        let store = try ObjectStore(database: database, root: folder.appendingPathComponent("s3"),
                                    buckets: [LocalVideoHost.tempBucket, LocalVideoHost.mainBucket],
                                    onCreated: { [limits = configuration.limits] db, object in
                                        try Pipeline.objectCreated(db, object, limits: limits)
                                    })
        var pipelineSettings = Pipeline.Settings()
        pipelineSettings.workers = configuration.workers
        pipelineSettings.ffmpeg = configuration.ffmpeg
        pipelineSettings.ffprobe = configuration.ffprobe
        pipelineSettings.backoff = configuration.retryBackoff
        pipelineSettings.longestSeconds = configuration.limits.longestSeconds
        let pipeline = Pipeline(settings: pipelineSettings, database: database, store: store,
                                workFolder: folder.appendingPathComponent("work"), log: log)

        let routes = gateway.routes
        let logger = QuietLogHandler.logger(label: "local-cloud")
        let app = Application(
            responder: CloudResponder(gateway: gateway),
            server: .http1(configuration: .init(additionalChannelHandlers: [LargeReadsHandler(), ExpectContinueHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                let origin = "http://\(host):\(port)"
                let services = Services(configuration: configuration, origin: origin, database: database, store: store,
                                        key: state.tokenKey, mediaKey: state.mediaKey, credentials: state.credentials)
                routes.install(services)
                onReady(LocalCloudEndpoints(origin: origin, userPoolId: configuration.userPoolId, clientId: configuration.clientId,
                                            credentialsFile: state.credentialsFile.path))
            },
            logger: logger)
        let library = LocalLibrary(database: database)
        let sweep = ConversionSweep(
            events: ConversionEvents(library: library,
                                     storage: LocalStorage(store: store, signer: Signer(credentials: state.credentials, region: configuration.region,
                                                                                         service: "s3"), s3Origin: ""),
                                     converter: NoConverter(), usage: UsagePolicy(defaults: configuration.limits, ledger: library), log: log),
            pending: library, lookup: LocalConversionLookup(database: database), after: configuration.sweepAfter, log: log)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pipeline.run() }
            group.addTask { [interval = configuration.sweepInterval] in await Pipeline.sweepForever(sweep, interval: interval, log: log) }
            group.addTask {
                if handleSignals { try await app.runService() } else { try await app.run() }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// The data folder's keys: the token signing key, the media cookies' key pair and the S3
/// credentials, made on first start.
struct DataFolder {
    let tokenKey: TokenKey
    let mediaKey: MediaSigningKey
    let credentials: Credentials
    let credentialsFile: URL

    init(_ folder: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LocalCloudError.dataFolder(folder.path, "\(error.localizedDescription)")
        }
        let keyFile = folder.appendingPathComponent("token-key.pem")
        if let pem = try? String(contentsOf: keyFile, encoding: .utf8) {
            tokenKey = try TokenKey(pem: pem)
        } else {
            tokenKey = try TokenKey.generate()
            try Self.writePrivate(tokenKey.privateKey.pemRepresentation, to: keyFile)
        }
        let mediaKeyFile = folder.appendingPathComponent("media-key.pem")
        let mediaPrivateKey: _RSA.Signing.PrivateKey
        if let pem = try? String(contentsOf: mediaKeyFile, encoding: .utf8) {
            mediaPrivateKey = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } else {
            mediaPrivateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            try Self.writePrivate(mediaPrivateKey.pemRepresentation, to: mediaKeyFile)
        }
        mediaKey = MediaSigningKey(keyPairId: LocalMedia.keyPairId(of: mediaPrivateKey.publicKey), privateKey: mediaPrivateKey)
        credentialsFile = folder.appendingPathComponent("aws-credentials")
        if let text = try? String(contentsOf: credentialsFile, encoding: .utf8), let parsed = Self.parse(text) {
            credentials = parsed
        } else {
            credentials = Credentials(accessKeyId: "LOCAL" + ObjectStore.randomToken(bytes: 8).uppercased(),
                                      secretAccessKey: Base64URL.encode(randomBytes(30)))
            try Self.writePrivate("""
                # The local cloud's S3 keys (this data folder only). Use with:
                #   AWS_SHARED_CREDENTIALS_FILE=\(credentialsFile.path) AWS_PROFILE=localcloud
                [localcloud]
                aws_access_key_id = \(credentials.accessKeyId)
                aws_secret_access_key = \(credentials.secretAccessKey)

                """, to: credentialsFile)
        }
    }

    static func parse(_ text: String) -> Credentials? {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let pair = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { values[pair[0]] = pair[1] }
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else { return nil }
        return Credentials(accessKeyId: id, secretAccessKey: secret)
    }

    static func writePrivate(_ text: String, to url: URL) throws {
        let temporary = url.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LocalCloudError.dataFolder(url.deletingLastPathComponent().path, "cannot write \(url.lastPathComponent)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw LocalCloudError.dataFolder(url.deletingLastPathComponent().path, "cannot write \(url.lastPathComponent)")
        }
    }
}

/// The local cloud's answers for a server in the same process: `site serve` hands it `/api` and
/// `/media/` requests as they come (streaming bodies both ways), with no socket in between.
public final class LocalCloudGateway: Sendable {
    let routes = Routes()

    public init() {}

    /// The cloud's answer to `request`; 503 until it has started.
    public func respond(_ request: Request) async -> Response {
        guard let services = routes.current else { return Reply.text(503, "The local cloud is starting.\n", type: "text/plain") }
        return await services.respond(request)
    }
}

/// Holds the services once the port is known (the issuer and presigned URLs name it).
final class Routes: Sendable {
    private let services = Mutex<Services?>(nil)
    func install(_ value: Services) { services.withLock { $0 = value } }
    var current: Services? { services.withLock { $0 } }
}

struct CloudResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let gateway: LocalCloudGateway

    func respond(to request: Request, context: Context) async throws -> Response {
        await gateway.respond(request)
    }
}

/// Everything behind the one origin, and the routing between them.
struct Services: Sendable {
    let configuration: LocalCloudConfiguration
    let origin: String
    let cognito: CognitoService
    let s3: S3Service
    let api: LocalVideoHost
    let pages: LocalPages
    let media: LocalMedia
    let hosts: AllowedHosts

    init(configuration: LocalCloudConfiguration, origin: String, database: CloudDatabase, store: ObjectStore,
         key: TokenKey, mediaKey: MediaSigningKey, credentials: Credentials) {
        self.configuration = configuration
        hosts = AllowedHosts(configuration.allowedHosts)
        self.origin = origin
        cognito = CognitoService(settings: .init(userPoolId: configuration.userPoolId, clientId: configuration.clientId,
                                                 region: configuration.region, issuer: origin + "/" + configuration.userPoolId,
                                                 adminCredentials: credentials, tokenLifetime: TimeInterval(configuration.tokenLifetime),
                                                 selfSignUp: configuration.selfSignUp),
                                 database: database, key: key)
        s3 = S3Service(store: store, credentials: credentials, region: configuration.region)
        let document = Bundle.module.url(forResource: "openapi", withExtension: "yaml").flatMap { try? Data(contentsOf: $0) }.map { Array($0) }
        api = LocalVideoHost(cognito: cognito, store: store, database: database,
                       signer: Signer(credentials: credentials, region: configuration.region, service: "s3"),
                       s3Origin: origin, mediaKey: mediaKey, limits: configuration.limits,
                       requestRate: configuration.requestRate, document: document)
        media = LocalMedia(s3: s3, publicKeys: [mediaKey.keyPairId: mediaKey.privateKey.publicKey])
        pages = LocalPages(database: database, origin: origin, configuration: configuration)
    }

    /// Response headers a page's script may read: the ETag and SHA-256 checksum of an uploaded
    /// part, the API's challenge and back-off, the clock (for skew), and Cognito's error details.
    static let exposedHeaders = "ETag, x-amz-checksum-sha256, WWW-Authenticate, Retry-After, Date, x-amzn-RequestId, x-amzn-ErrorType"

    func respond(_ request: Request) async -> Response {
        guard hosts.allows(authority: request.head.authority) else {
            return Reply.text(403, AllowedHosts.refusal(authority: request.head.authority),
                              type: "text/plain")
        }
        var headers = [SignableRequest.Header]()
        if let authority = request.head.authority { headers.append(.init("host", authority)) }
        for field in request.headers { headers.append(.init(field.name.canonicalName, field.value)) }
        guard let signable = SignableRequest(method: request.method.rawValue, target: request.head.path ?? "/", headers: headers) else {
            return Reply.text(400, "The request's path or query is not valid UTF-8.\n", type: "text/plain")
        }
        let origin = signable.header("origin")
        let allowed = origin.map { configuration.allowedOrigins.contains($0) } ?? false
        if signable.method == "OPTIONS", signable.header("access-control-request-method") != nil {
            guard allowed, let origin else {
                return Reply.text(403, "CORS: the origin \(origin ?? "(none)") is not allowed; start the local cloud with --allow-origin.\n",
                                  type: "text/plain", headers: [("Vary", "Origin")])
            }
            return Reply.empty(204, headers: [
                ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE"),
                ("Access-Control-Allow-Headers", signable.header("access-control-request-headers") ?? "content-type"),
                ("Access-Control-Expose-Headers", Self.exposedHeaders), ("Access-Control-Max-Age", "600"),
            ])
        }
        var response = await route(request, signable)
        response.headers.append("Vary", "Origin")
        if allowed, let origin {
            response.headers.append("Access-Control-Allow-Origin", origin)
            response.headers.append("Access-Control-Expose-Headers", Self.exposedHeaders)
        }
        return response
    }

    private func route(_ request: Request, _ signable: SignableRequest) async -> Response {
        let path = signable.path
        if path == "/", signable.method == "POST", let target = signable.header("x-amz-target") {
            return await cognitoCall(request, target: target, signable: signable)
        }
        if path == "/api" || path.hasPrefix("/api/") {
            return await api.handle(request, path: String(path.dropFirst(4)), signable: signable)
        }
        if path.hasPrefix(MediaCookies.mediaPrefix) {
            return await media.handle(request, signable)
        }
        if path == "/_local" || path.hasPrefix("/_local/") {
            return await pages.handle(path: path, signable: signable)
        }
        let pool = "/" + configuration.userPoolId + "/.well-known/"
        if path.hasPrefix(pool), signable.method == "GET" || signable.method == "HEAD" {
            switch path.dropFirst(pool.count) {
            case "jwks.json":
                return Reply.json(200, (try? cognito.key.jwks()) ?? [:], headers: [("Cache-Control", "max-age=300")])
            case "openid-configuration":
                let issuer = cognito.settings.issuer
                return Reply.json(200, ["issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json",
                                        "id_token_signing_alg_values_supported": ["RS256"],
                                        "subject_types_supported": ["public"], "response_types_supported": ["code", "token"]])
            default: break
            }
        }
        return await s3.handle(request, signable: signable)
    }

    private func cognitoCall(_ request: Request, target: String, signable: SignableRequest) async -> Response {
        let prefix = "AWSCognitoIdentityProviderService."
        let requestId = UUID().uuidString.lowercased()
        func reply(_ status: Int, _ body: [String: Any]) -> Response {
            var headers = [("x-amzn-RequestId", requestId)]
            if let type = body["__type"] as? String, status >= 400 { headers.append(("x-amzn-ErrorType", type)) }
            return Reply.json(status, body, type: "application/x-amz-json-1.1", headers: headers)
        }
        guard target.hasPrefix(prefix) else {
            return reply(400, ["__type": "UnknownOperationException", "message": "Unknown target \(target)."])
        }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 1 << 20),
              let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            return reply(400, ["__type": "SerializationException", "message": "The request body is not a JSON object."])
        }
        // AdminCreateUser is SigV4-signed over the body: the service checks the signature against these bytes.
        let (status, body) = await cognito.handle(operation: String(target.dropFirst(prefix.count)), body: object,
                                                  bodyHash: hexSHA256(buffer.readableBytesView), signable: signable)
        return reply(status, body)
    }
}
