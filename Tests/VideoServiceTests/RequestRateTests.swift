import Foundation
import Synchronization
import Testing
@testable import VideoService

/// Buckets in memory: the arithmetic of `RequestRate.take` with a dictionary as the store.
final class MemoryRates: RequestRateStore {
    let fullAt = Mutex<[String: Int64]>([:])
    func take(sub: String, rate: RequestRate, now: Int64) async throws -> RateDecision {
        fullAt.withLock { table in
            let decision = rate.take(fullAt: table[sub], now: now)
            if case .allowed(let next) = decision { table[sub] = next }
            return decision
        }
    }
}

/// A clock the test moves by hand, in milliseconds.
final class TestClock: Sendable {
    let time = Mutex<Int64>(1_700_000_000_000)
    var now: Int64 { time.withLock { $0 } }
    func advance(_ milliseconds: Int64) { time.withLock { $0 += milliseconds } }
}

@Suite("Per-user request rate")
struct RequestRateTests {
    let rate = RequestRate(capacity: 3, perSecond: 2)
    let start: Int64 = 1_700_000_000_000

    /// Takes calls at `now` until one is refused; answers how many passed and the refusal.
    func burst(_ rate: RequestRate, fullAt: inout Int64?, now: Int64) -> (passed: Int, retryAfter: Int64?) {
        var passed = 0
        while passed < 1000 {
            switch rate.take(fullAt: fullAt, now: now) {
            case .allowed(let next): fullAt = next; passed += 1
            case .refused(let seconds): return (passed, seconds)
            }
        }
        return (passed, nil)
    }

    @Test func aFreshBucketLetsCapacityCallsThroughThenRefusesWithRetryAfter() {
        var fullAt: Int64?
        let (passed, retryAfter) = burst(rate, fullAt: &fullAt, now: start)
        #expect(passed == 3)
        #expect(retryAfter == 1)
        #expect(fullAt == start + 1500)
        #expect(rate.tokens(fullAt: fullAt, now: start) == 0)
    }

    @Test func theBucketRefillsAtTheRateAndOneIntervalBringsOneCallBack() {
        var fullAt: Int64?
        _ = burst(rate, fullAt: &fullAt, now: start)
        #expect(rate.take(fullAt: fullAt, now: start + 499) == .refused(retryAfter: 1))
        #expect(rate.take(fullAt: fullAt, now: start + 500) == .allowed(fullAt: start + 2000))
        #expect(rate.tokens(fullAt: fullAt, now: start + 1000) == 2)
        // After a second, two calls are back: exactly two pass.
        #expect(burst(rate, fullAt: &fullAt, now: start + 1000).passed == 2)
    }

    @Test func aLongPauseRefillsNoMoreThanTheCapacity() {
        var fullAt: Int64?
        _ = burst(rate, fullAt: &fullAt, now: start)
        let later = start + 3_600_000
        #expect(rate.tokens(fullAt: fullAt, now: later) == 3)
        #expect(burst(rate, fullAt: &fullAt, now: later).passed == 3)
    }

    @Test func retryAfterIsTheWholeSecondsUntilATokenIsBack() {
        // One call a second: an empty bucket waits up to a second, rounded up to whole seconds.
        let slow = RequestRate(capacity: 2, perSecond: 1)
        #expect(slow.longestWait == 1)
        var fullAt: Int64?
        _ = burst(slow, fullAt: &fullAt, now: start)
        #expect(slow.take(fullAt: fullAt, now: start + 1) == .refused(retryAfter: 1))
        #expect(slow.take(fullAt: fullAt, now: start + 1000) == .allowed(fullAt: start + 3000))
        // A refusal never waits longer than `longestWait`, the bound DynamoDB's refusal answers.
        for step in stride(from: Int64(0), to: 1000, by: 37) {
            if case .refused(let seconds) = rate.take(fullAt: start + 1500, now: start + step) {
                #expect(seconds <= rate.longestWait)
            }
        }
    }

    @Test func theDefaultsKeepUpWithAnUploadsPartCalls() {
        // A 50 GiB file: 800 parts of 64 MiB, one part-URL call each (besides start and
        // completion); at 1 Gbit/s a part takes about 0.54 s, under 1 call per second.
        let person = RequestRate.person
        var fullAt: Int64?
        var now = start
        for _ in 0..<802 {
            guard case .allowed(let next) = person.take(fullAt: fullAt, now: now) else { Issue.record("refused"); return }
            fullAt = next
            now += 540
        }
        // A library page and four uploads starting at once (4 look-ahead calls each).
        #expect(burst(person, fullAt: &fullAt, now: now).passed >= 20)
    }

    @Test func settingsComeFromTheEnvironment() throws {
        #expect(try RequestRate.from(environment: [:]) == .person)
        #expect(try RequestRate.from(environment: ["RATE_LIMIT_CAPACITY": "5", "RATE_LIMIT_PER_SECOND": ""])
                == RequestRate(capacity: 5, perSecond: RequestRate.person.perSecond))
        #expect(throws: LimitSettingError.self) { try RequestRate.from(environment: ["RATE_LIMIT_PER_SECOND": "0"]) }
    }

    func request(_ sub: String) -> VideoRequest {
        VideoRequest(method: "GET", path: "/videos", query: [], headers: [("X-Test-Sub", sub)], body: [])
    }

    @Test func theServiceAnswers429WithRetryAfterPerUserBeforeTheRoutesWork() async throws {
        let clock = TestClock()
        let library = MemoryLibrary()
        let service = VideoService(identity: FixedIdentity(), library: library, storage: MemoryStorage(), media: nil,
                                   rateLimit: RateLimit(rate: rate, store: MemoryRates(), now: { clock.now }))
        for _ in 0..<3 { #expect(await service.handle(request(alice)).status == 200) }
        let refused = await service.handle(request(alice))
        #expect(refused.status == 429)
        #expect(refused.headers["Retry-After"] == "1")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(refused.body)) as? [String: [String: String]])
        #expect(body["error"]?["code"] == "TooManyRequests")
        #expect(await service.handle(request(bob)).status == 200)
        clock.advance(500)
        #expect(await service.handle(request(alice)).status == 200)
        // A call without identity is refused as before, and spends nothing.
        let anonymous = VideoRequest(method: "GET", path: "/videos", query: [], headers: [], body: [])
        #expect(await service.handle(anonymous).status == 401)
    }
}
