import Foundation

/// Limits for one exchange over TCP: how long to wait, how much to read.
public struct SocketLimits: Sendable, Hashable {
    public var connectTimeout: Double
    /// From the request sent to the end of the reply.
    public var readTimeout: Double
    public var maxReplyBytes: Int

    public init(connectTimeout: Double = 2, readTimeout: Double = 3, maxReplyBytes: Int = 1 << 20) {
        (self.connectTimeout, self.readTimeout, self.maxReplyBytes) = (connectTimeout, readTimeout, maxReplyBytes)
    }

    public static let standard = SocketLimits()
}

/// One request/reply exchange over a TCP socket: connect with a deadline, write, read until the peer closes.
///
/// Plain Glibc sockets (no FoundationNetworking, which would link libcurl into the static binary). Every
/// wait is bounded: a peer that never answers, answers forever or answers 10 MB ends in a named error.
public enum SocketClient {
    public static func exchange(
        _ request: Data, with endpoint: Endpoint, command: String, limits: SocketLimits, connector: any ServerConnector = PlaintextConnector()
    ) -> Result<Data, ZooKeeperError> {
        let connection: any ServerConnection
        switch connector.connect(endpoint, timeout: limits.connectTimeout) {
        case .success(let opened): connection = opened
        case .failure(let error): return .failure(error)
        }
        defer { connection.close() }
        let deadline = Date().addingTimeInterval(limits.readTimeout)
        func failed(_ failure: ConnectionFailure, received: Int) -> ZooKeeperError {
            switch failure {
            case .timedOut: return .readTimedOut(endpoint: endpoint.description, command: command, seconds: limits.readTimeout, receivedBytes: received)
            case .reset: return .io(endpoint: endpoint.description, reason: ZooKeeperError.peerReset)
            case .failed(let reason): return .io(endpoint: endpoint.description, reason: reason)
            case .tls(let failure, let detail): return .tls(endpoint: endpoint.description, failure: failure, detail: detail)
            }
        }
        if case .failure(let failure) = connection.send([UInt8](request), until: deadline) { return .failure(failed(failure, received: 0)) }
        var reply = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            switch connection.receive(into: buffer, until: deadline) {
            case .success(0): return .success(reply)
            case .success(let count): reply.append(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
            case .failure(.reset) where !reply.isEmpty: return .success(reply)
            case .failure(let failure): return .failure(failed(failure, received: reply.count))
            }
            if reply.count > limits.maxReplyBytes {
                return .failure(.oversized(endpoint: endpoint.description, command: command, limit: limits.maxReplyBytes))
            }
        }
    }

    /// Waits for `events` on `fd` until `deadline`; false on timeout.
    public static func waitFor(_ fd: Int32, events: Int16, until deadline: Date) -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    /// A non-blocking connect, waited for with poll: a filtered port fails after `timeout`, not minutes.
    public static func connect(_ endpoint: Endpoint, timeout: Double) -> Result<Int32, ZooKeeperError> {
        let addresses: UnsafeMutablePointer<addrinfo>
        switch addressList(endpoint) {
        case .success(let list): addresses = list
        case .failure(let error): return .failure(error)
        }
        defer { freeaddrinfo(addresses) }
        let first = addresses
        let deadline = Date().addingTimeInterval(timeout)
        var lastError = ZooKeeperError.connectionRefused(endpoint: endpoint.description)
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let rc = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            if rc == 0 { return .success(fd) }
            guard errno == EINPROGRESS else {
                lastError =
                    errno == ECONNREFUSED
                    ? .connectionRefused(endpoint: endpoint.description)
                    : .io(endpoint: endpoint.description, reason: "connect failed: \(String(cString: strerror(errno)))")
                close(fd)
                continue
            }
            guard waitFor(fd, events: Int16(POLLOUT), until: deadline) else {
                close(fd)
                return .failure(.connectTimedOut(endpoint: endpoint.description, seconds: timeout))
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return .success(fd) }
            lastError =
                soError == ECONNREFUSED
                ? .connectionRefused(endpoint: endpoint.description)
                : .io(endpoint: endpoint.description, reason: "connect failed: \(String(cString: strerror(soError)))")
            close(fd)
        }
        return .failure(lastError)
    }

    /// One request to one endpoint, for `exchangeAll`.
    public struct Request: Sendable {
        public var data: Data
        public var endpoint: Endpoint
        public var command: String

        public init(_ data: Data, to endpoint: Endpoint, command: String) { (self.data, self.endpoint, self.command) = (data, endpoint, command) }
    }

    /// Every exchange at once from this thread: all connects started, then one poll over every socket until
    /// each reply is whole, failed or out of time. The same limits and errors as `exchange`, without a thread
    /// per exchange (a status of 3 servers asks 12 words; threads on 2 cores ran them in waves).
    ///
    /// A host name with several addresses is asked through `exchange` (which tries each address in turn).
    /// A connector other than plaintext TCP (TLS) is asked one exchange per thread through `exchange`.
    public static func exchangeAll(
        _ requests: [Request], limits: SocketLimits, connector: any ServerConnector = PlaintextConnector()
    ) -> [Result<Data, ZooKeeperError>] {
        guard connector.isPlaintext else {
            return Parallel.map(requests) { exchange($0.data, with: $0.endpoint, command: $0.command, limits: limits, connector: connector) }
        }
        var results = [Result<Data, ZooKeeperError>?](repeating: nil, count: requests.count)
        var exchanges: [Exchange] = []
        var elsewhere: [Int] = []
        let started = Date()
        for (index, request) in requests.enumerated() {
            switch startConnect(request.endpoint) {
            case .failure(let error): results[index] = .failure(error)
            case .success(nil): elsewhere.append(index)
            case .success(let fd?):
                exchanges.append(Exchange(index: index, fd: fd, request: request, deadline: started.addingTimeInterval(limits.connectTimeout)))
            }
        }
        // Names with several addresses go through `exchange` on threads of their own, meanwhile.
        let others = ResultSlots<Result<Data, ZooKeeperError>>(count: elsewhere.count)
        let group = DispatchGroup()
        for (slot, index) in elsewhere.enumerated() {
            group.enter()
            let request = requests[index]
            Thread.detachNewThread {
                others.set(slot, exchange(request.data, with: request.endpoint, command: request.command, limits: limits))
                group.leave()
            }
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 8)
        defer { buffer.deallocate() }
        while !exchanges.isEmpty {
            let now = Date()
            let nearest = exchanges.map(\.deadline).min()!
            var entries = exchanges.map { pollfd(fd: $0.fd, events: Int16($0.stage == .reading ? POLLIN : POLLOUT), revents: 0) }
            let ready = poll(&entries, nfds_t(entries.count), Int32(max(0, min(nearest.timeIntervalSince(now) * 1000, 1000)).rounded(.up)))
            if ready < 0 && errno != EINTR { break }
            var still: [Exchange] = []
            for (position, var current) in exchanges.enumerated() {
                let events = entries[position].revents
                if events != 0, let outcome = current.advance(events: events, buffer: buffer, limits: limits) {
                    close(current.fd)
                    results[current.index] = outcome
                } else if Date() >= current.deadline {
                    close(current.fd)
                    results[current.index] = current.timedOut(limits)
                } else {
                    still.append(current)
                }
            }
            exchanges = still
        }
        for current in exchanges { close(current.fd) }
        group.wait()
        for (slot, index) in elsewhere.enumerated() { results[index] = others.values[slot] }
        return results.enumerated().map { index, result in
            result ?? .failure(.io(endpoint: requests[index].endpoint.description, reason: "poll failed: \(String(cString: strerror(errno)))"))
        }
    }

    /// The endpoint's addresses (free them with freeaddrinfo). A literal address needs no resolver: skipping
    /// NSS saves milliseconds on every probe.
    private static func addressList(_ endpoint: Endpoint) -> Result<UnsafeMutablePointer<addrinfo>, ZooKeeperError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var scratch = in6_addr()
        if inet_pton(AF_INET, endpoint.host, &scratch) == 1 || inet_pton(AF_INET6, endpoint.host, &scratch) == 1 {
            hints.ai_flags = AI_NUMERICHOST
        }
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(.resolveFailed(host: endpoint.host, reason: String(cString: gai_strerror(status))))
        }
        return .success(first)
    }

    /// A socket connecting to the endpoint's only address (nil: it has several, or none could be made).
    private static func startConnect(_ endpoint: Endpoint) -> Result<Int32?, ZooKeeperError> {
        let info: UnsafeMutablePointer<addrinfo>
        switch addressList(endpoint) {
        case .success(let list): info = list
        case .failure(let error): return .failure(error)
        }
        defer { freeaddrinfo(info) }
        guard info.pointee.ai_next == nil else { return .success(nil) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard fd >= 0 else { return .success(nil) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 || errno == EINPROGRESS { return .success(fd) }
        let failure: ZooKeeperError =
            errno == ECONNREFUSED
            ? .connectionRefused(endpoint: endpoint.description)
            : .io(endpoint: endpoint.description, reason: "connect failed: \(String(cString: strerror(errno)))")
        close(fd)
        return .failure(failure)
    }

    /// One exchange in `exchangeAll`: connecting, then sending, then reading until the peer closes.
    private struct Exchange {
        enum Stage { case connecting, sending, reading }
        var index: Int
        var fd: Int32
        var request: Request
        var deadline: Date
        var stage = Stage.connecting
        var sent = 0
        var reply = Data()

        init(index: Int, fd: Int32, request: Request, deadline: Date) { (self.index, self.fd, self.request, self.deadline) = (index, fd, request, deadline) }

        var endpoint: String { request.endpoint.description }

        func timedOut(_ limits: SocketLimits) -> Result<Data, ZooKeeperError> {
            stage == .connecting
                ? .failure(.connectTimedOut(endpoint: endpoint, seconds: limits.connectTimeout))
                : .failure(.readTimedOut(endpoint: endpoint, command: request.command, seconds: limits.readTimeout, receivedBytes: reply.count))
        }

        /// Moves on after poll said `events`; the outcome when the exchange is over.
        mutating func advance(events: Int16, buffer: UnsafeMutableRawPointer, limits: SocketLimits) -> Result<Data, ZooKeeperError>? {
            if stage == .connecting {
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                guard soError == 0 else {
                    return .failure(
                        soError == ECONNREFUSED
                            ? .connectionRefused(endpoint: endpoint)
                            : .io(endpoint: endpoint, reason: "connect failed: \(String(cString: strerror(soError)))"))
                }
                stage = .sending
                deadline = Date().addingTimeInterval(limits.readTimeout)
            }
            if stage == .sending {
                let written = request.data.withUnsafeBytes { raw in send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL)) }
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { return nil }
                    return .failure(.io(endpoint: endpoint, reason: "send failed: \(String(cString: strerror(errno)))"))
                }
                sent += written
                if sent == request.data.count { stage = .reading }
                return nil
            }
            let count = recv(fd, buffer, 65_536, 0)
            if count == 0 { return .success(reply) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { return nil }
                if errno == ECONNRESET && !reply.isEmpty { return .success(reply) }
                return .failure(.io(endpoint: endpoint, reason: "read failed: \(String(cString: strerror(errno)))"))
            }
            reply.append(buffer.assumingMemoryBound(to: UInt8.self), count: count)
            return reply.count > limits.maxReplyBytes ? .failure(.oversized(endpoint: endpoint, command: request.command, limit: limits.maxReplyBytes)) : nil
        }
    }
}
