import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookDiagnostics

/// doctor's first advice for an ensemble without quorum: a failover only for a lost data centre it was told of.
struct FailoverAdviceTests {
    func view(_ modes: [ServerMode], centres: [String?]) -> EnsembleView {
        let members = modes.indices.map { index in
            EnsembleMember(id: index + 1, host: "10.0.0.\(index + 1)", clientPort: 2181, role: index == 5 ? .observer : .participant, dataCentre: centres[index])
        }
        let facts = modes.enumerated().map { index, mode -> ServerFacts in
            var facts = ServerFacts(endpoint: members[index].endpoint)
            facts.mode = mode
            return facts
        }
        return EnsembleInspector().judge(members: members, facts: facts)
    }

    @Test func twoOfThreeStoppedIsAnOutageToStartNotAFailover() {
        let outage = view([.unreachable, .unreachable, .notServing], centres: [nil, nil, nil])
        #expect(outage.verdict == .noQuorum)
        let advice = FailoverAdvice.decide(outage)
        #expect(advice.runbook == "restart-node")
        #expect(advice.line.contains("start the stopped servers first (server 1 on 10.0.0.1, server 2 on 10.0.0.2)"))
        #expect(!advice.line.contains("dc-failover"))
        let report = DoctorReport.build(logs: [], view: outage, history: nil)
        #expect(!report.markdown.contains("dc-failover"), "\(report.markdown)")
        #expect(report.markdown.contains("zkrunbook run restart-node"))
    }

    @Test func oneWholeDataCentreLostWithSurvivorsElsewhereIsAFailover() {
        let centres = ["DC-1", "DC-1", "DC-1", "DC-2", "DC-2", "DC-2"]
        let lost = view([.unreachable, .unreachable, .unreachable, .notServing, .notServing, .notServing], centres: centres)
        let advice = FailoverAdvice.decide(lost)
        #expect(advice.runbook == "dc-failover")
        #expect(advice.line.contains("data centre DC-1 is lost (servers 1,2,3)"))
        #expect(advice.line.contains("--param survivors=4,5,6"))
    }

    @Test func anythingElseIsNotAFailover() {
        // Data centres not given for every node.
        let partlyTold = view([.unreachable, .unreachable, .unreachable, .notServing, .notServing, .notServing], centres: ["DC-1", "DC-1", "DC-1", "DC-2", "DC-2", nil])
        #expect(FailoverAdvice.decide(partlyTold).runbook == "restart-node")
        // Servers down in both data centres.
        let mixed = view([.unreachable, .unreachable, .notServing, .unreachable, .notServing, .notServing], centres: ["DC-1", "DC-1", "DC-1", "DC-2", "DC-2", "DC-2"])
        #expect(FailoverAdvice.decide(mixed).runbook == "restart-node")
        // Part of one data centre still answers: it is not lost.
        let notAll = view([.unreachable, .unreachable, .notServing, .notServing, .notServing, .notServing], centres: ["DC-1", "DC-1", "DC-1", "DC-2", "DC-2", "DC-2"])
        #expect(FailoverAdvice.decide(notAll).runbook == "restart-node")
    }
}
