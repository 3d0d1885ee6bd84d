import Foundation

/// The Netty a secured sandbox's servers run on (ZooKeeper's TLS needs its Netty connection factory, and
/// the jars of other versions carry no Netty): the version folder's own Netty jars, else the set
/// `fetch-zookeeper-jars.sh netty-4.1.118` put in the jar cache, else Debian's libnetty-java parts.
struct SandboxNetty {
    var jars: [String]
    /// Its version as [major, minor, patch] (from the jars' names), empty when unknown.
    var version: [Int]
    var source: String

    /// Debian's parts (its netty-all.jar holds no classes).
    static let debianParts = [
        "netty-buffer", "netty-codec", "netty-common", "netty-handler", "netty-resolver", "netty-transport", "netty-transport-native-unix-common",
        "netty-transport-native-epoll",
    ]
    static let fetchedSet = "netty-4.1.118"

    /// ZooKeeper 3.9.3 checks quorum connections with `SslHandler.isEncrypted(ByteBuf, boolean)`, which
    /// Netty added in 4.1.113 (ZOOKEEPER-4293); on an older Netty its quorum listener dies at the first
    /// TLS connection, silently.
    static let quorumTLSNeeds: (zookeeper: [Int], netty: [Int]) = ([3, 9, 3], [4, 1, 113])

    static func choose(zookeeperJars: String?) throws(SandboxError) -> SandboxNetty {
        for folder in [zookeeperJars, Sandbox.jarCache + "/" + fetchedSet].compactMap({ $0 }) {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("netty-") && $0.hasSuffix(".jar") }
            if names.contains(where: { $0.hasPrefix("netty-handler-") }) {
                return SandboxNetty(jars: names.sorted().map { folder + "/" + $0 }, version: version(in: names, of: "netty-handler-"), source: folder)
            }
        }
        let missing = debianParts.filter { !FileManager.default.fileExists(atPath: "/usr/share/java/\($0).jar") }
        guard missing.isEmpty else {
            throw SandboxError("TLS needs the Netty connection factory, and \(missing.joined(separator: ", ")) is missing: apt-get install libnetty-java")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/share/java")) ?? []
        return SandboxNetty(
            jars: debianParts.map { "/usr/share/java/\($0).jar" }, version: version(in: names, of: "netty-handler-"), source: "Debian's libnetty-java")
    }

    /// The version in a jar's name after `prefix` (`netty-handler-4.1.48.Final.jar`, `zookeeper-3.9.3.jar`).
    static func version(in names: [String], of prefix: String) -> [Int] {
        for name in names where name.hasPrefix(prefix) {
            let numbers = name.dropFirst(prefix.count).split(separator: ".").prefix(3).map { Int($0) }
            if numbers.count == 3, numbers.allSatisfy({ $0 != nil }) { return numbers.map { $0! } }
        }
        return []
    }

    /// The ZooKeeper version of a jar folder (Debian's when nil), empty when unknown.
    static func zookeeperVersion(_ zookeeperJars: String?) -> [Int] {
        let folder = zookeeperJars ?? "/usr/share/java"
        return version(in: (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [], of: "zookeeper-")
    }

    /// Refuses quorum TLS where this Netty would silently break it, saying what to fetch.
    func checkQuorumTLS(zookeeper: [Int]) throws(SandboxError) {
        let needs = Self.quorumTLSNeeds
        guard !zookeeper.isEmpty, !version.isEmpty, zookeeper.lexicographicallyPrecedes(needs.zookeeper) == false,
            version.lexicographicallyPrecedes(needs.netty)
        else { return }
        let text = { (parts: [Int]) in parts.map(String.init).joined(separator: ".") }
        throw SandboxError(
            "--tls: ZooKeeper \(text(zookeeper))'s quorum TLS needs Netty \(text(needs.netty)) or newer (ZOOKEEPER-4293), and the Netty here is "
                + "\(text(version)) (\(source)): its quorum listener would stop at the first TLS connection. Fetch a newer one with "
                + "'bash packaging/fetch-zookeeper-jars.sh \(Self.fetchedSet)', or add --no-quorum-tls (the client port's TLS works on \(text(version)))")
    }
}
