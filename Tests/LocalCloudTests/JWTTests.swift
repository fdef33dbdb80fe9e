import Foundation
import LocalCloud
import Testing

@Suite("RS256 tokens")
struct JWTTests {
    static let key = try! TokenKey.generate()
    static let issuer = "http://127.0.0.1:9400/us-east-1_LocalPool"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func claims(use: String = "access", exp: Double = 1_800_003_600) -> [String: Any] {
        var claims: [String: Any] = ["sub": "5f0c…", "iss": Self.issuer, "token_use": use, "exp": exp, "iat": 1_800_000_000]
        if use == "id" { claims["aud"] = "client1" } else { claims["client_id"] = "client1" }
        return claims
    }

    @Test("a signed token verifies and returns its claims")
    func roundTrip() throws {
        let token = try Self.key.sign(claims())
        let verified = try Self.key.verify(token, now: Self.now, issuer: Self.issuer, clientId: "client1", tokenUse: "access")
        #expect(verified["sub"] as? String == "5f0c…")
        let id = try Self.key.sign(claims(use: "id"))
        _ = try Self.key.verify(id, now: Self.now, issuer: Self.issuer, clientId: "client1", tokenUse: "id")
    }

    @Test("each wrong property is refused with its reason")
    func refusals() throws {
        let token = try Self.key.sign(claims())
        func refusal(_ token: String, issuer: String = JWTTests.issuer, client: String = "client1", use: String = "access",
                     now: Date = JWTTests.now) -> TokenKey.Refusal? {
            do {
                _ = try Self.key.verify(token, now: now, issuer: issuer, clientId: client, tokenUse: use)
                return nil
            } catch { return error as? TokenKey.Refusal }
        }
        #expect(refusal(token, now: Date(timeIntervalSince1970: 1_800_003_600)) == .expired)
        #expect(refusal(token, issuer: "http://elsewhere/pool") == .wrongIssuer)
        #expect(refusal(token, client: "client2") == .wrongClient)
        #expect(refusal(token, use: "id") == .wrongUse)
        #expect(refusal("a.b") == .malformed)
        #expect(refusal("not base64!.x.y") == .malformed)

        var parts = token.split(separator: ".").map(String.init)
        var payload = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1])!)) as! [String: Any]
        payload["sub"] = "someone-else"
        parts[1] = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: payload)))
        #expect(refusal(parts.joined(separator: ".")) == .badSignature)

        let other = try TokenKey.generate().sign(claims())
        #expect(refusal(other) == .wrongKey)
        let none = Base64URL.encode(Array(#"{"alg":"none","kid":"\#(Self.key.kid)"}"#.utf8)) + "." + token.split(separator: ".")[1] + "."
        #expect(refusal(none) != nil)
    }

    @Test("the JWKS publishes the public key")
    func jwks() throws {
        let document = try Self.key.jwks()
        let key = try #require((document["keys"] as? [[String: Any]])?.first)
        #expect(key["kid"] as? String == Self.key.kid)
        #expect(key["kty"] as? String == "RSA" && key["alg"] as? String == "RS256")
        #expect(key["e"] as? String == "AQAB")
        #expect(Base64URL.decode(key["n"] as! String)?.count == 256)
    }

    @Test("a key survives a PEM round trip")
    func pem() throws {
        let again = try TokenKey(pem: Self.key.privateKey.pemRepresentation)
        #expect(again.kid == Self.key.kid)
        let token = try Self.key.sign(claims())
        _ = try again.verify(token, now: Self.now, issuer: Self.issuer, clientId: "client1", tokenUse: "access")
    }
}
