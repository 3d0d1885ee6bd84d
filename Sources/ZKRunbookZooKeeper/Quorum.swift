import Foundation

/// Whether a set of servers can elect a leader, with the reason in words.
public struct QuorumAssessment: Sendable, Codable, Hashable {
    public var voters: [Int]
    public var observers: [Int]
    /// Votes needed: more than half of the voters.
    public var majority: Int
    /// Voters that may fail while the rest still form a majority.
    public var tolerated: Int
    public var reachableVoters: [Int]
    public var unreachableVoters: [Int]
    public var unreachableObservers: [Int]
    /// Members the servers report that were not probed: neither counted up nor down.
    public var unseen: [Int] = []
    /// Voters that answer but do not serve: electing or syncing, up — not down.
    public var electingVoters: [Int] = []
    public var canElect: Bool
    public var reason: String
}

/// Majority quorum arithmetic, as ZooKeeper does it for participants (observers never vote).
public enum QuorumMath {
    /// `unreachable`: servers that are down or not serving (either way they cannot vote now).
    ///
    /// `unseen`: members not probed. They are not assumed up: `canElect` counts only voters seen serving,
    /// and the reason says how many were not seen.
    /// `alive`: those of `unreachable` that answer but do not serve (electing or syncing): said as up, and
    /// counted toward a majority that can finish an election, never toward one that serves now.
    /// `silent`: those of `unreachable` that accepted a connection and answered nothing (at a connection
    /// limit): neither down nor serving, said as such.
    public static func assess(
        voters: [Int], observers: [Int], unreachable: Set<Int>, unseen: Set<Int> = [], alive: Set<Int> = [], silent: Set<Int> = []
    ) -> QuorumAssessment {
        let voters = voters.sorted()
        let observers = observers.sorted()
        let majority = voters.count / 2 + 1
        let tolerated = max(0, voters.count - majority)
        let lost = voters.filter { unreachable.contains($0) }
        let left = voters.filter { !unreachable.contains($0) && !unseen.contains($0) }
        let notSeen = voters.filter { unseen.contains($0) }
        let lostObservers = observers.filter { unreachable.contains($0) }
        let canElect = !voters.isEmpty && left.count >= majority
        var reason =
            "\(count(voters.count, "voter")) (\(list(voters))): a majority is \(majority), so \(tolerated) may fail"
        if !notSeen.isEmpty {
            reason += "; \(notSeen.count) not probed (\(list(notSeen)))"
        }
        let electing = lost.filter { alive.contains($0) }
        let quiet = lost.filter { silent.contains($0) && !alive.contains($0) }
        let down = lost.filter { !alive.contains($0) && !silent.contains($0) }
        if lost.isEmpty {
            reason += notSeen.isEmpty ? "; all are serving" : "; the \(left.count) probed serve"
        } else {
            var parts: [String] = []
            if !down.isEmpty { parts.append("\(down.count) \(down.count == 1 ? "is" : "are") down (\(list(down)))") }
            if !quiet.isEmpty {
                parts.append("\(quiet.count) accepted the connection but answered nothing (\(list(quiet)))")
            }
            if !electing.isEmpty {
                parts.append("\(electing.count) \(electing.count == 1 ? "is" : "are") up but not serving, electing or syncing (\(list(electing)))")
            }
            reason += "; " + parts.joined(separator: " and ") + ", leaving \(left.count) serving"
            reason += left.isEmpty ? "" : " (\(list(left)))"
        }
        if voters.isEmpty {
            reason = "no voters are configured"
        } else if canElect {
            reason += ": they can elect a leader"
        } else if notSeen.isEmpty && left.count + electing.count >= majority {
            reason += ": \(left.count + electing.count) are up, a majority (\(majority) needed), so the election can finish; nothing is served until it does"
        } else {
            reason += notSeen.isEmpty ? ": too few up to elect a leader (\(majority) needed)" : ": too few seen to prove a majority (\(majority) needed)"
        }
        if !observers.isEmpty {
            reason += ". \(observers.count == 1 ? "The observer" : "Observers") (\(list(observers))) \(observers.count == 1 ? "does" : "do") not vote"
        }
        return QuorumAssessment(
            voters: voters, observers: observers, majority: majority, tolerated: tolerated, reachableVoters: left,
            unreachableVoters: lost, unreachableObservers: lostObservers, unseen: notSeen, electingVoters: electing, canElect: canElect, reason: reason + ".")
    }

    static func list(_ ids: [Int]) -> String { ids.map(String.init).joined(separator: ", ") }
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

extension QuorumMath {
    /// ZooKeeper's rule for a reconfig: a majority of the old voters and a majority of the new voters serve
    /// (learners synced with the leader). Nil when both hold; otherwise what is missing, in words.
    public static func reconfigRefusal(oldVoters: [Int], newVoters: [Int], serving: Set<Int>) -> String? {
        let list = { (ids: [Int]) in ids.sorted().map(String.init).joined(separator: ",") }
        var reasons: [String] = []
        for (label, voters) in [("old", oldVoters), ("new", newVoters)] {
            let up = voters.filter(serving.contains)
            let majority = voters.count / 2 + 1
            if voters.isEmpty {
                reasons.append("the \(label) configuration has no voter")
            } else if up.count < majority {
                reasons.append("the \(label) voters (\(list(voters))) need \(majority) serving; \(up.count) do (\(list(up)))")
            }
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}
