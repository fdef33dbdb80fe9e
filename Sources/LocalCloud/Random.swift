/// `count` bytes from the system's cryptographically secure generator: ids, salts, secrets,
/// session handles and SRP's secret exponent all come from here.
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}
