import Foundation
import SigV4
import Testing
import VideoService
@testable import LocalCloud

/// Refresh-token rotation, as production's app client has it: GetTokensFromRefreshToken answers
/// with a new refresh token, and the one sent works a grace period longer, then no more.
@Suite("Cognito refresh-token rotation")
struct CognitoRotationTests {
    func call(_ pool: CognitoService, _ operation: String, _ body: [String: Any]) async -> (Int, [String: Any]) {
        await pool.handle(operation: operation, body: body, bodyHash: Signer.emptyPayloadHash, signable: CognitoServiceTests.request)
    }

    /// A pool whose rotated tokens have a one-second grace, and a signed-in user's first refresh token.
    func signedIn() async throws -> (CognitoService, URL, String) {
        let (pool, database, folder) = try CognitoServiceTests.pool { $0.refreshGrace = 1 }
        let email = "rotate@example.com"
        let password = "Correct-Horse-9"
        _ = await call(pool, "SignUp", ["ClientId": "client", "Username": email, "Password": password])
        let code = try await database.read { db in
            try String.fetchOne(db, sql: "SELECT code FROM mailbox WHERE recipient = ?", arguments: [email])
        }
        _ = await call(pool, "ConfirmSignUp", ["ClientId": "client", "Username": email, "ConfirmationCode": code ?? ""])
        let started = await call(pool, "InitiateAuth", ["ClientId": "client", "AuthFlow": "USER_PASSWORD_AUTH",
                                                        "AuthParameters": ["USERNAME": email, "PASSWORD": password]]).1
        let session = try #require(started["Session"] as? String)
        let associated = await call(pool, "AssociateSoftwareToken", ["Session": session]).1
        let secretText = try #require(associated["SecretCode"] as? String)
        let secret = try #require(Base32.decode(secretText))
        let setupSession = try #require(associated["Session"] as? String)
        let step = TOTP.counter(at: Int64(Date().timeIntervalSince1970))
        let verified = await call(pool, "VerifySoftwareToken", ["Session": setupSession, "UserCode": TOTP(secret: secret).code(counter: step)]).1
        let verifiedSession = try #require(verified["Session"] as? String)
        let done = await call(pool, "RespondToAuthChallenge", ["ClientId": "client", "ChallengeName": "MFA_SETUP",
                                                               "Session": verifiedSession, "ChallengeResponses": ["USERNAME": email]]).1
        let result = try #require(done["AuthenticationResult"] as? [String: Any])
        #expect(result["ExpiresIn"] as? Int == 900, "access and ID tokens live 15 minutes")
        return (pool, folder, try #require(result["RefreshToken"] as? String))
    }

    func refresh(_ pool: CognitoService, _ token: String) async -> (refreshToken: String?, error: String?) {
        let (status, body) = await call(pool, "GetTokensFromRefreshToken", ["ClientId": "client", "RefreshToken": token])
        guard status == 200 else { return (nil, body["message"] as? String) }
        let result = body["AuthenticationResult"] as? [String: Any]
        #expect(result?["AccessToken"] is String && result?["IdToken"] is String)
        return (result?["RefreshToken"] as? String, nil)
    }

    @Test("a refresh gives a new refresh token; the old one works a grace period longer, then no more")
    func rotates() async throws {
        let (pool, folder, first) = try await signedIn()
        defer { try? FileManager.default.removeItem(at: folder) }
        let second = try #require(await refresh(pool, first).refreshToken)
        #expect(second != first)
        // A retry within the grace period (the first answer lost) still works.
        let retried = try #require(await refresh(pool, first).refreshToken)
        try await Task.sleep(for: .milliseconds(1200))
        #expect(await refresh(pool, first).error == "Invalid Refresh Token")
        let third = try #require(await refresh(pool, second).refreshToken)
        #expect(await refresh(pool, third).refreshToken != nil)
        #expect(await refresh(pool, retried).refreshToken != nil)
    }

    @Test("revoking a rotated refresh token revokes the ones it replaced, even in their grace period")
    func revokesTheSignIn() async throws {
        let (pool, folder, first) = try await signedIn()
        defer { try? FileManager.default.removeItem(at: folder) }
        let second = try #require(await refresh(pool, first).refreshToken)
        #expect(await call(pool, "RevokeToken", ["ClientId": "client", "Token": second]).0 == 200)
        #expect(await refresh(pool, first).error == "Refresh Token has been revoked")
        #expect(await refresh(pool, second).error == "Refresh Token has been revoked")
    }
}
