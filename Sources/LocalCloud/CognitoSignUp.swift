import Foundation
import SigV4

/// Sign-up, confirmation, administrator-made accounts and password resets.
extension CognitoService {
    // MARK: Sign-up

    func signUp(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        guard settings.selfSignUp else { throw CognitoError.notAuthorized("SignUp is not permitted for this user pool") }
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

    func confirmSignUp(_ body: [String: Any]) async throws -> [String: Any] {
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

    func resendConfirmationCode(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let user = try await existingUser(try string(body, "Username"))
        guard user.status == "UNCONFIRMED" else { throw CognitoError.invalidParameter("User is already confirmed.") }
        try await database.write { [self] db in
            try sendCode(db, to: (user.username, user.email), purpose: "confirmation", lifetime: 86400)
        }
        return ["CodeDeliveryDetails": delivery(user.email)]
    }

    func adminCreateUser(_ body: [String: Any], bodyHash: String, signable: SignableRequest) async throws -> [String: Any] {
        let verifier = Verifier(region: settings.region, service: "cognito-idp")
        do {
            _ = try verifier.verify(signable, now: Timestamp.now,
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
        let attributes = Self.email(from: body["UserAttributes"])
        return try await createUser(username: try string(body, "Username"), email: attributes.email, verified: attributes.verified,
                                    temporaryPassword: body["TemporaryPassword"] as? String,
                                    mail: body["MessageAction"] as? String != "SUPPRESS")
    }

    /// Makes an account in FORCE_CHANGE_PASSWORD, as AdminCreateUser does: its first sign-in must
    /// choose a password. `mail` sends the temporary password to the mailbox (an invitation).
    func createUser(username name: String, email address: String?, verified: Bool, temporaryPassword: String?,
                    mail: Bool) async throws -> [String: Any] {
        let username = Self.username(name)
        let email = (address ?? username).lowercased()
        guard Self.validEmail(email) else { throw CognitoError.invalidParameter("Invalid email address format.") }
        let password = temporaryPassword ?? Self.temporaryPassword()
        try checkPolicy(password)
        let secrets = credentials(username: username, password: password)
        let sub = Self.newSub()
        let now = Date()
        try await database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE username = ?", arguments: [username]) == nil else {
                throw CognitoError(type: "UsernameExistsException", message: "User account already exists")
            }
            try db.execute(sql: """
                INSERT INTO users (sub, username, email, emailVerified, salt, verifier, status, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, 'FORCE_CHANGE_PASSWORD', ?)
                """, arguments: [sub, username, email, verified, secrets.salt, secrets.verifier, now.timeIntervalSince1970])
            if mail {
                try db.execute(sql: "INSERT INTO mailbox (recipient, subject, body, code, kind, createdAt) VALUES (?, ?, ?, ?, 'invitation', ?)",
                               arguments: [email, "Your SStech Video account", "Your username is \(username) and your temporary password is \(password).",
                                           password, now.timeIntervalSince1970])
            }
        }
        return ["User": [
            "Username": username, "Enabled": true, "UserStatus": "FORCE_CHANGE_PASSWORD",
            "UserCreateDate": now.timeIntervalSince1970, "UserLastModifiedDate": now.timeIntervalSince1970,
            "Attributes": [["Name": "sub", "Value": sub], ["Name": "email", "Value": email],
                           ["Name": "email_verified", "Value": verified ? "true" : "false"]],
        ] as [String: Any]]
    }

    static func temporaryPassword() -> String {
        "Tmp-" + ObjectStore.randomToken(bytes: 6) + "aA1!"
    }

    // MARK: Passwords

    func forgotPassword(_ body: [String: Any]) async throws -> [String: Any] {
        try checkClient(body)
        let user = try await existingUser(try string(body, "Username"))
        try await database.write { [self] db in
            try sendCode(db, to: (user.username, user.email), purpose: "reset", lifetime: 3600)
        }
        return ["CodeDeliveryDetails": delivery(user.email)]
    }

    func confirmForgotPassword(_ body: [String: Any]) async throws -> [String: Any] {
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
            // Whoever knew the old password is signed out with it.
            try Self.signOutEverywhere(db, sub: user.sub)
        }
        return [:]
    }
}
