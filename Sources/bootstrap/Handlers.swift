#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LambdaRuntime
import VideoFunctions

/// The video service's Lambda functions, chosen by `_HANDLER`:
/// - `video`: the video API behind API Gateway (HTTP API, payload format 2.0);
/// - `trigger`: starts a conversion for each upload S3 announces (through SNS and SQS);
/// - `complete`: records a conversion's end from MediaConvert's EventBridge event, and sweeps the
///   videos whose end event was lost on the stack's schedule;
/// - `signout`: the user pool's post-confirmation trigger, signing a user out everywhere after a
///   password reset.
/// An unknown name or a missing variable fails the start with a message naming it.
enum Handlers {
    static let names = ["video", "trigger", "complete", "signout"]
    /// What each handler needs besides the tables and buckets.
    static let variables = ["video": ["MEDIA_KEY_PAIR_ID", "MEDIA_KEY_SECRET", "MEDIA_ORIGIN"], "trigger": ["MEDIACONVERT_ROLE_ARN"]]

    static func make(name: String, environment: [String: String]) async throws -> any LambdaHandler {
        guard names.contains(name) else {
            throw SetupError(errorType: "Runtime.HandlerNotFound", description: """
                There is no handler '\(name)': set the function's handler to one of \
                \(names.map { "'\($0)'" }.joined(separator: ", ")).
                """)
        }
        let settings: FunctionSettings
        let aws: AWSServices
        do {
            settings = try FunctionSettings(function: name, environment: environment,
                                            needs: Self.variables[name] ?? [])
            aws = try await settings.services()
        } catch let error as ConfigurationError {
            throw SetupError(errorType: error.missing.isEmpty ? "Config.Invalid" : "Config.MissingVariable", description: error.description)
        }
        // Written at once, not buffered: a killed function loses no line.
        let log: @Sendable (String) -> Void = { LambdaRuntime.writeLine($0) }
        switch name {
        case "video": return Function(handle: VideoFunction(settings: settings, aws: aws, log: log).handle)
        case "trigger": return Function(handle: TriggerFunction(settings: settings, aws: aws, log: log).handle)
        case "signout":
            do {
                return Function(handle: try SignOutFunction(settings: settings, aws: aws, log: log).handle)
            } catch let error as ConfigurationError {
                throw SetupError(errorType: "Config.Invalid", description: error.description)
            }
        default:
            do {
                return Function(handle: try CompletionFunction(settings: settings, aws: aws, log: log).handle)
            } catch let error as ConfigurationError {
                throw SetupError(errorType: "Config.Invalid", description: error.description)
            }
        }
    }
}

/// One of the functions as the runtime calls it; an event of the wrong kind is reported as such.
struct Function: LambdaHandler {
    let handle: @Sendable ([UInt8]) async throws -> [UInt8]

    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        do {
            return try await handle(event)
        } catch let error as VideoFunctions.EventError {
            throw BadEvent(description: error.description)
        }
    }
}

/// Why a function could not start.
struct SetupError: LambdaReportableError, CustomStringConvertible {
    var errorType: String
    var description: String
}

/// An event the function was not made for.
struct BadEvent: LambdaReportableError, CustomStringConvertible {
    var errorType: String { "Handler.BadEvent" }
    var description: String
}
