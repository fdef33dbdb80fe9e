#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Crypto
import _CryptoExtras

/// The key that signs media cookies: CloudFront's id for its public key, and the private key.
/// Locally it is made on first start in the data folder; in production it is read once from
/// Secrets Manager. Either way `MediaCookies` does the signing.
public struct MediaSigningKey: Sendable {
    public var keyPairId: String
    public var privateKey: _RSA.Signing.PrivateKey

    public init(keyPairId: String, privateKey: _RSA.Signing.PrivateKey) {
        self.keyPairId = keyPairId
        self.privateKey = privateKey
    }

    /// A key from its PEM text (PKCS#1 `RSA PRIVATE KEY`, as `openssl genrsa` writes, or PKCS#8).
    public init(keyPairId: String, pem: String) throws {
        self.init(keyPairId: keyPairId, privateKey: try _RSA.Signing.PrivateKey(pemRepresentation: pem))
    }
}

/// Where the signing key comes from; a host may fetch it lazily and keep it.
public protocol MediaKeySource: Sendable {
    func signingKey() async throws -> MediaSigningKey
}

/// How a host hands out media cookies.
public struct MediaSettings: Sendable {
    public var keys: any MediaKeySource
    /// `https://video.example.com`: the origin viewers load `/media/` from. Nil: the origin the
    /// session call was made on (`http://` + its `Host`), as the local cloud behind `site serve` sees it.
    public var origin: String?
    /// `Secure` on the cookies; off only for the local cloud on plain http.
    public var secure: Bool

    public init(keys: any MediaKeySource, origin: String?, secure: Bool) {
        self.keys = keys
        self.origin = origin
        self.secure = secure
    }
}

/// CloudFront's signed cookies with a custom policy (`CloudFront-Policy`, `CloudFront-Signature`,
/// `CloudFront-Key-Pair-Id`): signing for both hosts, and verifying as CloudFront does, for the
/// local cloud's `/media/`.
public enum MediaCookies {
    public static let policyName = "CloudFront-Policy"
    public static let signatureName = "CloudFront-Signature"
    public static let keyPairIdName = "CloudFront-Key-Pair-Id"
    public static let names = [policyName, signatureName, keyPairIdName]
    /// The longest a cookie lives, whatever the token says.
    public static let longestLifetime = 3600

    /// The path prefix viewers load media from, in front of the main bucket's keys.
    public static let mediaPrefix = "/media/"

    /// `/media/videos/<sub>/`: the folder a user's cookies open, and their `Path`.
    public static func folder(sub: String) -> String { mediaPrefix + VideoRules.mainFolder(sub: sub) }

    /// The path viewers load a main-bucket key from.
    public static func path(ofKey key: String) -> String { mediaPrefix + key }

    /// A custom policy allowing `resource` (wildcards allowed) until `expires` (seconds since 1970),
    /// in the compact form CloudFront's documentation and botocore write.
    public static func policy(resource: String, expires: Int64) -> String {
        let resource = JSONValue.string(resource).bytes
        return #"{"Statement":[{"Resource":"# + String(decoding: resource, as: UTF8.self)
            + #","Condition":{"DateLessThan":{"AWS:EpochTime":"# + String(expires) + "}}}]}"
    }

    /// The three cookie values for `policy`, signed RSA-SHA1 (PKCS#1 v1.5) as CloudFront requires.
    public static func sign(policy: String, with key: MediaSigningKey) throws -> [(name: String, value: String)] {
        let digest = Insecure.SHA1.hash(data: Array(policy.utf8))
        let signature = try key.privateKey.signature(for: digest, padding: .insecurePKCS1v1_5)
        return [(policyName, encode(Array(policy.utf8))), (signatureName, encode(Array(signature.rawRepresentation))),
                (keyPairIdName, key.keyPairId)]
    }

    /// `Set-Cookie` values: the cookies scoped to `path`, or (`values` nil) their removal.
    public static func setCookieHeaders(_ values: [(name: String, value: String)]?, path: String, maxAge: Int, secure: Bool) -> [String] {
        let attributes = "; Path=\(path)" + (secure ? "; Secure" : "") + "; HttpOnly; SameSite=Strict"
        guard let values else { return names.map { "\($0)=\(attributes); Max-Age=0" } }
        return values.map { "\($0.name)=\($0.value)\(attributes); Max-Age=\(maxAge)" }
    }

    // MARK: CloudFront's base64

    /// Base64 with `+` → `-`, `=` → `_`, `/` → `~`.
    public static func encode(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().map { $0 == "+" ? "-" : $0 == "=" ? "_" : $0 == "/" ? "~" : $0 })
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "=" : $0 == "~" ? "/" : $0 })
        return Data(base64Encoded: standard).map(Array.init)
    }

    // MARK: Verifying, as CloudFront does

    /// Why a request's cookies do not open `url`, or nil when they do. `url` is the request's full
    /// URL (`scheme://host/path?query`); `publicKeys` are the trusted key group's keys by id.
    public static func refusal(cookies: [String: String], url: String, now: Int64, clientIP: String?,
                               publicKeys: [String: _RSA.Signing.PublicKey]) -> String? {
        guard let policyText = cookies[policyName], let signatureText = cookies[signatureName], let keyId = cookies[keyPairIdName] else {
            return "Missing Key-Pair-Id query parameter or cookie value"
        }
        guard let key = publicKeys[keyId] else { return "Unknown Key" }
        guard let policyBytes = decode(policyText), let signatureBytes = decode(signatureText) else { return "Invalid Policy" }
        let digest = Insecure.SHA1.hash(data: policyBytes)
        guard key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signatureBytes), for: digest, padding: .insecurePKCS1v1_5) else {
            return "Invalid signature"
        }
        guard case .object(let policy)? = JSONValue.parse(policyBytes), case .array(let statements)? = policy["Statement"],
              statements.count == 1, case .object(let statement) = statements[0],
              case .object(let condition)? = statement["Condition"] else {
            return "Malformed Policy"
        }
        if let resource = statement["Resource"] {
            guard case .string(let pattern) = resource else { return "Malformed Policy" }
            guard matches(pattern: pattern, url) else { return "Access denied" }
        }
        guard let before = epoch(condition["DateLessThan"]) else { return "Malformed Policy" }
        guard now < before else { return "Access denied" }
        if let after = condition["DateGreaterThan"] {
            guard let after = epoch(after) else { return "Malformed Policy" }
            guard now >= after else { return "Access denied" }
        }
        if let address = condition["IpAddress"] {
            guard case .object(let source) = address, case .string(let range)? = source["AWS:SourceIp"], let cidr = CIDR(range) else {
                return "Malformed Policy"
            }
            guard let clientIP, cidr.contains(clientIP) else { return "Access denied" }
        }
        return nil
    }

    private static func epoch(_ value: JSONValue?) -> Int64? {
        guard case .object(let object)? = value else { return nil }
        switch object["AWS:EpochTime"] {
        case .integer(let seconds)?: return seconds
        default: return nil
        }
    }

    /// CloudFront's wildcards: `*` any run of characters (none included), `?` exactly one.
    public static func matches(pattern: String, _ text: String) -> Bool {
        let pattern = Array(pattern.unicodeScalars), text = Array(text.unicodeScalars)
        var (p, t) = (0, 0)
        var star: Int?, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || (pattern[p] != "*" && pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// `name=value` pairs of `Cookie` headers; the first of a repeated name wins (the most specific path comes first).
    public static func parseCookieHeaders(_ headers: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headers {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = trimmed(parts[0])
                if cookies[name] == nil { cookies[name] = trimmed(parts[1]) }
            }
        }
        return cookies
    }
}

/// An IPv4 or IPv6 range in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`; no suffix is one address).
struct CIDR {
    let network: [UInt8]
    let bits: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let address = CIDR.bytes(String(parts[0])) else { return nil }
        let bits = parts.count == 2 ? Int(parts[1]) : address.count * 8
        guard let bits, (0...address.count * 8).contains(bits) else { return nil }
        network = address
        self.bits = bits
    }

    func contains(_ text: String) -> Bool {
        guard let address = CIDR.bytes(text), address.count == network.count else { return false }
        for bit in 0..<bits where (address[bit / 8] ^ network[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 { return false }
        return true
    }

    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
