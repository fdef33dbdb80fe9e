import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// The Lambda Runtime API (version 2018-06-01) at `AWS_LAMBDA_RUNTIME_API`: the next event, and
/// what became of it.
struct RuntimeAPI: Sendable {
    let http: HTTPClient
    /// `http://host:port/2018-06-01/runtime`
    let base: String

    init(address: String, http: HTTPClient) {
        self.http = http
        base = "http://\(address)/2018-06-01/runtime"
    }

    /// The Runtime API answered with a status other than the one expected.
    struct Refusal: Error, CustomStringConvertible {
        var operation: String
        var status: UInt
        var body: String
        var description: String { "\(operation): the Runtime API answered HTTP \(status)\(body.isEmpty ? "" : ": \(body)")" }
    }

    /// Waits, as long as it takes, for the next event (Lambda freezes the process meanwhile).
    func next() async throws -> (event: [UInt8], context: LambdaContext) {
        let response = try await http.execute(HTTPClientRequest(url: base + "/invocation/next"), deadline: .distantFuture)
        let body = Array(buffer: try await response.body.collect(upTo: 32 << 20))
        guard response.status == .ok else {
            throw Refusal(operation: "GET next", status: response.status.code, body: String(decoding: body.prefix(500), as: UTF8.self))
        }
        let headers = response.headers
        guard let requestId = headers.first(name: "Lambda-Runtime-Aws-Request-Id"), !requestId.isEmpty else {
            throw Refusal(operation: "GET next", status: response.status.code, body: "no Lambda-Runtime-Aws-Request-Id header")
        }
        // Lambda always sends the deadline; without one, allow Lambda's longest timeout, 15 minutes.
        let deadline = headers.first(name: "Lambda-Runtime-Deadline-Ms").flatMap { Int64($0) }
            ?? LambdaContext.nowMilliseconds() + 900_000
        let context = LambdaContext(requestId: requestId, deadlineMilliseconds: deadline,
                                    invokedFunctionArn: headers.first(name: "Lambda-Runtime-Invoked-Function-Arn") ?? "",
                                    traceId: headers.first(name: "Lambda-Runtime-Trace-Id"))
        return (body, context)
    }

    /// Hands the handler's response to Lambda.
    func respond(requestId: String, body: [UInt8]) async throws {
        try await post("/invocation/\(requestId)/response", body: body, errorType: nil,
                       operation: "POST response for \(requestId)")
    }

    /// Reports that the invocation failed.
    func fail(requestId: String, report: ErrorReport) async throws {
        try await post("/invocation/\(requestId)/error", body: report.json, errorType: report.errorType,
                       operation: "POST error for \(requestId)")
    }

    /// Reports that the function could not start; Lambda then ends the process.
    func failInit(report: ErrorReport) async throws {
        try await post("/init/error", body: report.json, errorType: report.errorType, operation: "POST init error")
    }

    private func post(_ path: String, body: [UInt8], errorType: String?, operation: String) async throws {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: body))
        if let errorType {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Lambda-Runtime-Function-Error-Type", value: errorType)
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let answer = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .accepted || response.status == .ok else {
            throw Refusal(operation: operation, status: response.status.code, body: String(decoding: answer.prefix(500), as: UTF8.self))
        }
    }
}
