import Crypto
import Foundation

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

/// RFC 4648 base32, upper case, without padding (as Cognito's SecretCode).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base32 in either case, ignoring '=' padding; nil on any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}
