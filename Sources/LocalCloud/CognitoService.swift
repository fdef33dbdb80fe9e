import BigInt
import Crypto
import Foundation
import VideoService
import SigV4

/// Cognito's error answer: `{"__type": ..., "message": ...}` with HTTP 400 (500 for our own faults).
struct CognitoError: Error, Sendable {
    var type: String
    var message: String
    var status = 400

    static func notAuthorized(_ message: String = "Incorrect username or password.") -> CognitoError {
        .init(type: "NotAuthorizedException", message: message)
    }
    static func invalidParameter(_ message: String) -> CognitoError { .init(type: "InvalidParameterException", message: message) }
    static let expiredSession = notAuthorized("Invalid session for the user, session is expired.")
    static let userNotFound = CognitoError(type: "UserNotFoundException", message: "User does not exist.")
    static let codeMismatch = CognitoError(type: "CodeMismatchException", message: "Invalid verification code provided, please try again.")
    static let attemptsExceeded = CognitoError(type: "LimitExceededException", message: "Attempt limit exceeded, please try after some time.")
}

/// A user pool: the JSON operations the app and AWS's own clients use, with SRP-6a, TOTP and
/// RS256 tokens. Every state change is one SQLite transaction.
final class CognitoService: Sendable {
    struct Settings: Sendable {
        var userPoolId: String
        var clientId: String
        var region: String
        var issuer: String
        var adminCredentials: Credentials
        var challengeLifetime: TimeInterval = 180
        /// Access and ID tokens: 15 minutes, as production's app client.
        var tokenLifetime: TimeInterval = 900
        /// A sign-in's refresh tokens, rotated ones included, end a day after it.
        var refreshLifetime: TimeInterval = 86400
        /// How long a refresh token still works after GetTokensFromRefreshToken replaced it (a
        /// retry whose answer was lost), as production's RetryGracePeriodSeconds.
        var refreshGrace: TimeInterval = 10
        var timestampWindow: TimeInterval = 300
        var lockAfterFailures = 5
        /// Wrong answers a user may give to codes of one purpose, or to TOTP challenges, per
        /// `guessWindow` (a resend or a new sign-in does not start again); the last spends the code
        /// or the session.
        var answerAttempts = 5
        var guessWindow: TimeInterval = 900
        /// False: `SignUp` is refused, as with AdminCreateUserConfig.AllowAdminCreateUserOnly.
        var selfSignUp = true
    }

    let settings: Settings
    let database: CloudDatabase
    let key: TokenKey
    let poolName: String
    var wrongAnswers: WrongAnswers { WrongAnswers(limit: settings.answerAttempts, window: settings.guessWindow) }

    init(settings: Settings, database: CloudDatabase, key: TokenKey) {
        self.settings = settings
        self.database = database
        self.key = key
        poolName = SRP.poolName(settings.userPoolId)
    }

    // MARK: Dispatch

    func handle(operation: String, body: [String: Any], bodyHash: String, signable: SignableRequest) async -> (Int, [String: Any]) {
        do {
            let result: [String: Any]
            switch operation {
            case "SignUp": result = try await signUp(body)
            case "ConfirmSignUp": result = try await confirmSignUp(body)
            case "ResendConfirmationCode": result = try await resendConfirmationCode(body)
            case "InitiateAuth": result = try await initiateAuth(body)
            case "RespondToAuthChallenge": result = try await respondToAuthChallenge(body)
            case "AssociateSoftwareToken": result = try await associateSoftwareToken(body)
            case "VerifySoftwareToken": result = try await verifySoftwareToken(body)
            case "SetUserMFAPreference": result = try await setUserMFAPreference(body)
            case "ForgotPassword": result = try await forgotPassword(body)
            case "ConfirmForgotPassword": result = try await confirmForgotPassword(body)
            case "GetUser": result = try await getUser(body)
            case "GlobalSignOut": result = try await globalSignOut(body)
            case "RevokeToken": result = try await revokeToken(body)
            case "GetTokensFromRefreshToken": result = try await getTokensFromRefreshToken(body)
            case "AdminCreateUser": result = try await adminCreateUser(body, bodyHash: bodyHash, signable: signable)
            default:
                throw CognitoError(type: "UnknownOperationException", message: "The local cloud does not implement \(operation).")
            }
            return (200, result)
        } catch let error as CognitoError {
            return (error.status, ["__type": error.type, "message": error.message])
        } catch {
            return (500, ["__type": "InternalErrorException", "message": "Something went wrong in the local cloud: \(error)"])
        }
    }

    // MARK: Parameters

    func string(_ body: [String: Any], _ name: String) throws -> String {
        guard let value = body[name] as? String, !value.isEmpty else {
            throw CognitoError.invalidParameter("1 validation error detected: Value at '\(name.prefix(1).lowercased() + name.dropFirst())' failed to satisfy constraint: Member must not be null")
        }
        return value
    }

    func checkClient(_ body: [String: Any]) throws {
        let clientId = try string(body, "ClientId")
        guard clientId == settings.clientId else {
            throw CognitoError(type: "ResourceNotFoundException", message: "User pool client \(clientId) does not exist.")
        }
    }

    static func username(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces).lowercased() }

    // MARK: Users

    struct User: Sendable {
        var sub: String
        var username: String
        var email: String
        var emailVerified: Bool
        var salt: String
        var verifier: String
        var status: String
        var totpSecret: String?
        var pendingTotpSecret: String?
        var lastTotpCounter: Int64
        var failedAttempts: Int
        var lockedUntil: Double

        init(_ row: Row) {
            sub = row["sub"]; username = row["username"]; email = row["email"]; emailVerified = row["emailVerified"]
            salt = row["salt"]; verifier = row["verifier"]; status = row["status"]; totpSecret = row["totpSecret"]
            pendingTotpSecret = row["pendingTotpSecret"]; lastTotpCounter = row["lastTotpCounter"]
            failedAttempts = row["failedAttempts"]; lockedUntil = row["lockedUntil"]
        }
    }

    func user(_ username: String) async throws -> User? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [username]).map(User.init)
        }
    }

    func existingUser(_ username: String) async throws -> User {
        guard let user = try await user(Self.username(username)) else { throw CognitoError.userNotFound }
        return user
    }

    func credentials(username: String, password: String) -> (salt: String, verifier: String) {
        let salt = BigUInt(Data(randomBytes(16)))
        let verifier = SRP.verifier(poolName: poolName, userId: username, password: password, salt: salt)
        return (String(salt, radix: 16), String(verifier, radix: 16))
    }

    func passwordMatches(_ user: User, _ password: String) -> Bool {
        guard let salt = BigUInt(user.salt, radix: 16) else { return false }
        let candidate = SRP.verifier(poolName: poolName, userId: user.username, password: password, salt: salt)
        return SRP.constantTimeEqual(Array(String(candidate, radix: 16).utf8), Array(user.verifier.utf8))
    }

    func checkPolicy(_ password: String) throws {
        if let violation = PasswordPolicy.cognitoDefault.violation(password) {
            throw CognitoError(type: "InvalidPasswordException", message: violation)
        }
    }

    static func newSub() -> String { UUID().uuidString.lowercased() }

    static func sixDigits() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
    }

    static func masked(_ email: String) -> String {
        let parts = email.split(separator: "@", maxSplits: 1)
        guard parts.count == 2 else { return "***" }
        return "\(parts[0].prefix(1))***@\(parts[1].prefix(1))***"
    }

    func delivery(_ email: String) -> [String: Any] {
        ["Destination": Self.masked(email), "DeliveryMedium": "EMAIL", "AttributeName": "email"]
    }

    /// Stores a fresh code for `purpose` and drops a message with it in the mailbox.
    func sendCode(_ db: Database, to user: (username: String, email: String), purpose: String, lifetime: TimeInterval) throws {
        let code = Self.sixDigits()
        let now = Date().timeIntervalSince1970
        try db.execute(sql: "INSERT OR REPLACE INTO codes (username, purpose, code, expiresAt) VALUES (?, ?, ?, ?)",
                       arguments: [user.username, purpose, code, now + lifetime])
        let subject = purpose == "confirmation" ? "Your SStech Video verification code" : "Your SStech Video password reset code"
        let body = purpose == "confirmation"
            ? "Your verification code is \(code). It is valid for 24 hours."
            : "Your password reset code is \(code). It is valid for 1 hour. If you did not ask to reset your password, ignore this message."
        try db.execute(sql: "INSERT INTO mailbox (recipient, subject, body, code, kind, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [user.email, subject, body, code, purpose, now])
    }

    /// Checks `code` against the live code for `purpose`, in one transaction with the user's count
    /// of wrong answers (`WrongAnswers`): a wrong one is counted (the call fails, the count stays),
    /// and the last allowed spends the code; while none are left, every answer is refused.
    func checkCode(username: String, purpose: String, code: String) async throws {
        enum Outcome { case matches, mismatch, expired, spent }
        let now = Date().timeIntervalSince1970
        let outcome = try await database.write { [wrongAnswers] db -> Outcome in
            if try wrongAnswers.exhausted(db, username: username, kind: purpose, now: now) { return .spent }
            guard let row = try Row.fetchOne(db, sql: "SELECT code, expiresAt FROM codes WHERE username = ? AND purpose = ?",
                                             arguments: [username, purpose]) else {
                return try wrongAnswers.count(db, username: username, kind: purpose, now: now) ? .spent : .mismatch
            }
            guard (row["expiresAt"] as Double) > now else { return .expired }
            if SRP.constantTimeEqual(Array((row["code"] as String).utf8), Array(code.utf8)) {
                try wrongAnswers.clear(db, username: username, kind: purpose)
                return .matches
            }
            if try wrongAnswers.count(db, username: username, kind: purpose, now: now) {
                try db.execute(sql: "DELETE FROM codes WHERE username = ? AND purpose = ?", arguments: [username, purpose])
                return .spent
            }
            return .mismatch
        }
        switch outcome {
        case .matches: return
        case .mismatch: throw CognitoError.codeMismatch
        case .expired: throw CognitoError(type: "ExpiredCodeException", message: "Invalid code provided, please request a code again.")
        case .spent: throw CognitoError.attemptsExceeded
        }
    }

    /// Spends a code `checkCode` accepted, in the caller's transaction; fails if another request
    /// spent it meanwhile.
    static func useCode(_ db: Database, username: String, purpose: String, code: String) throws {
        try db.execute(sql: "DELETE FROM codes WHERE username = ? AND purpose = ? AND code = ?", arguments: [username, purpose, code])
        guard db.changesCount == 1 else { throw CognitoError.codeMismatch }
    }

    static func email(from attributes: Any?) -> (email: String?, verified: Bool) {
        var email: String?
        var verified = false
        for attribute in attributes as? [[String: Any]] ?? [] {
            switch attribute["Name"] as? String {
            case "email": email = attribute["Value"] as? String
            case "email_verified": verified = (attribute["Value"] as? String)?.lowercased() == "true"
            default: break
            }
        }
        return (email, verified)
    }

    static func validEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return email.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !email.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } ?? false })
    }
}
