import Foundation
import ZKRunbookProcess

#if canImport(Glibc)
    import Glibc
#endif

/// Runs commands on a node over ssh through one long-lived session per node: `AGENT relay` (see
/// `CommandRelay`), started on first use and kept for the run, carrying every command after it. A command
/// the relay cannot carry (its output to a file, a large stdin: the installer's uploads, a bundle's download)
/// goes over its own ssh command, as does everything where the relay cannot start (no agent installed yet,
/// an agent older than the relay): the same results, at a session's cost each.
public struct SSHRelayRunner: CommandRunner {
    public var direct: SSHCommandRunner
    /// The relay's argv on the node: the agent's path and `relay`.
    public var relay: [String]

    public init(direct: SSHCommandRunner, agent: String) {
        (self.direct, self.relay) = (direct, [agent, CommandRelay.word])
    }

    /// Ends every relay this process started (their ssh commands stop; the nodes' relays stop their commands).
    public static func closeAll() { RelaySession.closeAll() }

    /// The largest stdin sent inside a frame; larger goes over its own ssh command.
    static let largestInput = 1 << 20

    public func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult {
        guard spec.standardOutputFile == nil, (spec.standardInput?.count ?? 0) <= Self.largestInput else {
            return direct.run(spec, cancellation: cancellation)
        }
        switch RelaySession.session(for: direct, relay: relay) {
        case .failure(.transport(let termination)): return CommandResult(termination: termination)
        case .failure: return direct.run(spec, cancellation: cancellation)
        case .success(let session):
            return session.run(spec, cancellation: cancellation) ?? direct.run(spec, cancellation: cancellation)
        }
    }
}

/// One node's relay: its ssh command (run by `LocalCommandRunner` on a thread of its own, for the same
/// process hygiene as any command), the commands in flight by id, and the replies read from its lines.
final class RelaySession: @unchecked Sendable {
    /// Why there is no relay.
    enum Failure: Error {
        /// What every command would meet too (unreachable, refused authentication, a host key): returned as is.
        case transport(Termination)
        /// No agent at that path yet (its installer may be on the way): this command goes over its own ssh.
        case noAgent
        /// An agent without the relay (older than the conductor), or one that did not say it was ready: every
        /// command of this process goes over its own ssh.
        case cannotRelay(String)
    }

    /// One node's relay, or why it has none; its own lock, so the nodes' relays start at once.
    private final class Slot: @unchecked Sendable {
        let lock = NSLock()
        var session: RelaySession?
        var cannotRelay: String?
    }

    private static let registry = NSLock()
    nonisolated(unsafe) private static var slots: [String: Slot] = [:]

    let host: String
    private let writer = StandardInputWriter()
    private let stop = CancellationToken()
    private let lock = NSLock()
    private var nextID = 1
    private var pending: [Int: Pending] = [:]
    private var ending: CommandResult?
    private let ready = DispatchSemaphore(value: 0)
    private let over = DispatchSemaphore(value: 0)

    final class Pending: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let lines: OutputLineHandler?
        var result: CommandResult?
        init(lines: OutputLineHandler?) { self.lines = lines }
    }

    /// The node's running relay, started now if there is none (or the last one ended).
    static func session(for direct: SSHCommandRunner, relay: [String]) -> Result<RelaySession, Failure> {
        let argv = direct.connection() + [direct.host, "--", SSHCommandRunner.remoteCommand(for: CommandSpec(argv: relay))]
        let key = argv.joined(separator: "\u{1F}")
        let slot = registry.withLock {
            if let slot = slots[key] { return slot }
            let slot = Slot()
            slots[key] = slot
            return slot
        }
        slot.lock.lock()
        defer { slot.lock.unlock() }
        if let why = slot.cannotRelay { return .failure(.cannotRelay(why)) }
        if let session = slot.session, session.isAlive { return .success(session) }
        let started = start(argv: argv, direct: direct)
        switch started {
        case .success(let session): slot.session = session
        case .failure(.cannotRelay(let why)): slot.cannotRelay = why
        case .failure: break
        }
        return started
    }

    private init(host: String) { self.host = host }

    static func closeAll() {
        let sessions = registry.withLock { slots.values.compactMap { slot in slot.lock.withLock { slot.session } } }
        for session in sessions {
            session.stop.cancel(reason: "the relays were closed")
            _ = session.over.wait(timeout: .now() + 15)
        }
    }

    private static func start(argv: [String], direct: SSHCommandRunner) -> Result<RelaySession, Failure> {
        let session = RelaySession(host: direct.host)
        // As long as a run may last; the relay ends when this process does (its stdin closes).
        var spec = CommandSpec(argv: argv, timeout: 7 * 24 * 3600, terminationGrace: 5, outputCap: 64 * 1024)
        spec.unsetEnvironment = direct.settings.identityFile == nil ? [] : ["SSH_AUTH_SOCK"]
        spec.standardInputWriter = session.writer
        spec.onStandardOutputLine = OutputLineHandler { session.receive($0) }
        let command = spec
        Thread.detachNewThread { session.ended(LocalCommandRunner().run(command, cancellation: session.stop)) }
        // ssh's own connect timeout, and the agent's start, bound the wait for its first word.
        if session.ready.wait(timeout: .now() + .seconds(direct.connectTimeout + 5)) == .timedOut {
            session.stop.cancel(reason: "the relay did not say it was ready")
            _ = session.over.wait(timeout: .now() + 15)
            return .failure(.cannotRelay("it did not say it was ready"))
        }
        guard let result = session.lock.withLock({ session.ending }) else { return .success(session) }
        if case .exited(255) = result.termination, let failure = SSHCommandRunner.classify(stderr: result.stderr.text, host: direct.host) {
            return .failure(.transport(.transportFailed(kind: failure.kind, message: failure.message)))
        }
        if case .spawnFailed(let why) = result.termination {
            return .failure(.transport(.spawnFailed("ssh client: \(why) (install openssh-client)")))
        }
        // 127: no agent there yet (its installer may be on the way); anything else: an agent without the relay.
        if result.termination == .commandNotFound { return .failure(.noAgent) }
        return .failure(.cannotRelay("the agent \(result.termination.summary): \(result.stderr.text)"))
    }

    var isAlive: Bool { lock.withLock { ending == nil } }

    /// Runs `spec` through the relay; nil when the relay ended before it was sent (the caller goes direct).
    func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult? {
        let waiting = Pending(lines: spec.onStandardOutputLine)
        let id: Int? = lock.withLock {
            guard ending == nil else { return nil }
            defer { nextID += 1 }
            pending[nextID] = waiting
            return nextID
        }
        guard let id else { return nil }
        writer.write(RelayWire.encode(RelayRequest.run(spec, id: id)))
        // The relay ends the command at its timeout; this side waits that long, the grace twice and a margin.
        let deadline = Date().addingTimeInterval(spec.timeout + 2 * spec.terminationGrace + 10)
        var cancelSent = false
        while waiting.done.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            if !cancelSent, let reason = cancellation?.reason {
                writer.write(RelayWire.encode(RelayRequest.cancel(id, reason: reason)))
                cancelSent = true
            }
            if Date() >= deadline {
                writer.write(RelayWire.encode(RelayRequest.cancel(id, reason: "no answer from the relay in time")))
                lock.withLock { _ = pending.removeValue(forKey: id) }
                return CommandResult(termination: .timedOut)
            }
        }
        return lock.withLock { waiting.result } ?? CommandResult(termination: .timedOut)
    }

    /// One line the relay wrote: a reply.
    private func receive(_ text: String) {
        guard let reply = try? JSONDecoder().decode(RelayReply.self, from: Data(text.utf8)) else { return }
        switch reply.kind {
        case .ready: ready.signal()
        case .line:
            if let line = reply.line { lock.withLock { pending[reply.id] }?.lines?.handle(line) }
        case .finished:
            let waiting: Pending? = lock.withLock {
                let found = pending.removeValue(forKey: reply.id)
                found?.result = reply.result?.commandResult
                return found
            }
            waiting?.done.signal()
        }
    }

    /// The relay's ssh ended: every command in flight ends as dropped (it may or may not have finished on
    /// the node, as with a dropped ssh command), and the next command starts a new relay.
    private func ended(_ result: CommandResult) {
        let classified = SSHCommandRunner.classify(stderr: result.stderr.text, host: host)?.message
        let said = result.stderr.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = classified ?? "ssh to \(host): the relay's connection ended (\(result.termination.summary)\(said.isEmpty ? "" : ": " + said))"
        let orphans: [Pending] = lock.withLock {
            ending = result
            defer { pending = [:] }
            for waiting in pending.values {
                waiting.result = CommandResult(
                    termination: .transportFailed(kind: .sshDropped, message: "\(reason); the command may or may not have finished on the node"))
            }
            return Array(pending.values)
        }
        for waiting in orphans { waiting.done.signal() }
        ready.signal()
        over.signal()
    }
}
