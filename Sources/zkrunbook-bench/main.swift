import Foundation
import ZKRunbookEngine
import ZKRunbookProcess

/// zkrunbook-bench: whole-process timings of the zkrunbook binary beside the reference each must beat.
///
/// Usage: zkrunbook-bench [--binary PATH] [--runbooks DIR] [--rounds N]
/// Every figure is measured in this run; the references are the budgets the issues set.

struct Options {
    var binary = ".build/release/zkrunbook"
    var runbooks = "runbooks"
    var rounds = 15
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = Array(CommandLine.arguments.dropFirst())
    while !arguments.isEmpty {
        let name = arguments.removeFirst()
        guard !arguments.isEmpty else { break }
        let value = arguments.removeFirst()
        switch name {
        case "--binary": options.binary = value
        case "--runbooks": options.runbooks = value
        case "--rounds": options.rounds = Int(value) ?? options.rounds
        default:
            FileHandle.standardError.write(Data("usage: zkrunbook-bench [--binary PATH] [--runbooks DIR] [--rounds N]\n".utf8))
            exit(2)
        }
    }
    return options
}

/// A value for each required parameter without a default, so `plan` can run offline.
func exampleParameters(_ runbook: Runbook) -> [String] {
    runbook.parameters.filter { $0.required && $0.defaultValue == nil }.flatMap { spec -> [String] in
        let value: String
        switch spec.type {
        case .string: value = "example"
        case .int: value = "1"
        case .duration: value = "1s"
        case .bool: value = "true"
        case .path: value = "/nonexistent/example"
        }
        return ["--param", "\(spec.name)=\(value)"]
    }
}

let options = parseOptions()
guard FileManager.default.isExecutableFile(atPath: options.binary) else {
    print("no zkrunbook binary at \(options.binary): build it first (swift build -c release)")
    exit(2)
}
let paths = RunbookLocator(searchDirectories: [options.runbooks]).all()
var commands: [[String]] = [[options.binary, "validate", "--quiet", options.runbooks]]
for path in paths {
    guard let runbook = try? RunbookLoader().load(path: path) else {
        print("invalid runbook \(path): run zkrunbook validate")
        exit(2)
    }
    commands.append([options.binary, "plan", path, "--offline"] + exampleParameters(runbook))
}

let runner = LocalCommandRunner()
var samples: [Double] = []
for _ in 0..<options.rounds {
    let started = Date()
    for argv in commands {
        let result = runner.run(CommandSpec(argv: argv, timeout: 30), cancellation: nil)
        guard result.termination == .exited(0) else {
            print("failed: \(argv.joined(separator: " ")): \(result.termination.summary)\n\(result.stderr.text)")
            exit(1)
        }
    }
    samples.append(Date().timeIntervalSince(started))
}
samples.sort()
let median = samples[samples.count / 2]
let budget = 0.3
print("zkrunbook-bench: validate + plan (offline) of \(paths.count) shipped runbook(s), \(commands.count) processes per round, \(options.rounds) rounds")
func row(_ cells: [String]) -> String {
    cells[0].padding(toLength: 46, withPad: " ", startingAt: 0)
        + cells.dropFirst().map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
}
print(row(["measure", "median", "min", "reference"]))
print(row(["validate+plan, all runbooks, whole process"] + [median, samples[0], budget].map { String(format: "%.3fs", $0) }))
print(String(format: "verdict: %@ (%.1fx under the %.1fs budget)", (median < budget ? "PASS" : "FAIL") as NSString, budget / median, budget))
exit(median < budget ? 0 : 1)
