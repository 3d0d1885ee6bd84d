import ZKRunbookZooKeeper

/// The result codes a ZooKeeper server answers with (`KeeperException.Code`), by name.
public struct KeeperCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = Self(rawValue: 0)
    /// System errors (-1 to -99): the server or the connection, not the request.
    public static let systemError = Self(rawValue: -1), runtimeInconsistency = Self(rawValue: -2), dataInconsistency = Self(rawValue: -3)
    public static let connectionLoss = Self(rawValue: -4), marshallingError = Self(rawValue: -5), unimplemented = Self(rawValue: -6)
    public static let operationTimeout = Self(rawValue: -7), badArguments = Self(rawValue: -8), unknownSession = Self(rawValue: -12)
    public static let newConfigNoQuorum = Self(rawValue: -13), reconfigInProgress = Self(rawValue: -14)
    /// API errors (-100 and below): what the request asked cannot be done.
    public static let apiError = Self(rawValue: -100), noNode = Self(rawValue: -101), noAuth = Self(rawValue: -102), badVersion = Self(rawValue: -103)
    public static let noChildrenForEphemerals = Self(rawValue: -108), nodeExists = Self(rawValue: -110), notEmpty = Self(rawValue: -111)
    public static let sessionExpired = Self(rawValue: -112), invalidCallback = Self(rawValue: -113), invalidACL = Self(rawValue: -114)
    public static let authFailed = Self(rawValue: -115), sessionMoved = Self(rawValue: -118), notReadOnly = Self(rawValue: -119)
    public static let ephemeralOnLocalSession = Self(rawValue: -120), noWatcher = Self(rawValue: -121), reconfigDisabled = Self(rawValue: -123)
    public static let sessionClosedRequireSaslAuth = Self(rawValue: -124), quotaExceeded = Self(rawValue: -125), throttled = Self(rawValue: -127)

    static let names: [Int32: String] = [
        0: "OK", -1: "SystemError", -2: "RuntimeInconsistency", -3: "DataInconsistency", -4: "ConnectionLoss", -5: "MarshallingError",
        -6: "Unimplemented", -7: "OperationTimeout", -8: "BadArguments", -12: "UnknownSession", -13: "NewConfigNoQuorum",
        -14: "ReconfigInProgress", -100: "APIError", -101: "NoNode", -102: "NoAuth", -103: "BadVersion", -108: "NoChildrenForEphemerals",
        -110: "NodeExists", -111: "NotEmpty", -112: "SessionExpired", -113: "InvalidCallback", -114: "InvalidACL", -115: "AuthFailed",
        -118: "SessionMoved", -119: "NotReadOnly", -120: "EphemeralOnLocalSession", -121: "NoWatcher", -123: "ReconfigDisabled",
        -124: "SessionClosedRequireSaslAuth", -125: "QuotaExceeded", -127: "Throttled",
    ]

    public var description: String { Self.names[rawValue] ?? "error \(rawValue)" }
}

/// What went wrong talking to ZooKeeper with its own protocol: one type, each case with what, where and
/// what to do, as `ZooKeeperError` is for four-letter words.
public enum ZooKeeperClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered the request with an error code.
    case server(KeeperCode, path: String?)
    /// No member could be connected to, or the connection broke: the request may or may not have been applied.
    case connectionLoss(reason: String)
    /// The server ended the session (it expired, or was closed): ephemeral znodes of it are gone.
    case sessionExpired
    /// No reply within the request's deadline.
    case timedOut(operation: String, seconds: Double)
    /// A reply longer than the cap (jute.maxbuffer): a hostile or confused peer.
    case oversized(bytes: Int, limit: Int)
    /// A reply that does not parse.
    case malformed(String)
    /// The caller's input cannot be sent (a path that is not absolute, say).
    case badArgument(String)
    /// The server refused the SASL identity (AuthFailed), or the exchange could not be completed.
    case saslRefused(mechanism: String, identity: String, server: Endpoint, reason: String)

    public var code: KeeperCode? { if case .server(let code, _) = self { return code } else { return nil } }

    public var description: String {
        switch self {
        case .server(let code, let path):
            let on = path.map { " on \($0)" } ?? ""
            switch code {
            case .noNode: return "NoNode\(on): the znode does not exist"
            case .nodeExists: return "NodeExists\(on): the znode is already there"
            case .badVersion: return "BadVersion\(on): the znode changed since it was read (its version differs)"
            case .notEmpty: return "NotEmpty\(on): delete its children first"
            case .noAuth: return "NoAuth\(on): the session's identity may not do this (addAuth first, or check the znode's ACL)"
            case .reconfigDisabled:
                return "ReconfigDisabled: the ensemble does not allow dynamic reconfiguration (set reconfigEnabled=true in every zoo.cfg)"
            case .newConfigNoQuorum: return "NewConfigNoQuorum: the proposed membership has no quorum of connected, synced servers"
            case .reconfigInProgress: return "ReconfigInProgress: another reconfiguration has not finished"
            case .unimplemented: return "Unimplemented\(on): this server's version does not know the request"
            default: return "\(code)\(on)"
            }
        case .connectionLoss(let reason): return "ConnectionLoss: \(reason)"
        case .sessionExpired: return "SessionExpired: the server ended the session; its ephemeral znodes are gone"
        case .timedOut(let operation, let seconds): return "OperationTimeout: no reply to \(operation) within \(seconds) s"
        case .oversized(let bytes, let limit): return "a reply of \(bytes) bytes is over the \(limit)-byte cap (jute.maxbuffer)"
        case .malformed(let why): return "malformed reply: \(why)"
        case .badArgument(let why): return "bad argument: \(why)"
        case .saslRefused(let mechanism, let identity, let server, let reason):
            return
                "SASL \(mechanism) as '\(identity)' refused by \(server): \(reason); check the user and password against the JAAS Server section of the ZooKeeper servers"
        }
    }
}
