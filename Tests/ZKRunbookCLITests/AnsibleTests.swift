import Foundation
import Testing
import ZKRunbookSandbox
import ZKRunbookTestSupport

/// Real ansible-core (from PyPI, in a virtualenv Tests/support/ansible-venv.sh makes) drives two sandbox
/// ensembles through the collection in packaging/ansible, over the real loopback sshd: check mode changes
/// nothing and says what would change, a real run rolls both, a degraded ensemble fails the play with
/// zkrunbook's reason, a play on an ensemble another run holds fails as locked; ansible-lint passes.
@Suite(.serialized, .tags(.realZooKeeper, .ssh))
struct AnsibleTests {
    let zkrunbook: ZKRunbookBinary
    let collections = repositoryRoot + "/packaging/ansible"

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// The virtualenv's bin folder, made on first use (network: PyPI).
    func ansible() throws -> String {
        let made = try ZKRunbookBinary(path: "/bin/bash").run([repositoryRoot + "/Tests/support/ansible-venv.sh"], timeout: 600)
        try #require(made.status == 0, "ansible-core could not be installed: \(made.stderr)")
        return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func playbook(_ bin: String, _ arguments: [String], workspace: Scratch) throws -> ZKRunbookBinary.Result {
        try ZKRunbookBinary(path: bin + "/ansible-playbook").run(
            ["-i", workspace.file("inventory.yml")] + arguments + [collections + "/ansible_collections/zkrunbook/zookeeper/playbooks/roll-ensembles.yml"],
            directory: workspace.path,
            environment: [
                "ANSIBLE_COLLECTIONS_PATH": collections, "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_LOCAL_TEMP": workspace.file("ansible-tmp"), "ANSIBLE_HOME": workspace.file("ansible-home"),
            ],
            timeout: 900)
    }

    /// The recap line of one host: ok, changed, failed counts.
    /// The inventory's `all: vars:` lines that reach every host through the loopback sshd, indented as they
    /// stand under `vars:` (each line ends with a line break, so the next key follows on its own line).
    static func connectionVariables(_ ssh: SSHServer) -> String {
        [
            "ansible_host: 127.0.0.1", "ansible_port: \(ssh.port)", "ansible_user: root", "ansible_ssh_private_key_file: \(ssh.identityFile)",
            "ansible_ssh_common_args: \"-o UserKnownHostsFile=\(ssh.knownHosts) -o StrictHostKeyChecking=yes\"",
            "ansible_python_interpreter: /usr/bin/python3",
        ].map { "    " + $0 + "\n" }.joined()
    }

    func recap(_ output: String, _ host: String) -> (ok: Int, changed: Int, failed: Int)? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(host + " ") && $0.contains("ok=") }) else { return nil }
        func count(_ name: String) -> Int {
            guard let range = line.range(of: name + "=") else { return -1 }
            return Int(line[range.upperBound...].prefix { $0.isNumber }) ?? -1
        }
        return (count("ok"), count("changed"), count("failed"))
    }

    /// ansible-lint (production profile) on a copy of the collection where Ansible finds it.
    @Test func theCollectionPassesAnsibleLint() throws {
        let bin = try ansible()
        let workspace = Scratch("ansible-lint")
        let copy = workspace.folder("ansible_collections/zkrunbook")
        #expect(try ZKRunbookBinary(path: "/bin/cp").run(["-r", collections + "/ansible_collections/zkrunbook/zookeeper", copy]).status == 0)
        let lint = try ZKRunbookBinary(path: bin + "/ansible-lint").run(
            ["--offline", "--nocolor", "--profile", "production"], directory: copy + "/zookeeper",
            environment: ["ANSIBLE_COLLECTIONS_PATH": workspace.path, "PATH": bin + ":/usr/bin:/bin", "ANSIBLE_HOME": workspace.file("ansible-home")],
            timeout: 300)
        #expect(lint.status == 0 && (lint.stdout + lint.stderr).contains("Passed"), "\(lint.stdout.suffix(3000))\n\(lint.stderr.suffix(3000))")
    }

    /// The role installs the agent (checked against its SHA-256) and writes the ensemble file from an
    /// inventory group, which zkrunbook then reads: status through that file sees the sandbox healthy, over
    /// TLS (each host's secure client port, the role's TLS files). A wrong SHA-256 fails the play.
    @Test func theRoleInstallsTheAgentAndWritesTheEnsembleFileFromAGroup() throws {
        let bin = try ansible()
        let workspace = Scratch("ansible-role")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--tls", "--tls-plaintext-port"], firstPort: 31_800)
        let files = ensemble.sandbox.certificates
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let digest = try ZKRunbookBinary(path: "/usr/bin/sha256sum").run([zkrunbook.path]).stdout.prefix(64)
        let members = (1...3).map { node in
            """
                    zk-\(node):
                      zookeeper_id: \(node)
                      zookeeper_client_port: \(ensemble.base + node)
                      zookeeper_secure_client_port: \(ensemble.clientPort(node))
                      zookeeper_admin_port: \(ensemble.base + 300 + node)
                      zookeeper_zoo_cfg: \(ensemble.zooCfg(node))

            """
        }.joined()
        workspace.write(
            "inventory.yml",
            """
            all:
              vars:
            \(Self.connectionVariables(ssh))  children:
                sandbox_ensemble:
                  hosts:
            \(members)    conductors:
                  hosts:
                    conductor:

            """)
        func install(sha256: String) throws -> ZKRunbookBinary.Result {
            workspace.write(
                "install.yml",
                """
                - name: Install the agent and write the ensemble file
                  hosts: conductor
                  gather_facts: false
                  roles:
                    - role: zkrunbook.zookeeper.zkrunbook
                      vars:
                        zkrunbook_binary_src: \(zkrunbook.path)
                        zkrunbook_binary_sha256: "\(sha256)"
                        zkrunbook_install_path: \(workspace.file("installed/zkrunbook"))
                        zkrunbook_ensemble_group: sandbox_ensemble
                        zkrunbook_ensemble_name: from-inventory
                        zkrunbook_ensemble_path: \(workspace.file("etc/ensemble.json5"))
                        zkrunbook_tls_ca_file: \(files.caFile)
                        zkrunbook_tls_certificate_file: \(files.clientCertificate)
                        zkrunbook_tls_key_file: \(files.clientKey)

                """)
            try FileManager.default.createDirectory(atPath: workspace.file("installed"), withIntermediateDirectories: true)
            return try ZKRunbookBinary(path: bin + "/ansible-playbook").run(
                ["-i", workspace.file("inventory.yml"), workspace.file("install.yml")], directory: workspace.path,
                environment: [
                    "ANSIBLE_COLLECTIONS_PATH": collections, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOME": workspace.file("ansible-home"),
                    "ANSIBLE_LOCAL_TEMP": workspace.file("ansible-tmp"),
                ],
                timeout: 300)
        }
        let wrong = try install(sha256: String(repeating: "0", count: 64))
        #expect(wrong.status != 0 && wrong.stdout.contains("the release says 000"), "\(wrong.stdout.suffix(2000))")
        let installed = try install(sha256: String(digest))
        #expect(installed.status == 0, "\(installed.stdout.suffix(3000))\n\(installed.stderr.suffix(1000))")
        let status = try ZKRunbookBinary(path: workspace.file("installed/zkrunbook")).run([
            "status", "--ensemble", workspace.file("etc/ensemble.json5"), "--json",
        ])
        let view = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let written = workspace.read("etc/ensemble.json5") ?? "(none)"
        #expect(view?["verdict"] as? String == "healthy", "the written file reaches every server: \(status.stdout.prefix(800))\(status.stderr)\n\(written)")
        #expect(((view?["members"] as? [Any]) ?? []).count == 3)
        #expect(written.contains("secureClientPort: \(ensemble.clientPort(1))") && written.contains("tls: {"), "\(written)")
        #expect(status.stdout.contains("\"serial\""), "each server's certificate, read over TLS: \(status.stdout.prefix(400))")
    }

    @Test func ansibleChecksRollsRefusesAndSeesTheLock() throws {
        let bin = try ansible()
        let workspace = Scratch("ansible")
        let first = try zkrunbook.sandbox(workspace, firstPort: 31_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", first.directory]) }
        let second = try zkrunbook.sandbox(workspace, firstPort: 31_400)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", second.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        // The ensemble files with the repo's runbooks for the nodes' agents.
        let files = [try first.variant("ensemble-ansible.json5") { _ in }, try second.variant("ensemble-ansible.json5") { _ in }]
        func host(_ name: String, _ file: String) -> String {
            """
                    \(name):
                      zkrunbook_ensemble_path: \(file)
                      zkrunbook_state_dir: \(workspace.file("state-" + name))

            """
        }
        let inventory = """
            all:
              vars:
            \(Self.connectionVariables(ssh))    zkrunbook_binary: \(zkrunbook.path)
                zkrunbook_runbook: \(repositoryRoot)/runbooks/rolling-restart.json5
              children:
                zookeeper_conductors:
                  hosts:
            \(host("ensemble-a", files[0]))\(host("ensemble-b", files[1]))
            """
        workspace.write("inventory.yml", inventory)

        // Check mode: zkrunbook plans; nothing restarts; each host says it would change.
        let pidsBefore = (first.pids, second.pids)
        let check = try playbook(bin, ["--check", "--diff"], workspace: workspace)
        #expect(check.status == 0, "\(check.stdout.suffix(3000))\n\(check.stderr.suffix(2000))")
        for name in ["ensemble-a", "ensemble-b"] {
            #expect(recap(check.stdout, name).map { $0.changed >= 1 && $0.failed == 0 } == true, "\(name): \(check.stdout.suffix(1500))")
        }
        #expect(check.stdout.contains("would run step"), "the diff names the steps that would change: \(check.stdout.suffix(2000))")
        #expect(first.pids == pidsBefore.0 && second.pids == pidsBefore.1, "check mode restarted nothing")

        // A real run rolls both ensembles: every server has a new process.
        let rolled = try playbook(bin, [], workspace: workspace)
        #expect(rolled.status == 0, "\(rolled.stdout.suffix(3000))\n\(rolled.stderr.suffix(2000))")
        for name in ["ensemble-a", "ensemble-b"] { #expect(recap(rolled.stdout, name).map { $0.changed >= 1 && $0.failed == 0 } == true, "\(name)") }
        #expect(zip(first.pids, pidsBefore.0).allSatisfy { $0 != $1 } && zip(second.pids, pidsBefore.1).allSatisfy { $0 != $1 }, "every server restarted")

        // A degraded ensemble: zkrunbook refuses before any change, and the play fails with its reason.
        #expect(try zkrunbook.run(["sandbox", "stop", "--node", "3", "--dir", second.directory], timeout: 60).status == 0)
        let refused = try playbook(bin, ["--limit", "ensemble-b"], workspace: workspace)
        #expect(refused.status != 0)
        #expect(recap(refused.stdout, "ensemble-b")?.failed == 1, "\(refused.stdout.suffix(2000))")
        #expect(refused.stdout.contains("refused") && refused.stdout.contains("\"refused\": true"), "\(refused.stdout.suffix(3000))")
        #expect(try zkrunbook.run(["sandbox", "start", "--node", "3", "--wait", "--dir", second.directory], timeout: 120).status == 0)

        // Another run holds ensemble A (a rolling restart soaking after each node): the play fails as locked.
        let holder = try zkrunbook.start(
            ["run", "rolling-restart", "--ensemble", files[0], "--param", "soak=60s", "--state-dir", workspace.file("state-holder")], directory: repositoryRoot)
        defer { holder.signal(SIGTERM) }
        try poll("the other run holding ensemble A's leases", timeout: 60) {
            ((try? zkrunbook.run(["lease", "show", "--ensemble", files[0]]))?.stdout.components(separatedBy: ": free").count ?? 4) - 1 < 3
        }
        let locked = try playbook(bin, ["--limit", "ensemble-a"], workspace: workspace)
        #expect(locked.status != 0)
        #expect(locked.stdout.contains("locked by another run") && locked.stdout.contains("\"locked\": true"), "\(locked.stdout.suffix(3000))")
        holder.signal(SIGTERM)
        _ = try? holder.wait(timeout: 120)
    }
}
