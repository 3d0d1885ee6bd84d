import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// The servers a command was pointed at (`--ensemble`, `--zoo-cfg` or `--server`) and how they are
/// reached: plaintext, or over TLS as the ensemble file's `tls` block or the `--tls-*` flags say.
struct ServerTargets {
    var members: [EnsembleMember]
    var tls: ServerTLS?
    var connector: any ServerConnector
    /// The ensemble file, when one was given.
    var file: EnsembleFile?

    /// Who client sessions authenticate as: the ensemble file's `sasl` block, its password read now (a file
    /// that cannot be read is said before any server is asked).
    func saslIdentity() throws -> SASLIdentity? {
        guard let settings = file?.sasl else { return nil }
        do { return try settings.identity() } catch { throw CommandFailure(message: "error: \(error.description)", exitCode: CLI.ExitCode.usage) }
    }

    static let sourceOptions: Set<String> = ["--ensemble", "--zoo-cfg", "--server"]
    static let tlsValueOptions = Set(AgentOption.tlsValues.map(\.rawValue))
    static let tlsFlagOptions: Set<String> = [AgentOption.tlsNoVerifyHostname.rawValue]

    /// The `--tls-*` options, for each command's help.
    static let tlsHelp = """
                  --tls-ca FILE        TLS: the CA (PEM) the servers' certificates are checked against
                  --tls-cert FILE      TLS: the client certificate (PEM) a server with ssl.clientAuth=need asks for
                  --tls-key FILE       TLS: its key (PEM)
                  --tls-pkcs12 FILE    TLS: certificate and key in one PKCS#12 file instead (a JKS keystore: the error
                                       gives the keytool command that converts it)
                  --tls-key-password-file FILE
                                       TLS: the key's (or PKCS#12 file's) password, read from this file, never printed
                  --tls-port PORT      TLS: a port that speaks TLS (repeatable); default: with --server, every port;
                                       with --zoo-cfg, its secureClientPort; with --ensemble, its tls block's
                  --tls-no-verify-hostname
                                       TLS: do not check the certificate names the host connected to (on by default)
                An ensemble file's 'tls' block says the same per ensemble (see 'zkrunbook manual ensemble').
        """

    /// Members and how to reach them. Usage errors for a bad combination; the TLS files are loaded here, so a
    /// missing key or a wrong password is said before any server is asked.
    static func resolve(_ parsed: ParsedArguments, usage: String) throws -> ServerTargets {
        let flags: ServerTLS?
        switch ServerTLS.parse(values: parsed.values, flags: parsed.flags) {
        case .success(let given): flags = given
        case .failure(let problem): throw UsageError(message: problem.message, usage: usage)
        }
        let given = sourceOptions.filter { parsed.values[$0] != nil }
        guard given.count == 1 else { throw UsageError(message: "give one of --ensemble, --zoo-cfg or --server", usage: usage) }
        var targets: ServerTargets
        if let path = parsed.value("--ensemble") {
            let file: EnsembleFile
            do { file = try EnsembleFile.load(path: path) } catch { throw CommandFailure(message: error.description, exitCode: CLI.ExitCode.usage) }
            var members = file.members
            var tls = file.tls
            if var flags {
                // Flags stand in for the file's credentials; the ports stay the file's unless flags name them.
                if flags.ports.isEmpty, let ports = file.tls?.ports { flags.ports = ports }
                for index in members.indices where flags.covers(members[index].clientPort) { members[index].secure = true }
                tls = flags
            }
            targets = ServerTargets(members: members, tls: tls, connector: PlaintextConnector(), file: file)
        } else if let path = parsed.value("--zoo-cfg") {
            let config = try loadConfig(path)
            var tls = flags
            if var chosen = tls, chosen.ports.isEmpty, let secure = config.secureClientPort {
                chosen.ports = [secure]
                tls = chosen
            }
            let members = EnsembleMember.members(from: config, secure: tls != nil)
            guard !members.isEmpty else {
                throw CommandFailure(message: "\(path): error: no server.N lines: a standalone config; use --server", exitCode: CLI.ExitCode.usage)
            }
            if tls == nil, config.clientPort == nil, let secure = config.secureClientPort, members.allSatisfy({ $0.plaintextClientPort == nil }) {
                throw CommandFailure(
                    message: "\(path): error: the servers listen only on secureClientPort \(secure) (TLS): give --tls-ca, and --tls-cert with --tls-key",
                    exitCode: CLI.ExitCode.usage)
            }
            targets = ServerTargets(members: members, tls: tls, connector: PlaintextConnector(), file: nil)
        } else {
            var members: [EnsembleMember] = []
            for value in parsed.values["--server"] ?? [] {
                for part in value.split(separator: ",") {
                    guard let endpoint = Endpoint(parsing: String(part), defaultPort: 2181) else {
                        throw UsageError(message: "--server '\(part)' is not HOST:PORT", usage: usage)
                    }
                    var member = EnsembleMember(id: members.count + 1, host: endpoint.host, clientPort: endpoint.port)
                    member.secure = flags?.covers(endpoint.port) ?? false
                    members.append(member)
                }
            }
            targets = ServerTargets(members: members, tls: flags, connector: PlaintextConnector(), file: nil)
        }
        targets.connector = try connector(targets.tls)
        return targets
    }

    static func loadConfig(_ path: String) throws -> ZooConfig {
        do { return try ZooConfig.load(path: path) } catch { throw CommandFailure(message: error.description, exitCode: CLI.ExitCode.usage) }
    }

    /// The connector for `tls` (plaintext when nil); its files loaded now, a failure said with its fix.
    static func connector(_ tls: ServerTLS?) throws -> any ServerConnector {
        guard let tls else { return PlaintextConnector() }
        do { return try tls.connector() } catch { throw CommandFailure(message: "error: \(error.description)", exitCode: CLI.ExitCode.usage) }
    }
}
