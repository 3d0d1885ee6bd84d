/// A change to every node's configuration: zoo.cfg keys to set or remove, java.env variables to set. Pure:
/// what it would do to a node (`effect(on:)`), and what about it would break an ensemble (`refusals`).
public struct ConfigChange: Sendable, Equatable {
    public var set: [(key: String, value: String)]
    public var remove: [String]
    public var javaEnv: [(name: String, value: String)]

    public static func == (left: ConfigChange, right: ConfigChange) -> Bool {
        left.set.map { "\($0.key)=\($0.value)" } == right.set.map { "\($0.key)=\($0.value)" } && left.remove == right.remove
            && left.javaEnv.map { "\($0.name)=\($0.value)" } == right.javaEnv.map { "\($0.name)=\($0.value)" }
    }

    public var isEmpty: Bool { self.set.isEmpty && remove.isEmpty && javaEnv.isEmpty }

    /// How the lists are written in one runbook parameter each: `key=value;key=value`, `key;key`,
    /// `NAME=value;NAME=value` (a value may hold '=' and ',' but not ';').
    public static let syntax = "set: key=value;key=value, remove: key;key, javaEnv: NAME=value;NAME=value"

    /// Parses the three parameters; the message names the entry that is not `key=value`.
    public static func parse(set: String, remove: String, javaEnv: String) -> Result<ConfigChange, ConfigChangeProblem> {
        func entries(_ text: String) -> [String] { text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        func pairs(_ text: String, _ what: String) -> Result<[(String, String)], ConfigChangeProblem> {
            var out: [(String, String)] = []
            for entry in entries(text) {
                guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                    return .failure(ConfigChangeProblem("\(what) entry '\(entry)' is not NAME=value (\(syntax))"))
                }
                out.append(
                    (
                        String(entry[..<equals]).trimmingCharacters(in: .whitespaces),
                        String(entry[entry.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
                    ))
            }
            return .success(out)
        }
        let sets: [(String, String)]
        let environment: [(String, String)]
        switch pairs(set, "a 'set'") {
        case .failure(let problem): return .failure(problem)
        case .success(let parsed): sets = parsed
        }
        switch pairs(javaEnv, "a 'javaEnv'") {
        case .failure(let problem): return .failure(problem)
        case .success(let parsed): environment = parsed
        }
        for (name, value) in environment {
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                return .failure(ConfigChangeProblem("java.env name '\(name)' is not a shell variable name"))
            }
            // java.env is a shell script: a value is written inside double quotes, as data, never code.
            if value.contains(where: { "\"\\$`".contains($0) }) {
                return .failure(ConfigChangeProblem("java.env value of \(name) holds \", \\, $ or `: edit java.env by hand for that"))
            }
        }
        for text in sets.flatMap({ [$0.0, $0.1] }) + environment.flatMap({ [$0.0, $0.1] }) + entries(remove) where text.contains(where: \.isNewline) {
            return .failure(ConfigChangeProblem("'\(text)' holds a line break"))
        }
        return .success(
            ConfigChange(set: sets.map { (key: $0.0, value: $0.1) }, remove: entries(remove), javaEnv: environment.map { (name: $0.0, value: $0.1) }))
    }

    /// zoo.cfg keys this change may not touch, and why: the membership and the server's identity change
    /// through add-server, remove-server and set-role, which order the restarts and check both quorums.
    public static func forbidden(_ key: String) -> String? {
        if key.hasPrefix("server.") || key.hasPrefix("group.") || key.hasPrefix("weight.") {
            return "'\(key)' changes the membership: use the add-server, remove-server or set-role runbook (they keep a quorum of the old and the new members)"
        }
        switch key {
        case "peerType": return "'peerType' changes a server's role: use the set-role runbook"
        case "dynamicConfigFile": return "'dynamicConfigFile' moves the membership to another file: change it by hand, with every server stopped"
        default: return nil
        }
    }

    /// What this change does to one node: each key whose value it changes, before and after (nil: unset).
    public func effect(on snapshot: NodeConfigSnapshot) -> [ConfigEdit] {
        var edits: [ConfigEdit] = []
        var properties = snapshot.properties
        for (key, value) in set where properties[key] != value {
            edits.append(ConfigEdit(file: .zooCfg, key: key, before: properties[key], after: value))
            properties[key] = value
        }
        for key in remove where properties[key] != nil {
            edits.append(ConfigEdit(file: .zooCfg, key: key, before: properties[key], after: nil))
            properties[key] = nil
        }
        var environment = snapshot.javaEnv ?? [:]
        for (name, value) in javaEnv where environment[name] != value {
            edits.append(ConfigEdit(file: .javaEnv, key: name, before: environment[name], after: value))
            environment[name] = value
        }
        return edits
    }

    /// Why this change would break the ensemble, judged on what each node's agent read: forbidden keys, a
    /// dataDir or dataLogDir that does not exist on a node, a port that clashes with another server's on
    /// the same host.
    public func refusals(_ nodes: [(member: EnsembleMember, snapshot: NodeConfigSnapshot)]) -> [String] {
        var reasons = (set.map(\.key) + remove).compactMap(Self.forbidden)
        for key in ["dataDir", "dataLogDir"] {
            guard let value = set.first(where: { $0.key == key })?.value else { continue }
            for (member, snapshot) in nodes where snapshot.directories?[value] != true {
                reasons.append("\(key)=\(value): no such folder on node \(member.id) (create it, with the server's data, before pointing \(key) at it)")
            }
        }
        if remove.contains("dataDir") { reasons.append("'dataDir' cannot be removed: a server needs it") }
        if remove.contains("clientPort") {
            // The gates of this very run reach each server there: its secure port must be the one reached first.
            for (member, snapshot) in nodes where !member.secure && snapshot.properties["clientPort"] == String(member.clientPort) {
                reasons.append(
                    "removing clientPort would close port \(member.clientPort), where server \(member.id) is reached: give the ensemble file its tls block and each node its secureClientPort first (enable-client-tls opens it)"
                )
            }
        }
        for key in ["clientPort", "secureClientPort", "admin.serverPort"] {
            guard let text = set.first(where: { $0.key == key })?.value else { continue }
            guard let port = Int(text), (1...65535).contains(port) else {
                reasons.append("\(key)=\(text) is not a port")
                continue
            }
            let hosts = Dictionary(grouping: nodes.map(\.member), by: { $0.host.lowercased() })
            for (host, members) in hosts where members.count > 1 {
                reasons.append("\(key)=\(port) on nodes \(members.map { String($0.id) }.joined(separator: ", ")), which share host \(host): they would clash")
            }
            for (member, snapshot) in nodes {
                let taken = snapshot.servers.compactMap { ServerEntryText.ports(of: $0.value, onHost: member.host) }.flatMap { $0 }
                if taken.contains(port) { reasons.append("\(key)=\(port) on node \(member.id) is a quorum or election port of a server on \(member.host)") }
            }
        }
        return reasons
    }
}

/// One key a change edits on one node.
public struct ConfigEdit: Sendable, Equatable, CustomStringConvertible {
    public enum File: String, Sendable {
        case zooCfg = "zoo.cfg"
        case javaEnv = "java.env"
    }
    public var file: File
    public var key: String
    public var before: String?
    public var after: String?

    public var description: String { "\(file == .javaEnv ? "java.env " : "")\(key): \(before ?? "(unset)") -> \(after ?? "(removed)")" }
}

public struct ConfigChangeProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads the ports back out of a server entry as `NodeConfigSnapshot.describe` wrote it.
enum ServerEntryText {
    /// The quorum and election ports when the entry's host is `host`.
    static func ports(of text: String, onHost host: String) -> [Int]? {
        let fields = text.split(separator: ";", maxSplits: 1)[0].split(separator: ":")
        guard fields.count >= 3, fields[0].lowercased() == host.lowercased() else { return nil }
        return [Int(fields[1]), Int(fields[2])].compactMap { $0 }
    }
}
