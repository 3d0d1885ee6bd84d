import Foundation
import ZKRunbookEngine

/// `zkrunbook collect`: runs the collect-diagnostics runbook with its options as parameters.
enum CollectCommand {
    static let usage = "Usage: zkrunbook collect [--since 24h] [--output DIR] [--max-log-bytes N] [--zoo-cfg FILE] [--server HOST:PORT] [--admin-port N] [--log-dir DIR]..."
    static let help = """
        \(usage)

        Collects this node's diagnostics into one .tar.gz for support (runbook collect-diagnostics):
        every four-letter-word reply (and a record of each one the whitelist refuses), AdminServer JSON,
        zoo.cfg and its dynamic config, myid, java.env / zookeeper-env.sh, log4j/logback and JAAS
        config (redacted), ZooKeeper logs from the window (newest first, cut to the cap by keeping the
        tail), a listing of the data directories, and system facts. Passwords, superDigest, ssl.quorum.*,
        JAAS passwords and secret-named environment values are masked everywhere; key material is left
        out; REDACTION.md lists what was redacted. manifest.json gives each item's source, size, sha256
        and status; FILE.tar.gz.sha256 sits beside the archive (mode 0600).

        Options:
          --since DUR          logs changed within this window (default 24h)
          --output DIR         where the archive goes (default .)
          --max-log-bytes N    bytes of logs in all (default 268435456)
          --zoo-cfg FILE       default /etc/zookeeper/conf/zoo.cfg
          --server HOST:PORT   default from zoo.cfg (clientPortAddress:clientPort)
          --admin-port N       AdminServer port (default from zoo.cfg, 8080)
          --log-dir DIR        where ZooKeeper logs (repeatable; default /var/log/zookeeper)
          --state-dir DIR      as for run
          -h, --help           show this help

        Exit codes: 0 bundle written (items that failed are in the manifest), 1 no bundle, 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments,
            valueOptions: ["--since", "--output", "--max-log-bytes", "--zoo-cfg", "--server", "--admin-port", "--log-dir", "--state-dir"],
            flagOptions: ["--json"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
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
        return try RunCommand.run(forwarded, mode: .run)
    }
}
