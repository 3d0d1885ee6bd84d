import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-certificates`: read-only: the certificate each server of an ensemble shows over a TLS handshake (its
/// serial and expiry), as `serials` (`ID:SERIAL,…`, by id). Given `before` (an earlier `serials`), `renewed` says
/// whether every server asked (all, or `server`, a node id) now shows another certificate than it did then:
/// what rotate-certs waits for after each restart, and checks of every server at the end. An ensemble not
/// reached over TLS has no certificate to read: a failure, never "renewed".
struct ZKCertificatesAction: ArgumentsDecodable {
    static let name = "zk-certificates"
    static let summary = "read-only: each server's certificate over a TLS handshake (serial, days left); with before, whether it was renewed"

    var ensemble: Template
    var server: Template?
    var before: Template?
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? { FactNames(["serials", "renewed", "unchanged", "daysLeft"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let who = server.map { "server \($0.display(resolver)) of " } ?? "every server of "
        let base = "read the certificate \(who)\(ensemble.display(resolver)) shows over a TLS handshake"
        return [before.map { base + "; renewed when its serial is no longer the one in \($0.display(resolver))" } ?? base]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([ensemble, server ?? .literal(""), before ?? .literal("")])
        var members: [EnsembleMember]
        switch ZooKeeperActions.members(fromSource: values[0]) {
        case .failure(let outcome): return outcome
        case .success(let found): members = found
        }
        if !values[1].isEmpty {
            guard let id = Int(values[1]), let one = members.first(where: { $0.id == id }) else {
                return .failure(cause: .invalidArgument, message: "server '\(values[1])' is not a node id of \(values[0])")
            }
            members = [one]
        }
        let connector = context.options.services.serverConnector
        let plaintext = members.filter { !connector.usesTLS(for: $0.endpoint) }
        guard plaintext.isEmpty else {
            // Refused, not failed: nothing was changed, and there is no certificate to read or rotate.
            var refusal = ActionOutcome.failure(
                cause: .refused,
                message:
                    "refused: server(s) \(plaintext.map { String($0.id) }.joined(separator: ", ")) are not reached over TLS, so they show no certificate: give the ensemble file a tls block and each node its secureClientPort"
            )
            refusal.changedSomething = false
            return refusal
        }
        let seconds = timeout?.resolve(context.resolver.parameters)?.seconds ?? 3
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: seconds, readTimeout: seconds), wantMonitor: false, wantRuok: false, connector: connector)
        let facts = probe.probeAll(members.map { ($0.endpoint, nil) })
        var serials: [Int: String] = [:]
        var daysLeft: Int?
        var missing: [String] = []
        for (member, fact) in zip(members, facts) {
            if let serial = fact.certificate?.serial {
                serials[member.id] = serial
                if let days = fact.certificate?.daysLeft() { daysLeft = min(daysLeft ?? days, days) }
            } else {
                missing.append("server \(member.id) (\(member.endpoint)): \(fact.error ?? "no certificate read")")
            }
        }
        let text = serials.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        var out: [String: FactValue] = ["serials": .string(text)]
        if let daysLeft { out["daysLeft"] = .int(Int64(daysLeft)) }
        guard missing.isEmpty else {
            return .failure(cause: .certificateUnread, message: "no certificate read from " + missing.joined(separator: "; "), facts: out)
        }
        guard !values[2].isEmpty else { return .success("certificates: \(text)", facts: out) }
        let earlier = Dictionary(
            values[2].split(separator: ",").compactMap { pair -> (Int, String)? in
                let parts = pair.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? Int(parts[0]).map { ($0, String(parts[1])) } : nil
            }, uniquingKeysWith: { first, _ in first })
        let unchanged = serials.keys.sorted().filter { earlier[$0] == serials[$0] }
        out["unchanged"] = .string(unchanged.map(String.init).joined(separator: ","))
        out["renewed"] = .bool(unchanged.isEmpty)
        return .success(
            unchanged.isEmpty
                ? "renewed: \(text) (before: \(values[2]))"
                : "still the certificate of before on server(s) \(unchanged.map(String.init).joined(separator: ", ")): \(text)", facts: out)
    }
}
