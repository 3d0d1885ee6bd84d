import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// How close the leader's zxid counter is to rolling over, from two samples of the same leader.
///
/// The low 32 bits of a zxid count the transactions of an epoch; when they reach 0xffffffff the leader
/// forces an election to start a new epoch (ZOOKEEPER-1277), seconds to minutes without service. Two
/// samples give the counter's rate and so the time left.
public struct ZxidWatchAssessment: Sendable, Equatable {
    public var epoch: UInt32
    public var counter: UInt32
    /// Transactions left before the rollover.
    public var remaining: UInt64
    /// Counter growth per second between the samples (0 when it did not grow or the epoch changed).
    public var ratePerSecond: Double
    /// Seconds to the rollover at that rate; nil when the counter did not grow (no rollover in sight)
    /// or the epoch changed between the samples (the counter was just reset).
    public var etaSeconds: Double?
    public var epochChanged: Bool
    /// True when the ETA is at least the threshold (or there is no ETA).
    public var etaOK: Bool

    /// Assesses two samples of the leader's zxid taken `seconds` apart against `warnBelow` seconds.
    public static func assess(first: Zxid, second: Zxid, seconds: Double, warnBelow: Double) -> ZxidWatchAssessment {
        let remaining = UInt64(UInt32.max) - UInt64(second.counter)
        let epochChanged = first.epoch != second.epoch
        var rate = 0.0
        var eta: Double?
        if !epochChanged, seconds > 0, second.counter > first.counter {
            rate = Double(second.counter - first.counter) / seconds
            eta = Double(remaining) / rate
        }
        return ZxidWatchAssessment(
            epoch: second.epoch, counter: second.counter, remaining: remaining, ratePerSecond: rate, etaSeconds: eta,
            epochChanged: epochChanged, etaOK: eta.map { $0 >= warnBelow } ?? true)
    }

    /// Facts for runbook conditions: `etaOK`, `etaSeconds` (-1 when there is no rollover in sight) and the rest.
    public var facts: [String: FactValue] {
        [
            "epoch": .int(Int64(epoch)), "counter": .int(Int64(counter)), "remaining": .int(Int64(remaining)),
            "ratePerSecond": .double((ratePerSecond * 1000).rounded() / 1000), "etaSeconds": .int(etaSeconds.map { Int64($0.rounded()) } ?? -1),
            "eta": .string(etaSeconds.map(Self.describe) ?? "none"), "epochChanged": .bool(epochChanged), "etaOK": .bool(etaOK),
        ]
    }

    /// "3.4 days", "5.2 hours" (as doctor says them), and under an hour "12 minutes".
    public static func describe(_ seconds: Double) -> String {
        if seconds >= 3600 { return RolloverEstimate.describe(seconds) }
        let minutes = Int((seconds / 60).rounded(.up))
        return minutes == 1 ? "1 minute" : "\(minutes) minutes"
    }

    /// What an operator can do before the forced election, said where the threshold is crossed.
    public static let options =
        "options: restart the leader in a planned quiet window (the new leader starts a new epoch, so the counter resets: one short election on your schedule instead of a forced one at peak), or reduce the write volume (session churn, ephemeral and sequential nodes, and large multi-ops all count)"
}

/// `zk-zxid-watch`: samples the leader's zxid twice, `interval` apart, and says when its counter rolls over.
struct ZxidWatchAction: ArgumentsDecodable {
    static let name = "zk-zxid-watch"
    static let summary = "read-only: sample the leader's zxid twice, an interval apart; counter rate, time to rollover, etaOK against a threshold"

    var ensemble: Template
    var interval: DurationSpec
    var warnBelow: DurationSpec
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] {
        ["interval": DurationSpec.literal(RunbookDuration(milliseconds: 60_000)), "warnBelow": DurationSpec.literal(RunbookDuration(milliseconds: 14 * 86_400_000))]
    }

    /// A dry run still takes both samples, at most this far apart, so a plan shows real numbers quickly.
    static let dryRunInterval = 2.0

    func describe(_ resolver: TemplateResolver) -> [String] {
        let every = interval.resolve(resolver.parameters)?.description ?? interval.description
        let limit = warnBelow.resolve(resolver.parameters)?.description ?? warnBelow.description
        return ["sample the leader's zxid among \(ensemble.display(resolver)) twice, \(every) apart; warn when the counter rolls over within \(limit)"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let parameters = context.resolver.parameters
        guard let every = interval.resolve(parameters)?.seconds, let threshold = warnBelow.resolve(parameters)?.seconds else {
            return .failure(cause: .unresolvedReference, message: "interval or warnBelow has no value")
        }
        let members: [EnsembleMember]
        members = try ZooKeeperActions.members(fromSource: context.resolved(ensemble)).get()
        let seconds = timeout?.resolve(parameters)?.seconds ?? 2
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: seconds, readTimeout: seconds), wantMonitor: false, wantRuok: false)
        let view = EnsembleInspector(probe: probe).inspect(members)
        guard let leaderID = view.leaderID, let leader = view.members.first(where: { $0.member.id == leaderID }), let first = leader.facts.zxid else {
            return .failure(cause: .noLeader, message: "no leader to sample: \(view.verdict.rawValue); \(view.reasons.joined(separator: "; "))")
        }
        let wait = context.isDryRun ? min(every, Self.dryRunInterval) : every
        if wait > context.remainingSeconds {
            return .failure(cause: .timeout, message: "the interval \(RunbookDuration(seconds: wait)) is longer than the step's timeout")
        }
        let started = Date()
        guard context.cancellation.sleep(seconds: wait) else {
            return .failure(cause: .interrupted, message: context.cancellation.reason ?? "interrupted")
        }
        let again = probe.probe(leader.member.endpoint, adminPort: leader.member.adminPort)
        guard let second = again.zxid else {
            return .failure(cause: .unreachable, message: "the leader \(leader.member.endpoint) did not answer the second sample: \(again.error ?? again.mode.rawValue)")
        }
        let elapsed = Date().timeIntervalSince(started)
        let assessment = ZxidWatchAssessment.assess(first: first, second: second, seconds: elapsed, warnBelow: threshold)
        var facts = assessment.facts
        facts["leader"] = .int(Int64(leaderID))
        facts["leaderEndpoint"] = .string(leader.member.endpoint.description)
        facts["firstZxid"] = .string(first.description)
        facts["secondZxid"] = .string(second.description)
        facts["intervalSeconds"] = .double((elapsed * 1000).rounded() / 1000)
        facts["warnBelowSeconds"] = .int(Int64(threshold))
        var message = "leader \(leaderID) (\(leader.member.endpoint)): zxid \(first) -> \(second) in \(String(format: "%.1f", elapsed)) s"
        if context.isDryRun && wait < every { message += " (dry run: \(RunbookDuration(seconds: wait)) apart instead of \(RunbookDuration(seconds: every)))" }
        if assessment.epochChanged {
            message += "; a new epoch began between the samples (an election): the counter was reset"
        } else if let eta = assessment.etaSeconds {
            message += String(format: "; %.2f transactions/s, %llu left: ", assessment.ratePerSecond, assessment.remaining)
            message += "the counter rolls over in \(ZxidWatchAssessment.describe(eta)), forcing a leader election"
            if !assessment.etaOK {
                message += " — within the \(ZxidWatchAssessment.describe(threshold)) threshold; " + ZxidWatchAssessment.options
            }
        } else {
            message += "; the counter did not grow: no rollover in sight (\(assessment.remaining) transactions left)"
        }
        return .success(message, facts: facts)
    }
}
