/// The key pair (and, for temporary credentials, the session token) a request is signed with.
public struct Credentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: String
    /// Present for temporary credentials (STS, containers, web identity); sent as `X-Amz-Security-Token`.
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

extension Credentials: CustomStringConvertible {
    /// Never prints the secret or the token, so credentials can be logged by mistake without harm.
    public var description: String { "Credentials(\(accessKeyId), secret: <redacted>)" }
}
