import Foundation
import VideoService

/// Software-token MFA: associating a secret, verifying it, the MFA preference.
extension CognitoService {
    // MARK: TOTP

    /// Accepts `code` for `secret` once: the matched step must be later than the last one used.
    /// Answering a sign-in's `challenge`, the code counts against the user's wrong TOTP answers
    /// (`WrongAnswers`, kind `totp`) in the same transaction: the last allowed one spends the
    /// challenge, and while none are left every code is refused, whichever session it answers.
    func acceptTOTP(user: User, secret: String, code: String, mismatch: CognitoError, challenge: String? = nil) async throws {
        enum Outcome { case accepted, mismatch, reused, exhausted }
        let now = Date().timeIntervalSince1970
        let counter = Base32.decode(secret).flatMap { TOTP(secret: $0).matchingCounter(for: code, at: Int64(now)) }
        let outcome = try await database.write { [wrongAnswers] db -> Outcome in
            if challenge != nil, try wrongAnswers.exhausted(db, username: user.username, kind: "totp", now: now) { return .exhausted }
            guard let counter else {
                guard let challenge else { return .mismatch }
                guard try wrongAnswers.count(db, username: user.username, kind: "totp", now: now) else { return .mismatch }
                try db.execute(sql: "UPDATE challenges SET used = 1 WHERE id = ?", arguments: [challenge])
                return .exhausted
            }
            let last = try Int64.fetchOne(db, sql: "SELECT lastTotpCounter FROM users WHERE sub = ?", arguments: [user.sub]) ?? -1
            guard counter > last else { return .reused }
            try db.execute(sql: "UPDATE users SET lastTotpCounter = ? WHERE sub = ?", arguments: [counter, user.sub])
            if challenge != nil { try wrongAnswers.clear(db, username: user.username, kind: "totp") }
            return .accepted
        }
        switch outcome {
        case .accepted: return
        case .mismatch: throw mismatch
        case .exhausted: throw CognitoError.attemptsExceeded
        case .reused: throw CognitoError(type: "ExpiredCodeException", message: "Your software token has already been used once.")
        }
    }

    func associateSoftwareToken(_ body: [String: Any]) async throws -> [String: Any] {
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

    func verifySoftwareToken(_ body: [String: Any]) async throws -> [String: Any] {
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

    func setUserMFAPreference(_ body: [String: Any]) async throws -> [String: Any] {
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
}
