import ZKRunbookZooKeeper

/// What the client needs of a SASL identity: the mechanism that speaks for it.
extension SASLIdentity {
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
