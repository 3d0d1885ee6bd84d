import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookDiagnostics

#if canImport(Glibc)
import Glibc
#endif

/// Unpacks a .tar.gz with the system tar and returns every file's bytes by relative path.
func unpack(_ archive: String) throws -> [String: Data] {
    let scratch = Scratch("unpack")
    let folder = scratch.path
    let tar = Process()
    tar.executableURL = URL(fileURLWithPath: "/bin/tar")
    tar.arguments = ["xzf", archive, "-C", folder]
    try tar.run()
    tar.waitUntilExit()
    guard tar.terminationStatus == 0 else { throw BundleError("tar could not read \(archive)") }
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: folder)
    while let relative = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
            files[relative] = FileManager.default.contents(atPath: folder + "/" + relative)
        }
    }
    return files
}

/// Runs every command through the real runner, except `java`, which hangs: what a wedged JVM looks like.
struct HangingJavaRunner: CommandRunner {
    func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult {
        var spec = spec
        if spec.argv.first == "java" { spec.argv = ["sleep", "300"] }
        return LocalCommandRunner().run(spec, cancellation: cancellation)
    }
}

struct RedactionTests {
    @Test func propertiesEnvironmentJAASAndCommandLines() {
        let report = RedactionReport()
        let properties = ConfigRedactor.redactProperties(
            "clientPort=2181\nssl.keyStore.password=abc123\nssl.quorum.trustStore.location=/etc/q.jks\n# password=commented\n4lw.commands.whitelist=*\n",
            source: "zoo.cfg", report: report)
        #expect(properties == "clientPort=2181\nssl.keyStore.password=******\nssl.quorum.trustStore.location=**********\n# password=commented\n4lw.commands.whitelist=*\n")
        let environment = ConfigRedactor.redactEnvironment(
            "export SERVER_JVMFLAGS=\"-Xmx1g -Dzookeeper.ssl.keyStore.password=pw999 -Dother=1\"\nAPI_TOKEN=tok777\nPATH=/bin\n",
            source: "java.env", report: report)
        #expect(environment == "export SERVER_JVMFLAGS=\"-Xmx1g -Dzookeeper.ssl.keyStore.password=***** -Dother=1\"\nAPI_TOKEN=******\nPATH=/bin\n")
        let jaas = ConfigRedactor.redactJAAS(
            "Server { org.apache.zookeeper.server.auth.DigestLoginModule required\n user_super=\"adminsecret\"\n username=\"bob\"\n password=\"bobsecret\"; };",
            source: "jaas.conf", report: report)
        #expect(!jaas.contains("adminsecret") && !jaas.contains("bobsecret") && jaas.contains("username=\"bob\""))
        #expect(report.secrets.isSuperset(of: ["abc123", "pw999", "tok777", "adminsecret", "bobsecret"]))
        #expect(!report.markdown.contains("abc123"))
        #expect(report.markdown.contains("value of ssl.keyStore.password"))
    }

    @Test func theScrubberMasksSecretsThatStraddleChunks() {
        let scrubber = SecretScrubber(secrets: ["hunter2", "hunter22"])
        var bytes = Array("a hunter22 b hunter2".utf8)
        scrubber.scrub(&bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "a ******** b *******")
    }
}

@Suite(.serialized)
struct BundleTests {
    static let secrets = [
        "S3cretKeyStorePw", "QuorumTrust42x", "SuperDigestHashValue", "JvmFlagSecret9", "EnvTokenValue77", "JaasPassword55",
        "JaasUserAdmin66", "KEYSTORE-BYTES-SECRET", "PasswordFileContent88",
    ]

    /// A node's conf folder with a secret in every place the issue names, and a log that repeats two.
    func plantedNode(_ folder: Scratch, clientPort: Int = 1) -> (zooCfg: String, logs: String) {
        let passwordFile = folder.write("conf/truststore.password", "PasswordFileContent88\n")
        folder.write("conf/server.jks", "KEYSTORE-BYTES-SECRET")
        let zooCfg = folder.write(
            "conf/zoo.cfg",
            """
            tickTime=2000
            dataDir=\(folder.path)/data
            clientPort=\(clientPort)
            clientPortAddress=127.0.0.1
            admin.enableServer=false
            ssl.keyStore.location=\(folder.path)/conf/server.jks
            ssl.keyStore.password=S3cretKeyStorePw
            ssl.trustStore.passwordPath=\(passwordFile)
            ssl.quorum.trustStore.password=QuorumTrust42x
            zookeeper.DigestAuthenticationProvider.superDigest=super:SuperDigestHashValue

            """)
        folder.write("conf/java.env", "export SERVER_JVMFLAGS=\"-Xmx512m -Dzookeeper.ssl.keyStore.password=JvmFlagSecret9\"\nexport ZK_API_TOKEN=EnvTokenValue77\n")
        folder.write(
            "conf/jaas.conf",
            "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_admin=\"JaasUserAdmin66\"\n  password=\"JaasPassword55\";\n};\n")
        folder.write("conf/log4j.properties", "zookeeper.root.logger=INFO, CONSOLE\n")
        folder.write("data/myid", "1\n")
        folder.write(
            "logs/zookeeper.log",
            "2026-11-24 10:00:00,000 [main] INFO  QuorumPeerConfig - loading keystore with S3cretKeyStorePw\n2026-11-24 10:00:01,000 [main] WARN  SaslServer - user admin password JaasPassword55 rejected\n"
        )
        return (zooCfg, folder.path + "/logs")
    }

    @Test func noPlantedSecretReachesTheBundle() throws {
        let folder = Scratch("secrets")
        let node = plantedNode(folder)
        let options = BundleOptions(
            zooCfg: node.zooCfg, logDirectories: [node.logs], since: RunbookDuration(milliseconds: 3_600_000), outputDirectory: folder.path + "/out",
            commandTimeout: 2)
        let result = try BundleCollector(options: options).collect()
        var info = stat()
        stat(result.archivePath, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        let files = try unpack(result.archivePath)
        #expect(files.keys.contains { $0.hasSuffix("/manifest.json") })
        #expect(files.keys.contains { $0.hasSuffix("/REDACTION.md") })
        #expect(files.keys.contains { $0.hasSuffix("/config/zoo.cfg") })
        #expect(files.keys.contains { $0.hasSuffix("/logs/zookeeper.log") })
        #expect(files.keys.contains { $0.hasSuffix("/report.md") } && files.keys.contains { $0.hasSuffix("/report.json") })
        for secret in Self.secrets {
            for (name, data) in files {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(secret) appears in \(name)")
            }
        }
        let manifest = String(decoding: files.first { $0.key.hasSuffix("manifest.json") }!.value, as: UTF8.self)
        #expect(manifest.contains(#""status" : "excluded""#), "key material is left out and recorded")
        #expect(manifest.contains("server.jks") && manifest.contains("truststore.password"))
        let redaction = String(decoding: files.first { $0.key.hasSuffix("REDACTION.md") }!.value, as: UTF8.self)
        #expect(redaction.contains("ssl.keyStore.password") && redaction.contains("user_admin") && redaction.contains("ZK_API_TOKEN"))
        let log = String(decoding: files.first { $0.key.hasSuffix("logs/zookeeper.log") }!.value, as: UTF8.self)
        #expect(log.contains("loading keystore with ****************"), "secrets found in configs are masked in logs too")
        let checksum = try String(contentsOfFile: result.checksumPath, encoding: .utf8)
        #expect(checksum.hasPrefix(try SHA256.hex(fileAt: result.archivePath)))
    }

    @Test func aHungCommandAndAnUnreadableFileDoNotStopTheBundle() throws {
        let folder = Scratch("hung")
        let node = plantedNode(folder)
        try FileManager.default.removeItem(atPath: folder.path + "/conf/log4j.properties")
        try FileManager.default.createDirectory(atPath: folder.path + "/conf/log4j.properties", withIntermediateDirectories: true)
        let options = BundleOptions(
            zooCfg: node.zooCfg, logDirectories: [node.logs], since: RunbookDuration(milliseconds: 3_600_000), outputDirectory: folder.path + "/out",
            commandTimeout: 1)
        let started = Date()
        let result = try BundleCollector(options: options, runner: HangingJavaRunner()).collect()
        // 1.1 s on an idle machine; the bound only has to sit far below the 300 s hang.
        #expect(Date().timeIntervalSince(started) < 60)
        let java = result.items.first { $0.path == "system/java-version.txt" }
        #expect(java?.status == .timedOut)
        let log4j = result.items.first { $0.path == "config/log4j.properties" }
        #expect(log4j?.status == .unreadable)
        let refused = result.items.first { $0.path == "4lw/srvr.txt" }
        #expect(refused?.status == .failed, "no server on port 1: recorded, not fatal")
        #expect(FileManager.default.fileExists(atPath: result.archivePath))
        let files = try unpack(result.archivePath)
        let manifest = String(decoding: files.first { $0.key.hasSuffix("manifest.json") }!.value, as: UTF8.self)
        #expect(manifest.contains(#""status" : "timed-out""#) && manifest.contains(#""status" : "unreadable""#))
    }

    @Test func logsAreCutToTheCapKeepingTheNewestAndTheTail() throws {
        let folder = Scratch("cap")
        let node = plantedNode(folder)
        let old = folder.write("logs/zookeeper.log.1", String(repeating: "old line S3cretKeyStorePw\n", count: 100_000))
        let newest = folder.write("logs/zookeeper.log", String(repeating: "x", count: 1_048_570) + "S3cretKeyStorePw" + String(repeating: "y", count: 2_000) + "\nLAST LINE\n")
        let anHourAgo = Date().addingTimeInterval(-1800)
        try FileManager.default.setAttributes([.modificationDate: anHourAgo], ofItemAtPath: old)
        _ = newest
        let options = BundleOptions(
            zooCfg: node.zooCfg, logDirectories: [node.logs], since: RunbookDuration(milliseconds: 3_600_000), outputDirectory: folder.path + "/out",
            maxLogBytes: 1_100_000, commandTimeout: 2)
        let result = try BundleCollector(options: options).collect()
        let newestItem = result.items.first { $0.path == "logs/zookeeper.log" }
        #expect(newestItem?.status == .ok)
        let oldItem = result.items.first { $0.path == "logs/zookeeper.log.1" }
        #expect(oldItem?.status == .cut)
        #expect((oldItem?.size ?? 0) < 100_000)
        let files = try unpack(result.archivePath)
        let log = files.first { $0.key.hasSuffix("logs/zookeeper.log") }!.value
        #expect(log.range(of: Data("S3cretKeyStorePw".utf8)) == nil, "a secret straddling the 1 MiB read boundary is masked")
        #expect(String(decoding: log.suffix(10), as: UTF8.self) == "LAST LINE\n")
        let cut = files.first { $0.key.hasSuffix("logs/zookeeper.log.1") }!.value
        #expect(String(decoding: cut.suffix(26), as: UTF8.self) == "old line ****************\n", "the tail is kept, masked")
        #expect(cut.range(of: Data("S3cretKeyStorePw".utf8)) == nil)
    }
}
