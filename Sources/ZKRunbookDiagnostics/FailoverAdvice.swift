import Foundation
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// What to do first when an ensemble has no quorum, decided from the view alone (tested in memory).
///
/// A data-centre failover shrinks the ensemble to its survivors: it is advised only when the ensemble
/// file says which data centre every node is in, every server of exactly one data centre is down, and
/// the servers that still answer are all in the others. Anything else — two of three servers of one
/// room stopped, say — is an outage whose first step is to start the stopped servers.
public struct FailoverAdvice: Sendable, Equatable {
    public var runbook: String
    public var line: String

    public static func decide(_ view: EnsembleView) -> FailoverAdvice {
        // Stopped: no answer at all. Up but not serving (LOOKING) is what the others wait for, not a loss.
        let stopped = view.members.filter { $0.facts.mode == .unreachable || $0.facts.mode == .unknown }
        let answering = view.members.filter { $0.facts.mode != .unreachable && $0.facts.mode != .unknown }
        let waiting = answering.filter { !$0.facts.mode.isServing }
        let startFirst = FailoverAdvice(
            runbook: "restart-node",
            line: stopped.isEmpty
                ? "every server answers but " + waiting.map { "server \($0.member.id)" }.joined(separator: ", ")
                    + " do(es) not serve: read their logs (zkrunbook doctor --ensemble FILE) before any change"
                : "start the stopped servers first (" + stopped.map { "server \($0.member.id) on \($0.member.host)" }.joined(separator: ", ")
                    + "): on each, zkrunbook run restart-node --param clientPort=PORT (or its service manager); the ensemble elects again once a majority is up")
        guard !stopped.isEmpty, !view.quorum.canElect, view.scope != .partial else { return startFirst }
        let centres = view.members.map(\.member.dataCentre)
        guard centres.allSatisfy({ $0 != nil }) else { return startFirst }
        let lostCentres = Set(stopped.compactMap(\.member.dataCentre))
        guard lostCentres.count == 1, let lost = lostCentres.first else { return startFirst }
        let inLost = view.members.filter { $0.member.dataCentre == lost }
        // The whole data centre is gone, and every server that answers is elsewhere.
        guard inLost.allSatisfy({ !$0.facts.mode.isServing }), !answering.isEmpty, answering.allSatisfy({ $0.member.dataCentre != lost }) else {
            return startFirst
        }
        let survivors = view.members.filter { $0.member.dataCentre != lost }.map { String($0.member.id) }.joined(separator: ",")
        return FailoverAdvice(
            runbook: "dc-failover",
            line: "data centre \(lost) is lost (servers \(inLost.map { String($0.member.id) }.joined(separator: ","))); if it is down or fenced and cannot come back soon: "
                + "zkrunbook run dc-failover --ensemble FILE --param survivors=\(survivors)")
    }
}
