import Foundation
import ZKRunbookProcess

/// How the conductor reaches a node running in Kubernetes: `kubectl exec` into its pod.
public struct KubectlSettings: Sendable, Codable, Hashable {
    /// The pod (default: the node's host, which in a StatefulSet is the pod's name).
    public var pod: String?
    public var namespace: String?
    /// The kubeconfig context (default: kubectl's current one).
    public var context: String?
    /// The container in the pod that runs ZooKeeper and the agent (default: the pod's first).
    public var container: String?

    public init(pod: String? = nil, namespace: String? = nil, context: String? = nil, container: String? = nil) {
        (self.pod, self.namespace, self.context, self.container) = (pod, namespace, context, container)
    }
}

/// Runs commands in a node's pod through `kubectl exec -i`, argv passed as argv (no remote shell to quote for).
///
/// Only the argv and the plan's words can be tested here, where no cluster exists; kubectl's own failures
/// come back as its exit status and stderr, like any command's.
public struct KubectlCommandRunner: CommandRunner {
    public var host: String
    public var settings: KubectlSettings
    public var kubectl: String
    var local = LocalCommandRunner()

    public init(host: String, settings: KubectlSettings, kubectl: String = "kubectl") {
        (self.host, self.settings, self.kubectl) = (host, settings, kubectl)
    }

    /// The kubectl argv that runs `spec` in the pod.
    public func kubectlArgv(for spec: CommandSpec) -> [String] {
        var argv = [kubectl]
        if let context = settings.context { argv += ["--context", context] }
        if let namespace = settings.namespace { argv += ["--namespace", namespace] }
        argv += ["exec", "-i", settings.pod ?? host]
        if let container = settings.container { argv += ["--container", container] }
        argv.append("--")
        if let directory = spec.workingDirectory { argv += ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", directory] }
        if !spec.environment.isEmpty || !spec.unsetEnvironment.isEmpty {
            argv.append("env")
            for name in spec.unsetEnvironment { argv += ["-u", name] }
            for (name, value) in spec.environment.sorted(by: { $0.key < $1.key }) { argv.append("\(name)=\(value)") }
        }
        return argv + spec.argv
    }

    public func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult {
        var wrapped = CommandSpec(
            argv: kubectlArgv(for: spec), timeout: spec.timeout, terminationGrace: spec.terminationGrace, outputCap: spec.outputCap,
            standardInput: spec.standardInput)
        wrapped.holdStandardInputOpen = spec.holdStandardInputOpen
        wrapped.standardOutputFile = spec.standardOutputFile
        wrapped.onStandardOutputLine = spec.onStandardOutputLine
        var result = local.run(wrapped, cancellation: cancellation)
        if case .spawnFailed(let why) = result.termination {
            result.termination = .spawnFailed("kubectl: \(why) (install kubectl and give it access to the cluster)")
        }
        return result
    }
}
