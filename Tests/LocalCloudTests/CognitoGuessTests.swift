import Foundation
import SigV4
import Testing
import VideoService
@testable import LocalCloud

/// Guessing a six-digit code: the wrong answers are the user's, counted over a window, so neither a
/// resent code nor a new sign-in brings a fresh set of guesses.
@Suite("Cognito wrong answers per user")
struct CognitoGuessTests {
    static let password = "Correct-Horse-9"

    static func pool() throws -> (CognitoService, CloudDatabase, URL) {
        try CognitoServiceTests.pool(challengeLifetime: 180)
    }

    func call(_ pool: CognitoService, _ operation: String, _ body: [String: Any]) async -> (Int, [String: Any]) {
        await pool.handle(operation: operation, body: body, bodyHash: Signer.emptyPayloadHash, signable: CognitoServiceTests.request)
    }

    func latestCode(_ database: CloudDatabase, _ email: String, _ kind: String) async throws -> String {
        let code = try await database.read { db in
            try String.fetchOne(db, sql: "SELECT code FROM mailbox WHERE recipient = ? AND kind = ? ORDER BY id DESC LIMIT 1",
                                arguments: [email, kind])
        }
        return try #require(code)
    }

    /// A six-digit code other than `code`.
    func wrong(_ code: String) -> String { code == "000000" ? "000001" : "000000" }

    func confirm(_ pool: CognitoService, _ email: String, _ code: String) async -> String? {
        let (status, body) = await call(pool, "ConfirmSignUp", ["ClientId": "client", "Username": email, "ConfirmationCode": code])
        return status == 200 ? nil : body["__type"] as? String
    }

    @Test("a resent confirmation code does not bring five new guesses")
    func resendKeepsTheCount() async throws {
        let (pool, database, folder) = try Self.pool()
        defer { try? FileManager.default.removeItem(at: folder) }
        let email = "resend@example.com"
        #expect(await call(pool, "SignUp", ["ClientId": "client", "Username": email, "Password": Self.password]).0 == 200)
        var code = try await latestCode(database, email, "confirmation")
        for _ in 0..<3 { #expect(await confirm(pool, email, wrong(code)) == "CodeMismatchException") }
        #expect(await call(pool, "ResendConfirmationCode", ["ClientId": "client", "Username": email]).0 == 200)
        code = try await latestCode(database, email, "confirmation")
        #expect(await confirm(pool, email, wrong(code)) == "CodeMismatchException")
        // The fifth wrong answer of this user, whichever code it was meant for.
        #expect(await confirm(pool, email, wrong(code)) == "LimitExceededException")
        #expect(await call(pool, "ResendConfirmationCode", ["ClientId": "client", "Username": email]).0 == 200)
        code = try await latestCode(database, email, "confirmation")
        // Within the window even the right code of a new message is refused.
        #expect(await confirm(pool, email, code) == "LimitExceededException")
    }

    @Test("a reset code resent gives no new guesses either")
    func resetResendKeepsTheCount() async throws {
        let (pool, database, folder) = try Self.pool()
        defer { try? FileManager.default.removeItem(at: folder) }
        let email = "reset@example.com"
        #expect(await call(pool, "SignUp", ["ClientId": "client", "Username": email, "Password": Self.password]).0 == 200)
        #expect(await confirm(pool, email, try await latestCode(database, email, "confirmation")) == nil)
        func reset(_ code: String) async -> String? {
            let (status, body) = await call(pool, "ConfirmForgotPassword", ["ClientId": "client", "Username": email,
                                                                           "ConfirmationCode": code, "Password": "Battery-Staple-7"])
            return status == 200 ? nil : body["__type"] as? String
        }
        for _ in 0..<5 {
            #expect(await call(pool, "ForgotPassword", ["ClientId": "client", "Username": email]).0 == 200)
            let code = try await latestCode(database, email, "reset")
            let answer = await reset(wrong(code))
            #expect(answer == "CodeMismatchException" || answer == "LimitExceededException")
        }
        #expect(await call(pool, "ForgotPassword", ["ClientId": "client", "Username": email]).0 == 200)
        #expect(await reset(try await latestCode(database, email, "reset")) == "LimitExceededException")
    }

    @Test("wrong TOTP codes count against the user across sign-ins")
    func totpCountsAcrossSessions() async throws {
        let (pool, database, folder) = try Self.pool()
        defer { try? FileManager.default.removeItem(at: folder) }
        let email = "totp@example.com"
        #expect(await call(pool, "SignUp", ["ClientId": "client", "Username": email, "Password": Self.password]).0 == 200)
        #expect(await confirm(pool, email, try await latestCode(database, email, "confirmation")) == nil)
        func signIn() async throws -> [String: Any] {
            let (status, body) = await call(pool, "InitiateAuth", ["ClientId": "client", "AuthFlow": "USER_PASSWORD_AUTH",
                                                                   "AuthParameters": ["USERNAME": email, "PASSWORD": Self.password]])
            #expect(status == 200, "\(body)")
            return body
        }
        // MFA set-up with the current step's code.
        let setup = try await signIn()
        let setupStart = try #require(setup["Session"] as? String)
        let associated = await call(pool, "AssociateSoftwareToken", ["Session": setupStart]).1
        let secretText = try #require(associated["SecretCode"] as? String)
        let secret = try #require(Base32.decode(secretText))
        let totp = TOTP(secret: secret)
        let now = TOTP.counter(at: Int64(Date().timeIntervalSince1970))
        let setupSession = try #require(associated["Session"] as? String)
        let verified = await call(pool, "VerifySoftwareToken", ["Session": setupSession, "UserCode": totp.code(counter: now)]).1
        let verifiedSession = try #require(verified["Session"] as? String)
        let done = await call(pool, "RespondToAuthChallenge", ["ClientId": "client", "ChallengeName": "MFA_SETUP",
                                                               "Session": verifiedSession, "ChallengeResponses": ["USERNAME": email]])
        #expect(done.0 == 200, "\(done.1)")

        let window = Set((now - 1...now + 2).map { totp.code(counter: $0) })
        let wrongCode = (0..<1_000_000).lazy.map { String(format: "%06d", $0) }.first { !window.contains($0) }!
        func answer(_ session: String, _ code: String) async -> String? {
            let (status, body) = await call(pool, "RespondToAuthChallenge", ["ClientId": "client", "ChallengeName": "SOFTWARE_TOKEN_MFA",
                                                                             "Session": session,
                                                                             "ChallengeResponses": ["USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": code]])
            return status == 200 ? nil : body["__type"] as? String
        }
        let firstStart = try await signIn()
        let first = try #require(firstStart["Session"] as? String)
        for _ in 0..<3 { #expect(await answer(first, wrongCode) == "CodeMismatchException") }
        // A new sign-in, with the password, does not start the count again.
        let secondStart = try await signIn()
        let second = try #require(secondStart["Session"] as? String)
        #expect(await answer(second, wrongCode) == "CodeMismatchException")
        #expect(await answer(second, wrongCode) == "LimitExceededException")
        let thirdStart = try await signIn()
        let third = try #require(thirdStart["Session"] as? String)
        #expect(await answer(third, totp.code(counter: now + 1)) == "LimitExceededException")
    }
}
