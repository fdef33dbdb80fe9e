#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SigV4

/// An error answer from an AWS API: the service's code and message, and the request id to quote
/// to AWS support.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var requestId: String?
    /// What was being done ("PUT s3://bucket/key").
    public var operation: String
    /// The permission the call needs, when its client knows it: a refusal's description names it.
    public var permission: Permission?

    public var description: String {
        var text = "\(operation): \(code) (HTTP \(status))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestId { text += " [request id \(requestId)]" }
        if isAccessDenied, let permission {
            text += "; the credentials need \(permission)" + (permission.policy.map { " (see \($0))" } ?? "")
        }
        return text
    }

    /// The service refused the call for want of a permission (S3, CloudFront and the Query APIs say
    /// `AccessDenied`, the JSON ones `AccessDeniedException`; S3 answers a HEAD with a bare 403).
    public var isAccessDenied: Bool { code == "AccessDenied" || code == "AccessDeniedException" }

    /// Parses S3's `<Error>`, the query/CloudFront `<ErrorResponse><Error>`, EC2's `<Errors><Error>`
    /// (moto answers IAM refusals so for every XML service) and the JSON protocols'
    /// `{"__type", "message"}` forms (DynamoDB, MediaConvert); falls back to the HTTP status when the
    /// body is empty (HEAD) or neither.
    public static func parse(status: Int, headers: [(String, String)], body: [UInt8], operation: String) -> AWSError {
        let headerRequestId = headers.first { ["x-amz-request-id", "x-amzn-requestid"].contains($0.0.lowercased()) }?.1
        if body.first == UInt8(ascii: "{"), let object = try? JSONDecoder().decode(JSONErrorBody.self, from: Data(body)) {
            // `x-amzn-ErrorType: Code:http://…` (REST-JSON) or `"__type": "com.amazonaws.dynamodb.v20120810#Code"`.
            let type = headers.first { $0.0.lowercased() == "x-amzn-errortype" }?.1 ?? object.__type ?? object.code ?? object.Code
            return AWSError(status: status, code: type.flatMap(errorCode(fromType:)) ?? "HTTP\(status)",
                            message: object.message ?? object.Message ?? "",
                            requestId: headerRequestId, operation: operation)
        }
        if let root = try? XMLElement.parse(body) {
            let error = root.name == "Error" ? root : (root["Error"] ?? root["Errors"]?["Error"] ?? root)
            return AWSError(status: status, code: error.value("Code") ?? "HTTP\(status)",
                            message: error.value("Message") ?? "",
                            requestId: error.value("RequestId") ?? root.value("RequestId") ?? headerRequestId,
                            operation: operation, serverTime: error.value("ServerTime"))
        }
        let code = switch status {
        case 301: "PermanentRedirect"
        case 403: "AccessDenied"
        case 404: "NotFound"
        case 503: "SlowDown"
        default: "HTTP\(status)"
        }
        return AWSError(status: status, code: code, message: "", requestId: headerRequestId, operation: operation)
    }

    /// The error body of the JSON protocols, in its spellings.
    private struct JSONErrorBody: Decodable {
        var __type: String?
        var code: String?
        var Code: String?
        var message: String?
        var Message: String?
    }

    /// The code in a JSON error type: `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`
    /// or `NotFoundException:http://internal.amazon.com/…` → the name alone.
    static func errorCode(fromType type: String) -> String? {
        let name = type.split(separator: "#").last.map(String.init) ?? type
        let code = name.split(separator: ":").first.map(String.init) ?? ""
        return code.isEmpty ? nil : code
    }

    /// S3 puts its clock in `RequestTimeTooSkewed` errors; the `Date` header says the same.
    var serverTime: String?

    public init(status: Int, code: String, message: String, requestId: String?, operation: String,
                serverTime: String? = nil, permission: Permission? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
        self.operation = operation
        self.serverTime = serverTime
        self.permission = permission
    }

    public static func == (lhs: AWSError, rhs: AWSError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.requestId == rhs.requestId && lhs.operation == rhs.operation && lhs.permission == rhs.permission
    }

    /// Worth trying again: the service is busy or failed, not the request.
    public var isRetryable: Bool {
        status >= 500 || status == 429
            || ["SlowDown", "RequestTimeout", "Throttling", "ThrottlingException", "InternalError",
                "ServiceUnavailable", "RequestLimitExceeded", "TooManyInvalidationsInProgress",
                "ProvisionedThroughputExceededException", "TooManyRequestsException"].contains(code)
    }

    /// The request was signed with a clock too far from the service's.
    public var isClockSkew: Bool {
        ["RequestTimeTooSkewed", "RequestExpired", "InvalidSignatureException"].contains(code) && status < 500
            && (code != "InvalidSignatureException" || message.contains("Signature expired"))
    }
}
