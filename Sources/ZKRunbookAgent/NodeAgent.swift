import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper

/// The conductor's side of one node's agent: sends `AgentRequest`s over the node's runner and reads the
/// typed replies back. Every library file that asks an agent for something asks through this.
public struct NodeAgent: Sendable {
    /// Runs commands on the node (its transport, or a test double).
    public var runner: any CommandRunner
    /// The zkrunbook binary on the node.
    public var path: String
    /// How messages name the node: "node 2 (zk2, over ssh to zk2)".
    public var location: String
    /// Set for every request (ZKRUNBOOK_RUNBOOK_PATH where the ensemble names one).
    public var environment: [String: String]

    public init(runner: any CommandRunner, path: String, location: String, environment: [String: String] = [:]) {
        (self.runner, self.path, self.location, self.environment) = (runner, path, location, environment)
    }

    /// The command spec for `request`, for callers that set more (streaming, held stdin, an output file).
    public func spec(_ request: AgentRequest, timeout: Double, outputCap: Int = 1 << 20) -> CommandSpec {
        CommandSpec(argv: request.argv(agent: path), environment: environment, timeout: timeout, outputCap: outputCap)
    }

    public func send(_ request: AgentRequest, timeout: Double, outputCap: Int = 1 << 20, cancellation: CancellationToken? = nil) -> CommandResult {
        runner.run(spec(request, timeout: timeout, outputCap: outputCap), cancellation: cancellation)
    }

    /// The node's configuration snapshot.
    public func nodeConfig(
        clientPort: Int, zooCfg: String? = nil, checkDirectories: [String] = [], timeout: Double = 20, cancellation: CancellationToken? = nil
    ) -> Result<NodeConfigSnapshot, AgentFailure> {
        let request = AgentRequest.nodeConfig(clientPort: clientPort, zooCfg: zooCfg, checkDirectories: checkDirectories)
        let result = send(request, timeout: timeout, outputCap: 4 << 20, cancellation: cancellation)
        return decode(NodeConfigSnapshot.self, request, result, newIn: "node-config")
    }

    /// Which of `targets` answer a connection from the node.
    public func reach(_ targets: [String], timeout seconds: Double, cancellation: CancellationToken? = nil) -> Result<ReachReport, AgentFailure> {
        let request = AgentRequest.reach(timeoutMilliseconds: Int(seconds * 1000), targets: targets)
        let result = send(request, timeout: seconds + 20, cancellation: cancellation)
        return decode(ReachReport.self, request, result, newIn: "reach")
    }

    /// A lease request and the agent's reply (nil when it wrote none: unreachable, not installed, older).
    public func lease(_ request: LeaseRequest, cancellation: CancellationToken? = nil) -> (result: CommandResult, reply: LeaseReply?) {
        let result = send(.lease(request), timeout: 30, outputCap: 1 << 16, cancellation: cancellation)
        return (result, request.json ? LeaseReply.read(result.stdout.text) : nil)
    }

    func decode<Reply: Decodable>(_ type: Reply.Type, _ request: AgentRequest, _ result: CommandResult, newIn verb: String) -> Result<Reply, AgentFailure> {
        guard result.termination == .exited(0) else { return .failure(AgentFailure(request: request, result: result, agent: path, location: location)) }
        do {
            return .success(try JSONDecoder().decode(Reply.self, from: Data(result.stdout.text.utf8)))
        } catch {
            return .failure(
                AgentFailure(
                    kind: .unreadableReply, location: location,
                    message: "\(location): the agent's reply to '\(verb)' cannot be read (an older agent? zkrunbook install): \(error)"))
        }
    }
}

/// Why an agent could not answer: what, where, what to do.
public struct AgentFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No agent at its path on the node.
        case notInstalled
        /// The agent predates the request (an unknown command or option).
        case older
        /// The node could not be reached (ssh, kubectl).
        case unreachable(FailureCause)
        /// The agent ran and failed.
        case failed
        /// It answered something that is not the reply asked for.
        case unreadableReply
    }

    public var kind: Kind
    public var location: String
    public var message: String
    public var description: String { message }

    public init(kind: Kind, location: String, message: String) { (self.kind, self.location, self.message) = (kind, location, message) }

    /// Reads a failed request's result.
    public init(request: AgentRequest, result: CommandResult, agent: String, location: String) {
        let said = result.stderr.lastLines(3).joined(separator: " ")
        let stderr = result.stderr.text
        switch result.termination {
        case .commandNotFound:
            self.init(kind: .notInstalled, location: location, message: "\(location): the agent \(agent) is not installed there (zkrunbook install)")
        case .transportFailed(let cause, let message):
            self.init(kind: .unreachable(cause), location: location, message: "\(location) cannot be reached: \(message)")
        default:
            if stderr.contains("unknown command") || stderr.contains("unknown option") {
                self.init(
                    kind: .older, location: location,
                    message: "\(location): the agent \(agent) is older than this conductor (\(said)): zkrunbook install")
            } else {
                self.init(
                    kind: .failed, location: location,
                    message: "\(location): \(ShellQuoting.join(request.argv(agent: agent))) \(result.termination.summary)" + (said.isEmpty ? "" : ": " + said))
            }
        }
    }
}

extension EnsembleNode {
    /// This member's agent, reached through `connector` (default: the member's transport).
    public func nodeAgent(environment: [String: String] = [:], connector: any NodeConnector = TransportNodeConnector()) -> NodeAgent {
        NodeAgent(
            runner: connector.runner(for: self), path: agent, location: "node \(member.id) (\(member.host), \(access.describe(host: member.host)))",
            environment: environment)
    }
}
