import Foundation
import ZKRunbookProcess

/// Starts and resumes journaled runs: the run folder, the runbook copy, the journal, the lock.
///
/// The CLI calls this; the executor itself knows nothing of files. Order matters for safety: the lock is
/// taken before the journal is created, so a refused second run leaves no trace that `resume` could pick up.
public struct RunService: Sendable {
    public var runner: any CommandRunner
    public var registry: ActionRegistry

    public init(runner: any CommandRunner = LocalCommandRunner(), registry: ActionRegistry = .builtIn) {
        self.runner = runner
        self.registry = registry
    }

    /// Everything that stops a run before its first step, with the exit code the CLI uses.
    public enum StartError: Error, Sendable, CustomStringConvertible {
        case lockHeld(LockHeld)
        case journal(JournalError)
        case runbook(RunbookError)
        case parameters(ParameterProblems)

        public var description: String {
            switch self {
            case .lockHeld(let error): return error.description
            case .journal(let error): return error.description
            case .runbook(let error): return error.description
            case .parameters(let error): return error.description
            }
        }

        public var exitCode: ExitCode {
            if case .lockHeld = self { return .locked }
            return .usage
        }
    }

    /// Runs (or dry-runs) `runbook`. A real run is journaled under the state directory and holds its lock
    /// until it ends; a dry run writes nothing and takes no lock.
    public func start(
        _ runbook: Runbook, parameters: [String: ParameterValue], options: RunOptions, sink: any EventSink,
        cancellation: CancellationToken, rollbackCancellation: CancellationToken = CancellationToken(),
        runID explicitID: String? = nil
    ) throws(StartError) -> RunOutcome {
        let runID = explicitID ?? StateLayout.makeRunID(runbook: options.dryRun ? "dry-run" : runbook.name)
        func executor(_ sink: any EventSink, options: RunOptions = options) -> Executor {
            Executor(
                runbook: runbook, parameters: parameters, options: options, sink: HostStampingSink(sink, host: HostName.short), runner: runner,
                registry: registry,
                cancellation: cancellation, rollbackCancellation: rollbackCancellation)
        }
        if options.dryRun { return executor(sink).run(runID: runID) }
        let layout = options.layout
        do { try layout.createDirectory(layout.root) } catch { throw .journal(error) }
        let lock = try acquireLock(Executor.lockName(of: runbook, parameters: parameters), layout: layout, runID: runID, runbook: runbook.name)
        defer { lock.release() }
        let journal: JournalWriter
        do {
            try layout.createDirectory(layout.runDirectory(runID))
            try Data(runbook.sourceText.utf8).write(to: URL(fileURLWithPath: layout.runbookCopyPath(runID)))
            // Its parts beside it, at the paths it names them by: resume reads the run's own.
            for part in runbook.parts {
                let path = layout.runDirectory(runID) + "/" + part.relativePath
                try layout.createDirectory((path as NSString).deletingLastPathComponent)
                try Data(part.text.utf8).write(to: URL(fileURLWithPath: path))
            }
            journal = try JournalWriter(path: layout.journalPath(runID))
        } catch let error as JournalError {
            throw .journal(error)
        } catch {
            throw .journal(.cannotCreate(path: layout.runDirectory(runID), reason: (error as NSError).localizedDescription))
        }
        var recorded = options
        recorded.recordFailure = { [journal] in journal.writeFailure }
        return executor(EventFanout([journal, sink]), options: recorded).run(runID: runID)
    }

    private func acquireLock(_ name: String, layout: StateLayout, runID: String, runbook: String) throws(StartError) -> RunLock {
        do {
            return try RunLock.acquire(name: name, layout: layout, runID: runID, runbook: runbook)
        } catch let error as LockHeld {
            throw .lockHeld(error)
        } catch let error as JournalError {
            throw .journal(error)
        } catch {
            throw .journal(.cannotCreate(path: layout.locksDirectory, reason: "\(error)"))
        }
    }

    /// Continues run `runID` from its journal: same runbook text, same parameters (secrets given again).
    public func resume(
        runID: String, extraParameters: [(name: String, value: String)], options: RunOptions, sink: any EventSink,
        cancellation: CancellationToken, rollbackCancellation: CancellationToken = CancellationToken()
    ) throws(StartError) -> RunOutcome {
        let layout = options.layout
        let journalPath = layout.journalPath(runID)
        guard FileManager.default.fileExists(atPath: journalPath) else {
            throw .journal(.noSuchRun(id: runID, stateDirectory: layout.root))
        }
        let state: JournalState
        do { state = try JournalState.read(path: journalPath) } catch { throw .journal(error) }
        if let final = state.finalStatus {
            switch final {
            case .succeeded:
                throw .journal(.notResumable(id: runID, reason: "it finished successfully"))
            case .interrupted where !state.rollbackStarted,
                .failed where !state.rollbackStarted,
                .refused:
                // Stopped with nothing undone (interrupted, or halted where no step had a rollback):
                // resume re-checks the failed step's guards and goes on from there.
                break
            default:
                throw .journal(.notResumable(id: runID, reason: "it ended as '\(final)'; start a new run"))
            }
        } else if state.rollbackStarted {
            throw .journal(
                .notResumable(
                    id: runID, reason: "it stopped while rolling back; check the target by hand (journal: \(journalPath))"))
        }
        let loader = RunbookLoader(registry: registry)
        var runbook: Runbook
        do { runbook = try loader.load(path: layout.runbookCopyPath(runID)) } catch { throw .runbook(error) }
        runbook.sourcePath = state.runbookPath
        if SHA256.hex(Data(runbook.sourceText.utf8)) != state.runbookSHA256 {
            throw .journal(.notResumable(id: runID, reason: "its runbook copy \(layout.runbookCopyPath(runID)) was changed"))
        }
        var given: [(name: String, value: String)] = []
        let extraNames = Set(extraParameters.map(\.name))
        for (name, value) in state.parameters.sorted(by: { $0.key < $1.key }) where !extraNames.contains(name) {
            let secret = runbook.parameter(named: name)?.secret ?? false
            if !secret { given.append((name, value)) }
        }
        for spec in runbook.parameters where spec.secret && state.parameters[spec.name] != nil && !extraNames.contains(spec.name) {
            throw .parameters(
                ParameterProblems(messages: ["parameter '\(spec.name)' is secret and was not journaled; give it again with --param \(spec.name)=…"]))
        }
        given += extraParameters
        let parameters: [String: ParameterValue]
        switch ParameterBinding.bind(runbook, given: given) {
        case .success(let values): parameters = values
        case .failure(let problems): throw .parameters(problems)
        }
        let lock = try acquireLock(Executor.lockName(of: runbook, parameters: parameters), layout: layout, runID: runID, runbook: runbook.name)
        defer { lock.release() }
        let journal: JournalWriter
        do { journal = try JournalWriter(path: journalPath) } catch { throw .journal(error) }
        var recorded = options
        recorded.recordFailure = { [journal] in journal.writeFailure }
        let executor = Executor(
            runbook: runbook, parameters: parameters, options: recorded, sink: HostStampingSink(EventFanout([journal, sink]), host: HostName.short),
            runner: runner,
            registry: registry, cancellation: cancellation, rollbackCancellation: rollbackCancellation)
        return executor.resume(state)
    }
}
