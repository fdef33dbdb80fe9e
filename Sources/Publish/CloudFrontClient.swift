import AWSClient
import Foundation
import SigV4

/// CreateInvalidation and GetInvalidation on CloudFront's 2020-05-31 API.
public struct CloudFrontClient: Sendable {
    let transport: AWSTransport
    let endpoint: Endpoint

    public init(transport: AWSTransport, endpoint: Endpoint) {
        self.transport = transport
        self.endpoint = endpoint
    }

    /// Starts invalidating `paths` (already URL-encoded, `*` only at the end); returns the
    /// invalidation id. The same `callerReference` with the same paths returns the same invalidation,
    /// so a retried request never creates two.
    public func createInvalidation(distributionId: String, paths: [String], callerReference: String) async throws -> String {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">"#
            + "<Paths><Quantity>\(paths.count)</Quantity><Items>"
            + paths.map { "<Path>\(xmlEscape($0))</Path>" }.joined()
            + "</Items></Paths><CallerReference>\(xmlEscape(callerReference))</CallerReference></InvalidationBatch>"
        let body = Array(xml.utf8)
        let operation = "CreateInvalidation \(distributionId) (\(paths.count) paths)"
        let response = try await transport.send(AWSRequest(
            service: "cloudfront", region: "us-east-1", endpoint: endpoint, method: "POST",
            path: "/2020-05-31/distribution/\(distributionId)/invalidation",
            headers: [.init("Content-Type", "application/xml")],
            body: .bytes(body), payloadHash: hexSHA256(body), operation: operation,
            permission: Self.permission("cloudfront:CreateInvalidation", distributionId: distributionId)))
        guard let id = try XMLElement.parse(response.body).value("Id") else {
            throw AWSError(status: response.status, code: "MalformedResponse", message: "no invalidation Id in the answer",
                           requestId: nil, operation: operation)
        }
        return id
    }

    /// `InProgress` or `Completed`.
    public func invalidationStatus(distributionId: String, invalidationId: String) async throws -> String {
        let response = try await transport.send(AWSRequest(
            service: "cloudfront", region: "us-east-1", endpoint: endpoint, method: "GET",
            path: "/2020-05-31/distribution/\(distributionId)/invalidation/\(invalidationId)",
            operation: "GetInvalidation \(distributionId)/\(invalidationId)",
            permission: Self.permission("cloudfront:GetInvalidation", distributionId: distributionId)))
        return try XMLElement.parse(response.body).value("Status") ?? "InProgress"
    }

    /// What a call on the distribution needs. By id: its ARN holds the account.
    static func permission(_ action: String, distributionId: String) -> Permission {
        Permission(action, on: "distribution \(distributionId)", policy: Permission.publishPolicy)
    }
}
