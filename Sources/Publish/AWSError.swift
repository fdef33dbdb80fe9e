import Foundation
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

    public var description: String {
        var text = "\(operation): \(code) (HTTP \(status))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestId { text += " [request id \(requestId)]" }
        return text
    }

    /// Parses S3's `<Error>` and the query/CloudFront `<ErrorResponse><Error>` forms; falls back to
    /// the HTTP status when the body is empty (HEAD) or not XML.
    static func parse(status: Int, headers: [(String, String)], body: [UInt8], operation: String) -> AWSError {
        let headerRequestId = headers.first { ["x-amz-request-id", "x-amzn-requestid"].contains($0.0.lowercased()) }?.1
        if let root = try? XMLElement.parse(body) {
            let error = root.name == "Error" ? root : (root["Error"] ?? root)
            return AWSError(status: status, code: error.value("Code") ?? "HTTP\(status)",
                            message: error.value("Message") ?? "",
                            requestId: error.value("RequestId") ?? root.value("RequestId") ?? headerRequestId,
                            operation: operation, serverTime: error.value("ServerTime"))
        }
        // JSON protocols (DynamoDB, MediaConvert): `__type` or `x-amzn-ErrorType`, and `message`.
        if let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            let header = headers.first { $0.0.lowercased() == "x-amzn-errortype" }?.1
            let type = (json["__type"] as? String ?? json["code"] as? String ?? header ?? "HTTP\(status)")
            let code = String(type.split(separator: "#").last ?? "").split(separator: ":").first.map(String.init) ?? "HTTP\(status)"
            return AWSError(status: status, code: code, message: json["message"] as? String ?? json["Message"] as? String ?? "",
                            requestId: headerRequestId, operation: operation)
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

    /// S3 puts its clock in `RequestTimeTooSkewed` errors; the `Date` header says the same.
    var serverTime: String?

    init(status: Int, code: String, message: String, requestId: String?, operation: String, serverTime: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
        self.operation = operation
        self.serverTime = serverTime
    }

    public static func == (lhs: AWSError, rhs: AWSError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.requestId == rhs.requestId && lhs.operation == rhs.operation
    }

    /// Worth trying again: the service is busy or failed, not the request.
    var isRetryable: Bool {
        status >= 500 || status == 429
            || ["SlowDown", "RequestTimeout", "Throttling", "ThrottlingException", "InternalError",
                "ServiceUnavailable", "RequestLimitExceeded", "TooManyInvalidationsInProgress"].contains(code)
    }

    var isClockSkew: Bool {
        ["RequestTimeTooSkewed", "RequestExpired", "InvalidSignatureException"].contains(code) && status < 500
            && (code != "InvalidSignatureException" || message.contains("Signature expired"))
    }
}
