import Foundation

/// A zoo.cfg problem, printed as `file:line: error: message`.
public struct ZooConfigError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) { (self.path, self.line, self.message) = (path, line, message) }

    public var description: String {
        if let line { return "\(path):\(line): error: \(message)" }
        return "\(path): error: \(message)"
    }
}

/// One `server.N=host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]` line.
public struct ServerEntry: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Codable { case participant, observer }

    public var id: Int
    public var host: String
    public var quorumPort: Int
    public var electionPort: Int
    public var role: Role
    public var clientAddress: String?
    public var clientPort: Int?
    public var line: Int
}

/// What zkrunbook needs from zoo.cfg (and its dynamic config file and myid).
public struct ZooConfig: Sendable {
    public var path: String
    public var properties: [String: String]
    public var servers: [ServerEntry]
    public var myid: Int?
    /// Where the server list came from: the file itself or `dynamicConfigFile`.
    public var serversPath: String

    public var clientPort: Int? { properties["clientPort"].flatMap(Int.init) }
    public var clientPortAddress: String? { properties["clientPortAddress"] }
    /// The TLS client port (with `serverCnxnFactory` Netty), beside or instead of `clientPort`.
    public var secureClientPort: Int? { properties["secureClientPort"].flatMap(Int.init) }
    /// The port a probe on the server's own machine asks: the plaintext client port, else the secure one.
    public var probePort: Int { clientPort ?? secureClientPort ?? 2181 }
    public var dataDir: String? { properties["dataDir"] }
    public var dataLogDir: String? { properties["dataLogDir"] ?? dataDir }
    /// Where the server keeps its snapshots and epoch files, and its transaction logs: version-2 of each.
    public var snapshotFolder: String? { dataDir.map { $0 + "/version-2" } }
    public var logFolder: String? { dataLogDir.map { $0 + "/version-2" } }
    public var dynamicConfigFile: String? { properties["dynamicConfigFile"] }
    /// AdminServer port (8080 unless set), or nil when the AdminServer is disabled.
    public var adminPort: Int? {
        if properties["admin.enableServer"]?.lowercased() == "false" { return nil }
        return properties["admin.serverPort"].flatMap(Int.init) ?? 8080
    }
    /// The four-letter words this server answers: the whitelist, or only `srvr` (the default since 3.5.3).
    public var whitelist: Set<String> {
        guard let value = properties["4lw.commands.whitelist"] else { return ["srvr"] }
        let words = Set(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        return words.contains("*") ? Set(FourLetterWord.allCases.map(\.rawValue)) : words
    }
    /// Hierarchical quorums (group.N / weight.N) change what a majority is; zkrunbook does not model them.
    public var usesHierarchicalQuorum: Bool { properties.keys.contains { $0.hasPrefix("group.") || $0.hasPrefix("weight.") } }

    public var voters: [ServerEntry] { servers.filter { $0.role == .participant } }
    public var observers: [ServerEntry] { servers.filter { $0.role == .observer } }

    /// `dynamicMayBeMissing`: a dynamic config file that does not exist (a server not yet joined, or one whose
    /// file was removed) leaves the server list empty and `serversPath` naming it, instead of an error.
    public static func load(path: String, readMyid: Bool = true, dynamicMayBeMissing: Bool = false) throws(ZooConfigError) -> ZooConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ZooConfigError(path: path, line: nil, message: "cannot read the file")
        }
        var config = try parse(text, path: path)
        if let dynamic = config.dynamicConfigFile {
            let dynamicPath = dynamic.hasPrefix("/") ? dynamic : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(dynamic)
            if dynamicMayBeMissing, !FileManager.default.fileExists(atPath: dynamicPath) {
                config.servers = []
                config.serversPath = dynamicPath
            } else if let dynamicText = try? String(contentsOfFile: dynamicPath, encoding: .utf8) {
                let dynamicConfig = try parse(dynamicText, path: dynamicPath)
                if !dynamicConfig.servers.isEmpty {
                    config.servers = dynamicConfig.servers
                    config.serversPath = dynamicPath
                }
            } else {
                throw ZooConfigError(path: path, line: nil, message: "dynamicConfigFile \(dynamicPath) cannot be read")
            }
        }
        if readMyid, let dataDir = config.dataDir,
            let text = try? String(contentsOfFile: dataDir + "/myid", encoding: .utf8)
        {
            config.myid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return config
    }

    public static func parse(_ text: String, path: String) throws(ZooConfigError) -> ZooConfig {
        var properties: [String: String] = [:]
        var servers: [ServerEntry] = []
        for (index, rawLine) in text.components(separatedBy: "\n").enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ZooConfigError(path: path, line: index + 1, message: "expected key=value, found '\(line)'")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("server.") {
                let entry = try parseServer(key: key, value: value, path: path, line: index + 1)
                if let duplicate = servers.first(where: { $0.id == entry.id }) {
                    throw ZooConfigError(path: path, line: index + 1, message: "server.\(entry.id) is defined twice (first at line \(duplicate.line))")
                }
                servers.append(entry)
            } else {
                properties[key] = value
            }
        }
        return ZooConfig(path: path, properties: properties, servers: servers, myid: nil, serversPath: path)
    }

    static let serverSyntax = "expected server.N=host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]"

    public static func parseServer(key: String, value: String, path: String, line: Int) throws(ZooConfigError) -> ServerEntry {
        guard let id = Int(key.dropFirst("server.".count)), id >= 0 else {
            throw ZooConfigError(path: path, line: line, message: "'\(key)': the server id must be a whole number; \(serverSyntax)")
        }
        let halves = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var fields: [String] = []
        var rest = Substring(halves[0])
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw ZooConfigError(path: path, line: line, message: "\(key): unterminated [IPv6] host; \(serverSyntax)")
            }
            fields.append(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ZooConfigError(path: path, line: line, message: "\(key): \(serverSyntax)") }
            rest = rest.dropFirst()
        }
        fields += rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 || fields.count == 4, !fields[0].isEmpty,
            let quorumPort = Int(fields[1]), let electionPort = Int(fields[2]),
            (1...65535).contains(quorumPort), (1...65535).contains(electionPort)
        else {
            throw ZooConfigError(path: path, line: line, message: "\(key)=\(value): \(serverSyntax)")
        }
        var role = ServerEntry.Role.participant
        if fields.count == 4 {
            guard let parsed = ServerEntry.Role(rawValue: fields[3]) else {
                throw ZooConfigError(path: path, line: line, message: "\(key): role '\(fields[3])' must be participant or observer")
            }
            role = parsed
        }
        var clientAddress: String?
        var clientPort: Int?
        if halves.count == 2 {
            let client = halves[1]
            if let colon = client.lastIndex(of: ":") {
                clientAddress = String(client[..<colon])
                clientPort = Int(client[client.index(after: colon)...])
            } else {
                clientPort = Int(client)
            }
            guard let port = clientPort, (1...65535).contains(port) else {
                throw ZooConfigError(path: path, line: line, message: "\(key): client port '\(client)' is not a port; \(serverSyntax)")
            }
        }
        return ServerEntry(
            id: id, host: fields[0], quorumPort: quorumPort, electionPort: electionPort, role: role, clientAddress: clientAddress,
            clientPort: clientPort, line: line)
    }
}
