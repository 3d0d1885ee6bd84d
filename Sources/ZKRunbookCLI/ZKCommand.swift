import Foundation
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zkrunbook zk`: znodes through ZooKeeper's own protocol, for operators and scripts: list, read, write,
/// delete, and the ensemble's dynamic configuration.
enum ZKCommand {
    static let usage =
        "Usage: zkrunbook zk (ls|get|stat|getacl|setacl|acl-audit|create|set|delete|config) (--server HOST:PORT... | --ensemble FILE | --zoo-cfg FILE) [PATH] [DATA]"
    static let help = """
        \(usage)

        Speaks ZooKeeper's client protocol (a session, moved to another member if one goes away):
          ls PATH                 the children, one per line
          get PATH                the data (as bytes, to standard output)
          stat PATH               every Stat field as zkCli.sh names and shows them (hex zxids, dates)
          getacl PATH             the ACL as zkCli.sh shows it ('scheme,'id then : permissions cdrwa)
          setacl PATH ACL         replace the ACL, written as zkCli.sh's setAcl takes it:
                                  scheme:id:perms,… (sasl:zkrunbook:cdrwa,world:anyone:r); --version N:
                                  only if the ACL still has that aversion
          acl-audit [PATH]        read-only: every znode's ACL from PATH (default /) down: the znodes anyone
                                  may change, who may write how many znodes, the subtrees this identity
                                  may not read (the view is partial there), and Kafka's znodes against
                                  what zookeeper.set.acl=true gives them (--json: one object)
          create PATH [DATA]      a persistent znode (--ephemeral, --sequential); prints the path created
          set PATH DATA           new data (--version N: only if the znode still has version N)
          delete PATH             (--version N as for set)
          config                  /zookeeper/config: the server.N lines and version= (3.5 and later)

        Options:
          --server HOST:PORT      a member to talk to (repeatable, or comma-separated)
          --ensemble FILE         the members of an ensemble file
          --zoo-cfg FILE          the members a zoo.cfg lists
          --version N             the znode's expected version (set, delete; setacl: its ACL's aversion)
          --ephemeral             create: deleted when this command's session ends (at once, here)
          --sequential            create: the server appends a ten-digit counter
          --auth USER:PASSWORD    add a digest identity to the session first
          --timeout 10s           the session timeout; a request gives up after the same
          --json                  stat, getacl, ls: one JSON object (times also as ISO 8601 UTC and ms)
        \(ServerTargets.tlsHelp)
          -h, --help              show this help

        Exit codes: 0 done, 1 the server refused (NoNode, BadVersion, NoAuth…, said by name) or no member
        answered, 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments, valueOptions: ServerTargets.tlsValueOptions.union(["--server", "--ensemble", "--zoo-cfg", "--version", "--auth", "--timeout"]),
            flagOptions: ServerTargets.tlsFlagOptions.union(["--ephemeral", "--sequential", "--json"]), usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return .success
        }
        guard let verb = parsed.positionals.first else {
            throw UsageError(message: "name what to do: ls, get, stat, getacl, setacl, acl-audit, create, set, delete or config", usage: usage)
        }
        let operands = Array(parsed.positionals.dropFirst())
        let needs = [
            "ls": 1...1, "get": 1...1, "stat": 1...1, "getacl": 1...1, "setacl": 2...2, "acl-audit": 0...1, "create": 1...2, "set": 2...2, "delete": 1...1,
            "config": 0...0,
        ]
        guard let range = needs[verb] else {
            let hint = ObjectReader.closest(to: verb, among: Set(needs.keys)).map { "; did you mean '\($0)'?" } ?? ""
            throw UsageError(message: "unknown zk command '\(verb)'\(hint)", usage: usage)
        }
        guard range.contains(operands.count) else {
            throw UsageError(message: "zk \(verb) takes \(range == 0...0 ? "no" : "a PATH and \(range.upperBound - 1) more") operand(s)", usage: usage)
        }
        let version =
            try parsed.value("--version").map { text -> Int32 in
                guard let number = Int32(text) else { throw UsageError(message: "--version takes a whole number", usage: usage) }
                return number
            } ?? -1
        let seconds =
            try parsed.value("--timeout").map { text -> Double in
                guard let duration = RunbookDuration.parse(text) else { throw UsageError(message: "--timeout takes a duration such as 10s", usage: usage) }
                return duration.seconds
            } ?? 10
        let targets = try ServerTargets.resolve(parsed, usage: usage)
        do {
            let client = try ZooKeeperClient.connect(
                targets.members.map(\.endpoint),
                options: ClientOptions(sessionTimeout: seconds, requestTimeout: seconds, connector: targets.connector, sasl: try targets.saslIdentity()))
            defer { client.close() }
            if let auth = parsed.value("--auth") { try client.addAuth(scheme: "digest", Array(auth.utf8)) }
            let path = operands.first ?? "/"
            switch verb {
            case "ls":
                let children = try client.retryingConnectionLoss { () throws(ZooKeeperClientError) in try client.getChildren(path) }.sorted()
                if parsed.flags.contains("--json") {
                    print(json(["path": path, "children": children]))
                } else if !children.isEmpty {
                    print(children.joined(separator: "\n"))
                }
            case "get":
                let (data, _) = try client.retryingConnectionLoss { () throws(ZooKeeperClientError) in try client.getData(path) }
                StandardStream.output(data)
            case "stat":
                guard let stat = try client.retryingConnectionLoss({ () throws(ZooKeeperClientError) in try client.exists(path) }) else {
                    throw ZooKeeperClientError.server(.noNode, path: path)
                }
                print(parsed.flags.contains("--json") ? json(["path": path, "stat": StatText.object(stat)]) : StatText.lines(stat))
            case "getacl":
                let (acl, stat) = try client.retryingConnectionLoss { () throws(ZooKeeperClientError) in try client.getACL(path) }
                if parsed.flags.contains("--json") {
                    let entries = acl.map { ["scheme": $0.scheme, "id": $0.id, "perms": $0.permissionLetters] }
                    print(json(["path": path, "acl": entries, "aclVersion": stat.aversion]))
                } else {
                    print(acl.map { "'\($0.scheme),'\($0.id)\n: \($0.permissionLetters)" }.joined(separator: "\n"))
                }
            case "setacl":
                let acl: [ACL]
                switch ACL.parse(operands[1]) {
                case .success(let parsedACL): acl = parsedACL
                case .failure(let failure): throw UsageError(message: "setacl: \(failure.message)", usage: usage)
                }
                let stat = try client.setACL(path, acl, version: version)
                print("\(path): ACL \(acl.map { "\($0.scheme):\($0.id):\($0.permissionLetters)" }.joined(separator: ",")), aversion \(stat.aversion)")
            case "acl-audit":
                let audit = try ACLAudit.walk(client, from: path)
                print(ACLAuditText.render(audit, root: path, identity: try targets.saslIdentity(), json: parsed.flags.contains("--json")))
            case "create":
                let mode: CreateMode =
                    parsed.flags.contains("--ephemeral")
                    ? (parsed.flags.contains("--sequential") ? .ephemeralSequential : .ephemeral)
                    : (parsed.flags.contains("--sequential") ? .persistentSequential : .persistent)
                print(try client.create(path, Array((operands.count > 1 ? operands[1] : "").utf8), mode: mode))
            case "set":
                let stat = try client.setData(path, Array(operands[1].utf8), version: version)
                print("\(path): version \(stat.version)")
            case "delete":
                try client.delete(path, version: version)
                print("\(path): deleted")
            default:
                let text: String
                do { text = try client.retryingConnectionLoss { () throws(ZooKeeperClientError) in try client.getConfig() }.text } catch {
                    guard error.code == .noNode else { throw error }
                    CLI.printError("error: the server has no /zookeeper/config: ZooKeeper before 3.5 keeps its members only in each zoo.cfg")
                    return .stepFailed
                }
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            }
            return .success
        } catch let error as ZooKeeperClientError {
            CLI.printError("error: \(error)")
            return .stepFailed
        }
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
