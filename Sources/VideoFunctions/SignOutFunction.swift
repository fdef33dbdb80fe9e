#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import VideoService

/// The user pool's post-confirmation trigger: after a password reset (ConfirmForgotPassword) the
/// user is signed out everywhere (AdminUserGlobalSignOut), so whoever knew the old password loses
/// the sessions it opened. Cognito waits for its event back, unchanged; a sign-up's confirmation
/// is answered the same and changes nothing.
public struct SignOutFunction: Sendable {
    let aws: AWSServices
    let cognito: Endpoint
    let log: @Sendable (String) -> Void

    /// The trigger source of a confirmed password reset.
    static let passwordReset = "PostConfirmation_ConfirmForgotPassword"

    public init(settings: FunctionSettings, aws: AWSServices, log: @escaping @Sendable (String) -> Void) throws {
        self.aws = aws
        self.log = log
        do {
            // The SDKs' variable for it is AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (its service id).
            cognito = try Endpoint.custom(service: "cognito identity provider", variables: settings.variables)
                ?? Endpoint(scheme: "https", host: "cognito-idp.\(settings.region).amazonaws.com")
        } catch {
            throw ConfigurationError("The function cannot reach Cognito: \(error)")
        }
    }

    public func handle(_ event: [UInt8]) async throws -> [UInt8] {
        guard let parsed = JSONValue.parse(event), parsed.objectValue != nil else {
            throw EventError("the event is not a JSON object (a Cognito post-confirmation trigger's)")
        }
        guard parsed["triggerSource"]?.stringValue == Self.passwordReset else { return event }
        guard let pool = parsed["userPoolId"]?.stringValue, !pool.isEmpty,
              let user = parsed["userName"]?.stringValue, !user.isEmpty else {
            throw EventError("the password reset's event names no userPoolId and userName")
        }
        // A refusal fails the invocation (and is logged); Cognito answers the ConfirmForgotPassword
        // with the trigger's error.
        _ = try await aws.json(service: "cognito-idp", endpoint: cognito,
                               target: "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut",
                               contentType: "application/x-amz-json-1.1",
                               body: ["UserPoolId": .string(pool), "Username": .string(user)],
                               operation: "Cognito AdminUserGlobalSignOut \(pool)")
        log("\(user): signed out everywhere after a password reset")
        return event
    }
}
