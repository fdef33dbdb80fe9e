#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The error body the Runtime API takes for a failed invocation or a failed start:
/// `{"errorMessage", "errorType", "stackTrace": []}`, its type also sent as the
/// `Lambda-Runtime-Function-Error-Type` header.
struct ErrorReport: Codable, Sendable, Equatable {
    var errorMessage: String
    var errorType: String
    var stackTrace: [String] = []

    init(type: String, message: String) {
        errorType = type
        errorMessage = message
    }

    /// The report for an error a handler threw: its own type and message when it is a
    /// `LambdaReportableError`, otherwise its Swift type name and description.
    init(_ error: any Error) {
        if let reportable = error as? any LambdaReportableError {
            self.init(type: reportable.errorType, message: reportable.errorMessage)
        } else {
            self.init(type: String(reflecting: type(of: error)), message: String(describing: error))
        }
    }

    var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(self))) ?? Array(#"{"errorMessage":"","errorType":"Runtime.Unknown","stackTrace":[]}"#.utf8)
    }
}

/// A failure of the runtime itself rather than of a handler (no `_HANDLER`, a response Lambda refused).
struct RuntimeFailure: LambdaReportableError, CustomStringConvertible {
    var errorType: String
    var description: String
}
