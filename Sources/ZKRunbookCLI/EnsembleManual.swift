import Foundation
import ZKRunbookAgent

/// zkrunbook-ensemble(5): the ensemble file, key by key, with an example value for each. The test builds a
/// file from these examples (every key accepted) and compares the keys with those the parser asks for (every
/// key documented), so the page and the parser cannot drift.
extension ManualCommand {
    struct EnsembleKey {
        /// Where the key goes: "" (the top level), "node", "ssh", "kubectl", "tls", "sasl", "install".
        var block: String
        var key: String
        /// A JSON5 value the parser accepts.
        var example: String
        var meaning: String
    }

    static let ensembleBlocks: [(block: String, title: String, intro: String)] = [
        ("", "TOP-LEVEL KEYS", "The file is one JSON5 object (comments, trailing commas and unquoted keys allowed)."),
        ("node", "NODE KEYS", "Each element of nodes is one server and how its node is reached."),
        ("ssh", "SSH KEYS", "A node's ssh block: its agent runs over OpenSSH (BatchMode; the key or agent must be set up)."),
        ("kubectl", "KUBECTL KEYS", "A node's kubectl block: its agent runs by kubectl exec -i, the argv kept as argv; not with ssh."),
        (
            "tls", "TLS KEYS",
            "The tls block: every server is reached over TLS (client port and, with adminServer https, the AdminServer). Relative paths are read against the ensemble file's folder; secrets only from files."
        ),
        (
            "sasl", "SASL KEYS",
            "The sasl block: every client session zkrunbook opens (write gate, zk, membership, reconfig, restore's check) authenticates with SASL, as ensembles with enforce.auth.enabled require. The password only from a file; a relative path is read against the ensemble file's folder."
        ),
        (
            "install", "INSTALL KEYS",
            "How a node's ZooKeeper release changes (rolling-upgrade), for every node or one (a node's own install block): link and versions, or command; ${version} stands for the release wanted."
        ),
    ]

    static let ensembleKeys: [EnsembleKey] = [
        EnsembleKey(
            block: "", key: "name", example: "\"prod-zk\"",
            meaning: "The ensemble's name: restore's confirm, bundles and metrics carry it. Default: the file's name."),
        EnsembleKey(
            block: "", key: "nodes", example: "[{ id: 1, host: \"zk1.example.internal\" }]", meaning: "The servers, one object each (required, not empty)."),
        EnsembleKey(
            block: "", key: "restartCommand", example: "[\"systemctl\", \"restart\", \"zookeeper\"]",
            meaning: "How a node's server is restarted, as an argv run on that node (no shell); ${node.id} and the other node fields are filled in."),
        EnsembleKey(
            block: "", key: "stopCommand", example: "[\"systemctl\", \"stop\", \"zookeeper\"]",
            meaning: "How a node's server is stopped (remove-server, restore); runbooks that need it refuse before any change without it."),
        EnsembleKey(
            block: "", key: "agentPath", example: "\"/usr/bin/zkrunbook\"",
            meaning: "The zkrunbook binary on the nodes (default: zkrunbook on the node's PATH)."),
        EnsembleKey(
            block: "", key: "runbookPath", example: "\"/usr/share/zkrunbook/runbooks\"",
            meaning: "Where the agents find runbooks (their ZKRUNBOOK_RUNBOOK_PATH); install copies the runbooks there. Default: the agent's own search path."),
        EnsembleKey(block: "", key: "tls", example: "{}", meaning: "The servers are reached over TLS: the keys below."),
        EnsembleKey(
            block: "", key: "sasl", example: "{ username: \"zkrunbook\", passwordFile: \"zkrunbook.password\" }",
            meaning: "zkrunbook's client sessions authenticate with SASL: the keys below."),
        EnsembleKey(
            block: "", key: "install", example: "{ link: \"/opt/zookeeper/current\", versions: \"/opt/zookeeper-${version}\" }",
            meaning: "How every node's release changes: the keys below."),
        EnsembleKey(block: "node", key: "id", example: "1", meaning: "The server's id, its myid (0-255, required, unique)."),
        EnsembleKey(block: "node", key: "host", example: "\"zk1.example.internal\"", meaning: "Where the server listens and the node is reached (required)."),
        EnsembleKey(block: "node", key: "clientPort", example: "2181", meaning: "The plaintext client port (default 2181)."),
        EnsembleKey(
            block: "node", key: "secureClientPort", example: "2281",
            meaning: "The TLS client port; with a tls block the node is reached there, and clientPort stays its plaintext port."),
        EnsembleKey(block: "node", key: "adminPort", example: "8080", meaning: "The AdminServer's port, asked where the four-letter-word whitelist refuses."),
        EnsembleKey(block: "node", key: "role", example: "\"participant\"", meaning: "participant (a voter, the default) or observer."),
        EnsembleKey(block: "node", key: "quorumPort", example: "2888", meaning: "Its quorum port in its server.N line (default 2888)."),
        EnsembleKey(block: "node", key: "electionPort", example: "3888", meaning: "Its election port in its server.N line (default 3888)."),
        EnsembleKey(
            block: "node", key: "zooCfg", example: "\"/etc/zookeeper/conf/zoo.cfg\"",
            meaning:
                "Its zoo.cfg. Default: the file the running server was started with, found by the node's agent; runbooks that edit zoo.cfg default to /etc/zookeeper/conf/zoo.cfg."
        ),
        EnsembleKey(
            block: "node", key: "logFile", example: "\"/var/log/zookeeper/zookeeper.log\"",
            meaning: "Its server log, read by collect, doctor and the upgrade's canary."),
        EnsembleKey(
            block: "node", key: "stateDir", example: "\"/var/lib/zkrunbook\"",
            meaning: "The agent's state folder on that node: journals, backups of edited files, the node's lease."),
        EnsembleKey(
            block: "node", key: "agentPath", example: "\"/usr/local/bin/zkrunbook\"", meaning: "This node's zkrunbook binary, instead of the file's agentPath."),
        EnsembleKey(
            block: "node", key: "dataCentre", example: "\"dc1\"",
            meaning: "Where the node is: only when every node names one does doctor ever advise dc-failover."),
        EnsembleKey(
            block: "node", key: "ssh", example: "{}", meaning: "Reach the node over ssh: the keys below. Without ssh or kubectl the node is this machine."),
        EnsembleKey(block: "node", key: "kubectl", example: "{}", meaning: "Reach the node by kubectl exec: the keys below."),
        EnsembleKey(
            block: "node", key: "install", example: "{ command: [\"apt-get\", \"install\", \"-y\", \"zookeeper=${version}*\"] }",
            meaning: "This node's own install block."),
        EnsembleKey(block: "ssh", key: "user", example: "\"zkops\"", meaning: "The remote user (default: ssh's)."),
        EnsembleKey(block: "ssh", key: "port", example: "22", meaning: "The sshd port (default: ssh's)."),
        EnsembleKey(block: "ssh", key: "identityFile", example: "\"/etc/zkrunbook/id_ed25519\"", meaning: "The private key (default: ssh's own)."),
        EnsembleKey(block: "ssh", key: "options", example: "[\"-o\", \"ConnectTimeout=5\"]", meaning: "More ssh arguments, as an argv."),
        EnsembleKey(block: "kubectl", key: "pod", example: "\"zk-0\"", meaning: "The pod (default: the node's host)."),
        EnsembleKey(block: "kubectl", key: "namespace", example: "\"kafka\"", meaning: "Its namespace (default: kubectl's)."),
        EnsembleKey(block: "kubectl", key: "context", example: "\"prod\"", meaning: "The kubectl context (default: the current one)."),
        EnsembleKey(block: "kubectl", key: "container", example: "\"zookeeper\"", meaning: "The container in the pod (default: kubectl's)."),
        EnsembleKey(block: "tls", key: "caFile", example: "\"ca.pem\"", meaning: "The CA (PEM) the servers' certificates are checked against."),
        EnsembleKey(
            block: "tls", key: "certificateFile", example: "\"client.pem\"",
            meaning: "The client certificate (PEM), for ssl.clientAuth=need (ZooKeeper's default)."),
        EnsembleKey(block: "tls", key: "keyFile", example: "\"client.key\"", meaning: "Its private key (PEM); needs certificateFile."),
        EnsembleKey(
            block: "tls", key: "keyPasswordFile", example: "\"key-password\"",
            meaning: "A file holding the key's (or the PKCS#12 file's) password: never printed, journaled or bundled."),
        EnsembleKey(block: "tls", key: "pkcs12File", example: "\"client.p12\"", meaning: "Instead of certificateFile and keyFile: a PKCS#12 file."),
        EnsembleKey(block: "tls", key: "verifyHostname", example: "true", meaning: "The certificate must name the host connected to (default true)."),
        EnsembleKey(block: "tls", key: "adminServer", example: "\"https\"", meaning: "http (the default) or https: how the AdminServer answers."),
        EnsembleKey(
            block: "sasl", key: "mechanism", example: "\"DIGEST-MD5\"",
            meaning: "DIGEST-MD5 (the default): a user and password the servers' JAAS Server section lists (DigestLoginModule, user_NAME=\"password\")."),
        EnsembleKey(
            block: "sasl", key: "username", example: "\"zkrunbook\"",
            meaning: "The user zkrunbook authenticates as (required); the servers' ACLs name it sasl:USER."),
        EnsembleKey(
            block: "sasl", key: "passwordFile", example: "\"zkrunbook.password\"",
            meaning:
                "The file holding its password (required; one trailing newline is dropped): read by the conductor when a run starts, never printed, journaled or passed to an agent."
        ),
        EnsembleKey(
            block: "install", key: "link", example: "\"/opt/zookeeper/current\"",
            meaning: "The link the server runs through, switched atomically to another release."),
        EnsembleKey(
            block: "install", key: "versions", example: "\"/opt/zookeeper-${version}\"", meaning: "Where each release is unpacked, side by side (with link)."),
        EnsembleKey(
            block: "install", key: "command", example: "[\"apt-get\", \"install\", \"-y\", \"zookeeper=${version}*\"]",
            meaning: "Instead of link and versions: a command (argv) that installs ${version}; the way back is the same command with the old release."),
    ]

    static func ensemblePage() -> String {
        var page = Roff()
        page.header("ZKRUNBOOK-ENSEMBLE", section: 5, title: "File Formats", date: date)
        page.section("NAME")
        page.text("zkrunbook-ensemble \\- the ensemble file: the servers, how each node is reached, and how its server restarts")
        page.section("SYNOPSIS")
        page.preformatted(
            """
            {
              name: "prod-zk",
              nodes: [
                { id: 1, host: "zk1.example.internal", adminPort: 8080, ssh: { user: "zkops" } },
                { id: 2, host: "zk2.example.internal", adminPort: 8080, ssh: { user: "zkops" } },
                { id: 3, host: "zk3.example.internal", adminPort: 8080, ssh: { user: "zkops" } },
              ],
              restartCommand: ["sudo", "-n", "systemctl", "restart", "zookeeper"],
              stopCommand: ["sudo", "-n", "systemctl", "stop", "zookeeper"],
            }
            """)
        page.section("DESCRIPTION")
        page.text(
            """
            Every command that works on a whole ensemble takes one (--ensemble FILE): status, the runbooks, collect,
            doctor, install. zkrunbook validate --ensemble FILE checks one offline and says how each node is reached;
            an unknown key is an error with the nearest known key suggested. The servers' own membership is read
            from them where they say it; a file that disagrees is reported, never silently trusted. One run at a
            time changes an ensemble, whichever file names it: the lease is taken on every member's node.
            """)
        for (block, title, intro) in ensembleBlocks {
            page.section(title)
            page.text(intro)
            for key in ensembleKeys where key.block == block { page.item(key.key, key.meaning + " Example: " + key.example) }
        }
        page.section("NODE FIELDS")
        page.text(
            "A per-node step of a runbook, and the restart, stop and install commands, may name these fields of the node as ${node.FIELD}: "
                + EnsembleFile.nodeFieldNames.sorted().joined(separator: ", ") + ".")
        page.section("FILES")
        page.items([
            ("/etc/zkrunbook/ensemble.json5", "Where the examples and the Ansible role put it."),
            ("/usr/share/zkrunbook/examples/ensemble.json5", "An example: three nodes reached over ssh."),
        ])
        page.section("SEE ALSO")
        page.text("zkrunbook(1), zkrunbook-runbook(5)")
        return page.text
    }
}
