import BigInt
import Crypto
import Foundation

/// The server side of Cognito's USER_SRP_AUTH: SRP-6a over the 3072-bit group of RFC 5054 with
/// SHA-256, and Cognito's own steps around it (the pool name in `x`, an HKDF-derived key, and an
/// HMAC password claim over pool name, user id, secret block and timestamp).
///
/// Hashes are taken over Cognito's "padded hex" form of a number: its big-endian bytes, with a
/// leading zero byte when the top bit is set (so it reads as positive).
public enum SRP {
    public static let N = BigUInt(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
            + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
            + "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
            + "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
            + "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
            + "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
            + "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
            + "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
        radix: 16)!
    public static let g = BigUInt(2)
    /// Powers modulo N, the cost of every sign-in, by Montgomery multiplication.
    static let field = MontgomeryModulus(N)
    /// k = H(N | g), as Cognito's clients compute it.
    public static let k = BigUInt(Data(SHA256.hash(data: padded(N) + padded(g))))

    /// Cognito's padded big-endian bytes of `value`.
    public static func padded(_ value: BigUInt) -> [UInt8] {
        let bytes = [UInt8](value.serialize())
        if bytes.isEmpty { return [0] }
        return bytes[0] & 0x80 != 0 ? [0] + bytes : bytes
    }

    /// The part of a user pool id after the region and '_', which Cognito mixes into `x`.
    public static func poolName(_ userPoolId: String) -> String {
        String(userPoolId.split(separator: "_", maxSplits: 1).last ?? Substring(userPoolId))
    }

    /// x = H(salt | H(poolName | userId | ":" | password)).
    public static func x(poolName: String, userId: String, password: String, salt: BigUInt) -> BigUInt {
        let inner = SHA256.hash(data: Array("\(poolName)\(userId):\(password)".utf8))
        return BigUInt(Data(SHA256.hash(data: padded(salt) + Array(inner))))
    }

    /// The verifier v = g^x stored instead of the password.
    public static func verifier(poolName: String, userId: String, password: String, salt: BigUInt) -> BigUInt {
        field.power(g, x(poolName: poolName, userId: userId, password: password, salt: salt))
    }

    /// The server's public value B = (k·v + g^b) mod N for its secret `b`.
    public static func publicB(verifier v: BigUInt, b: BigUInt) -> BigUInt {
        (k * v + field.power(g, b)) % N
    }

    /// A fresh secret `b` (256 random bits) whose B is not 0 mod N.
    public static func secretB(verifier v: BigUInt) -> (b: BigUInt, B: BigUInt) {
        while true {
            let b = BigUInt(Data(randomBytes(32)))
            let B = publicB(verifier: v, b: b)
            if b > 1, B % N != 0 { return (b, B) }
        }
    }

    /// u = H(A | B).
    public static func u(A: BigUInt, B: BigUInt) -> BigUInt {
        BigUInt(Data(SHA256.hash(data: padded(A) + padded(B))))
    }

    /// The session key Cognito uses: HKDF-SHA256 over S = (A·v^u)^b with salt u, 16 bytes of
    /// "Caldera Derived Key". Nil when A is 0 mod N or u is 0 (the checks SRP-6a requires).
    public static func sessionKey(A: BigUInt, B: BigUInt, b: BigUInt, verifier v: BigUInt) -> [UInt8]? {
        guard A % N != 0 else { return nil }
        let u = u(A: A, B: B)
        guard u != 0 else { return nil }
        let S = field.power(A * field.power(v, u), b)
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: padded(S)), salt: padded(u),
                                         info: Array("Caldera Derived Key".utf8), outputByteCount: 16)
        return key.withUnsafeBytes { Array($0) }
    }

    /// The PASSWORD_CLAIM_SIGNATURE a client with the right password sends.
    public static func claimSignature(key: [UInt8], poolName: String, userId: String,
                                      secretBlock: [UInt8], timestamp: String) -> [UInt8] {
        let message = Array(poolName.utf8) + Array(userId.utf8) + secretBlock + Array(timestamp.utf8)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Compares two signatures in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Cognito's TIMESTAMP form, "EEE MMM d HH:mm:ss UTC yyyy" with the day not zero-padded.
    public static func timestamp(_ date: Date) -> String {
        timestampFormatter().string(from: date)
    }

    /// Parses a client's TIMESTAMP (either day form); nil if it is not one.
    public static func parseTimestamp(_ text: String) -> Date? {
        timestampFormatter().date(from: text)
    }

    private static func timestampFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM d HH:mm:ss 'UTC' yyyy"
        return formatter
    }
}
