import Crypto
import Foundation

/// Content hashes the build puts in names, integrity attributes, policies and the manifest.
public enum Digest {
    /// Lowercase hex SHA-256.
    public static func sha256Hex<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// The fingerprint in an asset's name: the first 8 hex digits of its SHA-256.
    public static func fingerprint(sha256Hex: String) -> String {
        String(sha256Hex.prefix(8))
    }

    /// Subresource Integrity value: `sha384-<base64>`.
    public static func integrity<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        "sha384-" + base64(Array(SHA384.hash(data: bytes)))
    }

    /// CSP source for an inline block: `'sha256-<base64>'`.
    public static func cspHash<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        "'sha256-" + base64(Array(SHA256.hash(data: bytes))) + "'"
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard base64 with padding.
    public static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [table[Int(value >> 18 & 63)], table[Int(value >> 12 & 63)], table[Int(value >> 6 & 63)], table[Int(value & 63)]]
            index += 3
        }
        let remaining = bytes.count - index
        if remaining == 1 {
            let value = UInt32(bytes[index]) << 16
            out += [table[Int(value >> 18 & 63)], table[Int(value >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if remaining == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [table[Int(value >> 18 & 63)], table[Int(value >> 12 & 63)], table[Int(value >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
