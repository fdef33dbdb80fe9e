import Foundation

/// An account made by `LocalCloud.invite`: who, and the temporary password the mailbox holds.
public struct LocalInvitation: Sendable {
    public var username: String
    public var temporaryPassword: String
}

extension LocalCloud {
    /// Makes an account for `email` in the data folder's user pool as AdminCreateUser does
    /// (FORCE_CHANGE_PASSWORD, the e-mail verified) and mails its temporary password to the
    /// mailbox. It writes the data folder's SQLite file, so it works whether or not the cloud is
    /// running: a running one sees the account at once.
    public static func invite(email: String, configuration: LocalCloudConfiguration) async throws -> LocalInvitation {
        let folder = configuration.dataDirectory
        let state = try DataFolder(folder)
        let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
        let cognito = CognitoService(settings: .init(userPoolId: configuration.userPoolId, clientId: configuration.clientId,
                                                     region: configuration.region, issuer: "",
                                                     adminCredentials: state.credentials),
                                     database: database, key: state.tokenKey)
        let password = CognitoService.temporaryPassword()
        do {
            let answer = try await cognito.createUser(username: email, email: email, verified: true,
                                                      temporaryPassword: password, mail: true)
            let username = ((answer["User"] as? [String: Any])?["Username"] as? String) ?? email
            return LocalInvitation(username: username, temporaryPassword: password)
        } catch let error as CognitoError {
            let reason = error.type == "UsernameExistsException"
                ? "an account with this e-mail already exists" : error.message
            throw LocalCloudError.invitation(email, reason)
        }
    }
}
