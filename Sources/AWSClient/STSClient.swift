import SigV4

/// The two STS calls credentials need: AssumeRole (signed with other credentials) and
/// AssumeRoleWithWebIdentity (authorised by the OIDC token itself, unsigned).
struct STSClient {
    let transport: AWSTransport
    let endpoint: Endpoint
    let region: String

    func assumeRole(roleARN: String, sessionName: String, externalId: String?, durationSeconds: Int?) async throws -> TemporaryCredentials {
        var form = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalId { form.append(("ExternalId", externalId)) }
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(form, signed: true, operation: "STS AssumeRole \(roleARN)")
    }

    func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String) async throws -> TemporaryCredentials {
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
        return try await call(form, signed: false, operation: "STS AssumeRoleWithWebIdentity \(roleARN)")
    }

    private func call(_ form: [(String, String)], signed: Bool, operation: String) async throws -> TemporaryCredentials {
        let response = try await transport.send(.query(service: "sts", region: region, endpoint: endpoint, parameters: form,
                                                       signed: signed, operation: operation))
        let root = try XMLElement.parse(response.body)
        guard let result = root.children.first(where: { $0.name.hasSuffix("Result") }),
              let credentials = result["Credentials"],
              let accessKeyId = credentials.value("AccessKeyId"), let secret = credentials.value("SecretAccessKey")
        else {
            throw AWSError(status: response.status, code: "MalformedResponse",
                           message: "STS answered without credentials", requestId: nil, operation: operation)
        }
        return TemporaryCredentials(
            credentials: Credentials(accessKeyId: accessKeyId, secretAccessKey: secret,
                                     sessionToken: credentials.value("SessionToken")),
            expiration: credentials.value("Expiration").flatMap { Timestamp(iso8601: $0) })
    }
}

/// Credentials that stop working at `expiration` (nil: long-term keys).
public struct TemporaryCredentials: Sendable {
    public var credentials: Credentials
    public var expiration: Timestamp?

    public init(credentials: Credentials, expiration: Timestamp?) {
        self.credentials = credentials
        self.expiration = expiration
    }
}
