import BigInt
import Foundation
@testable import LocalCloud
import SigV4
import Testing

/// One exchange of `Tests/Vectors/srp/cognito-srp-vectors.json` (a copy of `shared/testdata/srp`).
struct SRPVector: CustomTestStringConvertible, Sendable {
    let fields: [String: String]
    var testDescription: String { fields["userIdForSrp"] ?? "?" }

    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors/srp/cognito-srp-vectors.json")

    static var document: [String: Any] {
        guard let data = FileManager.default.contents(atPath: file.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    static var all: [SRPVector] {
        (document["cases"] as? [[String: Any]] ?? []).map { SRPVector(fields: $0.compactMapValues { $0 as? String }) }
    }

    func number(_ key: String) -> BigUInt { BigUInt(fields[key]!, radix: 16)! }
    subscript(_ key: String) -> String { fields[key]! }
}

@Suite("Cognito SRP, server side")
struct SRPTests {
    @Test("the vectors are present")
    func vectorsArePresent() {
        #expect(SRPVector.all.count == 3, "expected three cases in \(SRPVector.file.path)")
    }

    @Test("N, g and k are Cognito's")
    func groupParameters() {
        #expect(SRP.N == BigUInt(SRPVector.document["N_hex"] as! String, radix: 16)!)
        #expect(SRP.g == BigUInt(SRPVector.document["g"] as! Int))
        #expect(SRP.k == BigUInt(SRPVector.document["kHex"] as! String, radix: 16)!)
    }

    @Test("x, the verifier, B, u, S's key and the claim signature match", arguments: SRPVector.all)
    func exchange(_ vector: SRPVector) throws {
        let pool = SRP.poolName(vector["userPoolId"])
        let salt = vector.number("saltHex")
        #expect(SRP.x(poolName: pool, userId: vector["userIdForSrp"], password: vector["password"], salt: salt) == vector.number("xHex"))
        let v = SRP.verifier(poolName: pool, userId: vector["userIdForSrp"], password: vector["password"], salt: salt)
        #expect(v == vector.number("verifierHex"))
        let b = vector.number("smallBHex")
        let B = SRP.publicB(verifier: v, b: b)
        #expect(B == vector.number("srpBHex"))
        let A = vector.number("srpAHex")
        #expect(SRP.u(A: A, B: B) == vector.number("uHex"))
        let key = try #require(SRP.sessionKey(A: A, B: B, b: b, verifier: v))
        #expect(hexEncoded(key) == vector["hkdfKeyHex"])
        let secretBlock = try #require(Data(base64Encoded: vector["secretBlock"]))
        let signature = SRP.claimSignature(key: key, poolName: pool, userId: vector["userIdForSrp"],
                                           secretBlock: Array(secretBlock), timestamp: vector["timestamp"])
        #expect(Data(signature).base64EncodedString() == vector["passwordClaimSignature"])
    }

    @Test("a wrong password gives another signature", arguments: SRPVector.all)
    func wrongPassword(_ vector: SRPVector) throws {
        let pool = SRP.poolName(vector["userPoolId"])
        let right = SRP.verifier(poolName: pool, userId: vector["userIdForSrp"], password: vector["password"], salt: vector.number("saltHex"))
        let wrong = SRP.verifier(poolName: pool, userId: vector["userIdForSrp"], password: vector["password"] + "x", salt: vector.number("saltHex"))
        let b = vector.number("smallBHex")
        // The client computed its key from the right password; a server holding another verifier derives another key.
        let B = SRP.publicB(verifier: wrong, b: b)
        let key = try #require(SRP.sessionKey(A: vector.number("srpAHex"), B: B, b: b, verifier: wrong))
        #expect(right != wrong)
        #expect(hexEncoded(key) != vector["hkdfKeyHex"])
    }

    @Test("A = 0 mod N is refused")
    func zeroA() {
        #expect(SRP.sessionKey(A: 0, B: 5, b: 7, verifier: 9) == nil)
        #expect(SRP.sessionKey(A: SRP.N, B: 5, b: 7, verifier: 9) == nil)
        #expect(SRP.sessionKey(A: SRP.N * 2, B: 5, b: 7, verifier: 9) == nil)
    }

    @Test("timestamps in Cognito's form round-trip, day not zero-padded")
    func timestamps() throws {
        let date = try #require(SRP.parseTimestamp("Sun Nov 1 08:03:09 UTC 2026"))
        #expect(SRP.timestamp(date) == "Sun Nov 1 08:03:09 UTC 2026")
        #expect(SRP.parseTimestamp("Sun Nov 01 08:03:09 UTC 2026") == date)
        #expect(SRP.parseTimestamp("yesterday") == nil)
    }

    @Test("the padded form adds a zero byte only when the top bit is set")
    func padding() {
        #expect(SRP.padded(BigUInt(0x7F)) == [0x7F])
        #expect(SRP.padded(BigUInt(0x80)) == [0x00, 0x80])
        #expect(SRP.padded(BigUInt(0x0180)) == [0x01, 0x80])
    }
}

@Suite("Montgomery powers")
struct MontgomeryTests {
    @Test("agree with BigUInt's power for random bases and exponents, and the edge cases")
    func agree() {
        var generator = SystemRandomNumberGenerator()
        let field = MontgomeryModulus(SRP.N)
        for bits in [1, 17, 64, 256, 1024] {
            let base = BigUInt.randomInteger(withMaximumWidth: 3100, using: &generator)
            let exponent = BigUInt.randomInteger(withMaximumWidth: bits, using: &generator)
            #expect(field.power(base, exponent) == base.power(exponent, modulus: SRP.N))
        }
        #expect(field.power(SRP.N - 1, 2) == 1)
        #expect(field.power(SRP.N + 5, 1) == 5)
        #expect(field.power(12345, 0) == 1)
        #expect(field.power(0, 7) == 0)
        let small = MontgomeryModulus(BigUInt(1_000_003))
        #expect(small.power(2, 1_000_002) == 1)
    }
}
