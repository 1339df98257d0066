import Testing

@testable import MetaProtocol

@Suite("Circuit breakers and retries")
struct CircuitBreakerTests {
    @Test func defaultsAreEnvoys() {
        let t = CircuitBreakerThresholds()
        #expect([t.maxConnections, t.maxPendingRequests, t.maxRequests, t.maxRetries] == [1024, 1024, 1024, 3])
    }

    @Test func limitsAreNeverExceededAndEachRefusalIsCountedOnce() {
        var breaker = CircuitBreaker(CircuitBreakerThresholds(maxConnections: 2, maxPendingRequests: 3, maxRequests: 4, maxRetries: 1))
        var random = SeededRandom(seed: 3)
        var expectedOverflows = [0, 0, 0, 0]
        for _ in 0..<10_000 {
            let resource = CircuitBreaker.Resource(rawValue: random.nextIndex(4))!
            if random.next() % 2 == 0 {
                let fits = breaker.inUse(resource) < breaker.limit(resource)
                let took = breaker.tryTake(resource)
                #expect(took == fits)
                if !fits { expectedOverflows[resource.rawValue] += 1 }
            } else if breaker.inUse(resource) > 0 {
                breaker.release(resource)
            }
            for r in CircuitBreaker.Resource.allCases { #expect(breaker.inUse(r) <= breaker.thresholds.maxValue(r)) }
        }
        #expect(breaker.overflows == expectedOverflows)
        #expect(breaker.highWater == [2, 3, 4, 1])
    }

    @Test func retryBudgetScalesWithTheLoad() {
        let budget = RetryBudget()
        #expect(budget.allowedRetries(active: 0, pending: 0) == 3)
        #expect(budget.allowedRetries(active: 10, pending: 5) == 3)
        #expect(budget.allowedRetries(active: 100, pending: 0) == 20)
        #expect(budget.allowedRetries(active: 80, pending: 70) == 30)
        var breaker = CircuitBreaker(CircuitBreakerThresholds(maxRetries: 1, retryBudget: budget))
        for _ in 0..<100 { _ = breaker.tryTake(.requests) }
        #expect(breaker.inUse(.requests) == 100)
        var granted: [Bool] = []
        for _ in 0..<25 { granted.append(breaker.tryTake(.retries)) }
        #expect(granted == Array(repeating: true, count: 20) + Array(repeating: false, count: 5))
        #expect(breaker.overflows(.retries) == 5)
    }

    @Test func backoffIsFullyJitteredExponential() {
        let policy = RetryPolicy(backoffBase: .milliseconds(25))
        #expect(policy.backoffMax == .milliseconds(250))
        var random = SeededRandom(seed: 9)
        // n-th retry: uniform in [0, min(250 ms, (2^n - 1) · 25 ms)).
        for (retry, ceiling) in [(1, 25.0), (2, 75.0), (3, 175.0), (4, 250.0), (10, 250.0)] {
            let n = 40_000
            var sum = 0.0
            for _ in 0..<n {
                let ms = Double(policy.backoff(retry: retry, random: &random).nanoseconds) / 1e6
                #expect(ms >= 0 && ms < ceiling)
                sum += ms
            }
            // Mean of U(0, c) is c/2 with standard error c/√(12n); allow 4 of them.
            #expect(abs(sum / Double(n) - ceiling / 2) < 4 * ceiling / (12 * Double(n)).squareRoot())
        }
    }
}

extension CircuitBreakerThresholds {
    func maxValue(_ r: CircuitBreaker.Resource) -> Int {
        switch r {
        case .connections: maxConnections
        case .pendingRequests: maxPendingRequests
        case .requests: maxRequests
        case .retries: retryBudget == nil ? maxRetries : Int.max
        }
    }
}
