import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// What `zkrunbook install` puts on every node: one binary and, optionally, the runbooks beside it.
public struct InstallPayload: Sendable {
    public struct File: Sendable {
        public var name: String
        public var path: String
        public var sha256: String
        public var size: Int
    }

    public var binary: File
    public var runbooks: [File]
    /// The folder the runbooks came from (for the report).
    public var runbooksSource: String?

    /// Hashes `binary` and every `*.json5` in `runbooksDirectory` and its `parts` folder, named `parts/NAME`
    /// (nil: the binary alone): the parts go with the runbooks that include them.
    public static func load(binary: String, runbooksDirectory: String?) throws(InstallError) -> InstallPayload {
        let binaryFile = try file(at: binary, name: (binary as NSString).lastPathComponent)
        var runbooks: [File] = []
        if let runbooksDirectory {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: runbooksDirectory) else {
                throw .input("cannot read the runbooks folder \(runbooksDirectory)")
            }
            for name in names.sorted() where name.hasSuffix(".json5") {
                runbooks.append(try file(at: runbooksDirectory + "/" + name, name: name))
            }
            if runbooks.isEmpty { throw .input("no *.json5 runbooks in \(runbooksDirectory)") }
            let parts = (try? FileManager.default.contentsOfDirectory(atPath: runbooksDirectory + "/parts")) ?? []
            for name in parts.sorted() where name.hasSuffix(".json5") {
                runbooks.append(try file(at: runbooksDirectory + "/parts/" + name, name: "parts/" + name))
            }
        }
        return InstallPayload(binary: binaryFile, runbooks: runbooks, runbooksSource: runbooksDirectory)
    }

    private static func file(at path: String, name: String) throws(InstallError) -> File {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int else {
            throw .input("cannot read \(path)")
        }
        guard let digest = try? SHA256.hex(fileAt: path) else { throw .input("cannot read \(path)") }
        return File(name: name, path: path, sha256: digest, size: size)
    }
}

/// Why an install could not start (bad input) — per-node trouble is reported in `NodeInstall`.
public enum InstallError: Error, Sendable, CustomStringConvertible {
    case input(String)

    public var description: String {
        switch self {
        case .input(let message): return "error: \(message)"
        }
    }
}

/// What the preflight found on one node before anything was copied.
public struct NodePreflight: Sendable {
    public var member: EnsembleNode
    public var agentPath: String
    public var stateDir: String?
    /// sha256 of the binary now at agentPath; nil when there is none.
    public var currentBinary: String?
    /// sha256 of each shipped runbook name already in runbookPath.
    public var currentRunbooks: [String: String] = [:]
    /// Journaled runs using the agent right now (pid and command line, or a held lock).
    public var busy: [String] = []
    /// Why the node cannot take an install (unreachable, no sha256sum…); nil when it can.
    public var problem: String?
}

/// What happened on one node.
public struct NodeInstall: Sendable {
    public enum Outcome: Sendable, Equatable {
        case installed
        case alreadyCurrent
        case wouldInstall
        case refused
        case failed
        /// Ready, but not copied because another node was refused or failed its check.
        case heldBack
    }

    public var member: EnsembleNode
    public var outcome: Outcome
    public var lines: [String]
}

/// `zkrunbook install`: puts the agent (and runbooks) on each node's `agentPath` over its transport.
///
/// Every node is checked first — reachable, `sha256sum` there, no journaled run using the agent — so a
/// refusal changes nothing anywhere. Each file then travels over ssh's stdin into a temporary file beside
/// its target, is hashed on the node, and only a matching file is renamed into place: a node holds the old
/// binary or the new one, never part of one. The running-run check is repeated just before the rename.
public struct AgentInstaller: Sendable {
    public var ensemble: EnsembleFile
    public var payload: InstallPayload
    public var timeoutPerFile: Double
    public var runner: @Sendable (EnsembleNode) -> any CommandRunner

    public init(
        ensemble: EnsembleFile, payload: InstallPayload, timeoutPerFile: Double = 300,
        runner: @escaping @Sendable (EnsembleNode) -> any CommandRunner = { $0.access.runner(host: $0.host) }
    ) {
        (self.ensemble, self.payload, self.timeoutPerFile, self.runner) = (ensemble, payload, timeoutPerFile, runner)
    }

    /// The members selected, each with an absolute agentPath, or an input error naming what is missing.
    /// Checked before any file is hashed, so a mistake in the ensemble file is reported at once.
    public static func targets(_ ensemble: EnsembleFile, nodeIDs: Set<Int>, copiesRunbooks: Bool) throws(InstallError) -> [(EnsembleNode, String)] {
        let unknown = nodeIDs.subtracting(ensemble.nodes.map(\.id))
        if !unknown.isEmpty {
            throw .input("no node \(unknown.sorted().map(String.init).joined(separator: ", ")) in \(ensemble.path)")
        }
        var out: [(EnsembleNode, String)] = []
        for member in ensemble.nodes where nodeIDs.isEmpty || nodeIDs.contains(member.id) {
            guard let path = member.agentPath ?? ensemble.agentPath, path.hasPrefix("/") else {
                throw .input(
                    "node \(member.id) has no absolute agentPath in \(ensemble.path): set agentPath (e.g. \"/usr/bin/zkrunbook\") for the ensemble or the node")
            }
            out.append((member, path))
        }
        if copiesRunbooks && ensemble.runbookPath == nil {
            throw .input("\(ensemble.path) names no runbookPath to copy runbooks to: set runbookPath, or install with --no-runbooks")
        }
        return out
    }

    /// Checks every target (from `targets`); nothing is written anywhere.
    public func preflight(_ targets: [(EnsembleNode, String)], progress: (String) -> Void = { _ in }) -> [NodePreflight] {
        targets.map { member, agentPath in
            let found = preflight(member, agentPath: agentPath)
            progress(Self.describe(found, payload: payload))
            return found
        }
    }

    func preflight(_ member: EnsembleNode, agentPath: String) -> NodePreflight {
        var found = NodePreflight(member: member, agentPath: agentPath, stateDir: member.stateDir)
        var argv = ["sh", "-c", RemoteScript.busyFunction + RemoteScript.preflight, "zkrunbook-install", agentPath, member.stateDir ?? ""]
        argv.append(ensemble.runbookPath ?? "")
        argv += payload.runbooks.map(\.name)
        let result = runner(member).run(CommandSpec(argv: argv, timeout: 60, outputCap: 1 << 20), cancellation: nil)
        guard result.termination == .exited(0) else {
            found.problem = "preflight failed: \(result.termination.summary)" + Self.tail(result.stderr)
            return found
        }
        for line in result.stdout.text.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            switch (words.first, words.count) {
            case ("missing", 2): found.problem = "\(words[1]) is not installed on the node (the install uses it to move and verify files): install coreutils"
            case ("current", 2): found.currentBinary = words[1] == "none" ? nil : words[1]
            case ("runbook", 3): found.currentRunbooks[words[1]] = words[2]
            case ("busy", _): found.busy.append(String(line.dropFirst(5)))
            default: continue
            }
        }
        return found
    }

    /// Copies what differs to every node whose preflight passed; nothing when any node is busy or failed it.
    public func install(_ checks: [NodePreflight], dryRun: Bool, progress: (String) -> Void = { _ in }) -> [NodeInstall] {
        let blocked = checks.contains { !$0.busy.isEmpty || $0.problem != nil }
        return checks.map { check in
            if !check.busy.isEmpty {
                return NodeInstall(
                    member: check.member, outcome: .refused,
                    lines: ["node \(check.member.id): a journaled run is using \(check.agentPath); not replaced"] + check.busy.map { "  " + $0 })
            }
            if let problem = check.problem {
                return NodeInstall(member: check.member, outcome: .failed, lines: ["node \(check.member.id): \(problem)"])
            }
            let pending = changes(check)
            if pending.binary == nil && pending.runbooks.isEmpty {
                return NodeInstall(member: check.member, outcome: .alreadyCurrent, lines: ["node \(check.member.id): already current"])
            }
            if blocked || dryRun {
                let verb = blocked ? "not copied (another node stopped the install)" : "would copy"
                return NodeInstall(
                    member: check.member, outcome: blocked ? .heldBack : .wouldInstall,
                    lines: ["node \(check.member.id): \(verb): " + ([pending.binary].compactMap { $0 } + pending.runbooks).map(\.name).joined(separator: ", ")])
            }
            return copy(pending, to: check, progress: progress)
        }
    }

    /// What differs on a node: the binary (nil when current) and the runbooks not yet identical there.
    struct Pending {
        var binary: InstallPayload.File?
        var runbooks: [InstallPayload.File]
    }

    func changes(_ check: NodePreflight) -> Pending {
        Pending(
            binary: check.currentBinary == payload.binary.sha256 ? nil : payload.binary,
            runbooks: ensemble.runbookPath == nil ? [] : payload.runbooks.filter { check.currentRunbooks[$0.name] != $0.sha256 })
    }

    /// The binary over its own connection (stdin), then every runbook that differs in one more: all are
    /// verified on the node before the first is renamed into place.
    func copy(_ pending: Pending, to check: NodePreflight, progress: (String) -> Void) -> NodeInstall {
        let runner = runner(check.member)
        var lines: [String] = []
        func fail(_ line: String, _ outcome: NodeInstall.Outcome) -> NodeInstall {
            progress(line)
            return NodeInstall(member: check.member, outcome: outcome, lines: lines + [line])
        }
        if let binary = pending.binary {
            let started = Date()
            guard let contents = try? Data(contentsOf: URL(fileURLWithPath: binary.path), options: .alwaysMapped) else {
                return fail("node \(check.member.id): cannot read \(binary.path)", .failed)
            }
            let argv = [
                "sh", "-c", RemoteScript.busyFunction + RemoteScript.upload, "zkrunbook-install", check.agentPath, binary.sha256,
                "0755", "check-busy", check.stateDir ?? "",
            ]
            let result = runner.run(CommandSpec(argv: argv, timeout: timeoutPerFile, outputCap: 1 << 20, standardInput: contents), cancellation: nil)
            if result.termination == .exited(24) {
                return fail("node \(check.member.id): a journaled run started using \(check.agentPath); not replaced" + Self.tail(result.stderr), .refused)
            }
            guard result.termination == .exited(0) else {
                return fail("node \(check.member.id): \(check.agentPath): copy failed: \(result.termination.summary)" + Self.tail(result.stderr), .failed)
            }
            let line =
                "node \(check.member.id): \(check.agentPath): \(Self.size(binary.size)) in \(Self.seconds(since: started)), sha256 \(binary.sha256.prefix(12))… verified on the node"
            progress(line)
            lines.append(line)
        }
        let runbooks = pending.runbooks
        if let directory = ensemble.runbookPath, !runbooks.isEmpty {
            let started = Date()
            var script = RemoteScript.uploadTextHeader(directory: directory)
            for runbook in runbooks {
                guard let contents = FileManager.default.contents(atPath: runbook.path) else {
                    return fail("node \(check.member.id): cannot read \(runbook.path)", .failed)
                }
                script += RemoteScript.uploadText(name: runbook.name, sha256: runbook.sha256, contents: contents)
            }
            script += RemoteScript.commitTexts(names: runbooks.map(\.name))
            let result = runner.run(
                CommandSpec(argv: ["sh", "-s"], timeout: timeoutPerFile, outputCap: 1 << 20, standardInput: Data(script.utf8)), cancellation: nil)
            guard result.termination == .exited(0) else {
                return fail("node \(check.member.id): runbooks to \(directory): copy failed: \(result.termination.summary)" + Self.tail(result.stderr), .failed)
            }
            let bytes = runbooks.map(\.size).reduce(0, +)
            let line =
                "node \(check.member.id): \(runbooks.count) runbook(s) to \(directory): \(Self.size(bytes)) in \(Self.seconds(since: started)), each sha256 verified on the node"
            progress(line)
            lines.append(line)
        }
        return NodeInstall(member: check.member, outcome: .installed, lines: lines)
    }

    static func seconds(since start: Date) -> String { String(format: "%.2f s", Date().timeIntervalSince(start)) }

    static func describe(_ check: NodePreflight, payload: InstallPayload) -> String {
        var text = "preflight node \(check.member.id) (\(check.member.access.describe(host: check.member.host))): "
        if let problem = check.problem { return text + problem }
        switch check.currentBinary {
        case nil: text += "no agent at \(check.agentPath)"
        case payload.binary.sha256: text += "\(check.agentPath) is current"
        case let other?: text += "\(check.agentPath) differs (sha256 \(other.prefix(12))…)"
        }
        if !payload.runbooks.isEmpty {
            let current = payload.runbooks.filter { check.currentRunbooks[$0.name] == $0.sha256 }.count
            text += "; runbooks \(current) of \(payload.runbooks.count) current"
        }
        if !check.busy.isEmpty { text += "; BUSY: \(check.busy.count) journaled run(s)" }
        return text
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / 1_048_576) : String(format: "%.1f KiB", Double(bytes) / 1024)
    }

    /// The node's last words on stderr, on the report's line.
    static func tail(_ stderr: CapturedOutput) -> String {
        let lines = stderr.lastLines(3)
        return lines.isEmpty ? "" : ": " + lines.joined(separator: " | ")
    }
}

/// The POSIX sh the installer runs on a node (no zkrunbook is assumed there yet).
enum RemoteScript {
    /// `zk_busy TARGET STATE`: prints one line per journaled run using TARGET — a process whose executable
    /// is TARGET with `run` or `resume` in its arguments, or a run lock in STATE whose recorded pid is alive
    /// (the lock check also works where /proc/PID/exe of another user is unreadable).
    static let busyFunction = #"""
        zk_busy() {
          zk_target=$1
          zk_state=$2
          if [ -z "$zk_state" ]; then
            if [ "$(id -u)" = 0 ]; then zk_state=/var/lib/zkrunbook; else zk_state="$HOME/.local/state/zkrunbook"; fi
          fi
          ls -l /proc/[0-9]*/exe 2>/dev/null | awk -v t="$zk_target" '{
            i = index($0, " -> "); if (!i) next
            l = substr($0, i + 4); if (l != t && l != t " (deleted)") next
            p = substr($0, 1, i - 1); sub(/.*\/proc\//, "", p); sub(/\/exe$/, "", p); print p
          }' | while read -r zk_pid; do
            zk_args=$(tr '\0' ' ' < "/proc/$zk_pid/cmdline" 2>/dev/null) || continue
            case " $zk_args " in *" run "*|*" resume "*) echo "busy pid $zk_pid: $zk_args" ;; esac
          done
          for zk_lock in "$zk_state"/locks/*.lock; do
            [ -s "$zk_lock" ] || continue
            zk_line=$(head -n 1 "$zk_lock" 2>/dev/null) || continue
            zk_pid=${zk_line#pid }
            zk_pid=${zk_pid%%,*}
            case "$zk_pid" in '' | *[!0-9]*) continue ;; esac
            # A zombie (killed, not yet reaped) holds no lock any more.
            if [ -d "/proc/$zk_pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$zk_pid/status" 2>/dev/null; then
              echo "busy lock $zk_lock: $zk_line"
            fi
          done
        }

        """#

    /// Args: TARGET STATE RUNBOOK-DIR NAME…; prints `current SHA|none`, `runbook NAME SHA`, `busy …`.
    static let preflight = #"""
        target=$1
        state=$2
        books=$3
        shift 3
        for tool in sha256sum base64; do
          if ! command -v "$tool" >/dev/null 2>&1; then echo "missing $tool"; exit 0; fi
        done
        if [ -f "$target" ]; then echo "current $(sha256sum < "$target" | cut -d ' ' -f 1)"; else echo "current none"; fi
        for name in "$@"; do
          if [ -f "$books/$name" ]; then echo "runbook $name $(sha256sum < "$books/$name" | cut -d ' ' -f 1)"; fi
        done
        zk_busy "$target" "$state"
        exit 0

        """#

    /// A word for the node's shell, always single-quoted (no globbing, whatever the name holds).
    static func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The start of a script fed to `sh -s`: small text files arrive inside it, base64 in here-documents,
    /// so all of them travel over one connection.
    static func uploadTextHeader(directory: String) -> String {
        """
        dir=\(quoted(directory))
        mkdir -p -- "$dir" || exit 20
        trap 'rm -f -- "$dir"/.*.zkrunbook-new."$$" "$dir"/*/.*.zkrunbook-new."$$"' EXIT
        zk_write() {
          sub=$(dirname -- "$1")
          mkdir -p -- "$dir/$sub" || exit 20
          tmp="$dir/$sub/.$(basename -- "$1").zkrunbook-new.$$"
          base64 -d > "$tmp" || { echo "cannot write $tmp" >&2; exit 21; }
          got=$(sha256sum < "$tmp" | cut -d ' ' -f 1)
          if [ "$got" != "$2" ]; then echo "$1: sha256 on the node is $got, expected $2: nothing installed" >&2; exit 22; fi
          chmod 0644 "$tmp" || exit 23
        }

        """
    }

    static func uploadText(name: String, sha256: String, contents: Data) -> String {
        "zk_write \(quoted(name)) \(sha256) <<'ZKRUNBOOK_EOF'\n" + contents.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
            + "\nZKRUNBOOK_EOF\n"
    }

    /// Renames every verified file into place, only after all of them were written and checked.
    static func commitTexts(names: [String]) -> String {
        names.map { name in
            // A part (parts/NAME) waits beside its final place, in the parts folder.
            let folder = (name as NSString).deletingLastPathComponent
            let temporary = (folder.isEmpty ? "" : folder + "/") + "." + (name as NSString).lastPathComponent
            return "mv -f -- \"$dir/\"\(quoted(temporary))\".zkrunbook-new.$$\" \"$dir/\"\(quoted(name)) || exit 25\n"
        }.joined() + "trap - EXIT\n"
    }

    /// Args: TARGET SHA MODE CHECK-BUSY STATE; stdin is the file. Writes a temporary file beside TARGET,
    /// checks its sha256, and renames it over TARGET only if it matches (exit 22 otherwise, 24 when busy).
    static let upload = #"""
        target=$1
        expected=$2
        mode=$3
        dir=$(dirname -- "$target")
        mkdir -p -- "$dir" || exit 20
        tmp="$dir/.$(basename -- "$target").zkrunbook-new.$$"
        trap 'rm -f -- "$tmp"' EXIT
        umask 077
        cat > "$tmp" || { echo "cannot write $tmp" >&2; exit 21; }
        got=$(sha256sum < "$tmp" | cut -d ' ' -f 1)
        if [ "$got" != "$expected" ]; then echo "sha256 on the node is $got, expected $expected: not installed" >&2; exit 22; fi
        chmod "$mode" "$tmp" || exit 23
        if [ "$4" = check-busy ]; then
          busy=$(zk_busy "$target" "$5")
          if [ -n "$busy" ]; then echo "$busy" >&2; exit 24; fi
        fi
        mv -f -- "$tmp" "$target" || exit 25
        trap - EXIT
        echo "installed $target"

        """#
}
