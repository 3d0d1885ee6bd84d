import Foundation

/// ZooKeeper releases side by side in a sandbox (`sandbox up --versions`), as an operator lays them out for an
/// upgrade: each release in DIR/opt/zookeeper-VERSION/lib, each node running the one its link
/// DIR/nodeN/zookeeper points at. Switching a node's link and restarting it changes its version; the ensemble
/// file's `install` block says so, which is what rolling-upgrade uses.
extension Sandbox {
    public var releasesFolder: String { directory + "/opt" }
    public func releaseFolder(_ version: String) -> String { releasesFolder + "/zookeeper-" + version }
    /// Node `id`'s `current` link: the release its server runs from.
    public func currentLink(_ id: Int) -> String { nodeDirectory(id) + "/zookeeper" }

    /// The release node `id`'s link points at ("3.8.0"), nil without side-by-side releases.
    public func linkedVersion(_ id: Int) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: currentLink(id)) else { return nil }
        let name = (target as NSString).lastPathComponent
        return name.hasPrefix("zookeeper-") ? String(name.dropFirst("zookeeper-".count)) : name
    }

    /// The version of Debian's zookeeper package, from its versioned jar name (/usr/share/java/zookeeper-3.8.0.jar).
    public static func debianVersion() -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/share/java")) ?? []
        return names.compactMap { name -> String? in
            guard name.hasPrefix("zookeeper-"), name.hasSuffix(".jar") else { return nil }
            let middle = name.dropFirst("zookeeper-".count).dropLast(".jar".count)
            let parts = middle.split(separator: ".")
            return parts.count == 3 && parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) ? String(middle) : nil
        }.first
    }

    /// The release a sandbox starts on: the `--zookeeper` folder's version, else Debian's.
    static func startingVersion(_ spec: SandboxSpec) throws(SandboxError) -> String {
        if let folder = spec.zookeeperJars {
            let name = (folder as NSString).lastPathComponent
            guard name.split(separator: ".").count == 3 else {
                throw SandboxError("--versions needs --zookeeper to name a version (a folder called like 3.6.3), found \(folder)")
            }
            return name
        }
        guard let version = debianVersion() else {
            throw SandboxError("--versions: Debian's zookeeper jar (/usr/share/java/zookeeper-X.Y.Z.jar) not found: apt-get install -y zookeeper")
        }
        return version
    }

    /// The jars of release `version`: its folder in the jar cache, else Debian's own when it is that version.
    static func releaseJars(_ version: String) throws(SandboxError) -> [(name: String, path: String)] {
        let folder = jarCache + "/" + version
        if let names = try? FileManager.default.contentsOfDirectory(atPath: folder),
            names.contains(where: { $0.hasPrefix("zookeeper-") && $0.hasSuffix(".jar") })
        {
            return names.filter { $0.hasSuffix(".jar") }.sorted().map { ($0, folder + "/" + $0) }
        }
        if version == debianVersion() {
            // Its manifest names the rest of its classpath by absolute paths.
            return [("zookeeper-\(version).jar", "/usr/share/java/zookeeper.jar")]
        }
        throw SandboxError(
            "no jars for ZooKeeper \(version) in \(folder) (and Debian's is \(debianVersion() ?? "not installed")): fetch them with packaging/fetch-zookeeper-jars.sh \(version)"
        )
    }

    /// Lays out every release of `spec.versions` and the starting one, and points each node's link at the latter.
    func installReleases() throws(SandboxError) {
        guard let versions = spec.versions else { return }
        let starting = try Self.startingVersion(spec)
        do {
            for version in Array(Set(versions + [starting])).sorted() {
                let lib = releaseFolder(version) + "/lib"
                try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
                for (name, path) in try Self.releaseJars(version) where !FileManager.default.fileExists(atPath: lib + "/" + name) {
                    try FileManager.default.createSymbolicLink(atPath: lib + "/" + name, withDestinationPath: path)
                }
            }
            for id in spec.allNodes {
                try? FileManager.default.removeItem(atPath: currentLink(id))
                try FileManager.default.createSymbolicLink(atPath: currentLink(id), withDestinationPath: releaseFolder(starting))
            }
        } catch let error as SandboxError {
            throw error
        } catch {
            throw SandboxError("cannot lay out the releases in \(releasesFolder): \(error.localizedDescription)")
        }
    }

    /// The jar folder node `id` starts from: its link's release with side-by-side releases, else the sandbox's.
    func jarFolder(of id: Int) -> String? { spec.versions == nil ? spec.zookeeperJars : currentLink(id) + "/lib" }

    /// The ensemble file's `install` block with side-by-side releases.
    var installBlock: String {
        guard spec.versions != nil else { return "" }
        return "\n  // Each node runs the release its link points at: rolling-upgrade switches it (releases in \(releasesFolder)).\n"
            + "  install: { link: \"\(directory)/node${node.id}/zookeeper\", versions: \"\(releasesFolder)/zookeeper-${version}\" },"
    }
}
