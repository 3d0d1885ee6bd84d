import Foundation
import ZKRunbookZooKeeper

/// Limits and choices for one client session.
public struct ClientOptions: Sendable {
    /// What the client asks for; the server settles it between 2 and 20 ticks.
    public var sessionTimeout: Double
    public var connectTimeout: Double
    /// From a request sent to its reply.
    public var requestTimeout: Double
    /// The largest reply accepted: ZooKeeper's own jute.maxbuffer (0xfffff) and a margin for the headers.
    public var maxReplyBytes: Int
    /// What carries the session's bytes (plaintext TCP unless told otherwise).
    public var connector: any ServerConnector
    /// Who the session authenticates as with SASL, right after each handshake (nil: no SASL).
    public var sasl: SASLIdentity?

    public init(
        sessionTimeout: Double = 10, connectTimeout: Double = 3, requestTimeout: Double = 10, maxReplyBytes: Int = 0xFFFFF + 4096,
        connector: any ServerConnector = PlaintextConnector(), sasl: SASLIdentity? = nil
    ) {
        self.sasl = sasl
        self.sessionTimeout = min(max(sessionTimeout, 1), 600)
        self.connectTimeout = min(max(connectTimeout, 0.1), 60)
        self.requestTimeout = min(max(requestTimeout, 0.1), 600)
        self.maxReplyBytes = max(maxReplyBytes, 1024)
        self.connector = connector
    }
}

/// One operation of a `multi`: all of them are applied, or none.
public enum MultiOp: Sendable {
    case create(path: String, data: [UInt8], acl: [ACL] = ACL.openUnsafe, mode: CreateMode = .persistent)
    case delete(path: String, version: Int32 = -1)
    case setData(path: String, data: [UInt8], version: Int32 = -1)
    /// Fails the whole multi unless the znode has this version.
    case check(path: String, version: Int32)
}

/// What one operation of a `multi` came to.
public enum MultiResult: Sendable, Equatable {
    case created(path: String)
    case deleted
    case set(Stat)
    case checked
    case failed(KeeperCode)
}

/// A ZooKeeper client speaking the server's own protocol (jute over TCP), written here: no third-party
/// package, nothing but sockets.
///
/// Requests run one at a time under a lock; a background thread pings an idle session every third of its
/// timeout. A broken connection is a `connectionLoss` for the request in flight (it may or may not have
/// been applied, as with every ZooKeeper client); the next request reconnects to the next member with the
/// same session, which the ensemble keeps alive until its timeout — the session moves, its ephemeral
/// znodes stay.
public final class ZooKeeperClient: @unchecked Sendable {
    public let servers: [Endpoint]
    public let options: ClientOptions
    private let lock = NSLock()
    private var connection: (any ServerConnection)?
    private var sessionID: Int64 = 0
    private var password = [UInt8](repeating: 0, count: 16)
    private var lastZxid: Int64 = 0
    private var nextXid: Int32 = 1
    private var serverIndex = 0
    private var expired = false
    private var closed = false
    private var auths: [(scheme: String, auth: [UInt8])] = []
    private var lastSent = Date()
    private var pinger: Thread?
    public private(set) var negotiatedTimeout: Double = 0
    /// The member this session is connected to now.
    public private(set) var connectedTo: Endpoint?

    /// The session's id, as the server's logs and `cons` show it.
    public var session: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return sessionID
    }

    /// Connects to the first member of `servers` (tried in order from a random start) that accepts a session.
    public static func connect(_ servers: [Endpoint], options: ClientOptions = ClientOptions()) throws(ZooKeeperClientError) -> ZooKeeperClient {
        guard !servers.isEmpty else { throw .badArgument("no server to connect to") }
        let client = ZooKeeperClient(servers: servers, options: options)
        client.serverIndex = Int.random(in: 0..<servers.count)
        client.lock.lock()
        defer { client.lock.unlock() }
        try client.ensureConnected()
        client.startPinging()
        return client
    }

    private init(servers: [Endpoint], options: ClientOptions) {
        self.servers = servers
        self.options = options
    }

    deinit { connection?.close() }

    /// Runs `body`, again after a connection loss, until it succeeds or `seconds` pass (default: the session's
    /// timeout, by which a session that found no member has expired anyway). For reads and for writes that
    /// are safe to repeat (`setData` with a version, `create` that tolerates NodeExists): a lost connection
    /// says nothing of whether the request was applied.
    public func retryingConnectionLoss<Value>(for seconds: Double? = nil, _ body: () throws(ZooKeeperClientError) -> Value) throws(ZooKeeperClientError)
        -> Value
    {
        let deadline = Date().addingTimeInterval(seconds ?? max(negotiatedTimeout, options.sessionTimeout))
        while true {
            do {
                return try body()
            } catch .connectionLoss(let reason) {
                guard Date() < deadline else { throw .connectionLoss(reason: reason) }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    // MARK: - Operations

    /// The znode's stat, or nil when there is none.
    public func exists(_ path: String) throws(ZooKeeperClientError) -> Stat? {
        var body = JuteWriter()
        body.string(try checked(path))
        body.bool(false)
        do {
            var reply = try submit(.exists, body, path: path)
            return try parse { () throws(JuteReader.Truncated) in try Stat.read(&reply) }
        } catch .server(.noNode, _) {
            return nil
        }
    }

    /// Replaces the znode's ACL (SetACLRequest, op 7); `version`: only if its ACL still has this aversion.
    @discardableResult
    public func setACL(_ path: String, _ acl: [ACL], version: Int32 = -1) throws(ZooKeeperClientError) -> Stat {
        var body = JuteWriter()
        body.string(try checked(path))
        body.vector(acl) { writer, entry in entry.write(&writer) }
        body.int(version)
        var reply = try submit(.setACL, body, path: path)
        return try parse { () throws(JuteReader.Truncated) in try Stat.read(&reply) }
    }

    /// The znode's ACL and stat (GetACLRequest, op 6).
    public func getACL(_ path: String) throws(ZooKeeperClientError) -> (acl: [ACL], stat: Stat) {
        var body = JuteWriter()
        body.string(try checked(path))
        var reply = try submit(.getACL, body, path: path)
        return try parse { () throws(JuteReader.Truncated) in
            (try reply.vector("the ACL") { reader throws(JuteReader.Truncated) in try ACL.read(&reader) }, try Stat.read(&reply))
        }
    }

    public func getData(_ path: String) throws(ZooKeeperClientError) -> (data: [UInt8], stat: Stat) {
        var body = JuteWriter()
        body.string(try checked(path))
        body.bool(false)
        var reply = try submit(.getData, body, path: path)
        return try parse { () throws(JuteReader.Truncated) in (try reply.buffer("the data") ?? [], try Stat.read(&reply)) }
    }

    /// Sets the data; `version` -1 sets it whatever the version, another fails with BadVersion unless it matches.
    @discardableResult
    public func setData(_ path: String, _ data: [UInt8], version: Int32 = -1) throws(ZooKeeperClientError) -> Stat {
        var body = JuteWriter()
        body.string(try checked(path))
        body.buffer(data)
        body.int(version)
        var reply = try submit(.setData, body, path: path)
        return try parse { () throws(JuteReader.Truncated) in try Stat.read(&reply) }
    }

    /// Creates the znode and returns its path (with the server's counter for a sequential one).
    @discardableResult
    public func create(_ path: String, _ data: [UInt8] = [], acl: [ACL] = ACL.openUnsafe, mode: CreateMode = .persistent) throws(ZooKeeperClientError)
        -> String
    {
        var body = JuteWriter()
        Self.writeCreate(&body, path: try checked(path), data: data, acl: acl, mode: mode)
        var reply = try submit(.create, body, path: path)
        return try parse { () throws(JuteReader.Truncated) in try reply.string("the created path") ?? path }
    }

    public func delete(_ path: String, version: Int32 = -1) throws(ZooKeeperClientError) {
        var body = JuteWriter()
        body.string(try checked(path))
        body.int(version)
        _ = try submit(.delete, body, path: path)
    }

    public func getChildren(_ path: String) throws(ZooKeeperClientError) -> [String] {
        var body = JuteWriter()
        body.string(try checked(path))
        body.bool(false)
        var reply = try submit(.getChildren, body, path: path)
        return try parse { () throws(JuteReader.Truncated) in
            try reply.vector("the children") { (reader: inout JuteReader) throws(JuteReader.Truncated) in try reader.string("a child") ?? "" }
        }
    }

    /// Waits until the member this session reads from has every write the leader had committed when it
    /// asked: a read after `sync` sees what was acknowledged before it.
    public func sync(_ path: String = "/") throws(ZooKeeperClientError) {
        var body = JuteWriter()
        body.string(try checked(path))
        _ = try submit(.sync, body, path: path)
    }

    /// Adds an identity to the session (`digest` with "user:password"); kept and sent again on reconnect.
    public func addAuth(scheme: String, _ auth: [UInt8]) throws(ZooKeeperClientError) {
        lock.lock()
        defer { lock.unlock() }
        try ensureConnected()
        try sendAuth(scheme: scheme, auth: auth)
        auths.append((scheme, auth))
    }

    /// The ensemble's dynamic configuration (3.5+): `/zookeeper/config`, the `server.N=` lines and `version=`.
    public func getConfig() throws(ZooKeeperClientError) -> (text: String, stat: Stat) {
        let (data, stat) = try getData("/zookeeper/config")
        return (String(decoding: data, as: UTF8.self), stat)
    }

    /// Changes the membership (3.5+ with reconfigEnabled): incremental (`joining` "server.4=h:2888:3888;2181",
    /// `leaving` "4") or a whole `newMembers` list; `fromConfig` -1 or the config version it must apply to.
    public func reconfig(joining: String? = nil, leaving: String? = nil, newMembers: String? = nil, fromConfig: Int64 = -1) throws(ZooKeeperClientError)
        -> (text: String, stat: Stat)
    {
        var body = JuteWriter()
        body.string(joining)
        body.string(leaving)
        body.string(newMembers)
        body.long(fromConfig)
        var reply = try submit(.reconfig, body, path: nil)
        return try parse { () throws(JuteReader.Truncated) in
            (String(decoding: try reply.buffer("the new config") ?? [], as: UTF8.self), try Stat.read(&reply))
        }
    }

    /// Applies every operation, or none: the results say which one failed.
    public func multi(_ operations: [MultiOp]) throws(ZooKeeperClientError) -> [MultiResult] {
        var body = JuteWriter()
        for operation in operations {
            switch operation {
            case .create(let path, let data, let acl, let mode):
                Self.multiHeader(&body, .create)
                Self.writeCreate(&body, path: try checked(path), data: data, acl: acl, mode: mode)
            case .delete(let path, let version):
                Self.multiHeader(&body, .delete)
                body.string(try checked(path))
                body.int(version)
            case .setData(let path, let data, let version):
                Self.multiHeader(&body, .setData)
                body.string(try checked(path))
                body.buffer(data)
                body.int(version)
            case .check(let path, let version):
                Self.multiHeader(&body, .check)
                body.string(try checked(path))
                body.int(version)
            }
        }
        body.int(-1)
        body.bool(true)
        body.int(-1)
        var reply = try submit(.multi, body, path: nil, failOnError: false)
        return try parse { () throws(JuteReader.Truncated) in
            var results: [MultiResult] = []
            while true {
                let type = try reply.int("a multi header")
                let done = try reply.bool("a multi header")
                let error = try reply.int("a multi header")
                if done { break }
                switch OpCode(rawValue: type) {
                case .create: results.append(.created(path: try reply.string("a created path") ?? ""))
                case .delete: results.append(.deleted)
                case .setData: results.append(.set(try Stat.read(&reply)))
                case .check: results.append(.checked)
                default:
                    // An error result: its code (the header's err is -1 for it).
                    let code = try reply.int("an error result")
                    results.append(.failed(KeeperCode(rawValue: code != 0 ? code : error)))
                }
            }
            return results
        }
    }

    /// Ends the session: its ephemeral znodes are deleted at once.
    ///
    /// `awaitingReply: false` sends the close and returns without waiting for the ensemble to commit it (a
    /// quorum write, as long as any other): the server reads the request before the connection's end and
    /// closes the session all the same; only a request lost on the way would leave it to expire instead.
    public func close(awaitingReply: Bool = true) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        if connection != nil && !expired {
            if awaitingReply {
                _ = try? exchange(.closeSession, JuteWriter(), xid: takeXid(), path: nil, failOnError: false)
            } else {
                try? write(.closeSession, JuteWriter(), xid: takeXid(), deadline: Date().addingTimeInterval(options.requestTimeout))
                // The end of our side after the request: nothing is left unread, so the server sees the close, then the end.
                connection?.shutdownWrite()
            }
        }
        disconnect()
    }

    // MARK: - Wire

    private static func writeCreate(_ body: inout JuteWriter, path: String, data: [UInt8], acl: [ACL], mode: CreateMode) {
        body.string(path)
        body.buffer(data)
        body.vector(acl) { writer, entry in entry.write(&writer) }
        body.int(mode.rawValue)
    }

    private static func multiHeader(_ body: inout JuteWriter, _ op: OpCode) {
        body.int(op.rawValue)
        body.bool(false)
        body.int(-1)
    }

    private func checked(_ path: String) throws(ZooKeeperClientError) -> String {
        guard path.hasPrefix("/"), path == "/" || !path.hasSuffix("/"), !path.contains("//"), !path.utf8.contains(0) else {
            throw .badArgument("'\(path)' is not a znode path (absolute, no empty or trailing component)")
        }
        return path
    }

    private func parse<Value>(_ read: () throws(JuteReader.Truncated) -> Value) throws(ZooKeeperClientError) -> Value {
        do { return try read() } catch { throw .malformed(error.description) }
    }

    private func takeXid() -> Int32 {
        nextXid = nextXid == Int32.max ? 1 : nextXid + 1
        return nextXid
    }

    /// Sends one request and returns its reply's body, reconnecting first if the last connection broke.
    private func submit(_ op: OpCode, _ body: JuteWriter, path: String?, failOnError: Bool = true) throws(ZooKeeperClientError) -> JuteReader {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw .connectionLoss(reason: "the client was closed") }
        try ensureConnected()
        return try exchange(op, body, xid: takeXid(), path: path, failOnError: failOnError)
    }

    /// Writes a request and reads frames until its reply (pings' replies and watch events are skipped).
    private func exchange(_ op: OpCode, _ body: JuteWriter, xid: Int32, path: String?, failOnError: Bool) throws(ZooKeeperClientError) -> JuteReader {
        let deadline = Date().addingTimeInterval(options.requestTimeout)
        try write(op, body, xid: xid, deadline: deadline)
        while true {
            var reply = JuteReader(try readFrame(deadline: deadline, what: "\(op)"))
            let header: (xid: Int32, zxid: Int64, error: Int32)
            do { header = (try reply.int("a reply header"), try reply.long("a reply header"), try reply.int("a reply header")) } catch {
                disconnect()
                throw .malformed(error.description)
            }
            if header.xid != xid && (header.xid == SpecialXid.ping || header.xid == SpecialXid.notification || header.xid == SpecialXid.auth) { continue }
            guard header.xid == xid else {
                disconnect()
                throw .malformed("a reply to request \(header.xid) while waiting for \(xid)")
            }
            if header.zxid > 0 { lastZxid = max(lastZxid, header.zxid) }
            let code = KeeperCode(rawValue: header.error)
            if code == .sessionExpired {
                expired = true
                disconnect()
                throw .sessionExpired
            }
            if code != .ok && failOnError { throw .server(code, path: path) }
            return reply
        }
    }

    /// Sends one request: its header (xid, operation) and body, framed.
    private func write(_ op: OpCode, _ body: JuteWriter, xid: Int32, deadline: Date) throws(ZooKeeperClientError) {
        var packet = JuteWriter()
        packet.int(xid)
        packet.int(op.rawValue)
        try send(packet.bytes + body.bytes, deadline: deadline, what: "\(op)")
    }

    /// Connects (or reconnects with the same session) to the next member that answers.
    private func ensureConnected() throws(ZooKeeperClientError) {
        if expired { throw .sessionExpired }
        if connection != nil { return }
        var reasons: [String] = []
        for _ in 0..<servers.count {
            let endpoint = servers[serverIndex % servers.count]
            serverIndex += 1
            switch options.connector.connect(endpoint, timeout: options.connectTimeout) {
            case .failure(let error):
                reasons.append(error.description)
            case .success(let opened):
                connection = opened
                do {
                    try handshake()
                    if let sasl = options.sasl { try authenticate(sasl, at: endpoint) }
                    connectedTo = endpoint
                    for auth in auths { try sendAuth(scheme: auth.scheme, auth: auth.auth) }
                    return
                } catch .sessionExpired {
                    throw .sessionExpired
                } catch {
                    reasons.append("\(endpoint): \(error)")
                    disconnect()
                }
            }
        }
        throw .connectionLoss(reason: "no member accepted the session: " + reasons.joined(separator: "; "))
    }

    private func handshake() throws(ZooKeeperClientError) {
        var request = JuteWriter()
        request.int(0)
        request.long(lastZxid)
        request.int(Int32(options.sessionTimeout * 1000))
        request.long(sessionID)
        request.buffer(password)
        request.bool(false)
        let deadline = Date().addingTimeInterval(options.connectTimeout + options.requestTimeout)
        try send(request.bytes, deadline: deadline, what: "the session handshake")
        var reply = JuteReader(try readFrame(deadline: deadline, what: "the session handshake"))
        do {
            _ = try reply.int("the handshake")
            let timeout = try reply.int("the handshake")
            let session = try reply.long("the handshake")
            let secret = try reply.buffer("the handshake") ?? []
            guard timeout > 0 else {
                // The server no longer knows the session: it expired while we were away.
                expired = true
                disconnect()
                throw ZooKeeperClientError.sessionExpired
            }
            negotiatedTimeout = Double(timeout) / 1000
            sessionID = session
            password = secret
        } catch let error as ZooKeeperClientError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// The SASL exchange, as ZooKeeper's own client runs it after the handshake and before any request:
    /// tokens in `sasl` requests (ordinary xids), the server's in their replies; an error code, or a server
    /// that ends the exchange before the mechanism is done, is a refusal.
    private func authenticate(_ identity: SASLIdentity, at endpoint: Endpoint) throws(ZooKeeperClientError) {
        var mechanism = identity.mechanism()
        var token: [UInt8] = []
        while true {
            var body = JuteWriter()
            body.buffer(token)
            let xid = takeXid()
            let deadline = Date().addingTimeInterval(options.requestTimeout)
            try write(.sasl, body, xid: xid, deadline: deadline)
            var reply: JuteReader
            var header: (xid: Int32, error: Int32)
            repeat {
                reply = JuteReader(try readFrame(deadline: deadline, what: "SASL \(identity.mechanismName)"))
                guard let replyXid = try? reply.int(), (try? reply.long()) != nil, let error = try? reply.int() else {
                    disconnect()
                    throw .malformed("a SASL reply without a header")
                }
                header = (replyXid, error)
            } while header.xid == SpecialXid.ping || header.xid == SpecialXid.notification
            guard header.error == 0 else {
                disconnect()
                throw .saslRefused(
                    mechanism: identity.mechanismName, identity: identity.name, server: endpoint, reason: "\(KeeperCode(rawValue: header.error))")
            }
            guard let challenge = try? reply.buffer() else {
                if mechanism.isComplete { return }
                disconnect()
                throw .saslRefused(
                    mechanism: identity.mechanismName, identity: identity.name, server: endpoint,
                    reason: "the server ended the exchange without a challenge (no JAAS Server section on it?)")
            }
            do { token = try mechanism.respond(to: challenge) } catch {
                disconnect()
                throw .saslRefused(mechanism: identity.mechanismName, identity: identity.name, server: endpoint, reason: error.description)
            }
            if mechanism.isComplete { return }
        }
    }

    private func sendAuth(scheme: String, auth: [UInt8]) throws(ZooKeeperClientError) {
        var body = JuteWriter()
        body.int(0)
        body.string(scheme)
        body.buffer(auth)
        let deadline = Date().addingTimeInterval(options.requestTimeout)
        try write(.auth, body, xid: SpecialXid.auth, deadline: deadline)
        var reply = JuteReader(try readFrame(deadline: deadline, what: "addAuth"))
        guard let xid = try? reply.int(), xid == SpecialXid.auth, (try? reply.long()) != nil, let error = try? reply.int() else {
            disconnect()
            throw .malformed("no reply to addAuth")
        }
        if error != 0 {
            expired = true
            disconnect()
            throw .server(KeeperCode(rawValue: error), path: nil)
        }
    }

    private func send(_ bytes: [UInt8], deadline: Date, what: String) throws(ZooKeeperClientError) {
        guard let connection else { throw .connectionLoss(reason: "not connected for \(what)") }
        var frame = JuteWriter()
        frame.int(Int32(bytes.count))
        if case .failure(let failure) = connection.send(frame.bytes + bytes, until: deadline) {
            let reason: String
            switch failure {
            case .timedOut: reason = "timed out sending \(what)"
            case .reset: reason = "send failed: connection reset by peer"
            case .failed(let why): reason = why
            case .tls: reason = failure.description
            }
            disconnect()
            throw .connectionLoss(reason: reason)
        }
        lastSent = Date()
    }

    /// One length-prefixed frame; a length past the cap is refused before anything is allocated.
    private func readFrame(deadline: Date, what: String) throws(ZooKeeperClientError) -> [UInt8] {
        let prefix = try readExactly(4, deadline: deadline, what: what)
        let length = Int(Int32(bitPattern: UInt32(prefix[0]) << 24 | UInt32(prefix[1]) << 16 | UInt32(prefix[2]) << 8 | UInt32(prefix[3])))
        guard length >= 0 else {
            disconnect()
            throw .malformed("a negative frame length (\(length))")
        }
        guard length <= options.maxReplyBytes else {
            disconnect()
            throw .oversized(bytes: length, limit: options.maxReplyBytes)
        }
        return try readExactly(length, deadline: deadline, what: what)
    }

    private func readExactly(_ count: Int, deadline: Date, what: String) throws(ZooKeeperClientError) -> [UInt8] {
        guard let connection else { throw .connectionLoss(reason: "not connected for \(what)") }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let received = buffer.withUnsafeMutableBytes { connection.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), until: deadline) }
            switch received {
            case .success(0):
                disconnect()
                throw .connectionLoss(reason: "the server closed the connection during \(what)")
            case .success(let count):
                filled += count
            case .failure(.timedOut):
                disconnect()
                throw .timedOut(operation: what, seconds: options.requestTimeout)
            case .failure(let failure):
                disconnect()
                throw .connectionLoss(reason: "read failed during \(what): \(failure == .reset ? "connection reset by peer" : "\(failure)")")
            }
        }
        return buffer
    }

    private func disconnect() {
        connection?.close()
        connection = nil
        connectedTo = nil
    }

    // MARK: - Keeping the session alive

    /// Pings an idle session every third of its negotiated timeout, so the server keeps it between requests.
    private func startPinging() {
        let thread = Thread { [weak self] in
            while let client = self {
                let interval = max(0.2, (client.negotiatedTimeout > 0 ? client.negotiatedTimeout : client.options.sessionTimeout) / 3)
                Thread.sleep(forTimeInterval: min(interval, 1))
                if !client.pingIfIdle(after: interval) { return }
            }
        }
        thread.name = "zookeeper-ping"
        pinger = thread
        thread.start()
    }

    /// False once the client is closed or its session has expired (the pinger stops).
    private func pingIfIdle(after interval: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if closed || expired { return false }
        guard Date().timeIntervalSince(lastSent) >= interval else { return true }
        do {
            try ensureConnected()
            _ = try exchange(.ping, JuteWriter(), xid: SpecialXid.ping, path: nil, failOnError: false)
        } catch {
            // The next request reconnects, or says why it cannot.
        }
        return true
    }
}
