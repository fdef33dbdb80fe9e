import Crypto
import Foundation
import SigV4

/// Tokens: issuing, refreshing, checking and revoking them.
extension CognitoService {
    // MARK: Tokens

    func tokens(for user: User, authTime: Int, refreshToken: String? = nil, originJti: String? = nil) async throws -> [String: Any] {
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

    static func hash(_ token: String) -> String { hexEncoded(SHA256.hash(data: Array(token.utf8))) }

    /// GetTokensFromRefreshToken: new access and ID tokens, and a new refresh token in place of
    /// the one sent (refresh-token rotation, as production's app client has it).
    func getTokensFromRefreshToken(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        return try await refresh(try string(body, "RefreshToken"), rotate: true)
    }

    /// New access and ID tokens for a live refresh token. With `rotate`, a new refresh token of the
    /// same sign-in (same origin, the same end a day after it) replaces the one sent, which works
    /// `refreshGrace` longer for a retry whose answer was lost, then no more. REFRESH_TOKEN_AUTH,
    /// which production's client does not allow, does not rotate (tools such as boto3 use it).
    func refresh(_ token: String, rotate: Bool) async throws -> [String: Any] {
        let now = Date().timeIntervalSince1970
        let replacement = rotate ? Base64URL.encode(randomBytes(64)) : nil
        let row = try await database.write { [settings] db -> Row in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refreshTokens WHERE tokenHash = ?", arguments: [Self.hash(token)]) else {
                throw CognitoError.notAuthorized("Invalid Refresh Token")
            }
            guard (row["revoked"] as Int) == 0 else { throw CognitoError.notAuthorized("Refresh Token has been revoked") }
            guard (row["createdAt"] as Double) + settings.refreshLifetime > now else {
                throw CognitoError.notAuthorized("Refresh Token has expired")
            }
            if let replacedAt = row["replacedAt"] as Double?, replacedAt + settings.refreshGrace <= now {
                throw CognitoError.notAuthorized("Invalid Refresh Token")
            }
            if let replacement {
                try db.execute(sql: "UPDATE refreshTokens SET replacedAt = coalesce(replacedAt, ?) WHERE tokenHash = ?",
                               arguments: [now, Self.hash(token)])
                try db.execute(sql: "INSERT INTO refreshTokens (tokenHash, sub, originJti, authTime, createdAt) VALUES (?, ?, ?, ?, ?)",
                               arguments: [Self.hash(replacement), row["sub"] as String, row["originJti"] as String,
                                           row["authTime"] as Int, row["createdAt"] as Double])
            }
            return row
        }
        let sub: String = row["sub"]
        let user = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE sub = ?", arguments: [sub]).map(User.init)
        }
        guard let user else { throw CognitoError.notAuthorized("Invalid Refresh Token") }
        var answer = try await tokens(for: user, authTime: row["authTime"], refreshToken: token, originJti: row["originJti"])
        if let replacement, var result = answer["AuthenticationResult"] as? [String: Any] {
            result["RefreshToken"] = replacement
            answer["AuthenticationResult"] = result
        }
        return answer
    }

    /// The user an access token names, if the token verifies and was not revoked.
    func authenticated(_ accessToken: String) async throws -> User {
        try await authenticatedSession(accessToken).user
    }

    /// The user an access token names, and the token's `exp`.
    func authenticatedSession(_ accessToken: String) async throws -> (user: User, expiry: Int64?) {
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
        return (user, (claims["exp"] as? NSNumber)?.int64Value)
    }

    func getUser(_ body: [String: Any]) async throws -> [String: Any] {
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

    func globalSignOut(_ body: [String: Any]) async throws -> [String: Any] {
        let user = try await authenticated(try string(body, "AccessToken"))
        try await database.write { db in try Self.signOutEverywhere(db, sub: user.sub) }
        return [:]
    }

    /// Ends every sign-in of the user so far: its refresh tokens (rotated ones included) and the
    /// access tokens it issued. GlobalSignOut does it, and so does a password reset, as production's
    /// post-confirmation trigger does with AdminUserGlobalSignOut.
    static func signOutEverywhere(_ db: Database, sub: String) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO revokedOrigins (originJti) SELECT originJti FROM refreshTokens WHERE sub = ?",
                       arguments: [sub])
        try db.execute(sql: "UPDATE refreshTokens SET revoked = 1 WHERE sub = ?", arguments: [sub])
    }

    func revokeToken(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let token = try string(body, "Token")
        try await database.write { db in
            if let origin = try String.fetchOne(db, sql: "SELECT originJti FROM refreshTokens WHERE tokenHash = ?", arguments: [Self.hash(token)]) {
                // The whole sign-in: the tokens rotation replaced, still in their grace period, too.
                try db.execute(sql: "UPDATE refreshTokens SET revoked = 1 WHERE originJti = ?", arguments: [origin])
                try db.execute(sql: "INSERT OR IGNORE INTO revokedOrigins (originJti) VALUES (?)", arguments: [origin])
            }
        }
        return [:]
    }
}
