import Foundation
import ZKRunbookEngine

/// `lease-check`: refuses unless this node may be changed by the run named in `lease` — its conductor's
/// lease on the node is held and has not expired. With `lease` empty (an operator's own run), refuses
/// while any conductor's unexpired lease holds the node.
///
/// The agent checks this on the node itself, right before it changes anything: an agent whose conductor
/// died (and so stopped renewing) stops here instead of restarting a server nobody watches.
struct LeaseCheckAction: ArgumentsDecodable {
    static let name = "lease-check"
    static let summary =
        "read-only: refuse unless the lease on the server at 'clientPort' (the machine's lease folder) is held by the run in 'lease' (empty: by no unexpired run)"

    /// The server's client port: its lease key is `NodeLeaseStore.key(clientPort:)`, the one a conductor takes.
    var clientPort: Template
    var lease: Template?
    var isReadOnly: Bool { true }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let holder = lease.map { $0.display(resolver) }.flatMap { $0.isEmpty ? nil : $0 }
        return [
            "check the node's lease '\(NodeLeaseStore.key(clientPort: clientPort.display(resolver)))': "
                + (holder.map { "held by run \($0)" } ?? "held by no other run")
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        var values = try context.resolved([clientPort] + [lease].compactMap { $0 })
        values[0] = NodeLeaseStore.key(clientPort: values[0])
        // No run named: the run this agent was started for (`run --lease RUN`), if any; else none may hold it.
        let runID = values.count > 1 && !values[1].isEmpty ? values[1] : (context.options.fence as? NodeLeaseFence)?.runID
        let store = NodeLeaseStore.standard()
        let existing = store.read(values[0])
        if let problem = LeasePolicy.check(existing: existing, runID: runID, now: Date().timeIntervalSince1970) {
            // Held by another run: "locked" (exit 4). Our own lease gone: refused before any change (exit 3).
            if existing != nil && existing?.runID != runID {
                return .failure(cause: .locked, message: problem)
            }
            var refusal = ActionOutcome.failure(cause: .refused, message: problem)
            refusal.changedSomething = false
            return refusal
        }
        return .success(runID.map { "the node's lease is held by run \($0)" } ?? "no other run holds the node")
    }
}
