import Foundation

/// How a sandbox server logs: slf4j-simple (a time, the thread, the level), or, with
/// $ZKRUNBOOK_SANDBOX_LOG4J_PATTERN, log4j 1.2 with that layout pattern — the pattern ZooKeeper ships in its
/// conf folder (`%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n`), or a Kafka or container one —
/// so tests read logs laid out as real servers write them, `[myid:N]` included.
struct SandboxLogging {
    var log4jPattern: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        log4jPattern = environment["ZKRUNBOOK_SANDBOX_LOG4J_PATTERN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The classpath with slf4j's log4j binding in place of slf4j-simple where a pattern is asked for.
    func classpath(_ classpath: String) throws(SandboxError) -> String {
        guard log4jPattern != nil else { return classpath }
        let binding = "/usr/share/java/slf4j-log4j12.jar"
        let log4j = "/usr/share/java/log4j-1.2.jar"
        guard FileManager.default.fileExists(atPath: binding), FileManager.default.fileExists(atPath: log4j) else {
            throw SandboxError(
                "ZKRUNBOOK_SANDBOX_LOG4J_PATTERN needs \(binding) and \(log4j): apt-get install -y libslf4j-java liblog4j1.2-java")
        }
        var parts = classpath.split(separator: ":").map(String.init).filter { !$0.hasSuffix("/slf4j-simple.jar") && $0 != log4j }
        parts += [binding, log4j]
        return parts.joined(separator: ":")
    }

    /// The JVM options: log4j's configuration written into the node's folder (to stderr, which is the
    /// node's zookeeper.log).
    func jvmOptions(nodeDirectory: String) throws(SandboxError) -> [String] {
        guard let pattern = log4jPattern else { return [] }
        let path = nodeDirectory + "/log4j.properties"
        let text = """
            log4j.rootLogger=INFO, CONSOLE
            log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
            log4j.appender.CONSOLE.Target=System.err
            log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
            log4j.appender.CONSOLE.layout.ConversionPattern=\(pattern.replacingOccurrences(of: "\\", with: "\\\\"))

            """
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw SandboxError("cannot write \(path): \(error.localizedDescription)")
        }
        return ["-Dlog4j.configuration=file:\(path)"]
    }
}
