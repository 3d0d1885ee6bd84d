import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// The ensemble's health in one word.
public enum EnsembleVerdict: String, Sendable, Codable, CaseIterable {
    case healthy
    case degraded = "degraded-but-quorate"
    case noQuorum = "no-quorum"
    /// No server leads yet, but a majority of the voters is up (answering, not serving): an election (or a
    /// sync with a new leader) is under way and can finish. Not "no quorum": too few up to elect is that.
    case electing
    case split
    /// A partial view in which nothing serves: what it saw cannot tell whether the ensemble has a quorum.
    case unknown
}

/// What every member said, who leads, how far behind each one is, and the verdict with its reasons.
public struct EnsembleView: Sendable, Codable {
    public struct MemberStatus: Sendable, Codable {
        public var member: EnsembleMember
        public var facts: ServerFacts
        /// Transactions behind the leader (nil for the leader itself or when unknown).
        public var lag: UInt64?
    }

    public var members: [MemberStatus]
    public var leaderID: Int?
    public var leaderZxid: Zxid?
    public var verdict: EnsembleVerdict
    public var reasons: [String]
    /// Facts that could not be learned, which do not change the verdict.
    public var notes: [String]
    public var quorum: QuorumAssessment
    public var probeMs: Int
    /// Who the members are as the servers report them, what differs from the list given, and so how
    /// much of the ensemble this view covers.
    public var membership: MembershipReport
    public var scope: ViewScope { membership.scope }
    /// Why the rolling gates could not be judged on some member (ruok, mntr or conf refused with no
    /// AdminServer to ask); empty when every gate can be evaluated. Filled by a thorough inspection only.
    public var gateProblems: [String] = []

}
