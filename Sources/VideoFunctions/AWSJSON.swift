#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import SigV4
import VideoService

/// The AWS services the functions call, reached through the publisher's transport (retries, clock
/// skew, SigV4) with the function's credentials.
public struct AWSServices: Sendable {
    public var transport: AWSTransport
    public var region: String
    public var credentials: Credentials
    /// S3 on the same transport, addressed as `S3.addressing` decides for the two buckets.
    public var s3: S3
    public var dynamoDB: Endpoint
    public var mediaConvert: Endpoint
    public var secretsManager: Endpoint

    public init(transport: AWSTransport, region: String, credentials: Credentials, s3: S3,
                dynamoDB: Endpoint, mediaConvert: Endpoint, secretsManager: Endpoint) {
        self.transport = transport
        self.region = region
        self.credentials = credentials
        self.s3 = s3
        self.dynamoDB = dynamoDB
        self.mediaConvert = mediaConvert
        self.secretsManager = secretsManager
    }

    /// A JSON-protocol call (DynamoDB's `X-Amz-Target` API, MediaConvert's REST API); the answer's
    /// JSON. A nil `body` sends none (MediaConvert's GET).
    func json(service: String, endpoint: Endpoint, method: String = "POST", path: String = "/", target: String? = nil,
              contentType: String, body: JSONValue?, operation: String) async throws -> JSONValue {
        let bytes = body?.bytes ?? []
        var headers: [SignableRequest.Header] = body == nil ? [] : [.init("Content-Type", contentType)]
        if let target { headers.append(.init("X-Amz-Target", target)) }
        let request = AWSRequest(service: service, region: region, endpoint: endpoint, method: method, path: path,
                                 headers: headers, body: .bytes(bytes), payloadHash: hexSHA256(bytes), operation: operation)
        let response = try await transport.send(request)
        guard !response.body.isEmpty else { return [:] }
        return JSONValue.parse(response.body) ?? [:]
    }
}
