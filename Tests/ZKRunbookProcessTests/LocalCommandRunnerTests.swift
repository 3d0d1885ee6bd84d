import Foundation
import ZKRunbookTestSupport
import Testing

@testable import ZKRunbookProcess

#if canImport(Glibc)
import Glibc
#endif

/// These tests spawn real processes (sh, sleep, head) and assert on what is left of them afterwards.
@Suite(.serialized)
struct LocalCommandRunnerTests {
    let runner = LocalCommandRunner()

    @Test func capturesStdoutStderrAndExitStatus() {
        let result = runner.run(CommandSpec(argv: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]), cancellation: nil)
        #expect(result.termination == .exited(3))
        #expect(result.stdout.text == "out\n")
        #expect(result.stderr.text == "err\n")
    }

    @Test func tenMegabytesOfOutputDoesNotHangAndIsCapped() {
        let spec = CommandSpec(
            argv: ["/bin/sh", "-c", "head -c 10485760 /dev/zero | tr '\\0' x; echo done >&2"], timeout: 30,
            outputCap: 64 * 1024)
        let result = runner.run(spec, cancellation: nil)
        #expect(result.termination == .exited(0))
        #expect(result.stdout.totalBytes == 10_485_760)
        #expect(result.stdout.head.count + result.stdout.tail.count == 64 * 1024)
        #expect(result.stdout.isTruncated)
        #expect(result.stderr.text == "done\n")
        #expect(result.seconds < 20)
    }

    @Test func timeoutKillsTheWholeProcessTree() throws {
        let marker = "zkr-grandchild-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        // The grandchild ignores SIGTERM, so only the group-wide SIGKILL after the grace can end it.
        let script = "sh -c 'trap \"\" TERM; exec -a \(marker) sleep 300' & sleep 300; wait"
        let spec = CommandSpec(argv: ["/bin/bash", "-c", script], timeout: 0.5, terminationGrace: 0.3)
        let result = runner.run(spec, cancellation: nil)
        #expect(result.termination == .timedOut)
        // Idle: ~0.8 s; without the group-wide SIGKILL the grandchild would hold on for 300 s.
        #expect(result.seconds < 60)
        #expect(processes(named: marker).isEmpty, "a grandchild outlived the timeout")
        if let pid = result.pid {
            // Dead when the runner returns (gone, or a zombie Foundation's monitor thread has yet to reap),
            // and reaped after: under load that reaping lagged the return by more than 10 s once, so the
            // bound is a minute against the "never" it guards against.
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
            #expect(state == nil || state == "Z", "the child still runs (state \(state.map(String.init) ?? "?"))")
            #expect(eventually(60) { kill(pid, 0) != 0 }, "the child was never reaped")
        }
    }

    @Test func cancellationStopsTheCommandPromptly() {
        let token = CancellationToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) {
            token.cancel(reason: "test says stop")
        }
        let result = runner.run(CommandSpec(argv: ["sleep", "300"], timeout: 600, terminationGrace: 60), cancellation: token)
        #expect(result.termination == .cancelled("test says stop"))
        // sleep obeys SIGTERM at once (idle: ~0.2 s); waiting out the 60 s grace would mean SIGTERM never reached it.
        #expect(result.seconds < 30)
    }

    @Test func missingExecutableIsASpawnFailureNotACrash() {
        let byName = runner.run(CommandSpec(argv: ["zkrunbook-no-such-tool"]), cancellation: nil)
        guard case .spawnFailed(let why) = byName.termination else {
            Issue.record("expected spawn failure, got \(byName.termination)")
            return
        }
        #expect(why.contains("not found in PATH"))
        let byPath = runner.run(CommandSpec(argv: ["/nonexistent/tool"]), cancellation: nil)
        #expect(byPath.termination == .spawnFailed("/nonexistent/tool: no such file"))
        let badDirectory = runner.run(CommandSpec(argv: ["true"], workingDirectory: "/nonexistent"), cancellation: nil)
        #expect(badDirectory.termination.cause?.rawValue == "spawn-failed")
    }

    @Test func environmentAndStdinAndWorkingDirectory() {
        let spec = CommandSpec(
            argv: ["/bin/sh", "-c", "printf '%s|' \"$ZKR_TEST\" \"$(pwd)\"; cat"], environment: ["ZKR_TEST": "v a l"],
            workingDirectory: "/tmp", standardInput: Data("from stdin".utf8))
        let result = runner.run(spec, cancellation: nil)
        #expect(result.stdout.text == "v a l|/tmp|from stdin")
    }

    @Test func aDaemonHoldingThePipeDoesNotBlockTheStep() {
        let marker = "zkr-daemon-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let spec = CommandSpec(argv: ["/bin/bash", "-c", "(exec -a \(marker) sleep 300) & echo started"], timeout: 600)
        let result = runner.run(spec, cancellation: nil)
        #expect(result.termination == .exited(0))
        #expect(result.stdout.text == "started\n")
        // Idle: ~0.01 s; a runner that waited for the daemon's end of the pipe would take 300 s.
        #expect(result.seconds < 60)
        for pid in processes(named: marker) { kill(pid, SIGKILL) }
    }
}
