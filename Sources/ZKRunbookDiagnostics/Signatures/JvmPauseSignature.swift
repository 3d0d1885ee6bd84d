/// "Detected pause in JVM or host machine (eg GC): pause of approximately 4021 ms" (3.6+, JvmPauseMonitor):
/// the whole server stood still; sessions expire and followers drop when it is longer than the tick limits.
struct JvmPauseSignature: LogSignature {
    let info = SignatureInfo(
        id: "jvm-pause", token: "Detected pause in JVM or host machine", severity: .warning, title: "The JVM or its host paused",
        nextRunbook: "collect-diagnostics", largestNumberAfter: "pause of approximately ", timeline: .jvmPause)

    /// The line is written when the pause is over: on the timeline the pause spans the time it lasted.
    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        let pause = LineBytes.number(after: "pause of approximately ", in: line).map(Int64.init)
        return [TimelineMark(kind: .jvmPause, detail: "paused about \(pause.map(String.init) ?? "?") ms", durationMs: pause)]
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let longest = tally.largest ?? 0
        return (
            longest > 10_000 ? .critical : severity,
            "\(tally.count) pause(s); the longest about \(longest) ms: look at GC (heap size, collector) and the host (steal, swap)"
        )
    }
}
