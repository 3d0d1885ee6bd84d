import Testing
import ZKRunbookAgent
import ZKRunbookEngine

/// The conductor–agent protocol's two sides agree: every option a request writes is one its verb's agent
/// parses (the CLI parses with the same `AgentVerb` tables), with a value exactly where one is taken.
struct AgentProtocolTests {
    static let samples: [AgentRequest] = [
        .run(
            RunRequest(
                runbook: "restart-node", parameters: [.init("clientPort", "2181")], stateDir: "/s", stopsWithConductor: true, once: "R.s.node1",
                lease: NodeHold(runID: "R", key: "zookeeper-2181"))),
        .run(RunRequest(runbook: "verify")),
        .lease(
            LeaseRequest(
                .acquire, key: "zookeeper-2181", runID: "R",
                terms: .init(
                    ttlSeconds: 60, runbook: "rolling-restart", ensemble: "e", ensembleID: "abc", holderHost: "h", holderPID: 7, needs: ["restart-node"]))),
        .lease(LeaseRequest(.show, key: "zookeeper-2181", json: false)),
        .nodeConfig(clientPort: 2181, zooCfg: "/etc/zookeeper/conf/zoo.cfg", checkDirectories: ["/var/lib/zookeeper"]),
        .collect(CollectRequest(zooCfg: "/z", output: "/o", since: "24h", maxLogBytes: 1024, stateDir: "/s", logDir: "/l")),
        .reach(timeoutMilliseconds: 500, targets: ["127.0.0.1:3888"]),
        .sandbox(.stop, directory: "/d", node: "${node.id}"),
    ]

    @Test(arguments: samples) func everyOptionARequestWritesIsOneItsAgentParses(_ request: AgentRequest) throws {
        let words = request.arguments
        let verb = try #require(AgentVerb(rawValue: words[0]), "\(words)")
        var index = 1
        while index < words.count {
            let word = words[index]
            if word.hasPrefix("--") {
                let takesValue = verb.valueOptions.contains(word)
                #expect(takesValue || verb.flagOptions.contains(word), "\(verb.rawValue) does not parse \(word): \(words)")
                index += takesValue ? 2 : 1
                if takesValue { #expect(index <= words.count, "\(word) has no value: \(words)") }
            } else {
                index += 1
            }
        }
    }

    @Test func aRunThatChangesTheNodeCarriesItsLeaseAndStopsWithItsConductor() {
        let hold = NodeHold(runID: "RUN-1", key: "zookeeper-2181")
        let changing = AgentRequest.run(RunRequest(runbook: "restart-node", stopsWithConductor: true, once: "RUN-1.roll.node1", lease: hold)).argv(
            agent: "/usr/bin/zkrunbook")
        #expect(
            changing == [
                "/usr/bin/zkrunbook", "run", "restart-node", "--json", "--stop-when-stdin-closes", "--once", "RUN-1.roll.node1", "--lease", "RUN-1",
                "--lease-key", "zookeeper-2181",
            ])
        let reading = AgentRequest.run(RunRequest(runbook: "verify", once: "ignored")).argv(agent: "zkrunbook")
        #expect(reading == ["zkrunbook", "run", "verify", "--json"], "a read-only run neither holds stdin nor replays")
    }
}

extension AgentRequest: CustomTestStringConvertible {
    public var testDescription: String { arguments.prefix(2).joined(separator: " ") }
}
