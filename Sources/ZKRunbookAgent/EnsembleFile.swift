import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper

/// An ensemble file (JSON5), the inventory: the servers, how each node is reached, the agent there, and how
/// to restart ZooKeeper on each. The ZooKeeper room sees only its `members`.
///
/// ```json5
/// { name: "prod-zk", nodes: [{ id: 1, host: "zk1", clientPort: 2181, adminPort: 8080, role: "participant" }],
///   restartCommand: ["systemctl", "restart", "zookeeper"], agentPath: "/usr/bin/zkrunbook" }
/// ```
public struct EnsembleFile: Sendable {
    public var name: String
    /// Each server and how its node is reached.
    public var nodes: [EnsembleNode]
    /// The servers alone, as the ZooKeeper room takes them.
    public var members: [EnsembleMember] { nodes.map(\.member) }
    public var restartCommand: [String]
    /// How a node's server is stopped (remove-server stops the server it removed); empty: not given.
    public var stopCommand: [String] = []
    public var agentPath: String?
    /// Where the agent on each node finds runbooks (ZKRUNBOOK_RUNBOOK_PATH there); default: its own search path.
    public var runbookPath: String?
    /// How the servers are reached over TLS (the file's `tls` block): the ports that speak it (each node's
    /// secure client port, and its AdminServer when `adminServer: "https"`) and the credentials.
    public var tls: ServerTLS?
    /// Who zkrunbook's client sessions authenticate as with SASL (the file's `sasl` block); nil: none.
    public var sasl: SASLSettings?
    public var path: String

    /// What every request to a node's agent carries: where it finds runbooks, when the file says.
    public var agentEnvironment: [String: String] { runbookPath.map { ["ZKRUNBOOK_RUNBOOK_PATH": $0] } ?? [:] }

    /// The file at `path`, parsed once per process for as long as it is unchanged (same inode, size and
    /// modification time): a rolling restart's steps, nested steps and every gate poll name the same file, and
    /// read it once; a file edited mid-run is read again, never served stale.
    public static func load(path: String) throws(InputFileError) -> EnsembleFile {
        var info = stat()
        guard stat(path, &info) == 0 else { return try parse(path: path) }
        let key = ParsedFiles.Key(
            path: path, inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec)
        if let cached = ParsedFiles.shared.file(for: key) { return cached }
        let file = try parse(path: path)
        ParsedFiles.shared.keep(file, for: key)
        return file
    }

    static func parse(path: String) throws(InputFileError) -> EnsembleFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            let why = FileManager.default.fileExists(atPath: path) ? "not readable UTF-8 text" : "no such file"
            throw .unreadable(path: path, reason: "cannot read the ensemble file: \(why)")
        }
        let root: JSON5Node
        do { root = try JSON5Parser.parse(text, file: path) } catch {
            throw .invalid([Diagnostic(location: error.location, severity: .error, message: error.message)])
        }
        let diagnostics = DiagnosticCollector()
        guard let top = ObjectReader(root, context: "the ensemble file", diagnostics: diagnostics) else {
            throw .invalid(diagnostics.items)
        }
        let name = top.string("name") ?? (path as NSString).lastPathComponent
        let restart = Self.strings(top, "restartCommand")
        let stop = Self.strings(top, "stopCommand")
        let agentPath = top.string("agentPath")
        let runbookPath = top.string("runbookPath")
        let install = top.object("install").flatMap(InstallMethod.read)
        let tlsBlock = top.object("tls").map { Self.tlsSettings($0, relativeTo: (path as NSString).deletingLastPathComponent) }
        let sasl = top.object("sasl").flatMap { Self.saslSettings($0, relativeTo: (path as NSString).deletingLastPathComponent) }
        var members: [EnsembleNode] = []
        if let nodes = top.value("nodes", required: true, expected: "an array of nodes") {
            if case .array(let elements) = nodes.value {
                for element in elements {
                    guard let node = ObjectReader(element, context: "a node", diagnostics: diagnostics) else { continue }
                    let id = node.integer("id", required: true, range: 0...255)
                    let host = node.string("host", required: true)
                    let givenClientPort = node.integer("clientPort", range: 1...65535)
                    let clientPort = givenClientPort ?? 2181
                    let secureClientPort = node.integer("secureClientPort", range: 1...65535)
                    if let secureClientPort, tlsBlock == nil, givenClientPort == nil {
                        diagnostics.error(
                            node.object["secureClientPort"]!.location,
                            "node has only secureClientPort \(secureClientPort): add a 'tls' block (caFile, certificateFile, keyFile) to reach it, or give its plaintext clientPort"
                        )
                    }
                    let adminPort = node.integer("adminPort", range: 1...65535)
                    var role = ServerEntry.Role.participant
                    if let text = node.string("role") {
                        if let parsed = ServerEntry.Role(rawValue: text) {
                            role = parsed
                        } else {
                            diagnostics.error(node.object["role"]!.location, "role must be \"participant\" or \"observer\", found '\(text)'")
                        }
                    }
                    let logFile = node.string("logFile")
                    let stateDir = node.string("stateDir")
                    let nodeAgent = node.string("agentPath")
                    let zooCfg = node.string("zooCfg")
                    let dataCentre = node.string("dataCentre")
                    let quorumPort = node.integer("quorumPort", range: 1...65535)
                    let electionPort = node.integer("electionPort", range: 1...65535)
                    let ownInstall = node.object("install").flatMap(InstallMethod.read)
                    var ssh: SSHSettings?
                    if let sshReader = node.object("ssh") {
                        ssh = SSHSettings(
                            user: sshReader.string("user"), port: sshReader.integer("port", range: 1...65535).map(Int.init),
                            identityFile: sshReader.string("identityFile"), options: Self.strings(sshReader, "options"))
                        sshReader.finish()
                    }
                    var kubectl: KubectlSettings?
                    if let kubeReader = node.object("kubectl") {
                        kubectl = KubectlSettings(
                            pod: kubeReader.string("pod"), namespace: kubeReader.string("namespace"), context: kubeReader.string("context"),
                            container: kubeReader.string("container"))
                        kubeReader.finish()
                        if ssh != nil { diagnostics.error(node.object["kubectl"]!.location, "a node is reached over ssh or kubectl, not both") }
                    }
                    node.finish()
                    if let id, let host {
                        if members.contains(where: { $0.id == Int(id) }) {
                            diagnostics.error(element.location, "node id \(id) appears twice")
                        }
                        var member = EnsembleMember(
                            id: Int(id), host: host, clientPort: Int(clientPort), adminPort: adminPort.map(Int.init), role: role, logFile: logFile,
                            zooCfg: zooCfg, dataCentre: dataCentre, quorumPort: quorumPort.map(Int.init), electionPort: electionPort.map(Int.init))
                        // With a tls block every node is reached over TLS: on its secureClientPort, else on a
                        // client port that speaks both (portUnification).
                        if tlsBlock != nil {
                            member.secure = true
                            if let secureClientPort {
                                (member.clientPort, member.plaintextClientPort) = (Int(secureClientPort), givenClientPort.map(Int.init))
                            }
                        }
                        var entry = EnsembleNode(member, ssh: ssh, kubectl: kubectl, stateDir: stateDir, agentPath: nodeAgent ?? agentPath)
                        entry.secureClientPort = secureClientPort.map(Int.init)
                        entry.install = ownInstall ?? install
                        members.append(entry)
                    }
                }
                if elements.isEmpty { diagnostics.error(nodes.location, "'nodes' is empty") }
            } else {
                top.typeError("nodes", nodes, "an array of nodes")
            }
        }
        top.finish()
        if diagnostics.hasErrors { throw .invalid(diagnostics.items) }
        var file = EnsembleFile(name: name, nodes: members, restartCommand: restart, agentPath: agentPath, runbookPath: runbookPath, path: path)
        file.stopCommand = stop
        file.sasl = sasl
        if let (settings, adminHTTPS) = tlsBlock {
            let ports = members.map(\.clientPort) + (adminHTTPS ? members.compactMap(\.adminPort) : [])
            file.tls = ServerTLS(settings: settings, ports: Set(ports))
        }
        return file
    }

    /// The `tls` block: file paths (relative ones against the ensemble file's folder), hostname checking,
    /// and whether the AdminServer speaks HTTPS.
    static func tlsSettings(_ reader: ObjectReader, relativeTo folder: String) -> (TLSSettings, adminHTTPS: Bool) {
        func file(_ key: String) -> String? {
            reader.string(key).map { $0.hasPrefix("/") || folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0) }
        }
        let settings = TLSSettings(
            caFile: file("caFile"), certificateFile: file("certificateFile"), keyFile: file("keyFile"), keyPasswordFile: file("keyPasswordFile"),
            pkcs12File: file("pkcs12File"), verifyHostname: reader.bool("verifyHostname") ?? true)
        var adminHTTPS = false
        if let scheme = reader.string("adminServer") {
            switch scheme {
            case "https": adminHTTPS = true
            case "http": break
            default: reader.diagnostics.error(reader.object["adminServer"]!.location, "adminServer must be \"http\" or \"https\", found '\(scheme)'")
            }
        }
        if settings.keyFile != nil && settings.certificateFile == nil {
            reader.diagnostics.error(reader.object["keyFile"]!.location, "keyFile needs certificateFile beside it")
        }
        if settings.pkcs12File != nil && settings.certificateFile != nil {
            reader.diagnostics.error(reader.object["pkcs12File"]!.location, "give pkcs12File or certificateFile and keyFile, not both")
        }
        reader.finish()
        return (settings, adminHTTPS)
    }

    /// The `sasl` block: the mechanism (DIGEST-MD5), the user, and the file holding its password (a relative
    /// path against the ensemble file's folder); the password itself is never in the ensemble file.
    static func saslSettings(_ reader: ObjectReader, relativeTo folder: String) -> SASLSettings? {
        let mechanismText = reader.string("mechanism") ?? SASLSettings.Mechanism.digestMD5.rawValue
        let mechanism = SASLSettings.Mechanism(rawValue: mechanismText.uppercased())
        if mechanism == nil, let node = reader.object["mechanism"] {
            let known = SASLSettings.Mechanism.allCases.map(\.rawValue).joined(separator: ", ")
            reader.diagnostics.error(node.location, "sasl mechanism '\(mechanismText)' is not one zkrunbook speaks (\(known))")
        }
        let username = reader.string("username", required: true)
        let passwordFile = reader.string("passwordFile", required: true).map {
            $0.hasPrefix("/") || folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0)
        }
        reader.finish()
        guard let mechanism, let username, let passwordFile else { return nil }
        return SASLSettings(mechanism: mechanism, username: username, passwordFile: passwordFile)
    }

    /// The names `nodeFields` and `restartCommand(for:)` give a per-node procedure: what `${node.*}` may name.
    public static let nodeFieldNames: Set<String> = [
        "id", "host", "clientPort", "adminPort", "endpoint", "role", "logFile", "stateDir", "agentPath", "restartCommand", "runbookPath", "zooCfg",
        "dataCentre", "quorumPort", "electionPort", "serverLine", "stopCommand", "secure", "secureClientPort", "installLayout", "installLink",
        "installVersions", "installCommand", "first",
    ]

    /// The text `${node.*}` values for a per-node procedure on `member` (`restartCommand` apart: it is words).
    public func nodeFields(_ member: EnsembleNode) -> [String: String] {
        var fields: [String: String] = [
            "id": String(member.id), "host": member.host, "clientPort": String(member.clientPort), "endpoint": member.endpoint.description,
            "role": member.role.rawValue, "agentPath": member.agentPath ?? agentPath ?? member.agent,
        ]
        // Empty when unknown: a probe then asks no AdminServer instead of failing on a missing value.
        fields["adminPort"] = member.adminPort.map(String.init) ?? ""
        if let runbookPath { fields["runbookPath"] = runbookPath }
        // Empty when unknown: a step that needs the log (zk-log-line with a line to find) refuses on it.
        fields["logFile"] = member.logFile ?? ""
        if let stateDir = member.stateDir { fields["stateDir"] = stateDir }
        if let dataCentre = member.dataCentre { fields["dataCentre"] = dataCentre }
        fields["zooCfg"] = member.zooCfg ?? "/etc/zookeeper/conf/zoo.cfg"
        fields["quorumPort"] = String(member.quorumPort ?? 2888)
        fields["electionPort"] = String(member.electionPort ?? 3888)
        fields["serverLine"] = member.serverLine
        fields["secure"] = member.secure ? "true" : "false"
        fields["secureClientPort"] = member.secureClientPort.map(String.init) ?? ""
        // How its version changes; empty when the file says nothing (an upgrade refuses before any change).
        fields["installLayout"] = member.install?.layout ?? ""
        if case .link(let link, let versions) = member.install {
            (fields["installLink"], fields["installVersions"]) = (Self.fillingNodeFields(in: link, fields), Self.fillingNodeFields(in: versions, fields))
        } else {
            (fields["installLink"], fields["installVersions"]) = ("", "")
        }
        return fields
    }

    /// The ensemble's restart command for `member`, its `${node.*}` placeholders filled in.
    public func restartCommand(for member: EnsembleNode) -> [String] { command(restartCommand, for: member) }

    /// The node's install command, its `${node.*}` placeholders filled in (`${version}` kept); empty for none.
    public func installCommand(for member: EnsembleNode) -> [String] {
        guard case .command(let words) = member.install else { return [] }
        return command(words, for: member)
    }

    /// The ensemble's stop command for `member` (empty when the file gives none).
    public func stopCommand(for member: EnsembleNode) -> [String] { command(stopCommand, for: member) }

    func command(_ words: [String], for member: EnsembleNode) -> [String] {
        guard words.contains(where: \.containsReferenceMark) else { return words }
        let fields = nodeFields(member)
        return words.map { Self.fillingNodeFields(in: $0, fields) }
    }

    /// `${node.FIELD}` replaced by the field's value; an unknown field stays as written.
    static func fillingNodeFields(in word: String, _ fields: [String: String]) -> String {
        fields.reduce(word) { text, field in text.replacingEvery("${node.\(field.key)}", with: field.value) }
    }

    /// An array of plain strings (`${node.id}` in a restart command is the node's, not a runbook reference).
    static func strings(_ reader: ObjectReader, _ key: String) -> [String] {
        guard let node = reader.value(key) else { return [] }
        guard case .array(let elements) = node.value else {
            reader.typeError(key, node, "an array of strings")
            return []
        }
        return elements.compactMap { element in
            if case .string(let text) = element.value { return text }
            reader.diagnostics.error(element.location, "each element of '\(key)' must be a string, found \(element.kindName)")
            return nil
        }
    }
}

/// Ensemble files already parsed in this process, by path and the file's identity on disk.
final class ParsedFiles: @unchecked Sendable {
    struct Key: Hashable {
        var path: String
        var inode: UInt64
        var size: Int64
        var modified: Int
    }

    static let shared = ParsedFiles()
    private let lock = NSLock()
    private var files: [Key: EnsembleFile] = [:]

    func file(for key: Key) -> EnsembleFile? { lock.withLock { files[key] } }

    var keys: [Key] { lock.withLock { Array(files.keys) } }

    func keep(_ file: EnsembleFile, for key: Key) {
        lock.withLock {
            // A handful per run; a long-lived process (the bench) keeps at most this many.
            if files.count > 64 { files.removeAll() }
            files[key] = file
        }
    }
}
