import Foundation

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
}

/// An ensemble file's `sasl` block: who zkrunbook authenticates as, the secret left in its file until a run
/// needs it (an agent that reads the same file never opens it).
public struct SASLSettings: Sendable, Hashable {
    public enum Mechanism: String, Sendable, Hashable, CaseIterable {
        case digestMD5 = "DIGEST-MD5"
    }

    /// The password file cannot be read: what, where, what to do.
    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public var mechanism: Mechanism
    public var username: String
    public var passwordFile: String

    public init(mechanism: Mechanism, username: String, passwordFile: String) {
        (self.mechanism, self.username, self.passwordFile) = (mechanism, username, passwordFile)
    }

    /// The identity, its password read from `passwordFile` (one trailing newline dropped).
    public func identity() throws(Unreadable) -> SASLIdentity {
        guard let data = FileManager.default.contents(atPath: passwordFile) else {
            throw Unreadable(
                description: "sasl.passwordFile \(passwordFile) cannot be read: give the file holding \(username)'s password, readable by this user (mode 0600)"
            )
        }
        var password = String(decoding: data, as: UTF8.self)
        if password.hasSuffix("\n") { password.removeLast() }
        switch mechanism {
        case .digestMD5: return .digestMD5(username: username, password: password)
        }
    }
}
