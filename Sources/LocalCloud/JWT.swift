import Crypto
import Foundation
import _CryptoExtras

/// RS256 JSON Web Tokens as a Cognito user pool issues them, and their verification.
///
/// The key is 2048-bit RSA (Cognito's size), kept by the caller (the local cloud stores its PEM in
/// the data folder so tokens outlive a restart); `kid` is derived from the public key.
public struct TokenKey: Sendable {
    public let privateKey: _RSA.Signing.PrivateKey
    public let kid: String

    public init(privateKey: _RSA.Signing.PrivateKey) {
        self.privateKey = privateKey
        let digest = SHA256.hash(data: privateKey.publicKey.derRepresentation)
        self.kid = Base64URL.encode(Array(digest.prefix(16)))
    }

    public static func generate() throws -> TokenKey {
        TokenKey(privateKey: try _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    public init(pem: String) throws {
        self.init(privateKey: try _RSA.Signing.PrivateKey(pemRepresentation: pem))
    }

    /// The JWKS document (`<issuer>/.well-known/jwks.json`) publishing the public key.
    public func jwks() throws -> [String: Any] {
        let primitives = try privateKey.publicKey.getKeyPrimitives()
        return ["keys": [[
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": Base64URL.encode(Array(primitives.modulus)), "e": Base64URL.encode(Array(primitives.publicExponent)),
        ]]]
    }

    /// A signed token for `claims` (a JSON object).
    public func sign(_ claims: [String: Any]) throws -> String {
        let header = try JSONSerialization.data(withJSONObject: ["kid": kid, "alg": "RS256"], options: [.sortedKeys])
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        let input = Base64URL.encode(Array(header)) + "." + Base64URL.encode(Array(payload))
        let signature = try privateKey.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// Why a token was refused; `description` is what an API error may say.
    public enum Refusal: Error, Equatable, CustomStringConvertible, Sendable {
        case malformed, wrongKey, badSignature, expired, wrongIssuer, wrongClient, wrongUse

        public var description: String {
            switch self {
            case .malformed: "the token is not a JWT"
            case .wrongKey: "the token was not signed with this pool's key"
            case .badSignature: "the token's signature does not verify"
            case .expired: "the token has expired"
            case .wrongIssuer: "the token was issued by another user pool"
            case .wrongClient: "the token was issued to another app client"
            case .wrongUse: "the token is not of the expected kind"
            }
        }
    }

    /// The claims of `token` if it is RS256-signed by this key, unexpired at `now`, from `issuer`,
    /// for `clientId` (`aud` of an id token, `client_id` of an access token) and of `tokenUse`.
    public func verify(_ token: String, now: Date, issuer: String, clientId: String, tokenUse: String) throws -> [String: Any] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(String(parts[0])),
              let payloadBytes = Base64URL.decode(String(parts[1])),
              let signatureBytes = Base64URL.decode(String(parts[2])),
              let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
              let claims = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any]
        else { throw Refusal.malformed }
        guard header["alg"] as? String == "RS256", header["kid"] as? String == kid else { throw Refusal.wrongKey }
        let input = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        guard privateKey.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signatureBytes),
                                                     for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
        else { throw Refusal.badSignature }
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue, now.timeIntervalSince1970 < exp else { throw Refusal.expired }
        guard claims["iss"] as? String == issuer else { throw Refusal.wrongIssuer }
        guard claims["token_use"] as? String == tokenUse else { throw Refusal.wrongUse }
        let client = tokenUse == "id" ? claims["aud"] as? String : claims["client_id"] as? String
        guard client == clientId else { throw Refusal.wrongClient }
        return claims
    }
}

/// Base64 with the URL alphabet and no padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
