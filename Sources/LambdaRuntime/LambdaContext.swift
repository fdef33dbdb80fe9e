#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What Lambda says about one invocation, from the headers of the Runtime API's `next` answer.
public struct LambdaContext: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`: quote it when looking for the invocation in the logs.
    public var requestId: String
    /// `Lambda-Runtime-Deadline-Ms`: when Lambda stops waiting, in milliseconds since 1970.
    public var deadlineMilliseconds: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`: the function, version or alias that was invoked.
    public var invokedFunctionArn: String
    /// `Lambda-Runtime-Trace-Id`: the X-Ray trace header, when tracing is on.
    public var traceId: String?

    public init(requestId: String, deadlineMilliseconds: Int64, invokedFunctionArn: String, traceId: String?) {
        self.requestId = requestId
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
    }

    /// When Lambda stops waiting for this invocation.
    public var deadline: Date { Date(timeIntervalSince1970: Double(deadlineMilliseconds) / 1000) }

    /// The time left before the deadline (negative once it has passed).
    public var remaining: Duration { .milliseconds(deadlineMilliseconds - Self.nowMilliseconds()) }

    /// The wall clock in milliseconds since 1970, the clock the deadline is given in.
    static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
