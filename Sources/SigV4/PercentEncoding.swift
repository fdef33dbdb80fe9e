/// SigV4's URI encoding: every byte but the unreserved characters `A–Z a–z 0–9 - _ . ~` becomes
/// `%XY` (upper-case hex) of its UTF-8 bytes. `/` is kept only when `keepSlash` is set (paths).
public func uriEncode(_ string: String, keepSlash: Bool = false) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(string.utf8.count)
    let hex = Array("0123456789ABCDEF".utf8)
    for byte in string.utf8 {
        if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
            out.append(byte)
        } else {
            out.append(UInt8(ascii: "%"))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Decodes `%XY` escapes; a `%` not followed by two hex digits is kept as it is. `+` stays `+`.
/// Returns nil when the decoded bytes are not UTF-8.
public func percentDecode<S: StringProtocol>(_ string: S) -> String? {
    let bytes = Array(string.utf8)
    guard bytes.contains(UInt8(ascii: "%")) else { return String(string) }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
        if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
           let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
            out.append(high << 4 | low)
            index += 3
        } else {
            out.append(bytes[index])
            index += 1
        }
    }
    return String(validating: out, as: UTF8.self)
}

func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"),
         UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
