/// Jittered exponential backoff ("full jitter"): attempt n waits a random time in
/// [0, min(cap, base × 2ⁿ)], so many clients retrying at once spread out instead of colliding.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseSeconds: Double
    public var capSeconds: Double

    public static let standard = RetryPolicy(maxAttempts: 8, baseSeconds: 0.1, capSeconds: 8)

    public init(maxAttempts: Int, baseSeconds: Double, capSeconds: Double) {
        self.maxAttempts = maxAttempts
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// The longest wait before retry number `retry` (1 for the first retry).
    public func ceiling(forRetry retry: Int) -> Double {
        min(capSeconds, baseSeconds * Double(1 << min(retry, 30)))
    }

    /// The wait before retry number `retry`, given a uniform random number in [0, 1).
    public func delay(forRetry retry: Int, random: Double) -> Double {
        ceiling(forRetry: retry) * random
    }
}
