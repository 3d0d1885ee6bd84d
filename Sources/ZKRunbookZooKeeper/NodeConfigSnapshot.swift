import Foundation

/// What one node's configuration files say, as the agent on that node reads them: zoo.cfg's settings, the
/// server list in effect (from the dynamic config file when zoo.cfg names one), myid, and java.env beside
/// zoo.cfg. The conductor compares these across nodes (`ConfigDrift`); it never reads a node's files itself.
public struct NodeConfigSnapshot: Sendable, Codable, Equatable {
    public var zooCfg: String
    /// zoo.cfg's keys and values, the `server.N` lines apart.
    public var properties: [String: String]
    /// The server list in effect, by id: `host:quorumPort:electionPort:role[;clientAddress:clientPort]`.
    public var servers: [String: String]
    /// The file the server list came from (zoo.cfg, or its dynamic config file).
    public var serversFile: String
    /// The text of dataDir/myid, trimmed; nil when there is none.
    public var myid: String?
    public var myidFile: String?
    /// java.env beside zoo.cfg (`export NAME=value` or `NAME=value` lines), nil when there is none.
    public var javaEnv: [String: String]?
    public var javaEnvFile: String
    /// Whether each folder asked about (`--check-dir`) exists on the node: a change may point dataDir there.
    public var directories: [String: Bool]?
    /// The server running behind the node's client port, when the agent was told the port and found it.
    public var running: RunningServer?
    /// Why `zooCfg` is the file read (given, or the running server's), and any mismatch between the two.
    public var source: String?
    /// The snapshots and transaction logs in the data folders (an upgrade from 3.4 needs a snapshot).
    public var data: DataFolderFacts?
    /// The logging configuration files beside zoo.cfg (log4j.properties, logback.xml): 3.8 reads only logback's.
    public var loggingFiles: [String]?
    /// Where each folder asked about that is a symbolic link points (an install's `current` link).
    public var links: [String: String]?

    public init(
        zooCfg: String, properties: [String: String], servers: [String: String], serversFile: String, myid: String? = nil, myidFile: String? = nil,
        javaEnv: [String: String]? = nil, javaEnvFile: String
    ) {
        (self.zooCfg, self.properties, self.servers, self.serversFile) = (zooCfg, properties, servers, serversFile)
        (self.myid, self.myidFile, self.javaEnv, self.javaEnvFile) = (myid, myidFile, javaEnv, javaEnvFile)
    }

    /// The zoo.cfg to read on this node: the one given, else the one the server behind `clientPort` was started
    /// with, else `fallback`; with the running server and a sentence on the choice (a given file other than
    /// the running server's is said).
    public static func choose(given: String?, clientPort: Int?, fallback: String) -> (path: String, running: RunningServer?, source: String) {
        let found = clientPort.map { RunningServer.find(clientPort: $0) }
        let running = try? found?.get()
        let runningPath = running?.configPath
        switch (given, runningPath) {
        case (let given?, let runningPath?):
            let same = realpath(given) == realpath(runningPath)
            return (
                given, running,
                same
                    ? "given; the running server (pid \(running!.pid)) was started with it"
                    : "given, but the server on port \(clientPort!) (pid \(running!.pid)) was started with \(runningPath): it runs another file"
            )
        case (let given?, nil):
            return (given, running, "given" + (found.map { "; the running server not found: \(Self.why($0))" } ?? ""))
        case (nil, let runningPath?):
            return (runningPath, running, "the file the server on port \(clientPort!) (pid \(running!.pid)) was started with")
        case (nil, nil):
            return (fallback, running, "the default, \(fallback)" + (found.map { ": the running server not found: \(Self.why($0))" } ?? ""))
        }
    }

    static func why(_ found: Result<RunningServer, RunningServer.Problem>) -> String {
        switch found {
        case .success(let server): return "process \(server.pid) names no config file after \(server.mainClass)"
        case .failure(let problem): return problem.description
        }
    }

    static func realpath(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }

    /// Reads the node's files; an unreadable or malformed zoo.cfg (or dynamic file) is an error with its line.
    public static func read(zooCfg path: String, checkDirectories: [String] = []) throws(ZooConfigError) -> NodeConfigSnapshot {
        let config = try ZooConfig.load(path: path, readMyid: false)
        let myidFile = config.dataDir.map { $0 + "/myid" }
        let myid = myidFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
        let javaEnvFile = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("java.env")
        let javaEnv = (try? String(contentsOfFile: javaEnvFile, encoding: .utf8)).map(parseEnvironment)
        var servers: [String: String] = [:]
        for entry in config.servers { servers[String(entry.id)] = Self.describe(entry) }
        var snapshot = NodeConfigSnapshot(
            zooCfg: path, properties: config.properties, servers: servers, serversFile: config.serversPath, myid: myid, myidFile: myidFile,
            javaEnv: javaEnv, javaEnvFile: javaEnvFile)
        if !checkDirectories.isEmpty {
            var isDirectory: ObjCBool = false
            snapshot.directories = Dictionary(
                checkDirectories.map { ($0, FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue) },
                uniquingKeysWith: { first, _ in first })
            let links = checkDirectories.compactMap { path in (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { (path, $0) } }
            if !links.isEmpty { snapshot.links = Dictionary(links, uniquingKeysWith: { first, _ in first }) }
        }
        if let snapshots = config.snapshotFolder, let logs = config.logFolder {
            snapshot.data = DataFolderFacts.read(snapshotFolder: snapshots, logFolder: logs)
        }
        let folder = (path as NSString).deletingLastPathComponent
        snapshot.loggingFiles = ["log4j.properties", "logback.xml"].filter { FileManager.default.fileExists(atPath: folder + "/" + $0) }
        return snapshot
    }

    /// One server entry as text two nodes can compare: the role always spelt out, the client half when given.
    public static func describe(_ entry: ServerEntry) -> String {
        var text = "\(entry.host):\(entry.quorumPort):\(entry.electionPort):\(entry.role.rawValue)"
        if let port = entry.clientPort { text += ";" + (entry.clientAddress.map { "\($0):" } ?? "") + String(port) }
        return text
    }

    /// `export NAME="value"` and `NAME=value` lines; comments, blank lines and anything else are left out.
    static func parseEnvironment(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else { continue }
            let name = String(line[..<equals])
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" { value = String(value.dropFirst().dropLast()) }
            values[name] = value
        }
        return values
    }
}
