import BigInt

/// Modular exponentiation for one fixed odd modulus with Montgomery multiplication over 64-bit
/// limbs (the CIOS method) and a 4-bit window. SRP's 3072-bit powers are the cost of every
/// sign-in; BigUInt's generic `power(_:modulus:)` divides at every step and is about ten times slower.
struct MontgomeryModulus: Sendable {
    let modulus: BigUInt
    /// The modulus's limbs, least significant first.
    let limbs: [UInt64]
    /// −modulus⁻¹ mod 2⁶⁴.
    let inverse: UInt64
    /// R² mod modulus, where R = 2^(64·limbs.count): multiplying by it enters Montgomery form.
    let rSquared: [UInt64]

    init(_ modulus: BigUInt) {
        precondition(modulus > 1 && modulus[bitAt: 0], "the Montgomery modulus must be odd")
        self.modulus = modulus
        limbs = modulus.words.map { UInt64($0) }
        // Newton's iteration doubles the correct low bits each step: 1 → 2 → … → 64.
        var inverse: UInt64 = 1
        for _ in 0..<6 { inverse = inverse &* (2 &- limbs[0] &* inverse) }
        self.inverse = 0 &- inverse
        let r2 = (BigUInt(1) << (2 * 64 * limbs.count)) % modulus
        rSquared = Self.pad(r2, to: limbs.count)
    }

    static func pad(_ value: BigUInt, to count: Int) -> [UInt64] {
        var words = value.words.map { UInt64($0) }
        words.append(contentsOf: repeatElement(0, count: max(0, count - words.count)))
        return Array(words.prefix(count))
    }

    /// a·b·R⁻¹ mod modulus, for a and b below the modulus (Montgomery form in, Montgomery form out).
    func multiply(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        let count = limbs.count
        var t = [UInt64](repeating: 0, count: count + 2)
        t.withUnsafeMutableBufferPointer { t in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    limbs.withUnsafeBufferPointer { n in
                        for i in 0..<count {
                            // t += a · b[i]  (a 128-bit accumulator keeps the carries branch-free)
                            let bi = UInt128(b[i])
                            var carry: UInt128 = 0
                            for j in 0..<count {
                                let sum = UInt128(a[j]) &* bi &+ UInt128(t[j]) &+ carry
                                t[j] = UInt64(truncatingIfNeeded: sum)
                                carry = sum &>> 64
                            }
                            let top = UInt128(t[count]) &+ carry
                            t[count] = UInt64(truncatingIfNeeded: top)
                            t[count + 1] = UInt64(truncatingIfNeeded: top &>> 64)
                            // t = (t + m · n) / 2⁶⁴, with m chosen so the low limb becomes 0.
                            let m = UInt128(t[0] &* inverse)
                            carry = (m &* UInt128(n[0]) &+ UInt128(t[0])) &>> 64
                            for j in 1..<count {
                                let sum = m &* UInt128(n[j]) &+ UInt128(t[j]) &+ carry
                                t[j - 1] = UInt64(truncatingIfNeeded: sum)
                                carry = sum &>> 64
                            }
                            let last = UInt128(t[count]) &+ carry
                            t[count - 1] = UInt64(truncatingIfNeeded: last)
                            t[count] = t[count + 1] &+ UInt64(truncatingIfNeeded: last &>> 64)
                        }
                    }
                }
            }
        }
        var result = Array(t[0..<count])
        if t[count] != 0 || !isBelowModulus(result) { subtractModulus(&result) }
        return result
    }

    private func isBelowModulus(_ value: [UInt64]) -> Bool {
        for index in stride(from: limbs.count - 1, through: 0, by: -1) where value[index] != limbs[index] {
            return value[index] < limbs[index]
        }
        return false
    }

    private func subtractModulus(_ value: inout [UInt64]) {
        var borrow = false
        for index in 0..<limbs.count {
            let (difference1, overflow1) = value[index].subtractingReportingOverflow(limbs[index])
            let (difference2, overflow2) = difference1.subtractingReportingOverflow(borrow ? 1 : 0)
            value[index] = difference2
            borrow = overflow1 || overflow2
        }
    }

    /// base^exponent mod modulus.
    func power(_ base: BigUInt, _ exponent: BigUInt) -> BigUInt {
        let count = limbs.count
        let one = multiply(Self.pad(1, to: count), rSquared)
        guard exponent > 0 else { return 1 % modulus }
        // table[k] = base^k in Montgomery form, k < 16.
        var table = [one, multiply(Self.pad(base % modulus, to: count), rSquared)]
        for k in 2..<16 { table.append(multiply(table[k - 1], table[1])) }
        var result = one
        let bits = exponent.bitWidth
        var position = ((bits + 3) / 4) * 4
        while position > 0 {
            position -= 4
            for _ in 0..<4 { result = multiply(result, result) }
            var window = 0
            for bit in 0..<4 where exponent[bitAt: position + bit] { window |= 1 << bit }
            if window != 0 { result = multiply(result, table[window]) }
        }
        let plain = multiply(result, Self.pad(1, to: count))
        return BigUInt(words: plain.map { UInt($0) })
    }
}
