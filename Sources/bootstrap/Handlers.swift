import AsyncHTTPClient
import AWSClient
import Foundation
import LambdaRuntime
import SigV4

/// The video service's Lambda functions, chosen by `_HANDLER`:
/// - `video`: the video API behind API Gateway (HTTP API, payload format 2.0);
/// - `trigger`: starts a conversion for each upload S3 announces (through SNS and SQS);
/// - `complete`: records a conversion's end from MediaConvert's EventBridge event.
///
/// A placeholder with the start-up checks and the event handling the real handlers keep: an unknown
/// name or a missing variable fails the start with a message naming it; the video function refuses
/// events that are not HTTP API events, answers 404 for paths that are not API routes and, for
/// `GET /videos`, makes its one DynamoDB call.
enum Handlers {
    static let names = ["video", "trigger", "complete"]

    static func make(name: String, environment: [String: String]) async throws -> any LambdaHandler {
        switch name {
        case "video": try await VideoHandler(environment: environment)
        case "trigger", "complete": PendingHandler()
        default:
            throw SetupError(errorType: "Runtime.HandlerNotFound", description: """
                There is no handler '\(name)': set the function's handler to one of \
                \(names.map { "'\($0)'" }.joined(separator: ", ")).
                """)
        }
    }
}

/// Why a function could not start.
struct SetupError: LambdaReportableError, CustomStringConvertible {
    var errorType: String
    var description: String

    /// The variables in `names` that `environment` lacks (or has empty), named in one error.
    static func requireVariables(_ names: [String], of function: String, in environment: [String: String]) throws {
        let missing = names.filter { environment[$0]?.isEmpty ?? true }
        guard !missing.isEmpty else { return }
        throw SetupError(errorType: "Config.MissingVariable", description: """
            The \(function) function needs the environment variable\(missing.count == 1 ? "" : "s") \
            \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not set; \
            the stack's template sets \(missing.count == 1 ? "it" : "them").
            """)
    }
}

/// An event the function was not made for.
struct EventError: LambdaReportableError, CustomStringConvertible {
    var errorType = "Handler.BadEvent"
    var description: String
}

/// The video API.
struct VideoHandler: LambdaHandler {
    let table: String
    let region: String
    let transport: AWSTransport
    let dynamoDB: Endpoint

    init(environment: [String: String]) async throws {
        try SetupError.requireVariables(["VIDEO_TABLE", "TEMP_BUCKET", "MAIN_BUCKET", "AWS_REGION"], of: "video", in: environment)
        table = environment["VIDEO_TABLE"]!
        region = environment["AWS_REGION"]!
        do {
            dynamoDB = try Endpoint.resolve(service: "dynamodb", region: region, variables: environment)
            let http = AWSTransport.makeHTTPClient(concurrency: 8)
            let provider = CredentialProvider(chain: CredentialChain(
                variables: environment, profile: nil, region: region,
                sts: try Endpoint.resolve(service: "sts", region: region, variables: environment), http: http))
            _ = try await provider.current()
            transport = AWSTransport(http: http) { try await provider.current().credentials.credentials }
        } catch {
            throw SetupError(errorType: "Config.Invalid", description: "The video function cannot start: \(error)")
        }
    }

    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        let request = try HTTPEvent(event)
        switch (request.method, request.path) {
        case ("GET", "/videos"):
            // The real handler queries the table for the caller's videos; this one only reaches it.
            let body = Array(#"{"TableName":\#(jsonString(table))}"#.utf8)
            _ = try await transport.send(AWSRequest(
                service: "dynamodb", region: region, endpoint: dynamoDB, method: "POST", path: "/",
                headers: [.init("Content-Type", "application/x-amz-json-1.0"),
                          .init("X-Amz-Target", "DynamoDB_20120810.DescribeTable")],
                body: .bytes(body), payloadHash: hexSHA256(body), operation: "DynamoDB DescribeTable \(table)"))
            return APIResponse.error(status: 501, code: "NotImplemented", message: "Listing videos is not built yet.").encoded
        default:
            return APIResponse.error(status: 404, code: "NotFound", message: "There is no such API endpoint.").encoded
        }
    }
}

/// The parts of an API Gateway HTTP API (payload format 2.0) event a route needs.
struct HTTPEvent {
    var method: String
    var path: String

    init(_ bytes: [UInt8]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let requestContext = object["requestContext"] as? [String: Any],
              let http = requestContext["http"] as? [String: Any],
              let method = http["method"] as? String
        else {
            throw EventError(description: "The video function takes API Gateway HTTP API events (payload format 2.0); this event has no requestContext.http.method.")
        }
        self.method = method
        path = object["rawPath"] as? String ?? http["path"] as? String ?? "/"
    }
}

/// An HTTP API answer: `{"statusCode", "headers", "body"}` with a JSON body.
struct APIResponse {
    var statusCode: Int
    /// The body, JSON text.
    var body: String

    static func error(status: Int, code: String, message: String) -> APIResponse {
        APIResponse(statusCode: status, body: #"{"error":{"code":\#(jsonString(code)),"message":\#(jsonString(message))}}"#)
    }

    var encoded: [UInt8] {
        Array(#"{"statusCode":\#(statusCode),"headers":{"content-type":"application/json"},"body":\#(jsonString(body))}"#.utf8)
    }
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The `trigger` and `complete` functions, until they are written: they accept every event.
struct PendingHandler: LambdaHandler {
    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] { Array("{}".utf8) }
}
