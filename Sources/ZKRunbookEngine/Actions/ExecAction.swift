import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// `exec`: run a command by argv, with the step's timeout, an output cap and expected exit codes.
///
/// Parameters reach argv one element at a time, never through a shell. `shell: true` with a `script` is the
/// explicit escape hatch: the script is passed verbatim to /bin/sh and parameters reach it only as
/// environment variables (ZKRUNBOOK_PARAM_<NAME>), so a value still cannot become code. `validate` warns.
struct ExecAction: DeclaredAction {
    static let name = "exec"
    static let summary = "run a command (argv; or an explicit shell script) and check its exit status"

    enum Command: Sendable {
        case argv([Template])
        case shell(String)

        /// The parameters and node fields the argv is made of, for a message about it.
        var argvNames: [String] {
            guard case .argv(let templates) = self else { return [] }
            return templates.flatMap(\.references).map(\.description)
        }
    }

    var command: Command
    var environment: [(String, Template)]
    var workingDirectory: Template?
    var stdin: Template?
    var expectExit: [Int32]
    var isReadOnly: Bool
    var outputCap: Int

    func command(_ resolver: TemplateResolver) -> [String]? {
        switch command {
        case .argv(let argv): return argv.flatMap { $0.argvWords(resolver) ?? [$0.display(resolver)] }
        case .shell(let script): return ["/bin/sh", "-c", script]
        }
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        var lines: [String] = []
        switch command {
        case .argv(let argv): lines.append("run: " + ShellQuoting.join(argv.flatMap { $0.argvWords(resolver) ?? [$0.display(resolver)] }))
        case .shell(let script): lines.append("run shell script (parameters as ZKRUNBOOK_PARAM_* variables): " + script)
        }
        for (name, value) in environment { lines.append("env: \(name)=\(value.display(resolver))") }
        if let workingDirectory { lines.append("cwd: \(workingDirectory.display(resolver))") }
        if expectExit != [0] { lines.append("expects exit status: " + expectExit.map(String.init).joined(separator: ", ")) }
        return lines
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        var argv: [String]
        var env: [String: String] = [:]
        switch command {
        case .argv(let templates):
            argv = []
            for template in templates {
                if let words = template.argvWords(context.resolver) {
                    argv += words
                    continue
                }
                argv.append(try context.resolved(template))
            }
        case .shell(let script):
            argv = ["/bin/sh", "-c", script]
            for (name, value) in context.resolver.parameters {
                env["ZKRUNBOOK_PARAM_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value.text
            }
            env["ZKRUNBOOK_RUN_ID"] = context.resolver.runID
            env["ZKRUNBOOK_RUN_DIR"] = context.resolver.runDirectory
        }
        guard !argv.isEmpty else {
            let named = command.argvNames.isEmpty ? "" : " (" + command.argvNames.joined(separator: ", ") + ")"
            return .failure(cause: .invalidArgument, message: "no command to run: the command given\(named) is an empty list; give one")
        }
        for (name, template) in environment {
            env[name] = try context.resolved(template)
        }
        var cwd: String?
        if let workingDirectory {
            cwd = try context.resolved(workingDirectory)
        }
        var input: Data?
        if let stdin {
            input = Data(try context.resolved(stdin).utf8)
        }
        let spec = CommandSpec(
            argv: argv, environment: env, workingDirectory: cwd, timeout: context.remainingSeconds, outputCap: outputCap,
            standardInput: input)
        let result = context.runner.run(spec, cancellation: context.cancellation)
        return Self.outcome(of: result, expecting: expectExit)
    }

    /// Facts every command yields, and whether its ending counts as success.
    static func outcome(of result: CommandResult, expecting expectExit: [Int32]) -> ActionOutcome {
        var facts: [String: FactValue] = [
            "stdout": .string(result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)),
            "stderr": .string(result.stderr.text.trimmingCharacters(in: .whitespacesAndNewlines)),
            "stdoutBytes": .int(Int64(result.stdout.totalBytes)),
            "durationMs": .int(Int64(result.seconds * 1000)),
        ]
        if let status = result.exitStatus { facts["exitStatus"] = .int(Int64(status)) }
        let evidence = result.stderr.lastLines(10).isEmpty ? result.stdout.lastLines(10) : result.stderr.lastLines(10)
        switch result.termination {
        case .exited(let status) where expectExit.contains(status):
            return .success(result.termination.summary, facts: facts)
        case .exited(let status):
            let expected = expectExit.map(String.init).joined(separator: " or ")
            return .failure(
                cause: .exitStatus, message: "exited with status \(status) (expected \(expected))", facts: facts,
                evidence: evidence, exitStatus: Int(status))
        default:
            return .failure(cause: result.termination.cause ?? .exitStatus, message: result.termination.summary, facts: facts, evidence: evidence)
        }
    }
}

extension ExecAction {
    init?(_ arguments: ActionArguments) {
        let reader = arguments.reader
        let shell = reader.bool("shell") ?? false
        let argv = reader.templates("argv", nonEmpty: true)
        let script = reader.string("script")
        let environment = Self.readEnvironment(reader)
        let workingDirectory = reader.template("cwd")
        let stdin = reader.template("stdin")
        let readOnly = reader.bool("readOnly") ?? false
        let maxOutput = reader.integer("maxOutputBytes", range: 0...(256 << 20)) ?? (1 << 20)
        var expectExit: [Int32] = [0]
        if let node = reader.value("expectExit") {
            if case .array(let elements) = node.value {
                expectExit = elements.compactMap { if case .integer(let code) = $0.value, (0...255).contains(code) { return Int32(code) } else { return nil } }
                if expectExit.count != elements.count || expectExit.isEmpty {
                    arguments.diagnostics.error(node.location, "'expectExit' must be a non-empty array of exit codes 0-255")
                }
            } else {
                reader.typeError("expectExit", node, "an array of exit codes")
            }
        }
        if arguments.asProbe && !readOnly {
            arguments.diagnostics.error(
                reader.location, "a command used as a probe must be marked readOnly: true (probes run in dry runs, and must change nothing)")
        }
        let command: ExecAction.Command
        if shell {
            if argv != nil { arguments.diagnostics.error(reader.location, "give either 'argv' or 'shell: true' with 'script', not both") }
            guard let script, !script.isEmpty else {
                arguments.diagnostics.error(reader.location, "'shell: true' needs a non-empty 'script'")
                return nil
            }
            command = .shell(script)
        } else {
            if script != nil { arguments.diagnostics.error(reader.location, "'script' is only for shell: true; use 'argv' for a command") }
            guard let argv else {
                if script == nil { arguments.diagnostics.error(reader.location, "exec needs 'argv' (an array: the command and its arguments)") }
                return nil
            }
            command = .argv(argv)
        }
        self.init(
            command: command, environment: environment, workingDirectory: workingDirectory, stdin: stdin,
            expectExit: expectExit, isReadOnly: readOnly, outputCap: Int(maxOutput))
    }

    private static func readEnvironment(_ reader: ObjectReader) -> [(String, Template)] {
        guard let env = reader.object("env") else { return [] }
        var out: [(String, Template)] = []
        for member in env.object.members {
            guard let value = env.template(member.key) else { continue }
            if member.key.isEmpty || member.key.contains("=") {
                reader.diagnostics.error(member.keyLocation, "'\(member.key)' is not a valid environment variable name")
            }
            out.append((member.key, value))
        }
        env.finish()
        return out
    }
}
