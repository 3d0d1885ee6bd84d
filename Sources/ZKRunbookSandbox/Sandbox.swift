import Foundation
import ZKRunbookAgent
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// A sandbox problem, with what to do about it.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How to build a throwaway ensemble on loopback.
/// The agent a sandbox's ensemble file names, and how it restarts one node of the sandbox in `directory`
/// (`${node.id}` is filled in per node): the CLI gives its own path and its own `sandbox restart` syntax.
public struct SandboxAgent: Sendable {
    public var path: String
    public var restartCommand: @Sendable (_ directory: String) -> [String]

    public init(path: String, restartCommand: @escaping @Sendable (_ directory: String) -> [String]) {
        self.path = path
        self.restartCommand = restartCommand
    }
}

extension Sandbox {
    /// Where packaging/fetch-zookeeper-jars.sh puts other ZooKeeper versions' jars, one folder per version:
    /// $ZKRUNBOOK_ZOOKEEPER_JARS, else ~/.cache/zkrunbook/zookeeper-jars.
    public static var jarCache: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["ZKRUNBOOK_ZOOKEEPER_JARS"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/zkrunbook/zookeeper-jars"
    }

    /// The jar folder `--zookeeper` means: a folder as given, or a version's folder under the cache.
    public static func jarFolder(_ value: String) -> String {
        value.contains("/") ? (value as NSString).standardizingPath : jarCache + "/" + value
    }
}

public struct SandboxSpec: Sendable, Codable, Hashable {
    public var nodes: Int
    /// The last `observers` nodes are observers; the rest vote.
    public var observers: Int
    /// Node i listens on base+i (clients), base+100+i (quorum), base+200+i (election), base+300+i (AdminServer).
    public var basePort: Int
    /// `4lw.commands.whitelist=*` when true; ZooKeeper's default (only srvr) when false.
    public var allFourLetterWords: Bool
    public var tickMs: Int
    public var heapMB: Int
    /// A folder of another ZooKeeper version's jars (zookeeper, jute, metrics-core, snappy…); nil: Debian's own.
    public var zookeeperJars: String?
    /// Nodes prepared but not members (folder, static zoo.cfg, myid; not started): servers to add.
    public var spares: Int?
    /// Dynamic reconfiguration (3.5+): `reconfigEnabled=true`, the server list in a dynamic config file.
    public var reconfig: Bool?
    /// A secured sandbox (`--tls`): certificates in `tls/`, a secure client port at base+400+i.
    public var tls: SandboxTLS?
    /// Releases laid out side by side for an upgrade (`--versions`): each node runs the one its link points at.
    public var versions: [String]?
    /// An authenticated sandbox (`--sasl digest`): every client session must authenticate with SASL
    /// DIGEST-MD5 (enforce.auth.enabled); the users and their password files are in `sasl/`.
    public var sasl: String?

    public var spareCount: Int { spares ?? 0 }
    public var isDynamic: Bool { reconfig ?? false }
    /// Every node with a folder: the members and the spares.
    public var allNodes: ClosedRange<Int> { 1...(nodes + spareCount) }

    public init(
        nodes: Int, observers: Int = 0, basePort: Int, allFourLetterWords: Bool = true, tickMs: Int = 200, heapMB: Int = 128,
        zookeeperJars: String? = nil, spares: Int = 0, reconfig: Bool = false
    ) {
        (self.zookeeperJars, self.nodes, self.observers, self.basePort) = (zookeeperJars, nodes, observers, basePort)
        (self.allFourLetterWords, self.tickMs, self.heapMB) = (allFourLetterWords, tickMs, heapMB)
        (self.spares, self.reconfig) = (spares == 0 ? nil : spares, reconfig ? true : nil)
    }

    /// How many ports from the base a sandbox's layout spans: two sandboxes run side by side with bases this far apart.
    public static let layoutWidth = 500

    /// Every port the sandbox's nodes listen on, with the node and what it is for.
    public var portsNeeded: [(port: Int, node: Int, what: String)] {
        allNodes.flatMap { id in
            [(clientPort(id), id, "client"), (quorumPort(id), id, "quorum"), (electionPort(id), id, "election"), (adminPort(id), id, "admin")]
                + (tls != nil ? [(secureClientPort(id), id, "secure client")] : [])
        }
    }

    /// Voters (participants): an even number survives no more failures than one fewer would.
    public var voters: Int { nodes - observers }

    public func clientPort(_ id: Int) -> Int { basePort + id }
    public func quorumPort(_ id: Int) -> Int { basePort + 100 + id }
    public func electionPort(_ id: Int) -> Int { basePort + 200 + id }
    public func adminPort(_ id: Int) -> Int { basePort + 300 + id }
    public func secureClientPort(_ id: Int) -> Int { basePort + 400 + id }
    /// The port zkrunbook reaches node `id` on: the secure one in a secured sandbox.
    public func reachPort(_ id: Int) -> Int { tls?.opensSecurePort == true ? secureClientPort(id) : clientPort(id) }
    /// The last `observers` members; spares join as participants.
    public func isObserver(_ id: Int) -> Bool { id > nodes - observers && id <= nodes }
}

/// Real ZooKeeper servers on loopback, from the installed jars: for tests, the quick start, and users' CI.
///
/// Each node has its own folder (zoo.cfg, data/myid, zookeeper.log, pid). Stopping and starting a node
/// is what a rolling restart's restart command does in the sandbox.
public struct Sandbox: Sendable {
    public let directory: String
    public let spec: SandboxSpec

    public static let specFile = "sandbox.json"
    public static let ensembleFile = "ensemble.json5"
    /// Where every sandbox server listens (client, secure, quorum, election, AdminServer ports) and what its
    /// certificate names: a throwaway ensemble lives on this machine's loopback, nowhere else.
    public static let host = "127.0.0.1"
    /// With `--tls-files-only`: the ensemble file for after enable-client-tls (secure ports, tls block).
    public static let securedEnsembleFile = "ensemble-tls.json5"

    // MARK: Locating Java and the jars

    /// The java command: $JAVA, $JAVA_HOME/bin/java, or java on PATH.
    public static func javaCommand() throws(SandboxError) -> String {
        let environment = ProcessInfo.processInfo.environment
        if let java = environment["JAVA"], !java.isEmpty { return java }
        if let home = environment["JAVA_HOME"], FileManager.default.isExecutableFile(atPath: home + "/bin/java") { return home + "/bin/java" }
        if case .success(let path) = ExecutableLocator.locate("java", path: environment["PATH"]) { return path }
        throw SandboxError("no java found: install a JRE (apt-get install -y default-jre-headless) or set JAVA_HOME")
    }

    /// Debian's jars that another version's server needs beside its own: logging, and Jetty and Jackson for
    /// the AdminServer (3.5+). Its own jars come first, so its versions of the rest win.
    static let supportJars = [
        "slf4j-api", "slf4j-simple", "log4j-1.2", "servlet-api", "jetty9-server", "jetty9-servlet", "jetty9-util", "jetty9-http", "jetty9-io",
        "jetty9-security", "jackson-core", "jackson-databind", "jackson-annotations", "commons-cli",
    ]

    /// The classpath: the version's jars in `zookeeperJars`, an Apache tarball under ZK_HOME, or Debian's
    /// zookeeper package.
    public static func classpath(zookeeperJars: String? = nil, netty: Bool = false) throws(SandboxError) -> String {
        let parts = try zookeeperClasspath(zookeeperJars: zookeeperJars)
        guard netty else { return parts }
        // Before Debian's support jars: the Netty chosen wins over any other on the path.
        return ([parts] + (try SandboxNetty.choose(zookeeperJars: zookeeperJars)).jars).joined(separator: ":")
    }

    static func zookeeperClasspath(zookeeperJars: String?) throws(SandboxError) -> String {
        if let folder = zookeeperJars {
            let jars = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".jar") }.sorted()
            guard jars.contains(where: { $0.hasPrefix("zookeeper-") }) else {
                throw SandboxError("\(folder) holds no zookeeper-*.jar: fetch a version's jars with packaging/fetch-zookeeper-jars.sh")
            }
            let support = supportJars.map { "/usr/share/java/\($0).jar" }.filter { FileManager.default.fileExists(atPath: $0) }
            return (jars.map { folder + "/" + $0 } + support).joined(separator: ":")
        }
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["ZK_HOME"], !home.isEmpty {
            guard FileManager.default.fileExists(atPath: home + "/lib") else {
                throw SandboxError("ZK_HOME=\(home) has no lib/ folder: point it at an unpacked Apache ZooKeeper binary tarball")
            }
            return "\(home)/lib/*:\(home)/conf"
        }
        let debian = "/usr/share/java/zookeeper.jar"
        guard FileManager.default.fileExists(atPath: debian) else {
            throw SandboxError("ZooKeeper jars not found: apt-get install -y zookeeper (Debian), or set ZK_HOME to an Apache ZooKeeper tarball")
        }
        var parts = [debian]
        // slf4j-simple sends the server's log to its stderr (the node's zookeeper.log); servlet-api lets
        // Jetty, and so the AdminServer, start.
        for jar in ["/usr/share/java/slf4j-simple.jar", "/usr/share/java/servlet-api.jar"] where FileManager.default.fileExists(atPath: jar) {
            parts.append(jar)
        }
        return parts.joined(separator: ":")
    }

    // MARK: Life cycle

    /// Writes every node's config and starts them all; waits until each serves (one leader) or `timeout`.
    public static func up(
        _ spec: SandboxSpec, directory: String, agent: SandboxAgent, timeout: Double = 90, progress: (String) -> Void = { _ in }
    ) throws(SandboxError) -> Sandbox {
        guard (1...9).contains(spec.nodes), spec.observers >= 0, spec.observers < spec.nodes, spec.nodes + spec.spareCount <= 9, spec.spareCount >= 0 else {
            throw SandboxError("--nodes must be 1 to 9, --observers fewer than --nodes, and --nodes plus --spares at most 9")
        }
        guard spec.basePort >= 1024, spec.basePort + 400 + spec.allNodes.upperBound <= 65535 else {
            throw SandboxError("--base-port must leave room for base+400+nodes below 65536")
        }
        let root = (directory as NSString).standardizingPath
        let sandbox = Sandbox(directory: root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root, spec: spec)
        if let existing = try? Sandbox.open(directory: sandbox.directory), existing.runningNodes().count > 0 {
            throw SandboxError(
                "a sandbox is already running in \(sandbox.directory) (nodes \(existing.runningNodes().map(String.init).joined(separator: ", "))): run 'zkrunbook sandbox down --dir \(sandbox.directory)' first"
            )
        }
        // What does not depend on the ports is refused first: a Java, the jars, a Netty the quorum's TLS can run on
        // (a refusal that never changes with the ports is never hidden behind a port another process holds).
        let java = try javaCommand()
        _ = try classpath(zookeeperJars: spec.zookeeperJars, netty: spec.tls != nil)
        if let tls = spec.tls {
            let netty = try SandboxNetty.choose(zookeeperJars: spec.zookeeperJars)
            if tls.quorum { try netty.checkQuorumTLS(zookeeper: SandboxNetty.zookeeperVersion(spec.zookeeperJars)) }
        }
        for (port, id, what) in spec.portsNeeded where !Self.portIsFree(port) {
            throw SandboxError("port \(port) (node \(id) \(what)) is in use: choose another --base-port (--base-port auto finds a free one)")
        }
        if spec.sasl != nil {
            progress("writing the SASL users' JAAS section and password files in \(sandbox.saslFolder)")
            try sandbox.writeSASLFiles()
        }
        if spec.tls != nil {
            progress("making a throwaway CA and certificates in \(sandbox.certificates.folder)")
            try sandbox.certificates.make(servers: Array(spec.allNodes), java: java)
        }
        do {
            try FileManager.default.createDirectory(atPath: sandbox.directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(spec).write(to: URL(fileURLWithPath: sandbox.directory + "/" + specFile))
            for id in spec.allNodes { try sandbox.writeNodeFiles(id) }
            try sandbox.installReleases()
            try sandbox.ensembleFileText(agent: agent).write(toFile: sandbox.directory + "/" + ensembleFile, atomically: true, encoding: .utf8)
            if spec.tls?.opensSecurePort == false {
                // For after enable-client-tls: every node reached on its secure port, with the client certificate.
                try sandbox.ensembleFileText(agent: agent, secured: true)
                    .write(toFile: sandbox.directory + "/" + securedEnsembleFile, atomically: true, encoding: .utf8)
            }
            if spec.spareCount > 0 {
                // Members and spares: the file an add-server runbook is given, once a spare's entry is wanted.
                try sandbox.ensembleFileText(agent: agent, nodes: Array(spec.allNodes))
                    .write(toFile: sandbox.directory + "/ensemble-all.json5", atomically: true, encoding: .utf8)
            }
        } catch let error as SandboxError {
            throw error
        } catch {
            throw SandboxError("cannot write the sandbox in \(sandbox.directory): \(error.localizedDescription)")
        }
        do {
            for id in 1...spec.nodes {
                try sandbox.start(node: id)
                progress("started node \(id) (client port \(spec.clientPort(id)))")
            }
            try sandbox.waitUntilServing(timeout: timeout)
        } catch {
            // Free when checked, bound by someone else a moment later (two sandboxes starting side by side):
            // said as "in use", so a caller that picks base ports can try another.
            let bindFailure = (1...spec.nodes).first { id in
                sandbox.tail(id, lines: 40).contains { $0.contains("Address already in use") || $0.contains("electionPortBindRetry") }
            }
            // A sandbox that did not come up leaves no server running (its folder and logs stay).
            _ = sandbox.down()
            if let id = bindFailure {
                throw SandboxError("a port of node \(id) is in use (taken by another process while the sandbox started): choose another --base-port")
            }
            throw error
        }
        return sandbox
    }

    /// Opens an existing sandbox folder.
    public static func open(directory: String) throws(SandboxError) -> Sandbox {
        let path = directory + "/" + specFile
        guard let data = FileManager.default.contents(atPath: path), let spec = try? JSONDecoder().decode(SandboxSpec.self, from: data) else {
            throw SandboxError("\(directory) is not a sandbox (no readable \(specFile)): create one with 'zkrunbook sandbox up --dir \(directory)'")
        }
        return Sandbox(directory: directory, spec: spec)
    }

    public func nodeDirectory(_ id: Int) -> String { directory + "/node\(id)" }
    public func dynamicConfigPath(_ id: Int) -> String { nodeDirectory(id) + "/zoo.cfg.dynamic" }

    /// Node `id`'s line in a dynamic config file: `server.N=host:quorum:election:role;host:clientPort`.
    public func serverLine(_ id: Int) -> String {
        let client = spec.tls?.plaintextClientPort ?? true ? ";\(Self.host):\(spec.clientPort(id))" : ""
        return "server.\(id)=\(Self.host):\(spec.quorumPort(id)):\(spec.electionPort(id)):\(spec.isObserver(id) ? "observer" : "participant")\(client)"
    }
    public func configPath(_ id: Int) -> String { nodeDirectory(id) + "/zoo.cfg" }
    public func logPath(_ id: Int) -> String { nodeDirectory(id) + "/zookeeper.log" }
    func pidPath(_ id: Int) -> String { nodeDirectory(id) + "/pid" }

    public var members: [EnsembleMember] { (1...spec.nodes).map(member) }

    /// The throwaway CA and the certificates of a secured sandbox.
    public var certificates: SandboxCertificates { SandboxCertificates(folder: directory + "/tls") }

    /// How zkrunbook reaches this sandbox's servers: plaintext, or its secure client ports with the client certificate.
    public var serverTLS: ServerTLS? {
        spec.tls.flatMap { $0.opensSecurePort ? certificates.serverTLS(ports: Set(spec.allNodes.map(spec.secureClientPort))) : nil }
    }

    public var connector: any ServerConnector { (serverTLS.flatMap { try? $0.connector() }) ?? PlaintextConnector() }

    /// Inspects the sandbox's servers the way they are reached.
    public var inspector: EnsembleInspector { EnsembleInspector(probe: ServerProbe(connector: connector)) }

    /// Where node `id`'s agent keeps its journal and records (its `stateDir` in the ensemble file).
    public func stateDirectory(_ id: Int) -> String { nodeDirectory(id) + "/state" }

    /// Node `id` as an ensemble file describes it (a member or a spare).
    public func member(_ id: Int) -> EnsembleMember { member(id, secured: spec.tls?.opensSecurePort == true) }

    /// Node `id`, reached on its secure port when `secured` (the ensemble file for after enable-client-tls).
    func member(_ id: Int, secured: Bool) -> EnsembleMember {
        var member = EnsembleMember(
            id: id, host: Self.host, clientPort: spec.clientPort(id), adminPort: spec.adminPort(id),
            role: spec.isObserver(id) ? .observer : .participant, logFile: logPath(id), zooCfg: configPath(id), quorumPort: spec.quorumPort(id),
            electionPort: spec.electionPort(id))
        if let tls = spec.tls, secured {
            (member.clientPort, member.secure) = (spec.secureClientPort(id), true)
            member.plaintextClientPort = tls.plaintextClientPort || !tls.opensSecurePort ? spec.clientPort(id) : nil
        }
        return member
    }

    func writeNodeFiles(_ id: Int) throws {
        let data = nodeDirectory(id) + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try "\(id)\n".write(toFile: data + "/myid", atomically: true, encoding: .utf8)
        var lines = [
            "# zkrunbook sandbox node \(id); ports: client \(spec.clientPort(id)), admin \(spec.adminPort(id))",
            "tickTime=\(spec.tickMs)", "initLimit=20", "syncLimit=10", "dataDir=\(data)",
            "admin.enableServer=true", "admin.serverAddress=\(Self.host)", "admin.serverPort=\(spec.adminPort(id))",
            "maxClientCnxns=100", "autopurge.snapRetainCount=3", "autopurge.purgeInterval=1",
            // The short tick would cap sessions at 20 ticks (4 s): a client on a loaded test machine that
            // stalls that long would lose its session. Clients get what they ask for, up to a minute.
            "maxSessionTimeout=60000",
            // A throwaway ensemble on one machine: a write is acknowledged once it is in the page cache,
            // which a killed server does not lose (only a machine crash would, and takes the sandbox with
            // it). A shared CI disk that stalls fsync for seconds would otherwise stall every write.
            "forceSync=no",
        ]
        if spec.tls?.plaintextClientPort ?? true { lines += ["clientPort=\(spec.clientPort(id))", "clientPortAddress=\(Self.host)"] }
        if let tls = spec.tls { lines += tlsLines(id, tls) }
        if spec.allFourLetterWords { lines.append("4lw.commands.whitelist=*") }
        if spec.sasl != nil {
            // Every client session authenticates (3.7+), as the secured deployments do; the four-letter words
            // stay open (they are not sessions).
            lines += [
                "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider", "enforce.auth.enabled=true",
                "enforce.auth.schemes=sasl",
            ]
        }
        if spec.isDynamic {
            // Reconfig is for super users: a throwaway sandbox lets every client be one (skipACL), an authenticated
            // one makes zkrunbook's user the super user, so another user is refused as in production.
            lines += [
                "reconfigEnabled=true", spec.sasl == nil ? "skipACL=yes" : "superUser=\(Self.saslUsers[0])", "standaloneEnabled=false",
                "dynamicConfigFile=\(dynamicConfigPath(id))",
            ]
            try (lines.joined(separator: "\n") + "\n").write(toFile: configPath(id), atomically: true, encoding: .utf8)
            // A spare gets its dynamic file when it joins: the members as they are then, and itself.
            if id <= spec.nodes {
                let servers = (1...spec.nodes).map(serverLine)
                try (servers.joined(separator: "\n") + "\n").write(toFile: dynamicConfigPath(id), atomically: true, encoding: .utf8)
            }
            return
        }
        if spec.isObserver(id) { lines.append("peerType=observer") }
        if spec.nodes > 1 {
            for other in 1...spec.nodes {
                let role = spec.isObserver(other) ? ":observer" : ""
                lines.append("server.\(other)=\(Self.host):\(spec.quorumPort(other)):\(spec.electionPort(other))\(role)")
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: configPath(id), atomically: true, encoding: .utf8)
    }

    /// A secured node's zoo.cfg lines: the secure client port wanting client certificates, its keystore and
    /// the CA's truststore (PKCS#12), quorum TLS, the AdminServer's HTTPS.
    func tlsLines(_ id: Int, _ tls: SandboxTLS) -> [String] {
        let files = certificates
        let password = SandboxCertificates.storePassword
        var lines = tls.opensSecurePort ? ["secureClientPort=\(spec.secureClientPort(id))", "secureClientPortAddress=\(Self.host)"] : []
        lines += [
            "ssl.keyStore.location=\(files.keyStore(id))", "ssl.keyStore.password=\(password)", "ssl.keyStore.type=PKCS12",
            "ssl.trustStore.location=\(files.trustStore)", "ssl.trustStore.password=\(password)", "ssl.trustStore.type=PKCS12",
            "ssl.clientAuth=need",
        ]
        // The quorum's stores are set even with sslQuorum off: a rolling runbook turns it on later.
        lines += [
            "ssl.quorum.keyStore.location=\(files.keyStore(id))", "ssl.quorum.keyStore.password=\(password)", "ssl.quorum.keyStore.type=PKCS12",
            "ssl.quorum.trustStore.location=\(files.trustStore)", "ssl.quorum.trustStore.password=\(password)", "ssl.quorum.trustStore.type=PKCS12",
        ]
        if tls.quorum { lines.append("sslQuorum=true") }
        if tls.adminHTTPS { lines.append("admin.portUnification=true") }
        return lines
    }

    /// The ensemble file for `zkrunbook status --ensemble` and the rolling restart; its agent and restart
    /// command come from the caller, which knows its own path and command line.
    func ensembleFileText(agent: SandboxAgent, nodes ids: [Int]? = nil, secured: Bool? = nil) -> String {
        let secured = secured ?? (spec.tls?.opensSecurePort == true)
        let nodes = (ids ?? Array(1...spec.nodes)).map { member($0, secured: secured) }.map { member in
            // Before TLS is on, each node's planned secure port: what enable-client-tls opens.
            let planned = spec.tls != nil && !secured ? ", secureClientPort: \(spec.secureClientPort(member.id))" : ""
            let ports =
                member.secure
                ? (member.plaintextClientPort.map { "clientPort: \($0), " } ?? "") + "secureClientPort: \(member.clientPort)"
                : "clientPort: \(member.clientPort)" + planned
            return "    { id: \(member.id), host: \"\(member.host)\", \(ports), adminPort: \(member.adminPort!), role: \"\(member.role.rawValue)\","
                + " quorumPort: \(member.quorumPort!), electionPort: \(member.electionPort!),\n"
                + "      logFile: \"\(member.logFile!)\", stateDir: \"\(stateDirectory(member.id))\", zooCfg: \"\(member.zooCfg!)\" },"
        }
        let stop = AgentRequest.sandbox(.stop, directory: directory, node: "${node.id}").argv(agent: agent.path)
        let files = certificates
        let tlsBlock =
            spec.tls == nil || !secured
            ? ""
            : "\n  // Every node is reached on its secureClientPort with this client certificate (the sandbox's CA signed it).\n"
                + "  tls: { caFile: \"\(files.caFile)\", certificateFile: \"\(files.clientCertificate)\", keyFile: \"\(files.clientKey)\""
                + (spec.tls!.adminHTTPS ? ", adminServer: \"https\"" : "") + " },"
        let saslBlock =
            spec.sasl == nil
            ? ""
            : "\n  // Every client session authenticates as zkrunbook (SASL DIGEST-MD5), its password in its own file.\n"
                + "  sasl: { mechanism: \"DIGEST-MD5\", username: \"zkrunbook\", passwordFile: \"\(saslPasswordFile("zkrunbook"))\" },"
        return """
            // A zkrunbook sandbox ensemble (\(spec.nodes) nodes, \(spec.observers) observer(s)\(spec.spareCount > 0 ? ", \(spec.spareCount) spare(s)" : "")), written by 'zkrunbook sandbox up'.
            {
              name: "sandbox-\(spec.basePort)",
              nodes: [
            \(nodes.joined(separator: "\n"))
              ],
              // Each node's restart command in the sandbox; production: ["systemctl", "restart", "zookeeper"].
              restartCommand: [\(agent.restartCommand(directory).map { "\"\($0)\"" }.joined(separator: ", "))],
              stopCommand: [\(stop.map { "\"\($0)\"" }.joined(separator: ", "))],
              agentPath: "\(agent.path)",\(tlsBlock)\(saslBlock)\(installBlock)
            }

            """
    }

    /// The marker that identifies node `id`'s java process on the command line.
    func marker(_ id: Int) -> String { configPath(id) }

    public func pid(of id: Int) -> Int32? {
        guard let text = try? String(contentsOfFile: pidPath(id), encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public func isRunning(_ id: Int) -> Bool {
        guard let pid = pid(of: id) else { return false }
        return DetachedProcess.isRunning(pid, commandLineContains: marker(id))
    }

    public func runningNodes() -> [Int] { spec.allNodes.filter(isRunning) }

    /// Starts node `id` (no-op if it runs). Does not wait for it to serve.
    public func start(node id: Int) throws(SandboxError) {
        guard spec.allNodes.contains(id) else { throw SandboxError("no node \(id): the sandbox has nodes 1 to \(spec.allNodes.upperBound)") }
        if isRunning(id) { return }
        let java = try Self.javaCommand()
        let logging = SandboxLogging()
        let classpath = try logging.classpath(try Self.classpath(zookeeperJars: jarFolder(of: id), netty: spec.tls != nil))
        // The servers' log layout as an operator may configure it (a Kafka-style bracketed time, no milliseconds):
        // $ZKRUNBOOK_SANDBOX_LOG_DATE_FORMAT, a SimpleDateFormat pattern; the zone is the JVM's (TZ).
        let dateFormat =
            ProcessInfo.processInfo.environment["ZKRUNBOOK_SANDBOX_LOG_DATE_FORMAT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "yyyy-MM-dd HH:mm:ss,SSS"
        let argv =
            [
                java, "-Xmx\(spec.heapMB)m", "-Xms16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=\(dateFormat)",
                "-Dzookeeper.jmx.log4j.disable=true",
            ] + (try logging.jvmOptions(nodeDirectory: nodeDirectory(id)))
            + (spec.tls?.opensSecurePort == true ? ["-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"] : [])
            + (spec.sasl != nil ? ["-Djava.security.auth.login.config=\(saslFolder)/jaas.conf"] : []) + [
                "-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", configPath(id),
            ]
        do {
            let pid = try DetachedProcess.spawn(argv: argv, workingDirectory: nodeDirectory(id), logPath: logPath(id))
            try "\(pid)\n".write(toFile: pidPath(id), atomically: true, encoding: .utf8)
        } catch let error as DetachedProcess.SpawnError {
            throw SandboxError("cannot start node \(id): \(error.description)")
        } catch {
            throw SandboxError("cannot write \(pidPath(id)): \(error.localizedDescription)")
        }
    }

    /// Stops node `id` (SIGTERM, then SIGKILL after 10 s). True when it is down.
    @discardableResult
    public func stop(node id: Int) -> Bool {
        guard let pid = pid(of: id) else { return true }
        let stopped = DetachedProcess.stop(pid, commandLineContains: marker(id))
        if stopped { try? FileManager.default.removeItem(atPath: pidPath(id)) }
        return stopped
    }

    /// Stops every node. Returns the nodes that would not stop.
    @discardableResult
    public func down() -> [Int] {
        let nodes = Array(spec.allNodes)
        let failed = Parallel.map(nodes) { !stop(node: $0) }
        return zip(nodes, failed).filter(\.1).map(\.0)
    }

    /// Waits until every running node serves and exactly one leads.
    public func waitUntilServing(timeout: Double) throws(SandboxError) {
        let deadline = Date().addingTimeInterval(timeout)
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: 0.5, readTimeout: 1), wantMonitor: false, wantRuok: false, connector: connector)
        var last: [ServerFacts] = []
        while Date() < deadline {
            last = probe.probeAll(members.map { ($0.endpoint, nil) })
            let leaders = last.filter { $0.mode == .leader || $0.mode == .standalone }.count
            if last.allSatisfy(\.mode.isServing) && leaders == 1 { return }
            for id in 1...spec.nodes where !isRunning(id) {
                throw SandboxError("node \(id) exited while starting; last lines of \(logPath(id)):\n" + tail(id, lines: 15).joined(separator: "\n"))
            }
            usleep(50_000)
        }
        let states = zip(members, last).map { "node \($0.id): \($1.mode.rawValue)" }.joined(separator: ", ")
        throw SandboxError("the sandbox did not form a quorum within \(Int(timeout))s (\(states)); logs: \(directory)/node*/zookeeper.log")
    }

    /// Waits until node `id` serves as follower, observer or leader.
    public func waitUntilServing(node id: Int, timeout: Double) throws(SandboxError) {
        let deadline = Date().addingTimeInterval(timeout)
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: 0.5, readTimeout: 1), wantMonitor: false, wantRuok: false, connector: connector)
        while Date() < deadline {
            if probe.probe(member(id).endpoint).mode.isServing { return }
            if !isRunning(id) {
                throw SandboxError("node \(id) exited; last lines of \(logPath(id)):\n" + tail(id, lines: 15).joined(separator: "\n"))
            }
            usleep(50_000)
        }
        throw SandboxError("node \(id) did not serve within \(Int(timeout))s; see \(logPath(id))")
    }

    /// The last lines of node `id`'s log.
    public func tail(_ id: Int, lines: Int) -> [String] {
        guard let text = try? String(contentsOfFile: logPath(id), encoding: .utf8) else { return [] }
        return Array(text.split(separator: "\n").suffix(lines).map(String.init))
    }

    /// The first base from 20000 up, in steps of the layout's width (500), where every port `spec` needs is free;
    /// below 32768, where the kernel hands out its ephemeral ports (a client connection could take one later).
    public static func freeBase(for spec: SandboxSpec) -> Int? {
        var candidate = spec
        for base in stride(from: 20_000, through: 32_768 - SandboxSpec.layoutWidth, by: SandboxSpec.layoutWidth) {
            candidate.basePort = base
            if candidate.portsNeeded.allSatisfy({ portIsFree($0.port) }) { return base }
        }
        return nil
    }

    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // As ZooKeeper binds: a port still in TIME_WAIT from a stopped sandbox counts as free.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(Self.host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}
