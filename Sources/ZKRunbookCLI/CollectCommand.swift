import Foundation
import ZKRunbookAgent
import ZKRunbookDiagnostics
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zkrunbook collect`: runs the collect-diagnostics runbook with its options as parameters.
enum CollectCommand {
    static let usage = """
        Usage: zkrunbook collect [--since 24h] [--output DIR] [--max-log-bytes N] [--zoo-cfg FILE] [--server HOST:PORT] [--admin-port N] [--log-dir DIR]...
               zkrunbook collect --ensemble FILE [--output DIR] [--since 24h] [--max-log-bytes N] [--parallel 3] [--timeout 10m]
        """
    static let help = """
        \(usage)

        Collects this node's diagnostics into one .tar.gz for support (runbook collect-diagnostics):
        every four-letter-word reply (and a record of each one the whitelist refuses), AdminServer JSON,
        zoo.cfg and its dynamic config, myid, java.env / zookeeper-env.sh, log4j/logback and JAAS
        config (redacted), ZooKeeper logs from the window (newest first, cut to the cap by keeping the
        tail), a listing of the data directories, and system facts. Passwords, superDigest, ssl.quorum.*,
        JAAS passwords and secret-named environment values are masked everywhere; key material is left
        out; REDACTION.md lists what was redacted. manifest.json gives each item's source, size, sha256
        and status; FILE.tar.gz.sha256 sits beside the archive (mode 0600). The archive is named
        <host>-myid<N>-<time>.tar.gz.

        With --ensemble: every node's bundle, made by its agent (its zooCfg, the folder of its logFile)
        over its transport, --parallel at a time; each brought back, checked against its .sha256 and
        unpacked into one archive <ensemble>-<time>.tar.gz with a folder per server
        (server-<id>-<host>/), manifest.json (each server: collected, unreachable or failed, and why)
        and doctor's report over every server's logs with one timeline (report.md, report.json,
        report.html; zkrunbook's runs from --state-dir). A node that cannot be reached is a line in the
        manifest, not a failure of the whole.

        Options:
          --since DUR          logs changed within this window (default 24h)
          --output DIR         where the archive goes (default .)
          --max-log-bytes N    bytes of logs in all (default 268435456)
          --zoo-cfg FILE       default /etc/zookeeper/conf/zoo.cfg
          --server HOST:PORT   default from zoo.cfg (clientPortAddress:clientPort, else its secureClientPort)
          --admin-port N       AdminServer port (default from zoo.cfg, 8080)
          --log-dir DIR        where ZooKeeper logs (repeatable; default /var/log/zookeeper)
          --state-dir DIR      as for run
          --ensemble FILE      every node of this ensemble file (see above)
          --parallel N         with --ensemble: nodes collected at once (1-16, default 3)
          --timeout DUR        with --ensemble: the limit for each node (default 10m)
          --tls-ca, --tls-cert, --tls-key, --tls-pkcs12, --tls-key-password-file FILE, --tls-port PORT,
          --tls-no-verify-hostname
                               one node's server over TLS (as 'zkrunbook status --help' says); with
                               --ensemble, the ensemble file's tls block says it for every node
          -h, --help           show this help

        Exit codes: 0 bundle written (items or servers that failed are in the manifest), 1 no bundle (with
        --ensemble: no server collected), 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments,
            valueOptions: AgentVerb.collect.valueOptions.union(["--server", "--admin-port", "--ensemble", "--parallel", "--timeout"]),
            flagOptions: AgentVerb.collect.flagOptions, usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        if let path = parsed.value("--ensemble") { return try collectEnsemble(path, parsed) }
        for option in ["--parallel", "--timeout"] where parsed.value(option) != nil {
            throw UsageError(message: "\(option) goes with --ensemble", usage: usage)
        }
        var forwarded = ["collect-diagnostics"]
        let mapping = [
            ("--since", "since"), ("--output", "output"), ("--max-log-bytes", "maxLogBytes"), ("--zoo-cfg", "zooCfg"), ("--server", "server"),
            ("--admin-port", "adminPort"),
        ]
        for (option, parameter) in mapping {
            if let value = parsed.value(option) { forwarded += ["--param", "\(parameter)=\(value)"] }
        }
        if let directories = parsed.values["--log-dir"] { forwarded += ["--param", "logDirs=\(directories.joined(separator: ","))"] }
        if let state = parsed.value("--state-dir") { forwarded += ["--state-dir", state] }
        if parsed.flags.contains("--json") { forwarded.append("--json") }
        // The --tls-* words go on to the run, which reaches the server with them.
        for option in AgentOption.tlsValues { forwarded += (parsed.values[option.rawValue] ?? []).flatMap { [option.rawValue, $0] } }
        if parsed.flags.contains(AgentOption.tlsNoVerifyHostname.rawValue) { forwarded.append(AgentOption.tlsNoVerifyHostname.rawValue) }
        return try RunCommand.run(forwarded, mode: .run)
    }

    static func collectEnsemble(_ path: String, _ parsed: ParsedArguments) throws -> ExitCode {
        for option in ["--zoo-cfg", "--server", "--admin-port", "--log-dir"] + AgentOption.tlsValues.map(\.rawValue) where parsed.value(option) != nil {
            throw UsageError(message: "\(option) is for one node; with --ensemble each node's comes from the ensemble file", usage: usage)
        }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch { throw CommandFailure(message: "\(error)", exitCode: CLI.ExitCode.usage) }
        var options = EnsembleCollector.Options(outputDirectory: parsed.value("--output") ?? ".")
        if let since = parsed.value("--since") { options.since = since }
        if let text = parsed.value("--max-log-bytes") {
            guard let bytes = Int64(text), bytes > 0 else { throw UsageError(message: "--max-log-bytes \(text): a number of bytes above 0", usage: usage) }
            options.maxLogBytes = bytes
        }
        if let text = parsed.value("--parallel") {
            guard let count = Int(text), (1...16).contains(count) else { throw UsageError(message: "--parallel \(text): 1 to 16", usage: usage) }
            options.parallel = count
        }
        if let text = parsed.value("--timeout") {
            guard let limit = RunbookDuration.parse(text), limit.seconds > 0 else {
                throw UsageError(message: "--timeout \(text): \(RunbookDuration.expectation)", usage: usage)
            }
            options.timeout = limit.seconds
        }
        options.stateDirectory = StateLayout.standard(explicit: parsed.value("--state-dir")).root
        let result: EnsembleCollector.Result
        do { result = try EnsembleCollector(file: file, options: options).collect { CLI.printError($0) } } catch {
            throw CommandFailure(message: "error: \(error.description)", exitCode: CLI.ExitCode.stepFailed)
        }
        let collected = result.manifest.servers.filter { $0.status == .collected }.count
        print("wrote \(result.archivePath): \(collected) of \(result.manifest.servers.count) server(s) collected")
        for server in result.manifest.servers where server.status != .collected {
            print("  server \(server.id) (\(server.host)): \(server.status.rawValue): \(server.reason ?? "")")
        }
        print("report: \(result.report.findings.count) finding(s), \(result.report.timeline.count) event(s) on the timeline (report.html inside)")
        return collected == 0 ? CLI.ExitCode.stepFailed : CLI.ExitCode.success
    }
}
