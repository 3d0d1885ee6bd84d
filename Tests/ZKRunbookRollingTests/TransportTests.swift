import Foundation
import Testing
import ZKRunbookAgent
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTestSupport
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
        // One shared connection per node, in a folder only this user may use, after the ensemble's options
        // (ssh takes the first value given: ControlMaster=no there turns it off).
        guard let folder = SSHCommandRunner.controlFolder else {
            Issue.record("no private folder for ssh's shared connections")
            return
        }
        #expect(argv.contains("ControlPath=\(folder)/%C") && argv.contains("ControlMaster=auto"), "\(argv)")
        #expect(argv.firstIndex(of: "StrictHostKeyChecking=yes")! < argv.firstIndex(of: "ControlMaster=auto")!)
        var info = stat()
        #expect(lstat(folder, &info) == 0 && info.st_mode & 0o077 == 0 && info.st_uid == getuid(), "private to this user")
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
        let nodes = members.map { EnsembleNode($0) }
        #expect(LeaderLastOrder.order(nodes, leader: 1).map(\.id) == [4, 2, 3, 1])
        #expect(LeaderLastOrder.order(nodes, leader: nil).map(\.id) == [4, 1, 2, 3])
    }
}

/// The kubectl transport: its argv, its words in a plan, and a whole command through it. No cluster exists
/// here, so a shim stands in for kubectl: it records its argv and runs what follows `--` on this machine.
struct KubectlTransportTests {
    @Test func argvAndPlanText() throws {
        let settings = KubectlSettings(namespace: "kafka", context: "prod", container: "zookeeper")
        let runner = KubectlCommandRunner(host: "zk-0", settings: settings)
        let argv = runner.kubectlArgv(for: CommandSpec(argv: ["zkrunbook", "run", "x y"], environment: ["A": "1"]))
        #expect(
            argv == [
                "kubectl", "--context", "prod", "--namespace", "kafka", "exec", "-i", "zk-0", "--container", "zookeeper", "--", "env", "A=1", "zkrunbook",
                "run", "x y",
            ])
        #expect(NodeAccess.kubectl(settings).describe(host: "zk-0") == "over kubectl exec to pod zk-0 (container zookeeper) in namespace kafka, context prod")
        #expect(NodeAccess.kubectl(KubectlSettings(pod: "zookeeper-2")).describe(host: "zk-2") == "over kubectl exec to pod zookeeper-2")
        #expect(NodeAccess.local.describe(host: "x") == "locally")
    }

    @Test func theEnsembleFileSaysHowANodeIsReached() throws {
        let scratch = Scratch("kube")
        let path = scratch.write(
            "e.json5",
            """
            { nodes: [{ id: 1, host: "zk-0", kubectl: { namespace: "kafka" } }, { id: 2, host: "zk-1", ssh: { user: "zk" } }, { id: 3, host: "127.0.0.1" }],
              restartCommand: ["true"] }
            """)
        let file = try EnsembleFile.load(path: path)
        #expect(file.nodes.map { $0.access.describe(host: $0.host) } == ["over kubectl exec to pod zk-0 in namespace kafka", "over ssh to zk@zk-1", "locally"])
        let both = scratch.write("both.json5", "{ nodes: [{ id: 1, host: \"a\", ssh: {}, kubectl: {} }], restartCommand: [\"true\"] }")
        #expect(throws: InputFileError.self) { try EnsembleFile.load(path: both) }
    }

    @Test func aCommandRunsThroughItArgvIntact() throws {
        let scratch = Scratch("kube-shim")
        let log = scratch.file("argv")
        let shim = scratch.write("kubectl", "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(log)\nwhile [ \"$1\" != \"--\" ]; do shift; done\nshift\nexec \"$@\"\n")
        chmod(shim, 0o755)
        let runner = KubectlCommandRunner(host: "zk-0", settings: KubectlSettings(namespace: "kafka"), kubectl: shim)
        let result = runner.run(CommandSpec(argv: ["/bin/echo", "a b", "$(id)"], timeout: 30), cancellation: nil)
        #expect(result.termination == .exited(0))
        #expect(result.stdout.text == "a b $(id)\n", "one argument stays one, nothing is run by a shell")
        #expect(scratch.text("argv") == "--namespace\nkafka\nexec\n-i\nzk-0\n--\n/bin/echo\na b\n$(id)\n")
        let missing = KubectlCommandRunner(host: "zk-0", settings: KubectlSettings(), kubectl: scratch.file("no-kubectl"))
        guard case .spawnFailed(let why) = missing.run(CommandSpec(argv: ["true"]), cancellation: nil).termination else {
            Issue.record("a missing kubectl is not named")
            return
        }
        #expect(why.contains("install kubectl"))
    }
}
