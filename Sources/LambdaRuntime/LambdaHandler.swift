/// A Lambda function's code: turns one event into one response, both as the bytes Lambda passes
/// (JSON in practice). A thrown error is reported to Lambda as the invocation's error.
public protocol LambdaHandler: Sendable {
    /// Handles one invocation. Cancelled when the invocation's deadline is about to pass.
    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8]
}

/// An error that names its type in what Lambda reports (`errorType`, e.g. `Video.BadEvent`), and a
/// message a person understands. Other errors are reported with their Swift type's name and
/// their description.
public protocol LambdaReportableError: Error {
    /// A short, stable name callers can match on (`Runtime.Timeout`, `Config.MissingVariable`).
    var errorType: String { get }
    /// What went wrong and, where there is one, what to do about it.
    var errorMessage: String { get }
}

extension LambdaReportableError {
    public var errorMessage: String { String(describing: self) }
}
