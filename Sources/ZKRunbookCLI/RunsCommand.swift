import Foundation
import ZKRunbookEngine

/// `zkrunbook runs` and `zkrunbook show RUN-ID`: the runs kept in the state directory, and one rendered.
enum RunsCommand {
    static let usage = "Usage: zkrunbook runs [--state-dir DIR] [--json] [--keep N] [--older-than DUR]"
    static let help = """
        \(usage)

        Lists the runs in the state directory, oldest first: id, runbook, status (unfinished: it may be
        resumed), start and duration. With --keep N and/or --older-than DUR, removes the finished runs
        beyond the newest N and those that finished longer ago than DUR (a cron job's state directory
        stays bounded); an unfinished run is never removed. What was removed is said.

        Options:
          --state-dir DIR      as for run
          --json               one JSON object per run
          --keep N             keep the newest N finished runs (0 or more)
          --older-than DUR     remove finished runs older than this (e.g. 30d)
          -h, --help           show this help

        Exit codes: 0 listed (and pruned), 2 usage error.
        """

    static let showUsage = "Usage: zkrunbook show RUN-ID [--state-dir DIR] [--json]"
    static let showHelp = """
        \(showUsage)

        Renders a run's journal as the run printed it (every step, guard, attempt and rollback, and the
        agents' events on each node); --json prints the journal's lines as they are.

        Exit codes: 0 shown, 2 usage error or no such run.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: ["--state-dir", "--keep", "--older-than"], flagOptions: ["--json"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        guard parsed.positionals.isEmpty else { throw UsageError(message: "runs takes no argument (did you mean 'show RUN-ID'?)", usage: usage) }
        let keep = try parsed.value("--keep").map { text -> Int in
            guard let count = Int(text), count >= 0 else { throw UsageError(message: "--keep \(text): a count of 0 or more", usage: usage) }
            return count
        }
        let before = try parsed.value("--older-than").map { text -> Date in
            guard let age = RunbookDuration.parse(text) else { throw UsageError(message: "--older-than \(text): \(RunbookDuration.expectation)", usage: usage) }
            return Date().addingTimeInterval(-age.seconds)
        }
        let history = RunHistory(layout: StateLayout.standard(explicit: parsed.value("--state-dir")))
        var runs = history.list()
        if keep != nil || before != nil {
            let expired = RunHistory.expired(runs, keep: keep, before: before)
            history.remove(expired)
            let gone = Set(expired.map(\.runID))
            runs.removeAll { gone.contains($0.runID) }
            CLI.printError("removed \(expired.count) finished run(s)" + (expired.isEmpty ? "" : ": " + expired.map(\.runID).joined(separator: ", ")))
        }
        if parsed.flags.contains("--json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for run in runs { print(String(decoding: (try? encoder.encode(run)) ?? Data(), as: UTF8.self)) }
            return CLI.ExitCode.success
        }
        if runs.isEmpty { print("no runs in \(history.layout.runsDirectory)") }
        for run in runs {
            let duration = run.durationMs.map { String(format: "%.1fs", Double($0) / 1000) } ?? "-"
            print([run.runID, run.runbook + (run.dryRun ? " (dry run)" : ""), run.status, run.startedAt, duration].joined(separator: "  "))
        }
        return CLI.ExitCode.success
    }

    static func show(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: ["--state-dir"], flagOptions: ["--json"], usage: showUsage)
        if parsed.flags.contains("--help") {
            print(showHelp)
            return CLI.ExitCode.success
        }
        guard parsed.positionals.count == 1 else { throw UsageError(message: "name one RUN-ID ('zkrunbook runs' lists them)", usage: showUsage) }
        let history = RunHistory(layout: StateLayout.standard(explicit: parsed.value("--state-dir")))
        let events: [Event]
        do { events = try history.events(parsed.positionals[0]) } catch {
            throw CommandFailure(message: error.description, exitCode: CLI.ExitCode.usage)
        }
        let sink: any EventSink = parsed.flags.contains("--json") ? JSONLinesSink() : HumanRenderer()
        for event in events { sink.emit(event) }
        return CLI.ExitCode.success
    }
}
