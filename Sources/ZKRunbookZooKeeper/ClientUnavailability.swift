/// How long clients had no leader while one node had its turn, in the servers' own words: each server adds
/// the time it spends outside broadcast (electing, then syncing) to its `unavailable_time` (mntr
/// `zk_sum_unavailable_time`, 3.7 and later). Read on every member before and after the turn; the figure is
/// the largest growth among the servers that were not restarted (a restarted one counts from its new start).
public struct UnavailabilitySample: Sendable, Equatable {
    /// Server id -> milliseconds without a leader since it started.
    public var sums: [Int: Int64]
    /// Servers that did not say (unreachable, older than 3.7, or mntr refused), with the reason.
    public var silent: [Int: String]

    public init(sums: [Int: Int64], silent: [Int: String] = [:]) { (self.sums, self.silent) = (sums, silent) }

    /// Reads the sample from probes' mntr maps, by server id.
    public init(monitors: [(id: Int, facts: ServerFacts)]) {
        (sums, silent) = ([:], [:])
        for (id, facts) in monitors {
            if let sum = facts.monitor["zk_sum_unavailable_time"].flatMap(Int64.init) {
                sums[id] = sum
            } else if facts.monitor.isEmpty {
                silent[id] = facts.error ?? facts.notes.first ?? "mntr not read"
            } else {
                silent[id] = "its mntr has no unavailable_time (3.7 and later report it)"
            }
        }
    }
}

public enum ClientUnavailability {
    public enum Figure: Sendable, Equatable {
        /// The longest time without a leader any server that stayed up saw, and which server saw it.
        case measured(milliseconds: Int64, server: Int?)
        /// Not every server that stayed up could say: the reason, naming the server.
        case unknown(String)
    }

    /// The figure for one node's turn: `restarted` is the node whose server restarted in it.
    public static func figure(before: UnavailabilitySample, after: UnavailabilitySample, restarted: Int) -> Figure {
        let stayed = Set(before.sums.keys).union(before.silent.keys).union(after.sums.keys).union(after.silent.keys).subtracting([restarted])
        var longest: (Int64, Int?) = (0, nil)
        for id in stayed.sorted() {
            guard let first = before.sums[id], let last = after.sums[id] else {
                return .unknown("server \(id): " + (after.silent[id] ?? before.silent[id] ?? "not read"))
            }
            // A server whose sum went down restarted meanwhile: its growth is not known.
            guard last >= first else { return .unknown("server \(id) restarted during node \(restarted)'s turn: its unavailable_time began again") }
            if last - first > longest.0 { longest = (last - first, id) }
        }
        return .measured(milliseconds: longest.0, server: longest.1)
    }
}
