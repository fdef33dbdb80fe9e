import Crypto
import Foundation
import VideoService

/// Time-based one-time passwords as Cognito's software tokens use them: RFC 6238 with HMAC-SHA1,
/// 6 digits, 30-second steps, one step of drift allowed either way. The shared secret travels as
/// unpadded RFC 4648 base32 (Cognito's `SecretCode`).
public struct TOTP: Sendable {
    public static let digits = 6
    public static let step: Int64 = 30

    public var secret: [UInt8]

    public init(secret: [UInt8]) { self.secret = secret }

    /// A new random 20-byte secret (160 bits, as RFC 4226 recommends).
    public static func random() -> TOTP {
        TOTP(secret: randomBytes(20))
    }

    /// The code for a step counter, with `digits` digits (RFC 4226's dynamic truncation).
    public func code(counter: Int64, digits: Int = TOTP.digits) -> String {
        let message = withUnsafeBytes(of: UInt64(bitPattern: counter).bigEndian) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step counter of a Unix time.
    public static func counter(at unixSeconds: Int64) -> Int64 { unixSeconds / step }

    /// The step counter `code` matches at `unixSeconds`, trying the current step and one either
    /// side; nil if none does. The caller refuses a counter it has accepted before.
    public func matchingCounter(for code: String, at unixSeconds: Int64) -> Int64? {
        guard code.count == TOTP.digits, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = TOTP.counter(at: unixSeconds)
        for counter in [now, now - 1, now + 1] where SRP.constantTimeEqual(Array(self.code(counter: counter).utf8), Array(code.utf8)) {
            return counter
        }
        return nil
    }
}
