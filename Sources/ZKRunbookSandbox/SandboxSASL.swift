import Foundation

/// The users of an authenticated sandbox (`--sasl digest`): the servers' JAAS `Server` section lists them
/// (`DigestLoginModule`, `user_NAME="password"`), and each password is also in its own file, mode 0600,
/// where zkrunbook's ensemble file and a test's witness read it; passwords are random for each sandbox.
extension Sandbox {
    /// zkrunbook's own user, and the independent witness's.
    public static let saslUsers = ["zkrunbook", "witness"]

    public var saslFolder: String { directory + "/sasl" }

    /// The file holding `user`'s password (no newline).
    public func saslPasswordFile(_ user: String) -> String { saslFolder + "/\(user).password" }

    func writeSASLFiles() throws(SandboxError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: saslFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var entries: [String] = []
            for user in Self.saslUsers {
                let password = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
                guard FileManager.default.createFile(atPath: saslPasswordFile(user), contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
                else { throw SandboxError("cannot write \(saslPasswordFile(user))") }
                entries.append("user_\(user)=\"\(password)\"")
            }
            let jaas = "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  " + entries.joined(separator: "\n  ") + ";\n};\n"
            guard FileManager.default.createFile(atPath: saslFolder + "/jaas.conf", contents: Data(jaas.utf8), attributes: [.posixPermissions: 0o600])
            else { throw SandboxError("cannot write \(saslFolder)/jaas.conf") }
        } catch let error as SandboxError {
            throw error
        } catch {
            throw SandboxError("cannot write the SASL files in \(saslFolder): \(error.localizedDescription)")
        }
    }
}
