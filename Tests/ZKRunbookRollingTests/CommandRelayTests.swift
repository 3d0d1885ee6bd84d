import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookTransport

/// The relay a conductor keeps on each node for a run: several commands at once over one stream, their lines
/// as they come, cancellation, and every command stopped when the conductor's side closes; then over a real
/// sshd, one session carrying every command, and a node whose agent cannot relay served command by command.
@Suite(.serialized)
struct CommandRelayTests {
    /// A relay serving on pipes in this process: write requests, read replies.
    final class Harness: @unchecked Sendable {
        let toRelay = Pipe()
        let fromRelay = Pipe()
        let served = DispatchSemaphore(value: 0)
        var buffer = Data()

        init() {
            let (input, output) = (toRelay.fileHandleForReading.fileDescriptor, fromRelay.fileHandleForWriting)
            Thread.detachNewThread { [served] in
                _ = CommandRelay.serve(input: input, output: output, version: "test")
                served.signal()
            }
        }

        func send(_ request: RelayRequest) { toRelay.fileHandleForWriting.write(RelayWire.encode(request)) }

        /// Replies until `stop` says enough, or 20 s.
        func replies(until stop: ([RelayReply]) -> Bool) -> [RelayReply] {
            var seen: [RelayReply] = []
            let deadline = Date().addingTimeInterval(20)
            while !stop(seen) && Date() < deadline {
                let chunk = fromRelay.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                seen += RelayWire.lines(&buffer).compactMap { try? JSONDecoder().decode(RelayReply.self, from: $0) }
            }
            return seen
        }
    }

    func finished(_ replies: [RelayReply], _ id: Int) -> CommandResult? {
        replies.first { $0.kind == .finished && $0.id == id }?.result?.commandResult
    }

    @Test func twoCommandsAtOnceTheirLinesAsTheyComeAndTheirEndings() {
        let relay = Harness()
        var streaming = CommandSpec(argv: ["/bin/sh", "-c", "echo first; sleep 0.3; echo second"], timeout: 10)
        streaming.onStandardOutputLine = OutputLineHandler { _ in }
        relay.send(.run(streaming, id: 1))
        relay.send(.run(CommandSpec(argv: ["/bin/sh", "-c", "echo failing >&2; exit 3"], timeout: 10), id: 2))
        let replies = relay.replies { seen in seen.filter { $0.kind == .finished }.count == 2 }
        #expect(replies.first?.kind == .ready && replies.first?.version == "test")
        let lines = replies.filter { $0.kind == .line && $0.id == 1 }.compactMap(\.line)
        #expect(lines == ["first", "second"], "\(replies)")
        // The first line reached the conductor while its command still ran.
        let firstLine = replies.firstIndex { $0.kind == .line && $0.line == "first" }
        let firstEnded = replies.firstIndex { $0.kind == .finished && $0.id == 1 }
        #expect(firstLine != nil && firstEnded != nil && firstLine! < firstEnded!)
        #expect(finished(replies, 1)?.termination == .exited(0) && finished(replies, 1)?.stdout.text == "first\nsecond\n")
        #expect(finished(replies, 2)?.termination == .exited(3) && finished(replies, 2)?.stderr.text == "failing\n")
        try? relay.toRelay.fileHandleForWriting.close()
        #expect(relay.served.wait(timeout: .now() + 10) == .success, "the relay ends once its input closes")
    }

    @Test func aCancelEndsTheCommandAndAClosedInputStopsEveryCommandAsTheConductorWould() {
        let relay = Harness()
        relay.send(.run(CommandSpec(argv: ["/bin/sleep", "30"], timeout: 60, terminationGrace: 0.2), id: 7))
        // An agent that stops on its own when its stdin closes (--stop-when-stdin-closes), held open meanwhile.
        var agent = CommandSpec(argv: ["/bin/sh", "-c", "cat >/dev/null; echo stopped on its own"], timeout: 60, terminationGrace: 5)
        agent.holdStandardInputOpen = true
        relay.send(.run(agent, id: 8))
        _ = relay.replies { $0.contains { $0.kind == .ready } }
        relay.send(.cancel(7, reason: "SIGINT"))
        let cancelled = relay.replies { seen in seen.contains { $0.kind == .finished } }
        #expect(finished(cancelled, 7)?.termination == .cancelled("SIGINT"), "\(cancelled)")
        try? relay.toRelay.fileHandleForWriting.close()
        let stopped = relay.replies { seen in seen.contains { $0.kind == .finished && $0.id == 8 } }
        let ending = finished(stopped, 8)
        #expect(ending?.termination == .cancelled("the conductor's connection closed"), "\(stopped)")
        #expect(ending?.stdout.text == "stopped on its own\n", "its stdin closed first, so it stopped before any signal")
        #expect(relay.served.wait(timeout: .now() + 10) == .success)
    }

    /// Over a real sshd: two commands ride one relay (the same parent process on the node); an agent that
    /// cannot relay (an older one) and a missing agent leave every command running over its own ssh, with the
    /// same result.
    @Test(.tags(.ssh)) func oneSessionCarriesEveryCommandAndANodeWithoutARelayIsServedDirectly() throws {
        let workspace = Scratch("relay")
        let zkrunbook = try ZKRunbookBinary.locate()
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        // A relay's ssh left running would hold Foundation's process monitor for the rest of the test process.
        defer { SSHRelayRunner.closeAll() }
        let direct = SSHCommandRunner(
            host: "127.0.0.1",
            settings: SSHSettings(
                user: "root", port: ssh.port, identityFile: ssh.identityFile,
                options: ["UserKnownHostsFile=\(ssh.knownHosts)", "StrictHostKeyChecking=yes", "ControlMaster=no"]))
        let parent = CommandSpec(argv: ["/bin/sh", "-c", "echo $PPID"], timeout: 30)
        func parents(_ runner: some CommandRunner) -> [String] {
            (0..<2).map { _ in
                let result = runner.run(parent, cancellation: nil)
                #expect(result.termination == .exited(0), "\(result.termination) \(result.stderr.text)")
                return result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let relayed = parents(SSHRelayRunner(direct: direct, agent: zkrunbook.path))
        #expect(relayed[0] == relayed[1] && !relayed[0].isEmpty, "both commands came from one relay: \(relayed)")
        let older = workspace.write(
            "older-agent.sh", "#!/bin/sh\n[ \"$1\" = relay ] && { echo \"unknown command 'relay'\" >&2; exit 2; }\nexec \(zkrunbook.path) \"$@\"\n")
        chmod(older, 0o755)
        let direct1 = parents(SSHRelayRunner(direct: direct, agent: older))
        #expect(direct1[0] != direct1[1], "an agent without the relay: each command its own session: \(direct1)")
        let missing = parents(SSHRelayRunner(direct: direct, agent: workspace.file("no-agent-here")))
        #expect(missing[0] != missing[1], "no agent yet: each command its own session: \(missing)")
    }
}
