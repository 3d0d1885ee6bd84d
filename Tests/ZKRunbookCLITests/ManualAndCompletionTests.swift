import Foundation
import Testing
import ZKRunbookTestSupport

/// The man pages and the bash completion, both written from the binary's own tables: every command and
/// every action is in them, man renders them without a warning, and bash completes what a user types.
@Suite(.serialized)
struct ManualAndCompletionTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func lines(_ result: ZKRunbookBinary.Result) -> [String] { result.stdout.split(separator: "\n").map(String.init) }

    @Test func bothManPagesHoldEveryCommandAndActionAndRenderWithoutAWarning() throws {
        let workspace = Scratch("manual")
        let commands = try lines(zkrunbook.run(["--commands"])).filter { !$0.hasPrefix("-") }
        let actions = try lines(zkrunbook.run(["list", "--actions"])).compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(commands.count > 15 && actions.count > 20)
        let one = try zkrunbook.run(["manual", "1"])
        let five = try zkrunbook.run(["manual", "5"])
        #expect(one.status == 0 && five.status == 0)
        for command in commands { #expect(one.stdout.contains(".SS \"\(command)"), "zkrunbook(1) lacks \(command)") }
        for action in actions { #expect(five.stdout.contains(".B \(action)\n"), "zkrunbook-runbook(5) lacks \(action)") }
        for section in ["SYNOPSIS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"] {
            #expect(one.stdout.contains(".SH \"\(section)\""), "zkrunbook(1) has no \(section)")
        }
        #expect(five.stdout.contains("Facts: ") && five.stdout.contains("notEquals"))
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/man"), "/usr/bin/man is missing: apt-get install -y man-db")
        for (name, page) in [("zkrunbook.1", one.stdout), ("zkrunbook-runbook.5", five.stdout)] {
            let path = workspace.write(name, page)
            let rendered = try ZKRunbookBinary(path: "/bin/sh").run(["-c", "MANWIDTH=80 man --warnings -l \"$0\" 2>&1 >/dev/null", path])
            #expect(rendered.status == 0 && rendered.stdout.isEmpty, "man -l \(name) warns: \(rendered.stdout)")
        }
    }

    /// The keys zkrunbook-runbook(5) documents are the ones the loader accepts: a runbook using every one of
    /// them validates, and the page lists each.
    @Test func theDocumentedKeysAreTheLoadersKeys() throws {
        let workspace = Scratch("manual-keys")
        let runbook = workspace.write(
            "all-keys.json5",
            """
            { name: "all-keys", description: "every key", lock: "all-keys", defaultTimeout: "10s",
              parameters: { flag: { type: "bool", default: false, description: "a flag", required: false, secret: false } },
              steps: [
                { id: "one", description: "true", action: "exec", with: { argv: ["true"] },
                  guards: [{ fact: "params.flag", equals: false }], when: { fact: "params.flag", equals: false },
                  timeout: "5s", retries: { count: 1, backoff: "10ms", factor: 2, maxBackoff: "20ms" }, onFailure: "continue",
                  rollback: ["undo"], rollbackWhenFailed: true },
              ],
              rollbacks: [{ id: "undo", description: "undo", action: "exec", with: { argv: ["true"] } }] }
            """)
        let validate = try zkrunbook.run(["validate", runbook])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let page = try zkrunbook.run(["manual", "5"]).stdout
        let documented = [
            "name", "description", "lock", "defaultTimeout", "parameters", "steps", "rollbacks", "id", "action", "with", "guards", "when",
            "timeout", "retries", "onFailure", "rollback", "rollbackWhenFailed",
        ]
        for key in documented { #expect(page.contains(".B \(key)\n"), "zkrunbook-runbook(5) does not document '\(key)'") }
    }

    /// zkrunbook-ensemble(5) documents exactly the ensemble file's keys: each block's keys the parser names
    /// (asked with an unknown key in that block) are on the page, and each key on the page, written with its
    /// example value, validates. The page renders without a warning.
    @Test func theEnsemblePageDocumentsEveryKeyTheParserReads() throws {
        let workspace = Scratch("manual-ensemble")
        let page = try zkrunbook.run(["manual", "ensemble"])
        #expect(page.status == 0, "\(page.stderr)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/man"), "/usr/bin/man is missing: apt-get install -y man-db")
        let rendered = try ZKRunbookBinary(path: "/bin/sh").run(
            ["-c", "MANWIDTH=80 man --warnings -l \"$0\" 2>&1 >/dev/null", workspace.write("zkrunbook-ensemble.5", page.stdout)])
        #expect(rendered.status == 0 && rendered.stdout.isEmpty, "man -l zkrunbook-ensemble.5 warns: \(rendered.stdout)")
        // The page's keys by section: ".SH TITLE", then ".TP / .B key / meaning … Example: value".
        let sections = [
            "TOP-LEVEL KEYS": "", "NODE KEYS": "node", "SSH KEYS": "ssh", "KUBECTL KEYS": "kubectl", "TLS KEYS": "tls", "SASL KEYS": "sasl",
            "INSTALL KEYS": "install",
        ]
        var documented: [String: [(key: String, example: String)]] = [:]
        var block: String?
        let lines = page.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            if line.hasPrefix(".SH ") { block = sections[line.dropFirst(4).trimmingCharacters(in: CharacterSet(charactersIn: "\""))] }
            guard let current = block, line.hasPrefix(".B "), index + 1 < lines.count else { continue }
            let body = lines[index + 1].replacingOccurrences(of: "\\e", with: "\\")
            let example = try #require(body.range(of: " Example: ", options: .backwards).map { String(body[$0.upperBound...]) }, "\(line): no example")
            documented[current, default: []].append((String(line.dropFirst(3)), example))
        }
        #expect(Set(documented.keys) == Set(sections.values), "\(documented.keys)")

        // What the parser asks for, block by block: an unknown key in each makes it list them.
        let probe = workspace.write(
            "unknown.json5",
            "{ zzzzzz: 1, install: { zzzzzz: 1 }, tls: { zzzzzz: 1 }, sasl: { zzzzzz: 1 }, nodes: [{ id: 1, host: \"h\", zzzzzz: 1, ssh: { zzzzzz: 1 } }, { id: 2, host: \"h\", kubectl: { zzzzzz: 1 } }] }"
        )
        let refused = try zkrunbook.run(["validate", "--ensemble", probe])
        #expect(refused.status == 2)
        // Most specific first: "in 'tls' in the ensemble file;" also ends as the top level's does.
        let contexts: [(String, String)] = [
            ("in 'install' in the ensemble file", "install"), ("in 'tls' in the ensemble file", "tls"), ("in 'sasl' in the ensemble file", "sasl"),
            ("in 'ssh' in a node", "ssh"),
            ("in 'kubectl' in a node", "kubectl"), ("in a node;", "node"), ("in the ensemble file;", ""),
        ]
        for line in refused.stderr.split(separator: "\n") where line.contains("unknown key 'zzzzzz'") {
            let block = try #require(contexts.first { line.contains($0.0) }?.1, "\(line)")
            let asked = line.components(separatedBy: "expected one of: ").last?.components(separatedBy: ", ") ?? []
            let onPage = Set(documented[block]?.map(\.key) ?? [])
            #expect(!asked.isEmpty && Set(asked).isSubset(of: onPage), "block '\(block)': not on the page: \(Set(asked).subtracting(onPage).sorted())")
        }

        // Each key on the page, with its example, in a file that is otherwise the least a valid one needs.
        let companions = [
            "tls.keyFile": "certificateFile: \"c.pem\"", "install.link": "versions: \"/opt/zk-${version}\"", "install.versions": "link: \"/opt/zk\"",
            "node.secureClientPort": "clientPort: 2181", "sasl.mechanism": "username: \"u\", passwordFile: \"p\"",
            "sasl.username": "passwordFile: \"p\"", "sasl.passwordFile": "username: \"u\"",
        ]
        for (block, keys) in documented {
            for (key, example) in keys {
                let entry = ([key + ": " + example] + [companions[block + "." + key]].compactMap { $0 }).joined(separator: ", ")
                let node =
                    block == "node"
                    ? (["id", "host"].contains(key)
                        ? "{ id: 1, host: \"h\", \(entry) }".replacingOccurrences(of: "\(key): " + (key == "id" ? "1" : "\"h\"") + ", ", with: "")
                        : "{ id: 1, host: \"h\", \(entry) }")
                    : ["ssh", "kubectl"].contains(block) ? "{ id: 1, host: \"h\", \(block): { \(entry) } }" : "{ id: 1, host: \"h\" }"
                let top =
                    block == ""
                    ? (key == "nodes" ? "{ \(entry) }" : "{ nodes: [\(node)], \(entry) }")
                    : ["tls", "sasl", "install"].contains(block) ? "{ nodes: [\(node)], \(block): { \(entry) } }" : "{ nodes: [\(node)] }"
                let file = workspace.write("key-\(block)-\(key).json5", top)
                let checked = try zkrunbook.run(["validate", "--ensemble", file])
                #expect(checked.status == 0, "'\(key)' (\(block.isEmpty ? "top level" : block)) with its example \(example): \(top)\n\(checked.stderr)")
            }
        }
    }

    /// `bash` sources the shipped completion and asks it, as a user pressing Tab would.
    func complete(_ words: [String], environment: [String: String] = [:]) throws -> [String] {
        let script = """
            source "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
            _zkrunbook
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let directory = (zkrunbook.path as NSString).deletingLastPathComponent
        let result = try ZKRunbookBinary(path: "/bin/bash").run(
            ["-c", script, "bash", repositoryRoot + "/packaging/deb/zkrunbook.bash-completion"] + words, directory: repositoryRoot,
            environment: ["PATH": directory + ":/usr/bin:/bin"].merging(environment) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        return lines(result).filter { !$0.isEmpty }
    }

    @Test func bashCompletesCommandsOptionsVerbsRunbooksParametersAndRunIDs() throws {
        #expect(try complete(["zkrunbook", "sa"]) == ["sandbox"])
        #expect(try complete(["zkrunbook", "sandbox", ""]) == ["up", "down", "status", "stop", "start", "restart"])
        let statusOptions = try complete(["zkrunbook", "status", "--"])
        #expect(statusOptions.contains("--prometheus") && statusOptions.contains("--zoo-cfg"))
        #expect(!statusOptions.contains("--dry-run") && !statusOptions.contains("--offline"), "\(statusOptions)")
        #expect(try complete(["zkrunbook", "sandbox", "up", "--no"]) == ["--no-quorum-tls", "--nodes"])
        #expect(Set(try complete(["zkrunbook", "plan", "rolling-r"])) == ["rolling-restart"])
        #expect(try complete(["zkrunbook", "run", "zoo-cfg-set", "--param", ""]) == ["config=", "key=", "value="])
        #expect(try complete(["zkrunbook", "status", "--ensemble", "packaging/examples/ensemble-w"]) == ["packaging/examples/ensemble-with-4.json5"])

        let workspace = Scratch("completion")
        let runbook = workspace.write(
            "hello.json5", "{ name: \"hello\", steps: [{ id: \"say\", description: \"say\", action: \"exec\", with: { argv: [\"true\"] } }] }")
        let state = workspace.folder("state")
        #expect(try zkrunbook.run(["run", runbook, "--state-dir", state]).status == 0)
        let runID = try #require(
            try lines(zkrunbook.run(["runs", "--state-dir", state, "--json"])).first.flatMap {
                (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["runID"] as? String
            })
        #expect(try complete(["zkrunbook", "show", "--state-dir", state, ""]) == [runID])
        #expect(try complete(["zkrunbook", "resume", ""], environment: ["ZKRUNBOOK_STATE_DIR": state]) == [runID])
    }
}
