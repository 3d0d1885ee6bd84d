import Foundation
import ZKRunbookDiagnostics
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zkrunbook doctor`: names the incident from logs and live facts, with the evidence lines.
enum DoctorCommand {
    static let usage = "Usage: zkrunbook doctor [--logs PATH]... [--ensemble FILE | --zoo-cfg FILE | --server HOST:PORT...] [--json] [--state-dir DIR]"
    static let help = """
        \(usage)

        Scans ZooKeeper logs (files, folders, .gz) for known signatures — leader elections and their
        duration, zxid rollover, not serving, connections closed while not ready, ConnectionLoss, slow
        fsync, too many connections, session expiry bursts, quorum channel errors, "Not sufficient
        followers synced" — and, given servers, judges the live ensemble (no quorum and why, with the
        two-data-centre case spelled out) and estimates when the zxid counter rolls over (from samples
        kept in the state directory across runs). Each finding comes with its evidence and the runbook
        to run next.

        Options:
          --logs PATH          a log file or folder (repeatable)
          --ensemble FILE      the live ensemble to judge (or --zoo-cfg FILE, or --server HOST:PORT...)
          --json               report.json instead of report.md
          --state-dir DIR      where zxid samples are kept between runs (as for run)
          -h, --help           show this help

        Exit codes: 0 nothing worse than information, 1 a warning or critical finding, 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> Int32 {
        let parsed = try ParsedArguments(
            arguments, valueOptions: ["--logs", "--ensemble", "--zoo-cfg", "--server", "--state-dir"],
            flagOptions: ["--json"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        let logs = parsed.values["--logs"] ?? []
        var view: EnsembleView?
        if ["--ensemble", "--zoo-cfg", "--server"].contains(where: { parsed.values[$0] != nil }) {
            var inspected = EnsembleInspector().inspect(try StatusCommand.resolveMembers(parsed, usage: usage))
            // Every member's uptime (mntr), not only the leader's: it tells a restart from a counter reset.
            let probe = ServerProbe()
            for index in inspected.members.indices where inspected.members[index].facts.mode.isServing && inspected.members[index].facts.uptimeMs == nil {
                probe.addMonitor(to: &inspected.members[index].facts, adminPort: inspected.members[index].member.adminPort)
            }
            view = inspected
        }
        if logs.isEmpty && view == nil { throw UsageError(message: "give --logs, or servers to judge", usage: usage) }
        let history = ZxidHistory(stateDirectory: StateLayout.standard(explicit: parsed.value("--state-dir")).root)
        let report = DoctorReport.build(logs: logs, view: view, history: history)
        print(parsed.flags.contains("--json") ? report.json : report.markdown)
        return report.findings.contains { $0.severity != .info } ? 1 : 0
    }
}
