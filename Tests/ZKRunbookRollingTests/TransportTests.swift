import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookRolling
@testable import ZKRunbookTransport

struct SSHTransportTests {
    @Test func theRemoteCommandQuotesEveryWord() {
        let spec = CommandSpec(
            argv: ["zkrunbook", "run", "x", "--param", "value=a b; rm -rf / $(id) 'q'"], environment: ["ZKRUNBOOK_RUNBOOK_PATH": "/opt/run books"],
            workingDirectory: "/tmp/a dir")
        let command = SSHCommandRunner.remoteCommand(for: spec)
        #expect(command == #"cd '/tmp/a dir' && env 'ZKRUNBOOK_RUNBOOK_PATH=/opt/run books' zkrunbook run x --param 'value=a b; rm -rf / $(id) '\''q'\'''"#)
        let runner = SSHCommandRunner(host: "zk1", settings: SSHSettings(user: "zk", port: 2222, identityFile: "/k", options: ["StrictHostKeyChecking=yes"]))
        let argv = runner.sshArgv(for: CommandSpec(argv: ["true"]))
        #expect(argv.starts(with: ["ssh", "-o", "BatchMode=yes"]))
        #expect(argv.suffix(5) == ["-l", "zk", "zk1", "--", "true"])
        #expect(!argv.contains("StrictHostKeyChecking=no"), "host-key checking stays on")
    }

    @Test(arguments: [
        ("ssh: connect to host zk1 port 22: Connection refused\r\n", "ssh-unreachable"),
        ("ssh: Could not resolve hostname zk9: Name or service not known\r\n", "ssh-unreachable"),
        ("root@127.0.0.1: Permission denied (publickey).\r\n", "ssh-auth"),
        ("No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n", "ssh-host-key"),
        ("Connection to 127.0.0.1 closed by remote host.\r\n", "ssh-dropped"),
        ("client_loop: send disconnect: Broken pipe\r\n", "ssh-dropped"),
    ])
    func sshFailuresAreNamed(stderr: String, kind: String) {
        #expect(SSHCommandRunner.classify(stderr: stderr, host: "zk1")?.kind.rawValue == kind)
        #expect(SSHCommandRunner.classify(stderr: stderr, host: "zk1")?.message.contains("\r") == false)
    }

    @Test func anExit255FromTheRemoteCommandItselfIsNotAnSSHFailure() {
        #expect(SSHCommandRunner.classify(stderr: "my script failed\n", host: "zk1") == nil)
    }

    @Test func anUnreachableNodeIsNamedEndToEnd() {
        let runner = SSHCommandRunner(host: "127.0.0.1", settings: SSHSettings(port: 1), connectTimeout: 2)
        let result = runner.run(CommandSpec(argv: ["true"], timeout: 10), cancellation: nil)
        #expect(result.termination.cause?.rawValue == "ssh-unreachable", "\(result.termination)")
    }

    @Test func rollingOrderIsObserversThenFollowersThenTheLeader() {
        let members = [
            EnsembleMember(id: 1, host: "a", clientPort: 1), EnsembleMember(id: 2, host: "b", clientPort: 1),
            EnsembleMember(id: 3, host: "c", clientPort: 1), EnsembleMember(id: 4, host: "d", clientPort: 1, role: .observer),
        ]
        #expect(PreparedRollingRestart.order(members, leader: 1).map(\.id) == [4, 2, 3, 1])
        #expect(PreparedRollingRestart.order(members, leader: nil).map(\.id) == [4, 1, 2, 3])
    }
}
