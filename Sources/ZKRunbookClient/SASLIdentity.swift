/// Who a session authenticates as with SASL, and the mechanism that proves it. The secret is kept out of
/// every description: an identity prints as its mechanism and name.
public enum SASLIdentity: Sendable, Equatable, CustomStringConvertible {
    /// DIGEST-MD5 with a user and password, what a JAAS `Client` section with `DigestLoginModule` gives the
    /// Java client (the servers' `Server` section lists the user as `user_NAME="password"`).
    case digestMD5(username: String, password: String)

    public var mechanismName: String {
        switch self {
        case .digestMD5: return "DIGEST-MD5"
        }
    }

    /// The identity the servers' ACLs name (`sasl:NAME`).
    public var name: String {
        switch self {
        case .digestMD5(let username, _): return username
        }
    }

    public var description: String { "\(mechanismName) as '\(name)'" }

    func mechanism() -> any SASLMechanism {
        switch self {
        case .digestMD5(let username, let password): return DigestMD5(username: username, password: password)
        }
    }
}

/// One side of a SASL exchange: the server's challenge in, the client's next token out.
protocol SASLMechanism {
    var isComplete: Bool { get }
    mutating func respond(to challenge: [UInt8]) throws(SASLFailure) -> [UInt8]
}

/// Why a mechanism could not answer, in words for the operator.
struct SASLFailure: Error, CustomStringConvertible {
    var description: String
}
