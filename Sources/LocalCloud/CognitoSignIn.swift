import BigInt
import Foundation
import SigV4

/// Sign-in: SRP's password verifier, the MFA challenges, lock-outs and challenge sessions.
extension CognitoService {
    // MARK: Sign-in

    func initiateAuth(_ body: [String: Any]) async throws -> [String: Any] {
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
            return try await refresh(token, rotate: false)
        default:
            throw CognitoError.invalidParameter("Unsupported AuthFlow \(flow); the local cloud accepts USER_SRP_AUTH, USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.")
        }
    }

    func checkLock(_ user: User) throws {
        if user.lockedUntil > Date().timeIntervalSince1970 { throw CognitoError.notAuthorized("Password attempts exceeded") }
    }

    /// Counts a wrong password; from the fifth in a row the user is locked out for a minute,
    /// doubling with each further failure up to 15 minutes.
    /// The count is raised in the database, so wrong passwords sent at once are each counted.
    func failedPassword(_ user: User) async throws -> CognitoError {
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
    func passwordAccepted(_ user: User) async throws -> [String: Any] {
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

    func mfaChallenge(_ user: User, authTime: String) async throws -> [String: Any] {
        if user.totpSecret == nil {
            let session = try await newSession(user: user, kind: "MFA_SETUP", state: ["authTime": authTime])
            return ["ChallengeName": "MFA_SETUP", "Session": session,
                    "ChallengeParameters": ["MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]", "USER_ID_FOR_SRP": user.username]]
        }
        let session = try await newSession(user: user, kind: "SOFTWARE_TOKEN_MFA", state: ["authTime": authTime])
        return ["ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": session,
                "ChallengeParameters": ["USER_ID_FOR_SRP": user.username]]
    }

    func respondToAuthChallenge(_ body: [String: Any]) async throws -> [String: Any] {
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
            try await acceptTOTP(user: user, secret: secret, code: code, mismatch: mismatch, challenge: challenge.id)
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

    func passwordVerifier(_ responses: [String: String]) async throws -> [String: Any] {
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

    func storeChallenge(id: String, username: String, kind: String, state: [String: String]) async throws {
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        let now = Date().timeIntervalSince1970
        try await database.write { [settings] db in
            try db.execute(sql: "DELETE FROM challenges WHERE createdAt < ?", arguments: [now - settings.challengeLifetime * 2])
            try db.execute(sql: "INSERT INTO challenges (id, username, kind, state, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, username, kind, text, now])
        }
    }

    func newSession(user: User, kind: String, state: [String: String]) async throws -> String {
        let session = Base64URL.encode(randomBytes(96))
        try await storeChallenge(id: session, username: user.username, kind: kind, state: state)
        return session
    }

    /// The live challenge for `session` of `kind`: unused and younger than three minutes.
    /// `consume` marks it used in the same transaction (a second answer is refused).
    func takeChallenge(session: String, kind: String, consume: Bool) async throws -> Challenge {
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

    func consumeChallenge(_ id: String) async throws {
        try await database.write { try Self.consume($0, challenge: id) }
    }

    /// Marks a challenge used, in the caller's transaction; a challenge already used (a second
    /// answer, even one racing the first) is an expired session.
    static func consume(_ db: Database, challenge id: String) throws {
        try db.execute(sql: "UPDATE challenges SET used = 1 WHERE id = ? AND used = 0", arguments: [id])
        guard db.changesCount == 1 else { throw CognitoError.expiredSession }
    }
}
