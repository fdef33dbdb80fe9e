import LocalCloud
import Testing
import VideoService

@Suite("TOTP and base32")
struct TOTPTests {
    /// RFC 6238 appendix B, SHA-1, 8 digits.
    @Test("RFC 6238 test vectors", arguments: [
        (Int64(59), "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfcVectors(time: Int64, expected: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        #expect(totp.code(counter: TOTP.counter(at: time), digits: 8) == expected)
        #expect(totp.code(counter: TOTP.counter(at: time)) == String(expected.suffix(6)))
    }

    @Test("one step of drift either way is accepted, two are not")
    func drift() {
        let totp = TOTP.random()
        let now: Int64 = 1_800_000_015
        let counter = TOTP.counter(at: now)
        #expect(totp.matchingCounter(for: totp.code(counter: counter), at: now) == counter)
        #expect(totp.matchingCounter(for: totp.code(counter: counter - 1), at: now) == counter - 1)
        #expect(totp.matchingCounter(for: totp.code(counter: counter + 1), at: now) == counter + 1)
        let stale = totp.code(counter: counter - 2)
        if ![counter - 1, counter, counter + 1].contains(where: { totp.code(counter: $0) == stale }) {
            #expect(totp.matchingCounter(for: stale, at: now) == nil)
        }
        #expect(totp.matchingCounter(for: "12345", at: now) == nil)
        #expect(totp.matchingCounter(for: "12345a", at: now) == nil)
        #expect(totp.matchingCounter(for: "١٢٣٤٥٦", at: now) == nil)
    }

    /// RFC 4648 section 10.
    @Test("RFC 4648 base32 vectors", arguments: [
        ("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI"),
    ])
    func base32(plain: String, encoded: String) {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(Base32.decode(encoded) == Array(plain.utf8))
        #expect(Base32.decode(encoded.lowercased() + "====") == Array(plain.utf8))
    }

    @Test("base32 refuses characters outside its alphabet")
    func base32Refusal() {
        #expect(Base32.decode("MZXW1") == nil)
        #expect(Base32.decode("MZ XW") == nil)
    }
}
