import Foundation
import Hummingbird
import NIOCore
import SigV4
import VideoService

/// The video API in the local cloud: its HTTP server hands requests to the shared `VideoService`
/// with the local user pool, the SQLite library and the local S3 store behind it.
struct LocalVideoHost: Sendable {
    static let tempBucket = "video-temp-conversion"
    static let mainBucket = "video-main"

    let service: VideoService
    let document: [UInt8]?

    init(cognito: CognitoService, store: ObjectStore, database: CloudDatabase, signer: Signer, s3Origin: String,
         mediaKey: MediaSigningKey, limits: UsageLimits, requestRate: RequestRate, document: [UInt8]?) {
        // Cookies for the origin the browser called (the dev server's, which forwards /api/ and
        // /media/ here), without `Secure`: the local origins are plain http.
        let library = LocalLibrary(database: database)
        service = VideoService(identity: LocalIdentity(cognito: cognito), library: library,
                               storage: LocalStorage(store: store, signer: signer, s3Origin: s3Origin),
                               media: MediaSettings(keys: FixedMediaKey(key: mediaKey), origin: nil, secure: false),
                               usage: UsagePolicy(defaults: limits, ledger: library),
                               rateLimit: RateLimit(rate: requestRate, store: library))
        self.document = document
    }

    func handle(_ request: Request, path: String, signable: SignableRequest) async -> Response {
        if path == "/openapi.yaml", let document {
            return Reply.bytes(200, document, type: "application/yaml; charset=utf-8")
        }
        var body: [UInt8] = []
        var tooLarge = false
        if ["POST", "PUT", "PATCH"].contains(signable.method) {
            var request = request
            do {
                body = Array(try await request.collectBody(upTo: VideoService.maximumBodyBytes).readableBytesView)
            } catch {
                tooLarge = true
            }
        }
        let call = VideoRequest(method: signable.method, path: path,
                                query: signable.query.map { ($0.name, $0.value) },
                                headers: signable.headers.map { ($0.name, $0.value) }, body: body, bodyTooLarge: tooLarge)
        let answer = await service.handle(call)
        let headers = answer.headers.filter { $0.key != "Content-Type" }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            + answer.cookies.map { ("Set-Cookie", $0) }
        if answer.body.isEmpty && answer.status == 204 { return Reply.empty(204, headers: headers) }
        return Reply.bytes(answer.status, answer.body, type: answer.headers["Content-Type"], headers: headers)
    }
}

/// The caller named by a bearer access token that the local user pool issued and has not revoked.
struct LocalIdentity: CallerIdentity {
    let cognito: CognitoService

    func caller(of request: VideoRequest) async throws -> Caller {
        let token = try bearerToken(request)
        do {
            let session = try await cognito.authenticatedSession(token)
            return Caller(sub: session.user.sub, tokenExpiry: session.expiry)
        } catch let error as CognitoError {
            throw error.message.contains("expired") ? APIFailure.expiredToken : APIFailure.invalidToken
        }
    }
}

/// The data folder's media key, made on first start.
struct FixedMediaKey: MediaKeySource {
    let key: MediaSigningKey
    func signingKey() async throws -> MediaSigningKey { key }
}

/// The local S3 store as the video service's buckets; URLs are presigned path-style on the local origin.
struct LocalStorage: VideoStorage {
    let store: ObjectStore
    let signer: Signer
    /// `http://127.0.0.1:PORT`, where presigned URLs point.
    let s3Origin: String

    var tempBucket: String { LocalVideoHost.tempBucket }
    var mainBucket: String { LocalVideoHost.mainBucket }

    func createMultipartUpload(key: String, contentType: String) async throws -> String {
        try await store.createUpload(bucket: tempBucket, key: key, contentType: contentType, metadata: [:], checksumAlgorithm: .sha256)
    }

    func listParts(key: String, uploadId: String) async throws -> [UploadedPart] {
        do {
            return try await store.parts(uploadId: uploadId).map {
                UploadedPart(partNumber: $0.0.partNumber, etag: $0.0.etag, size: $0.0.size, checksumSHA256: $0.0.checksumSHA256)
            }
        } catch let error as StoreError {
            throw StorageRefusal(code: error.code, message: error.message)
        }
    }

    func abortMultipartUpload(key: String, uploadId: String) async throws {
        try await store.abort(uploadId: uploadId, bucket: tempBucket, key: key)
    }

    func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String, checksum: ChecksumSHA256)]) async throws -> String? {
        do {
            return try await store.complete(uploadId: uploadId, bucket: tempBucket, key: key,
                                            parts: parts.map { .init(number: $0.number, etag: $0.etag, checksumSHA256: $0.checksum.description) })
                .checksumSHA256
        } catch let error as StoreError {
            throw StorageRefusal(code: error.code, message: error.message)
        }
    }

    func delete(bucket: String, key: String) async throws {
        _ = try await store.delete(bucket: bucket, key: key)
    }

    /// The video's whole folder: the local ladder's renditions depend on the source.
    func deleteConverted(sub: String, id: String) async throws {
        try await store.deleteAll(bucket: mainBucket, prefix: VideoRules.mainPrefix(sub: sub, id: id))
    }

    func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                 headers: [(name: String, value: String)], expiresIn: Int) -> String {
        signer.presignedURL(method: method, scheme: "http", host: s3Origin.replacingOccurrences(of: "http://", with: ""),
                            path: "/\(bucket)/\(key)", query: query.map { .init($0.name, $0.value) },
                            headers: headers.map { .init($0.name, $0.value) }, expiresIn: expiresIn)
    }
}
