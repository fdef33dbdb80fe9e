import Foundation
import SigV4
import Testing
@testable import LocalCloud

/// The user pool's rules that need a clock: the end-to-end tests (boto3, pycognito) cover the
/// protocol; here a pool with a one-second session lifetime shows sessions expire.
@Suite("Cognito sessions")
struct CognitoServiceTests {
    /// A pool in a new folder, its settings as `configure` leaves them.
    static func pool(challengeLifetime: TimeInterval = 180,
                     configure: (inout CognitoService.Settings) -> Void = { _ in }) throws -> (CognitoService, CloudDatabase, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
        var settings = CognitoService.Settings(userPoolId: "us-east-1_LocalPool", clientId: "client", region: "us-east-1",
                                               issuer: "http://127.0.0.1:1/us-east-1_LocalPool",
                                               adminCredentials: Credentials(accessKeyId: "AK", secretAccessKey: "SK"))
        settings.challengeLifetime = challengeLifetime
        configure(&settings)
        return (CognitoService(settings: settings, database: database, key: try TokenKey.generate()), database, folder)
    }

    static let request = SignableRequest(method: "POST", path: "/")

    func call(_ pool: CognitoService, _ operation: String, _ body: [String: Any]) async -> (Int, [String: Any]) {
        await pool.handle(operation: operation, body: body, bodyHash: Signer.emptyPayloadHash, signable: Self.request)
    }

    @Test("an MFA_SETUP session older than its lifetime is refused as expired")
    func sessionExpires() async throws {
        let (pool, database, folder) = try Self.pool(challengeLifetime: 1)
        defer { try? FileManager.default.removeItem(at: folder) }
        let email = "expiry@example.com"
        let password = "Correct-Horse-9"
        #expect(await call(pool, "SignUp", ["ClientId": "client", "Username": email, "Password": password]).0 == 200)
        let code = try await database.read { db in
            try String.fetchOne(db, sql: "SELECT code FROM mailbox WHERE recipient = ? AND kind = 'confirmation'", arguments: [email])
        }
        #expect(await call(pool, "ConfirmSignUp", ["ClientId": "client", "Username": email, "ConfirmationCode": code ?? ""]).0 == 200)
        let (status, started) = await call(pool, "InitiateAuth", ["ClientId": "client", "AuthFlow": "USER_PASSWORD_AUTH",
                                                                  "AuthParameters": ["USERNAME": email, "PASSWORD": password]])
        #expect(status == 200)
        #expect(started["ChallengeName"] as? String == "MFA_SETUP")
        let session = try #require(started["Session"] as? String)
        try await Task.sleep(for: .milliseconds(1200))
        let (expiredStatus, expired) = await call(pool, "AssociateSoftwareToken", ["Session": session])
        #expect(expiredStatus == 400)
        #expect(expired["__type"] as? String == "NotAuthorizedException")
        #expect(expired["message"] as? String == "Invalid session for the user, session is expired.")
    }

    @Test("unknown client ids and unknown operations get Cognito's error types")
    func errors() async throws {
        let (pool, _, folder) = try Self.pool(challengeLifetime: 180)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (status, body) = await call(pool, "SignUp", ["ClientId": "other", "Username": "a@b.c", "Password": "x"])
        #expect(status == 400 && body["__type"] as? String == "ResourceNotFoundException")
        let (_, unknown) = await call(pool, "DeleteUserPool", [:])
        #expect(unknown["__type"] as? String == "UnknownOperationException")
        let (_, weak) = await call(pool, "SignUp", ["ClientId": "client", "Username": "a@b.c", "Password": "short"])
        #expect(weak["__type"] as? String == "InvalidPasswordException")
    }
}
