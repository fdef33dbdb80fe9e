import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Hosts a handler in a Lambda custom runtime (`provided.al2023`): asks the Runtime API for events
/// one at a time, runs the handler on each within its deadline, and reports the outcome.
public enum LambdaRuntime {
    /// Runs the function until Lambda ends the process.
    ///
    /// Reads `AWS_LAMBDA_RUNTIME_API` (where the Runtime API is) and `_HANDLER` (which handler to make).
    /// If `makeHandler` throws, the error is reported as an init error and the process exits with 1.
    /// Each invocation gets until its deadline less `deadlineMargin`; a handler still running then is
    /// cancelled and the invocation reported as `Runtime.Timeout`, and the next event is served.
    /// One line per invocation goes to `log` (stdout by default).
    public static func run(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        deadlineMargin: Duration = .milliseconds(100),
        log: @escaping @Sendable (String) -> Void = LambdaRuntime.writeLine,
        makeHandler: @Sendable (_ name: String, _ environment: [String: String]) async throws -> any LambdaHandler
    ) async -> Never {
        guard let address = environment["AWS_LAMBDA_RUNTIME_API"], !address.isEmpty else {
            writeError("bootstrap: AWS_LAMBDA_RUNTIME_API is not set; this program runs inside AWS Lambda (or a stand-in of its Runtime API)")
            exit(1)
        }
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        let api = RuntimeAPI(address: address, http: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))

        let handler: any LambdaHandler
        do {
            guard let name = environment["_HANDLER"], !name.isEmpty else {
                throw RuntimeFailure(errorType: "Runtime.NoHandler",
                                     description: "_HANDLER is not set: set the function's handler to the name of the function to run")
            }
            handler = try await makeHandler(name, environment)
        } catch {
            let report = ErrorReport(error)
            writeError("init failed: \(report.errorType): \(report.errorMessage)")
            do { try await api.failInit(report: report) } catch { writeError("could not report the init error: \(error)") }
            exit(1)
        }

        while true {
            let event: [UInt8]
            let context: LambdaContext
            do {
                (event, context) = try await api.next()
            } catch {
                writeError("cannot get the next event from the Runtime API at \(address): \(error)")
                exit(1)
            }
            let started = ContinuousClock.now
            let allowed = context.deadlineMilliseconds - LambdaContext.nowMilliseconds()
            setTraceVariable(context.traceId)

            let outcome = await Invocation.run(handler, event: event, context: context, margin: deadlineMargin)
            var report: ErrorReport?
            do {
                switch outcome {
                case .response(let body):
                    do {
                        try await api.respond(requestId: context.requestId, body: body)
                    } catch let refusal as RuntimeAPI.Refusal where (400..<500).contains(refusal.status) {
                        // Too large (413) or otherwise refused: say so as the invocation's error.
                        report = ErrorReport(type: "Runtime.ResponseRejected",
                                             message: "Lambda refused the handler's \(body.count)-byte response (HTTP \(refusal.status): \(refusal.body))")
                    }
                case .failure(let error):
                    report = ErrorReport(error)
                case .timedOut:
                    report = ErrorReport(type: "Runtime.Timeout", message: """
                        The handler did not finish within the \(allowed) ms this invocation allowed; \
                        it was cancelled \(deadlineMargin.wholeMilliseconds) ms before the deadline so the error could be reported.
                        """)
                }
                if let report { try await api.fail(requestId: context.requestId, report: report) }
            } catch {
                writeError("cannot report the outcome of \(context.requestId) to the Runtime API at \(address): \(error)")
                exit(1)
            }
            log(logLine(requestId: context.requestId, report: report, timedOut: outcome.isTimeout,
                        duration: ContinuousClock.now - started))
        }
    }

    /// `request=<id> outcome=success|error|timeout duration_ms=<n> [type=<errorType> message="…"]`
    static func logLine(requestId: String, report: ErrorReport?, timedOut: Bool, duration: Duration) -> String {
        var line = "request=\(requestId) outcome=\(report == nil ? "success" : timedOut ? "timeout" : "error") duration_ms=\(duration.wholeMilliseconds)"
        if let report {
            let message = report.errorMessage.replacing("\\", with: "\\\\")
                .replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
            line += " type=\(report.errorType) message=\"\(message)\""
        }
        return line
    }

    /// Writes one line to standard output, unbuffered, so Lambda's log capture sees it at once.
    public static func writeLine(_ line: String) {
        write(1, line + "\n")
    }

    static func writeError(_ line: String) {
        write(2, line + "\n")
    }

    /// All of `text` to the file descriptor, retrying short writes.
    private static func write(_ descriptor: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 { if errno == EINTR { continue } else { return } }
            bytes = bytes.dropFirst(written)
        }
    }

    /// X-Ray's SDKs read the current trace from `_X_AMZN_TRACE_ID`. Set between invocations, while
    /// no handler of this process is meant to be running.
    static func setTraceVariable(_ traceId: String?) {
        if let traceId { setenv("_X_AMZN_TRACE_ID", traceId, 1) } else { unsetenv("_X_AMZN_TRACE_ID") }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
