import BigInt
import Crypto
import Foundation
import VideoService
import GRDB
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
        var tokenLifetime: TimeInterval = 3600
        var refreshLifetime: TimeInterval = 30 * 86400
        var timestampWindow: TimeInterval = 300
        var lockAfterFailures = 5
        /// Wrong answers a confirmation or reset code, or an MFA session, takes before it is spent.
        var answerAttempts = 5
    }

    let settings: Settings
    let database: CloudDatabase
    let key: TokenKey
    let poolName: String

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

    private func string(_ body: [String: Any], _ name: String) throws -> String {
        guard let value = body[name] as? String, !value.isEmpty else {
            throw CognitoError.invalidParameter("1 validation error detected: Value at '\(name.prefix(1).lowercased() + name.dropFirst())' failed to satisfy constraint: Member must not be null")
        }
        return value
    }

    private func checkClient(_ body: [String: Any]) throws {
        let clientId = try string(body, "ClientId")
        guard clientId == settings.clientId else {
            throw CognitoError(type: "ResourceNotFoundException", message: "User pool client \(clientId) does not exist.")
        }
    }

    private static func username(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces).lowercased() }

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

    private func user(_ username: String) async throws -> User? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [username]).map(User.init)
        }
    }

    private func existingUser(_ username: String) async throws -> User {
        guard let user = try await user(Self.username(username)) else { throw CognitoError.userNotFound }
        return user
    }

    private func credentials(username: String, password: String) -> (salt: String, verifier: String) {
        let salt = BigUInt(Data(randomBytes(16)))
        let verifier = SRP.verifier(poolName: poolName, userId: username, password: password, salt: salt)
        return (String(salt, radix: 16), String(verifier, radix: 16))
    }

    private func passwordMatches(_ user: User, _ password: String) -> Bool {
        guard let salt = BigUInt(user.salt, radix: 16) else { return false }
        let candidate = SRP.verifier(poolName: poolName, userId: user.username, password: password, salt: salt)
        return SRP.constantTimeEqual(Array(String(candidate, radix: 16).utf8), Array(user.verifier.utf8))
    }

    private func checkPolicy(_ password: String) throws {
        if let violation = PasswordPolicy.cognitoDefault.violation(password) {
            throw CognitoError(type: "InvalidPasswordException", message: violation)
        }
    }

    private static func newSub() -> String { UUID().uuidString.lowercased() }

    private static func sixDigits() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
    }

    private static func masked(_ email: String) -> String {
        let parts = email.split(separator: "@", maxSplits: 1)
        guard parts.count == 2 else { return "***" }
        return "\(parts[0].prefix(1))***@\(parts[1].prefix(1))***"
    }

    private func delivery(_ email: String) -> [String: Any] {
        ["Destination": Self.masked(email), "DeliveryMedium": "EMAIL", "AttributeName": "email"]
    }

    /// Stores a fresh code for `purpose` and drops a message with it in the mailbox.
    private func sendCode(_ db: Database, to user: (username: String, email: String), purpose: String, lifetime: TimeInterval) throws {
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

    /// Checks `code` against the live code for `purpose`. A wrong one is counted in a transaction of
    /// its own (the call fails, the count stays); the last allowed wrong answer spends the code.
    private func checkCode(username: String, purpose: String, code: String) async throws {
        enum Outcome { case matches, mismatch, expired, spent }
        let now = Date().timeIntervalSince1970
        let outcome = try await database.write { [settings] db -> Outcome in
            guard let row = try Row.fetchOne(db, sql: "SELECT code, expiresAt, attempts FROM codes WHERE username = ? AND purpose = ?",
                                             arguments: [username, purpose]) else { return .mismatch }
            guard (row["expiresAt"] as Double) > now else { return .expired }
            if SRP.constantTimeEqual(Array((row["code"] as String).utf8), Array(code.utf8)) { return .matches }
            if (row["attempts"] as Int) + 1 >= settings.answerAttempts {
                try db.execute(sql: "DELETE FROM codes WHERE username = ? AND purpose = ?", arguments: [username, purpose])
                return .spent
            }
            try db.execute(sql: "UPDATE codes SET attempts = attempts + 1 WHERE username = ? AND purpose = ?", arguments: [username, purpose])
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
    private static func useCode(_ db: Database, username: String, purpose: String, code: String) throws {
        try db.execute(sql: "DELETE FROM codes WHERE username = ? AND purpose = ? AND code = ?", arguments: [username, purpose, code])
        guard db.changesCount == 1 else { throw CognitoError.codeMismatch }
    }

    private static func email(from attributes: Any?) -> (email: String?, verified: Bool) {
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

    private static func validEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return email.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !email.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } ?? false })
    }

    // MARK: Sign-up

    private func signUp(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let username = Self.username(try string(body, "Username"))
        let password = try string(body, "Password")
        let attributes = Self.email(from: body["UserAttributes"])
        let email = (attributes.email ?? (username.contains("@") ? username : "")).lowercased()
        guard !email.isEmpty else {
            throw CognitoError.invalidParameter("Attributes did not conform to the schema: email: The attribute is required")
        }
        guard Self.validEmail(email) else { throw CognitoError.invalidParameter("Invalid email address format.") }
        guard username.count <= 128 else { throw CognitoError.invalidParameter("Username is too long.") }
        try checkPolicy(password)
        let secrets = credentials(username: username, password: password)
        let sub = Self.newSub()
        try await database.write { [self] db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE username = ?", arguments: [username]) == nil else {
                throw CognitoError(type: "UsernameExistsException", message: "User already exists")
            }
            try db.execute(sql: """
                INSERT INTO users (sub, username, email, salt, verifier, status, createdAt) VALUES (?, ?, ?, ?, ?, 'UNCONFIRMED', ?)
                """, arguments: [sub, username, email, secrets.salt, secrets.verifier, Date().timeIntervalSince1970])
            try sendCode(db, to: (username, email), purpose: "confirmation", lifetime: 86400)
        }
        return ["UserConfirmed": false, "UserSub": sub, "CodeDeliveryDetails": delivery(email)]
    }

    private func confirmSignUp(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let user = try await existingUser(try string(body, "Username"))
        let code = try string(body, "ConfirmationCode")
        guard user.status == "UNCONFIRMED" else {
            throw CognitoError.notAuthorized("User cannot be confirmed. Current status is \(user.status)")
        }
        try await checkCode(username: user.username, purpose: "confirmation", code: code)
        try await database.write { db in
            try Self.useCode(db, username: user.username, purpose: "confirmation", code: code)
            try db.execute(sql: "UPDATE users SET status = 'CONFIRMED', emailVerified = 1 WHERE sub = ?", arguments: [user.sub])
        }
        return [:]
    }

    private func resendConfirmationCode(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let user = try await existingUser(try string(body, "Username"))
        guard user.status == "UNCONFIRMED" else { throw CognitoError.invalidParameter("User is already confirmed.") }
        try await database.write { [self] db in
            try sendCode(db, to: (user.username, user.email), purpose: "confirmation", lifetime: 86400)
        }
        return ["CodeDeliveryDetails": delivery(user.email)]
    }

    private func adminCreateUser(_ body: [String: Any], bodyHash: String, signable: SignableRequest) async throws -> [String: Any] {
        let verifier = Verifier(region: settings.region, service: "cognito-idp")
        do {
            _ = try verifier.verify(signable, now: Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)),
                                    payloadHash: bodyHash) { [settings] in
                $0 == settings.adminCredentials.accessKeyId ? settings.adminCredentials : nil
            }
        } catch {
            throw CognitoError(type: error.code == .signatureMismatch ? "InvalidSignatureException" : "UnrecognizedClientException",
                               message: error.message)
        }
        guard try string(body, "UserPoolId") == settings.userPoolId else {
            throw CognitoError(type: "ResourceNotFoundException", message: "User pool \(body["UserPoolId"] ?? "") does not exist.")
        }
        let username = Self.username(try string(body, "Username"))
        let attributes = Self.email(from: body["UserAttributes"])
        let email = (attributes.email ?? username).lowercased()
        guard Self.validEmail(email) else { throw CognitoError.invalidParameter("Invalid email address format.") }
        let password = (body["TemporaryPassword"] as? String) ?? Self.temporaryPassword()
        try checkPolicy(password)
        let secrets = credentials(username: username, password: password)
        let sub = Self.newSub()
        let now = Date()
        let suppress = body["MessageAction"] as? String == "SUPPRESS"
        try await database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE username = ?", arguments: [username]) == nil else {
                throw CognitoError(type: "UsernameExistsException", message: "User account already exists")
            }
            try db.execute(sql: """
                INSERT INTO users (sub, username, email, emailVerified, salt, verifier, status, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, 'FORCE_CHANGE_PASSWORD', ?)
                """, arguments: [sub, username, email, attributes.verified, secrets.salt, secrets.verifier, now.timeIntervalSince1970])
            if !suppress {
                try db.execute(sql: "INSERT INTO mailbox (recipient, subject, body, code, kind, createdAt) VALUES (?, ?, ?, ?, 'invitation', ?)",
                               arguments: [email, "Your SStech Video account", "Your username is \(username) and your temporary password is \(password).",
                                           password, now.timeIntervalSince1970])
            }
        }
        return ["User": [
            "Username": username, "Enabled": true, "UserStatus": "FORCE_CHANGE_PASSWORD",
            "UserCreateDate": now.timeIntervalSince1970, "UserLastModifiedDate": now.timeIntervalSince1970,
            "Attributes": [["Name": "sub", "Value": sub], ["Name": "email", "Value": email],
                           ["Name": "email_verified", "Value": attributes.verified ? "true" : "false"]],
        ] as [String: Any]]
    }

    private static func temporaryPassword() -> String {
        "Tmp-" + ObjectStore.randomToken(bytes: 6) + "aA1!"
    }

    // MARK: Sign-in

    private func initiateAuth(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let flow = try string(body, "AuthFlow")
        let parameters = body["AuthParameters"] as? [String: String] ?? [:]
        switch flow {
        case "USER_SRP_AUTH":
            guard let name = parameters["USERNAME"], let aText = parameters["SRP_A"], let A = BigUInt(aText, radix: 16) else {
                throw CognitoError.invalidParameter("Missing required parameter SRP_A or USERNAME")
            }
            guard A % SRP.N != 0 else { throw CognitoError.invalidParameter("SRP_A is not a valid public value.") }
            let user = try await existingUser(name)
            try checkLock(user)
            guard let verifier = BigUInt(user.verifier, radix: 16) else { throw CognitoError.notAuthorized() }
            let (b, B) = SRP.secretB(verifier: verifier)
            let secretBlock = Data(randomBytes(96)).base64EncodedString()
            let state = ["b": String(b, radix: 16), "B": String(B, radix: 16), "A": aText]
            try await storeChallenge(id: secretBlock, username: user.username, kind: "PASSWORD_VERIFIER", state: state)
            return [
                "ChallengeName": "PASSWORD_VERIFIER",
                "ChallengeParameters": [
                    "SALT": user.salt, "SRP_B": String(B, radix: 16), "SECRET_BLOCK": secretBlock,
                    "USERNAME": user.username, "USER_ID_FOR_SRP": user.username,
                ],
            ]
        case "USER_PASSWORD_AUTH":
            guard let name = parameters["USERNAME"], let password = parameters["PASSWORD"] else {
                throw CognitoError.invalidParameter("Missing required parameter USERNAME or PASSWORD")
            }
            let user = try await existingUser(name)
            try checkLock(user)
            guard passwordMatches(user, password) else { throw try await failedPassword(user) }
            return try await passwordAccepted(user)
        case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
            guard let token = parameters["REFRESH_TOKEN"] else { throw CognitoError.invalidParameter("Missing required parameter REFRESH_TOKEN") }
            return try await refresh(token)
        default:
            throw CognitoError.invalidParameter("Unsupported AuthFlow \(flow); the local cloud accepts USER_SRP_AUTH, USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.")
        }
    }

    private func checkLock(_ user: User) throws {
        if user.lockedUntil > Date().timeIntervalSince1970 { throw CognitoError.notAuthorized("Password attempts exceeded") }
    }

    /// Counts a wrong password; from the fifth in a row the user is locked out for a minute,
    /// doubling with each further failure up to 15 minutes.
    /// The count is raised in the database, so wrong passwords sent at once are each counted.
    private func failedPassword(_ user: User) async throws -> CognitoError {
        let lockAfter = settings.lockAfterFailures
        let now = Date().timeIntervalSince1970
        try await database.write { db in
            try db.execute(sql: "UPDATE users SET failedAttempts = failedAttempts + 1 WHERE sub = ?", arguments: [user.sub])
            let failures = try Int.fetchOne(db, sql: "SELECT failedAttempts FROM users WHERE sub = ?", arguments: [user.sub]) ?? 0
            if failures >= lockAfter {
                try db.execute(sql: "UPDATE users SET lockedUntil = ? WHERE sub = ?",
                               arguments: [now + min(900, 60 * pow(2, Double(failures - lockAfter))), user.sub])
            }
        }
        return CognitoError.notAuthorized()
    }

    /// After the password: the next challenge (new password, MFA set-up, TOTP), never tokens,
    /// because MFA is mandatory.
    private func passwordAccepted(_ user: User) async throws -> [String: Any] {
        if user.status == "UNCONFIRMED" {
            throw CognitoError(type: "UserNotConfirmedException", message: "User is not confirmed.")
        }
        if user.failedAttempts != 0 || user.lockedUntil != 0 {
            try await database.write { db in
                try db.execute(sql: "UPDATE users SET failedAttempts = 0, lockedUntil = 0 WHERE sub = ?", arguments: [user.sub])
            }
        }
        let authTime = String(Int(Date().timeIntervalSince1970))
        if user.status == "FORCE_CHANGE_PASSWORD" {
            let session = try await newSession(user: user, kind: "NEW_PASSWORD_REQUIRED", state: ["authTime": authTime])
            return ["ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                    "ChallengeParameters": ["USER_ID_FOR_SRP": user.username, "requiredAttributes": "[]",
                                            "userAttributes": "{\"email\":\"\(user.email)\"}"]]
        }
        return try await mfaChallenge(user, authTime: authTime)
    }

    private func mfaChallenge(_ user: User, authTime: String) async throws -> [String: Any] {
        if user.totpSecret == nil {
            let session = try await newSession(user: user, kind: "MFA_SETUP", state: ["authTime": authTime])
            return ["ChallengeName": "MFA_SETUP", "Session": session,
                    "ChallengeParameters": ["MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]", "USER_ID_FOR_SRP": user.username]]
        }
        let session = try await newSession(user: user, kind: "SOFTWARE_TOKEN_MFA", state: ["authTime": authTime])
        return ["ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": session,
                "ChallengeParameters": ["USER_ID_FOR_SRP": user.username]]
    }

    private func respondToAuthChallenge(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let name = try string(body, "ChallengeName")
        let responses = body["ChallengeResponses"] as? [String: String] ?? [:]
        switch name {
        case "PASSWORD_VERIFIER":
            return try await passwordVerifier(responses)
        case "MFA_SETUP":
            let challenge = try await takeChallenge(session: try string(body, "Session"), kind: "MFA_SETUP", consume: false)
            guard challenge.state["verified"] == "true" else {
                throw CognitoError.invalidParameter("Verify a software token (VerifySoftwareToken) before answering MFA_SETUP.")
            }
            try await consumeChallenge(challenge.id)
            let user = try await existingUser(challenge.username)
            return try await tokens(for: user, authTime: Int(challenge.state["authTime"] ?? "") ?? Int(Date().timeIntervalSince1970))
        case "SOFTWARE_TOKEN_MFA":
            let challenge = try await takeChallenge(session: try string(body, "Session"), kind: "SOFTWARE_TOKEN_MFA", consume: false)
            guard let code = responses["SOFTWARE_TOKEN_MFA_CODE"] else {
                throw CognitoError.invalidParameter("Missing required parameter SOFTWARE_TOKEN_MFA_CODE")
            }
            let user = try await existingUser(challenge.username)
            guard let secret = user.totpSecret else {
                throw CognitoError(type: "SoftwareTokenMFANotFoundException", message: "Software Token MFA has not been enabled by the user.")
            }
            let mismatch = CognitoError(type: "CodeMismatchException", message: "Invalid code received for user")
            do {
                try await acceptTOTP(user: user, secret: secret, code: code, mismatch: mismatch)
            } catch let error as CognitoError where error.type == mismatch.type {
                try await countWrongAnswer(challenge.id)
                throw error
            }
            try await consumeChallenge(challenge.id)
            return try await tokens(for: user, authTime: Int(challenge.state["authTime"] ?? "") ?? Int(Date().timeIntervalSince1970))
        case "NEW_PASSWORD_REQUIRED":
            let challenge = try await takeChallenge(session: try string(body, "Session"), kind: "NEW_PASSWORD_REQUIRED", consume: false)
            guard let password = responses["NEW_PASSWORD"] else { throw CognitoError.invalidParameter("Missing required parameter NEW_PASSWORD") }
            try checkPolicy(password)
            var user = try await existingUser(challenge.username)
            let secrets = credentials(username: user.username, password: password)
            let sub = user.sub
            try await database.write { db in
                try Self.consume(db, challenge: challenge.id)
                try db.execute(sql: "UPDATE users SET salt = ?, verifier = ?, status = 'CONFIRMED' WHERE sub = ?",
                               arguments: [secrets.salt, secrets.verifier, sub])
            }
            user.status = "CONFIRMED"
            return try await mfaChallenge(user, authTime: challenge.state["authTime"] ?? String(Int(Date().timeIntervalSince1970)))
        default:
            throw CognitoError.invalidParameter("Unsupported ChallengeName \(name).")
        }
    }

    private func passwordVerifier(_ responses: [String: String]) async throws -> [String: Any] {
        guard let secretBlock = responses["PASSWORD_CLAIM_SECRET_BLOCK"], let signatureText = responses["PASSWORD_CLAIM_SIGNATURE"],
              let timestampText = responses["TIMESTAMP"], let username = responses["USERNAME"] else {
            throw CognitoError.invalidParameter("PASSWORD_VERIFIER needs USERNAME, TIMESTAMP, PASSWORD_CLAIM_SECRET_BLOCK and PASSWORD_CLAIM_SIGNATURE.")
        }
        let challenge = try await takeChallenge(session: secretBlock, kind: "PASSWORD_VERIFIER", consume: true)
        let user = try await existingUser(challenge.username)
        guard Self.username(username) == user.username else { throw CognitoError.notAuthorized() }
        try checkLock(user)
        guard let timestamp = SRP.parseTimestamp(timestampText),
              abs(timestamp.timeIntervalSinceNow) <= settings.timestampWindow else {
            throw CognitoError.notAuthorized("TIMESTAMP is missing, malformed or too far from the current time.")
        }
        guard let A = challenge.state["A"].flatMap({ BigUInt($0, radix: 16) }), let B = challenge.state["B"].flatMap({ BigUInt($0, radix: 16) }),
              let b = challenge.state["b"].flatMap({ BigUInt($0, radix: 16) }), let verifier = BigUInt(user.verifier, radix: 16),
              let key = SRP.sessionKey(A: A, B: B, b: b, verifier: verifier),
              let blockBytes = Data(base64Encoded: secretBlock), let signature = Data(base64Encoded: signatureText) else {
            throw CognitoError.notAuthorized()
        }
        let expected = SRP.claimSignature(key: key, poolName: poolName, userId: user.username, secretBlock: Array(blockBytes), timestamp: timestampText)
        guard SRP.constantTimeEqual(expected, Array(signature)) else { throw try await failedPassword(user) }
        return try await passwordAccepted(user)
    }

    // MARK: Challenge sessions

    struct Challenge {
        var id: String
        var username: String
        var state: [String: String]
    }

    private func storeChallenge(id: String, username: String, kind: String, state: [String: String]) async throws {
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        let now = Date().timeIntervalSince1970
        try await database.write { [settings] db in
            try db.execute(sql: "DELETE FROM challenges WHERE createdAt < ?", arguments: [now - settings.challengeLifetime * 2])
            try db.execute(sql: "INSERT INTO challenges (id, username, kind, state, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, username, kind, text, now])
        }
    }

    private func newSession(user: User, kind: String, state: [String: String]) async throws -> String {
        let session = Base64URL.encode(randomBytes(96))
        try await storeChallenge(id: session, username: user.username, kind: kind, state: state)
        return session
    }

    /// The live challenge for `session` of `kind`: unused and younger than three minutes.
    /// `consume` marks it used in the same transaction (a second answer is refused).
    private func takeChallenge(session: String, kind: String, consume: Bool) async throws -> Challenge {
        let now = Date().timeIntervalSince1970
        let row = try await database.write { [settings] db -> Row? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM challenges WHERE id = ? AND kind = ? AND used = 0",
                                             arguments: [session, kind]),
                  (row["createdAt"] as Double) > now - settings.challengeLifetime else { return nil }
            if consume { try Self.consume(db, challenge: session) }
            return row
        }
        guard let row else { throw CognitoError.expiredSession }
        let stateText: String = row["state"]
        let state = (try? JSONDecoder().decode([String: String].self, from: Data(stateText.utf8))) ?? [:]
        return Challenge(id: row["id"], username: row["username"], state: state)
    }

    private func consumeChallenge(_ id: String) async throws {
        try await database.write { try Self.consume($0, challenge: id) }
    }

    /// Marks a challenge used, in the caller's transaction; a challenge already used (a second
    /// answer, even one racing the first) is an expired session.
    private static func consume(_ db: Database, challenge id: String) throws {
        try db.execute(sql: "UPDATE challenges SET used = 1 WHERE id = ? AND used = 0", arguments: [id])
        guard db.changesCount == 1 else { throw CognitoError.expiredSession }
    }

    /// Counts a wrong answer to a challenge; the last allowed one spends it.
    private func countWrongAnswer(_ id: String) async throws {
        try await database.write { [settings] db in
            try db.execute(sql: "UPDATE challenges SET attempts = attempts + 1 WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE challenges SET used = 1 WHERE id = ? AND attempts >= ?", arguments: [id, settings.answerAttempts])
        }
    }

    // MARK: TOTP

    /// Accepts `code` for `secret` once: the matched step must be later than the last one used.
    private func acceptTOTP(user: User, secret: String, code: String, mismatch: CognitoError) async throws {
        guard let key = Base32.decode(secret) else { throw mismatch }
        let now = Int64(Date().timeIntervalSince1970)
        guard let counter = TOTP(secret: key).matchingCounter(for: code, at: now) else { throw mismatch }
        let accepted = try await database.write { db -> Bool in
            let last = try Int64.fetchOne(db, sql: "SELECT lastTotpCounter FROM users WHERE sub = ?", arguments: [user.sub]) ?? -1
            guard counter > last else { return false }
            try db.execute(sql: "UPDATE users SET lastTotpCounter = ? WHERE sub = ?", arguments: [counter, user.sub])
            return true
        }
        guard accepted else {
            throw CognitoError(type: "ExpiredCodeException", message: "Your software token has already been used once.")
        }
    }

    private func associateSoftwareToken(_ body: [String: Any]) async throws -> [String: Any] {
        let secret = Base32.encode(TOTP.random().secret)
        if let session = body["Session"] as? String {
            let challenge = try await takeChallenge(session: session, kind: "MFA_SETUP", consume: true)
            let user = try await existingUser(challenge.username)
            try await database.write { db in
                try db.execute(sql: "UPDATE users SET pendingTotpSecret = ? WHERE sub = ?", arguments: [secret, user.sub])
            }
            var state = challenge.state
            state["associated"] = "true"
            let next = try await newSession(user: user, kind: "MFA_SETUP", state: state)
            return ["SecretCode": secret, "Session": next]
        }
        let user = try await authenticated(try string(body, "AccessToken"))
        try await database.write { db in
            try db.execute(sql: "UPDATE users SET pendingTotpSecret = ? WHERE sub = ?", arguments: [secret, user.sub])
        }
        return ["SecretCode": secret]
    }

    private func verifySoftwareToken(_ body: [String: Any]) async throws -> [String: Any] {
        let code = try string(body, "UserCode")
        let mismatch = CognitoError(type: "EnableSoftwareTokenMFAException", message: "Code mismatch and fail enable Software Token MFA")
        var challenge: Challenge?
        let user: User
        if let session = body["Session"] as? String {
            challenge = try await takeChallenge(session: session, kind: "MFA_SETUP", consume: false)
            user = try await existingUser(challenge!.username)
        } else {
            user = try await authenticated(try string(body, "AccessToken"))
        }
        guard let pending = user.pendingTotpSecret else {
            throw CognitoError.invalidParameter("Call AssociateSoftwareToken before VerifySoftwareToken.")
        }
        try await acceptTOTP(user: user, secret: pending, code: code, mismatch: mismatch)
        let challengeId = challenge?.id
        try await database.write { db in
            if let challengeId { try Self.consume(db, challenge: challengeId) }
            try db.execute(sql: "UPDATE users SET totpSecret = pendingTotpSecret, pendingTotpSecret = NULL WHERE sub = ?", arguments: [user.sub])
        }
        guard let challenge else { return ["Status": "SUCCESS"] }
        var state = challenge.state
        state["verified"] = "true"
        return ["Status": "SUCCESS", "Session": try await newSession(user: user, kind: "MFA_SETUP", state: state)]
    }

    private func setUserMFAPreference(_ body: [String: Any]) async throws -> [String: Any] {
        let user = try await authenticated(try string(body, "AccessToken"))
        if let settings = body["SoftwareTokenMfaSettings"] as? [String: Any], settings["Enabled"] as? Bool == false {
            throw CognitoError.invalidParameter("MFA is required in this user pool; software token MFA cannot be disabled.")
        }
        if let settings = body["SMSMfaSettings"] as? [String: Any], settings["Enabled"] as? Bool == true {
            throw CognitoError.invalidParameter("SMS MFA is not enabled in this user pool.")
        }
        guard user.totpSecret != nil else {
            throw CognitoError.invalidParameter("User has not verified software token mfa")
        }
        return [:]
    }

    // MARK: Passwords

    private func forgotPassword(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let user = try await existingUser(try string(body, "Username"))
        try await database.write { [self] db in
            try sendCode(db, to: (user.username, user.email), purpose: "reset", lifetime: 3600)
        }
        return ["CodeDeliveryDetails": delivery(user.email)]
    }

    private func confirmForgotPassword(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let user = try await existingUser(try string(body, "Username"))
        let code = try string(body, "ConfirmationCode")
        let password = try string(body, "Password")
        try checkPolicy(password)
        // The code first: a wrong guess costs no verifier.
        try await checkCode(username: user.username, purpose: "reset", code: code)
        let secrets = credentials(username: user.username, password: password)
        try await database.write { db in
            try Self.useCode(db, username: user.username, purpose: "reset", code: code)
            try db.execute(sql: "UPDATE users SET salt = ?, verifier = ?, failedAttempts = 0, lockedUntil = 0 WHERE sub = ?",
                           arguments: [secrets.salt, secrets.verifier, user.sub])
        }
        return [:]
    }

    // MARK: Tokens

    private func tokens(for user: User, authTime: Int, refreshToken: String? = nil, originJti: String? = nil) async throws -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        let origin = originJti ?? UUID().uuidString.lowercased()
        let expires = now + Int(settings.tokenLifetime)
        let common: [String: Any] = [
            "sub": user.sub, "iss": settings.issuer, "auth_time": authTime, "iat": now, "exp": expires,
            "origin_jti": origin, "event_id": UUID().uuidString.lowercased(),
        ]
        var id = common
        id["jti"] = UUID().uuidString.lowercased()
        id["token_use"] = "id"
        id["aud"] = settings.clientId
        id["cognito:username"] = user.username
        id["email"] = user.email
        id["email_verified"] = user.emailVerified
        var access = common
        access["jti"] = UUID().uuidString.lowercased()
        access["token_use"] = "access"
        access["client_id"] = settings.clientId
        access["scope"] = "aws.cognito.signin.user.admin"
        access["username"] = user.username
        var result: [String: Any] = [
            "AccessToken": try key.sign(access), "IdToken": try key.sign(id),
            "ExpiresIn": Int(settings.tokenLifetime), "TokenType": "Bearer",
        ]
        if refreshToken == nil {
            let token = Base64URL.encode(randomBytes(64))
            try await database.write { db in
                try db.execute(sql: "INSERT INTO refreshTokens (tokenHash, sub, originJti, authTime, createdAt) VALUES (?, ?, ?, ?, ?)",
                               arguments: [Self.hash(token), user.sub, origin, authTime, Date().timeIntervalSince1970])
            }
            result["RefreshToken"] = token
        }
        return ["AuthenticationResult": result, "ChallengeParameters": [String: String]()]
    }

    private static func hash(_ token: String) -> String { hexEncoded(SHA256.hash(data: Array(token.utf8))) }

    private func refresh(_ token: String) async throws -> [String: Any] {
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM refreshTokens WHERE tokenHash = ?", arguments: [Self.hash(token)])
        }
        guard let row else { throw CognitoError.notAuthorized("Invalid Refresh Token") }
        guard (row["revoked"] as Int) == 0 else { throw CognitoError.notAuthorized("Refresh Token has been revoked") }
        guard (row["createdAt"] as Double) + settings.refreshLifetime > Date().timeIntervalSince1970 else {
            throw CognitoError.notAuthorized("Refresh Token has expired")
        }
        let sub: String = row["sub"]
        let user = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE sub = ?", arguments: [sub]).map(User.init)
        }
        guard let user else { throw CognitoError.notAuthorized("Invalid Refresh Token") }
        return try await tokens(for: user, authTime: row["authTime"], refreshToken: token, originJti: row["originJti"])
    }

    /// The user an access token names, if the token verifies and was not revoked.
    func authenticated(_ accessToken: String) async throws -> User {
        let claims: [String: Any]
        do {
            claims = try key.verify(accessToken, now: Date(), issuer: settings.issuer, clientId: settings.clientId, tokenUse: "access")
        } catch let refusal as TokenKey.Refusal {
            throw CognitoError.notAuthorized(refusal == .expired ? "Access Token has expired" : "Invalid Access Token")
        }
        guard let sub = claims["sub"] as? String, let origin = claims["origin_jti"] as? String else { throw CognitoError.notAuthorized("Invalid Access Token") }
        let found = try await database.read { db -> (User?, Bool) in
            let user = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE sub = ?", arguments: [sub]).map(User.init)
            let revoked = try Bool.fetchOne(db, sql: "SELECT 1 FROM revokedOrigins WHERE originJti = ?", arguments: [origin]) != nil
            return (user, revoked)
        }
        guard let user = found.0 else { throw CognitoError.notAuthorized("Invalid Access Token") }
        // Sign-outs revoke by origin: every token a sign-in issued, refreshed ones included.
        guard !found.1 else {
            throw CognitoError.notAuthorized("Access Token has been revoked")
        }
        return user
    }

    private func getUser(_ body: [String: Any]) async throws -> [String: Any] {
        let user = try await authenticated(try string(body, "AccessToken"))
        var result: [String: Any] = [
            "Username": user.username,
            "UserAttributes": [["Name": "sub", "Value": user.sub], ["Name": "email", "Value": user.email],
                               ["Name": "email_verified", "Value": user.emailVerified ? "true" : "false"]],
        ]
        if user.totpSecret != nil {
            result["PreferredMfaSetting"] = "SOFTWARE_TOKEN_MFA"
            result["UserMFASettingList"] = ["SOFTWARE_TOKEN_MFA"]
        }
        return result
    }

    private func globalSignOut(_ body: [String: Any]) async throws -> [String: Any] {
        let user = try await authenticated(try string(body, "AccessToken"))
        try await database.write { db in
            // Every sign-in so far: its refresh token and the access tokens it issued.
            try db.execute(sql: "INSERT OR IGNORE INTO revokedOrigins (originJti) SELECT originJti FROM refreshTokens WHERE sub = ?",
                           arguments: [user.sub])
            try db.execute(sql: "UPDATE refreshTokens SET revoked = 1 WHERE sub = ?", arguments: [user.sub])
        }
        return [:]
    }

    private func revokeToken(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let token = try string(body, "Token")
        try await database.write { db in
            if let origin = try String.fetchOne(db, sql: "SELECT originJti FROM refreshTokens WHERE tokenHash = ?", arguments: [Self.hash(token)]) {
                try db.execute(sql: "UPDATE refreshTokens SET revoked = 1 WHERE tokenHash = ?", arguments: [Self.hash(token)])
                try db.execute(sql: "INSERT OR IGNORE INTO revokedOrigins (originJti) VALUES (?)", arguments: [origin])
            }
        }
        return [:]
    }
}
