import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import SigV4

/// One call to an AWS API, before signing.
public struct AWSRequest: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// A byte range of a file, streamed from disk when sent (and again on each retry).
        case file(path: String, offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .empty: 0
            case .bytes(let bytes): Int64(bytes.count)
            case .file(_, _, let length): length
            }
        }
    }

    /// The signing name: `s3`, `cloudfront`, `sts`.
    public var service: String
    public var region: String
    public var endpoint: Endpoint
    public var method: String
    /// The decoded path under the endpoint.
    public var path: String
    public var query: [SignableRequest.QueryItem] = []
    public var headers: [SignableRequest.Header] = []
    public var body: Body = .empty
    /// SHA-256 of the body in hex, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String = Signer.emptyPayloadHash
    /// Sign it (false only for STS AssumeRoleWithWebIdentity, which the token authorises).
    public var signed = true
    /// What is being done, for errors and logs ("PUT s3://bucket/key").
    public var operation: String
    /// The IAM permission the call needs, named in its error if AWS refuses it.
    public var permission: Permission?

    public init(service: String, region: String, endpoint: Endpoint, method: String, path: String,
                query: [SignableRequest.QueryItem] = [], headers: [SignableRequest.Header] = [],
                body: Body = .empty, payloadHash: String = Signer.emptyPayloadHash, signed: Bool = true,
                operation: String, permission: Permission? = nil) {
        self.service = service
        self.region = region
        self.endpoint = endpoint
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.payloadHash = payloadHash
        self.signed = signed
        self.operation = operation
        self.permission = permission
    }
}

/// A complete answer: status, headers and the (small) body.
public struct AWSResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }
}

/// A request that could not be completed at the HTTP level (connection refused or reset, timeout)
/// after every retry.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var endpoint: String
    public var reason: String
    public var attempts: Int
    public var description: String { "\(operation): could not reach \(endpoint) after \(attempts) attempts: \(reason)" }
}

/// The server's clock as seen from here: AWS refuses signatures more than 15 minutes off, so when a
/// service says `RequestTimeTooSkewed` the offset from its `Date` header is applied to later signatures.
public actor ServerClock {
    public private(set) var offsetSeconds: Int64 = 0

    public init() {}

    public func now() -> Timestamp {
        Timestamp(secondsSince1970: Timestamp.now.secondsSince1970 + offsetSeconds)
    }

    /// Adopts the server's time; returns false when it could not be read from the answer.
    func adjust(serverDate: String?, serverTime: String?) -> Bool {
        let server = serverDate.flatMap(parseHTTPDate) ?? serverTime.flatMap { Timestamp(iso8601: $0) }
        guard let server else { return false }
        offsetSeconds = server.secondsSince1970 - Timestamp.now.secondsSince1970
        return true
    }
}

/// What the transport did, for the summary: requests by method and retries.
public actor RequestCounter {
    public private(set) var byMethod: [String: Int] = [:]
    public private(set) var retries = 0

    public init() {}

    func record(method: String) { byMethod[method, default: 0] += 1 }
    func recordRetry() { retries += 1 }
}

/// Signs, sends and retries AWS requests over one shared HTTP client.
public final class AWSTransport: Sendable {
    let http: HTTPClient
    let credentials: @Sendable () async throws -> Credentials
    public let clock: ServerClock
    public let counter: RequestCounter
    let retry: RetryPolicy

    public init(http: HTTPClient, retry: RetryPolicy = .standard, clock: ServerClock = ServerClock(),
                counter: RequestCounter = RequestCounter(), credentials: @escaping @Sendable () async throws -> Credentials) {
        self.http = http
        self.retry = retry
        self.clock = clock
        self.counter = counter
        self.credentials = credentials
    }

    /// The HTTP client `site publish` uses: connections reused, `concurrency` of them per host.
    public static func makeHTTPClient(concurrency: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: .seconds(10), read: .seconds(60)))
        configuration.connectionPool = .init(idleTimeout: .seconds(30),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, concurrency))
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `request`, retrying service failures (5xx, `SlowDown`, throttling) and transport failures
    /// with jittered backoff, and correcting the clock on `RequestTimeTooSkewed`. A 2xx/3xx answer is
    /// returned; anything else is thrown as `AWSError`.
    public func send(_ request: AWSRequest) async throws -> AWSResponse {
        var attempt = 0
        var skewCorrected = false
        while true {
            attempt += 1
            try Task.checkCancellation()
            do {
                let response = try await sendOnce(request)
                if response.status < 400 { return response }
                var error = AWSError.parse(status: response.status, headers: response.headers, body: response.body,
                                           operation: request.operation)
                error.permission = request.permission
                if error.isClockSkew, !skewCorrected,
                   await clock.adjust(serverDate: response.header("date"), serverTime: error.serverTime) {
                    skewCorrected = true
                    attempt -= 1
                    continue
                }
                guard error.isRetryable, attempt < retry.maxAttempts else { throw error }
            } catch let error as AWSError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < retry.maxAttempts else {
                    throw TransportError(operation: request.operation, endpoint: request.endpoint.description,
                                         reason: "\(error)", attempts: attempt)
                }
            }
            await counter.recordRetry()
            let delay = retry.delay(forRetry: attempt, random: Double.random(in: 0..<1))
            try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
        }
    }

    private func sendOnce(_ request: AWSRequest) async throws -> AWSResponse {
        var signable = SignableRequest(method: request.method, path: request.endpoint.basePath + request.path,
                                       query: request.query, headers: request.headers)
        signable.headers.insert(.init("Host", request.endpoint.hostHeader), at: 0)
        if request.signed {
            let signer = Signer(credentials: try await credentials(), region: request.region, service: request.service)
            // x-amz-content-sha256 is required by S3 and accepted by every other service; signing
            // it everywhere lets S3-compatible peers that check it for all services verify us.
            signer.sign(&signable, payloadHash: request.payloadHash, at: await clock.now(),
                        contentSHA256Header: true)
        }
        var outgoing = HTTPClientRequest(url: "\(request.endpoint.scheme)://\(request.endpoint.hostHeader)\(signable.target)")
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in signable.headers { outgoing.headers.add(name: header.name, value: header.value) }
        switch request.body {
        case .empty:
            if request.method == "PUT" || request.method == "POST" { outgoing.body = .bytes(ByteBuffer()) }
        case .bytes(let bytes):
            outgoing.body = .bytes(ByteBuffer(bytes: bytes))
        case .file(let path, let offset, let length):
            outgoing.body = .stream(FileChunks(path: path, offset: offset, length: length), length: .known(length))
        }
        await counter.record(method: request.method)
        // Slow links get time in proportion to the body: a minute plus a second per 256 KiB.
        let seconds = 60 + request.body.length / 262_144
        let response = try await http.execute(outgoing, timeout: .seconds(seconds))
        let body = try await response.body.collect(upTo: 64 << 20)
        return AWSResponse(status: Int(response.status.code),
                           headers: response.headers.map { ($0.name, $0.value) },
                           body: Array(buffer: body))
    }
}

/// A file range read in 256 KiB chunks as it is sent, so memory stays flat for any size.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        var reader: FileRangeReader

        mutating func next() async throws -> ByteBuffer? {
            do {
                guard let chunk = try reader.next(maximum: 262_144) else {
                    reader.close()
                    return nil
                }
                return ByteBuffer(bytes: chunk)
            } catch {
                reader.close()
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: FileRangeReader(path: path, position: offset, end: offset + length))
    }
}

/// Reads a byte range of a file in chunks with `pread`, opening the file on the first read.
public struct FileRangeReader {
    public let path: String
    public private(set) var position: Int64
    public let end: Int64
    private var descriptor: Int32 = -1

    public init(path: String, position: Int64, end: Int64) {
        self.path = path
        self.position = position
        self.end = end
    }

    /// The next chunk of at most `maximum` bytes, or nil at the end of the range.
    public mutating func next(maximum: Int) throws -> [UInt8]? {
        guard position < end else { return nil }
        if descriptor < 0 {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw FileReadError(path: path, errno: errno) }
        }
        let count = Int(Swift.min(Int64(maximum), end - position))
        var chunk = [UInt8](repeating: 0, count: count)
        let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(position)) }
        guard read > 0 else { throw FileReadError(path: path, errno: read < 0 ? errno : EIO) }
        position += Int64(read)
        return read == count ? chunk : Array(chunk[0..<read])
    }

    public mutating func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}

/// A file that could not be opened or read, with the system's reason.
public struct FileReadError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
}

/// Parses an HTTP date (`Tue, 24 Nov 2026 21:43:09 GMT`).
func parseHTTPDate(_ text: String) -> Timestamp? {
    let parts = text.split(separator: " ")
    guard parts.count == 6, let day = Int64(parts[1]), let year = Int64(parts[3]) else { return nil }
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
    let time = parts[4].split(separator: ":").compactMap { Int64($0) }
    guard time.count == 3 else { return nil }
    func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    let amz = padded(year, 4) + padded(Int64(month + 1), 2) + padded(day, 2) + "T" + time.map { padded($0, 2) }.joined() + "Z"
    return Timestamp(amzDate: amz)
}
