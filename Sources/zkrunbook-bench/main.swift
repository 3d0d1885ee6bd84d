import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookCLI

/// zkrunbook-bench: whole-process timings of the zkrunbook binary beside the reference each must beat,
/// every figure measured in this run.
///
/// Usage: zkrunbook-bench [--binary PATH] [--runbooks DIR] [--rounds N] [engine|status|rolling]...

struct Options {
    var binary = ".build/release/zkrunbook"
    var runbooks = "runbooks"
    var rounds = 15
    var benchmarks: [String] = []
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = Array(CommandLine.arguments.dropFirst())
    while !arguments.isEmpty {
        let name = arguments.removeFirst()
        if !name.hasPrefix("--") {
            options.benchmarks.append(name)
            continue
        }
        guard !arguments.isEmpty else { usage() }
        let value = arguments.removeFirst()
        switch name {
        case "--binary": options.binary = value
        case "--runbooks": options.runbooks = value
        case "--rounds": options.rounds = Int(value) ?? options.rounds
        default: usage()
        }
    }
    if options.benchmarks.isEmpty { options.benchmarks = ["engine", "status", "rolling"] }
    return options
}

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: zkrunbook-bench [--binary PATH] [--runbooks DIR] [--rounds N] [engine|status|rolling]...\n".utf8))
    exit(2)
}

let runner = LocalCommandRunner()

/// Runs `commands` in order, `rounds` times; returns each round's wall time, sorted.
func measure(rounds: Int, _ commands: [[String]], expectExit: Int32 = 0) -> [Double] {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let started = Date()
        for argv in commands {
            let result = runner.run(CommandSpec(argv: argv, timeout: 60), cancellation: nil)
            guard result.termination == .exited(expectExit) else {
                print("failed: \(argv.joined(separator: " ")): \(result.termination.summary)\n\(result.stdout.text)\(result.stderr.text)")
                exit(1)
            }
        }
        samples.append(Date().timeIntervalSince(started))
    }
    return samples.sorted()
}

func row(_ cells: [String]) -> String {
    cells[0].padding(toLength: 56, withPad: " ", startingAt: 0)
        + cells.dropFirst().map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
}

func seconds(_ value: Double) -> String { String(format: "%.3fs", value) }

/// A value for each required parameter without a default, so `plan` can run offline.
func exampleParameters(_ runbook: Runbook) -> [String] {
    runbook.parameters.filter { $0.required && $0.defaultValue == nil }.flatMap { spec -> [String] in
        let value: String
        switch spec.type {
        case .string: value = "example"
        case .int: value = "1"
        case .duration: value = "1s"
        case .bool: value = "true"
        case .path: value = spec.name == "ensemble" ? "packaging/examples/ensemble.json5" : "/nonexistent/example"
        case .argv: value = "[\"true\"]"
        }
        return ["--param", "\(spec.name)=\(value)"]
    }
}

/// Issue 2: validate + plan of every shipped runbook, whole process, well under 0.3 s.
func engineBenchmark(_ options: Options) -> Bool {
    let paths = RunbookLocator(searchDirectories: [options.runbooks]).all()
    var commands: [[String]] = [[options.binary, "validate", "--quiet", options.runbooks]]
    for path in paths {
        guard let runbook = try? RunbookLoader(registry: CLI.registry).load(path: path) else {
            print("engine: \(path) does not load: run zkrunbook validate \(path)")
            return false
        }
        commands.append([options.binary, "plan", path, "--offline"] + exampleParameters(runbook))
    }
    let samples = measure(rounds: options.rounds, commands)
    let median = samples[samples.count / 2]
    let budget = 0.3
    print("engine: validate + plan (offline) of \(paths.count) shipped runbook(s), \(commands.count) processes per round, \(options.rounds) rounds")
    print(row(["measure", "median", "min", "reference"]))
    print(row(["zkrunbook validate+plan, all runbooks", seconds(median), seconds(samples[0]), seconds(budget)]))
    let pass = median < budget
    print(String(format: "verdict: %@ (%.1fx under the %.1fs budget)\n", pass ? "PASS" : "FAIL", budget / median, budget))
    return pass
}

/// A 3-node sandbox on the first free base port from `firstBase`; nil (with the reason printed) when none starts.
func startSandbox(_ options: Options, directory: String, firstBase: Int, label: String) -> Int? {
    for attempt in 0..<10 {
        let base = firstBase + (Int(getpid()) % 40 + attempt) * 400
        let up = runner.run(
            CommandSpec(argv: [options.binary, "sandbox", "up", "--nodes", "3", "--dir", directory, "--base-port", String(base)], timeout: 120),
            cancellation: nil)
        if up.termination == .exited(0) { return base }
        if !up.stderr.text.contains("is in use") {
            print("\(label): the sandbox did not start: \(up.stderr.text)")
            return nil
        }
    }
    print("\(label): no free base port for the sandbox")
    return nil
}

/// Issue 3: `zkrunbook status` of a 3-node ensemble beside `zkServer.sh status` run on each node: 15x.
func statusBenchmark(_ options: Options) -> Bool {
    let zkServer = "/usr/share/zookeeper/bin/zkServer.sh"
    guard FileManager.default.isExecutableFile(atPath: zkServer) else {
        print("status: \(zkServer) is missing: apt-get install -y zookeeper")
        return false
    }
    let directory = NSTemporaryDirectory() + "zkrunbook-bench-\(getpid())"
    guard let base = startSandbox(options, directory: directory, firstBase: 30_000, label: "status") else { return false }
    defer {
        _ = runner.run(CommandSpec(argv: [options.binary, "sandbox", "down", "--dir", directory], timeout: 60), cancellation: nil)
        try? FileManager.default.removeItem(atPath: directory)
    }
    let ourCommand = [[options.binary, "status", "--ensemble", directory + "/ensemble.json5"]]
    let theirCommands = (1...3).map { [zkServer, "status", "\(directory)/node\($0)/zoo.cfg"] }
    // Warm-up, unmeasured and the same for both: the servers' JITs have just started.
    _ = measure(rounds: 5, ourCommand)
    _ = measure(rounds: 2, theirCommands)
    let ours = measure(rounds: options.rounds, ourCommand)
    let theirs = measure(rounds: options.rounds, theirCommands)
    let ourMedian = ours[ours.count / 2]
    let theirMedian = theirs[theirs.count / 2]
    let speedup = theirMedian / ourMedian
    print("status: a 3-node sandbox ensemble (base port \(base)), \(options.rounds) rounds, whole processes")
    print(row(["measure", "median", "min", "speedup"]))
    print(row(["zkrunbook status (3 nodes: srvr each, mntr on leader)", seconds(ourMedian), seconds(ours[0]), String(format: "%.1fx", speedup)]))
    print(row(["zkServer.sh status, once per node (reference)", seconds(theirMedian), seconds(theirs[0]), "1.0x"]))
    let pass = speedup >= 15
    print("verdict: \(pass ? "PASS" : "FAIL") (at least 15x faster required)\n")
    return pass
}

/// The floor for a rolling restart: the tightest shell loop — restart, poll srvr every 20 ms until the node
/// serves, leader last (found once), no guards and no gates.
let shellLoop = #"""
    set -u
    zkrunbook=$1; dir=$2; base=$3; nodes=$4
    srvr() { exec 3<>/dev/tcp/127.0.0.1/$1 2>/dev/null || return 1; printf srvr >&3; cat <&3; exec 3<&-; }
    leader=0
    for n in $(seq 1 "$nodes"); do srvr $((base + n)) | grep -q "Mode: leader" && leader=$n; done
    order=""
    for n in $(seq 1 "$nodes"); do [ "$n" != "$leader" ] && order="$order $n"; done
    order="$order $leader"
    for n in $order; do
      "$zkrunbook" sandbox restart --dir "$dir" --node "$n" >/dev/null || exit 1
      until srvr $((base + n)) | grep -qE "Mode: (leader|follower|observer)"; do sleep 0.02; done
    done
    """#

/// Issue 4: a rolling restart with every guard and gate, within 1.15x the shell-loop floor, in one run.
func rollingBenchmark(_ options: Options) -> Bool {
    let directory = NSTemporaryDirectory() + "zkrunbook-bench-rolling-\(getpid())"
    guard let base = startSandbox(options, directory: directory, firstBase: 31_000, label: "rolling") else { return false }
    defer {
        _ = runner.run(CommandSpec(argv: [options.binary, "sandbox", "down", "--dir", directory], timeout: 60), cancellation: nil)
        try? FileManager.default.removeItem(atPath: directory)
    }
    let floor = [["/bin/bash", "-c", shellLoop, "floor", options.binary, directory, String(base), "3"]]
    let ours = [[
        options.binary, "run", "rolling-restart", "--ensemble", directory + "/ensemble.json5", "--state-dir", directory + "/state",
        "--param", "soak=0s",
    ]]
    /// Until every member serves again (the floor's loop ends before followers re-sync with a new leader).
    func settle() {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let status = runner.run(CommandSpec(argv: [options.binary, "sandbox", "status", "--dir", directory], timeout: 30), cancellation: nil)
            if status.termination == .exited(0) { return }
            usleep(50_000)
        }
    }
    var floorSamples: [Double] = []
    var ourSamples: [Double] = []
    let rounds = max(5, options.rounds / 3)
    for _ in 0..<rounds {
        // Each measured restart begins from a settled, healthy ensemble.
        settle()
        floorSamples += measure(rounds: 1, floor)
        settle()
        ourSamples += measure(rounds: 1, ours)
    }
    floorSamples.sort()
    ourSamples.sort()
    let floorMedian = floorSamples[floorSamples.count / 2]
    let ourMedian = ourSamples[ourSamples.count / 2]
    let ratio = ourMedian / floorMedian
    print("rolling: a 3-node sandbox ensemble (base port \(base)), \(rounds) rounds each, alternating, whole processes")
    print(row(["measure", "median", "min", "vs floor"]))
    print(row(["zkrunbook rolling-restart (every guard and gate)", seconds(ourMedian), seconds(ourSamples[0]), String(format: "%.2fx", ratio)]))
    print(row(["shell loop: restart, poll srvr 20 ms (floor)", seconds(floorMedian), seconds(floorSamples[0]), "1.00x"]))
    let pass = ratio <= 1.15
    print("verdict: \(pass ? "PASS" : "FAIL") (within 1.15x of the floor required)\n")
    return pass
}

let options = parseOptions()
guard FileManager.default.isExecutableFile(atPath: options.binary) else {
    print("no zkrunbook binary at \(options.binary): build it first (swift build -c release)")
    exit(2)
}
var allPassed = true
for name in options.benchmarks {
    switch name {
    case "engine": allPassed = engineBenchmark(options) && allPassed
    case "status": allPassed = statusBenchmark(options) && allPassed
    case "rolling": allPassed = rollingBenchmark(options) && allPassed
    default: usage()
    }
}
exit(allPassed ? 0 : 1)
