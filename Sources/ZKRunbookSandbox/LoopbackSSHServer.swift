import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real OpenSSH server on loopback with keys made for it, torn down by `stop()`: what the tests and the
/// benchmark reach a sandbox's nodes through, so the ssh transport is measured and tested against the real thing.
///
/// Needs openssh-server (apt-get install -y openssh-server); without it `start` throws saying so.
public final class LoopbackSSHServer: @unchecked Sendable {
    public let directory: String
    public let port: Int
    public let identityFile: String
    public let knownHosts: String
    private let process: Process

    public static func start(in directory: String) throws -> LoopbackSSHServer {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
            throw SandboxError("no /usr/sbin/sshd: apt-get install -y openssh-server (the ssh transport is tested and measured against a real sshd)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for (name, type) in [("host_key", "ed25519"), ("client_key", "ed25519")] {
            let keygen = Process()
            keygen.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
            keygen.arguments = ["-q", "-t", type, "-N", "", "-f", directory + "/" + name]
            keygen.standardOutput = FileHandle.nullDevice
            try keygen.run()
            keygen.waitUntilExit()
        }
        let clientPublic = try String(contentsOfFile: directory + "/client_key.pub", encoding: .utf8)
        try clientPublic.write(toFile: directory + "/authorized_keys", atomically: true, encoding: .utf8)
        var lastError = ""
        for _ in 0..<10 {
            let port = 40_000 + Int.random(in: 0..<20_000)
            let config = """
                Port \(port)
                ListenAddress \(Sandbox.host)
                HostKey \(directory)/host_key
                PidFile \(directory)/sshd.pid
                AuthorizedKeysFile \(directory)/authorized_keys
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PubkeyAuthentication yes
                PermitRootLogin prohibit-password
                UsePAM no
                StrictModes no
                LogLevel ERROR
                MaxStartups 100:30:200
                MaxSessions 100

                """
            try config.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/sshd")
            process.arguments = ["-D", "-e", "-f", directory + "/sshd_config"]
            process.standardOutput = FileHandle.nullDevice
            let log = directory + "/sshd.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && process.isRunning {
                if Self.accepts(port) {
                    let hostPublic = try String(contentsOfFile: directory + "/host_key.pub", encoding: .utf8)
                    try "[\(Sandbox.host)]:\(port) \(hostPublic)".write(toFile: directory + "/known_hosts", atomically: true, encoding: .utf8)
                    return LoopbackSSHServer(directory: directory, port: port, process: process)
                }
                usleep(20_000)
            }
            lastError = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if process.isRunning { process.terminate() }
        }
        throw SandboxError("sshd did not start: \(lastError)")
    }

    private init(directory: String, port: Int, process: Process) {
        self.directory = directory
        self.port = port
        self.process = process
        self.identityFile = directory + "/client_key"
        self.knownHosts = directory + "/known_hosts"
    }

    /// The ensemble file's `ssh` block for a node reached through this server.
    public var sshBlock: String {
        """
        ssh: { user: "root", port: \(port), identityFile: "\(identityFile)", options: ["UserKnownHostsFile=\(knownHosts)", "StrictHostKeyChecking=yes"] }
        """
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(Sandbox.host)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
