import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-backup`: on the node, a consistent copy of the server's data: the newest snapshot that checks out,
/// every transaction log from the one holding the transaction after it, and the epoch files; written into a
/// hidden folder, checked there (hashes, the formats' own checksums, the node count replayed against what
/// the server said), and only then renamed to its final name with its manifest. Older backups beyond `keep`
/// are removed after the new one checked out. A failure (a full disk) removes the hidden folder: nothing is
/// left under a final name.
struct ZKBackupAction: ArgumentsDecodable {
    static let name = "zk-backup"
    static let summary =
        "copy this node's newest snapshot, the logs after it and the epoch files into DEST/<ensemble>-<zxid>-<time>, checked before it is named; keep N"

    var config: Template
    var dest: Template
    var ensemble: Template
    var member: Template
    var keep: Template
    /// `files` (the data folders), `admin` (3.9's AdminServer `snapshot` command), or `auto`: the AdminServer
    /// on 3.9 and later when it answers, the files otherwise (the reason said).
    var source: Template
    var isReadOnly: Bool { false }
    static var defaults: [String: any ArgumentValue] { ["keep": Template.literal("7"), "source": Template.literal("auto")] }
    var yieldedFacts: FactNames? { FactNames(["backup", "zxid", "znodes", "bytes", "files", "countCheck", "removed", "source"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "copy the newest snapshot of \(config.display(resolver)), the logs after it and the epoch files to \(dest.display(resolver))/<ensemble>-<zxid>-<time>,",
            "checked (hashes, snapshot seals, log checksums, the node count replayed) before it gets that name; keep the newest \(keep.display(resolver))",
        ]
    }

    /// Whether srvr's version ("3.9.3-…, built on …") is 3.9 or later: the first with the snapshot command.
    static func isAtLeast39(_ version: String) -> Bool {
        let parts = version.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 && (parts[0], parts[1]) >= (3, 9)
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, dest, ensemble, member, keep, source])
        guard ["auto", "files", "admin"].contains(values[5]) else {
            return .failure(cause: .invalidArgument, message: "source '\(values[5])' must be auto, files or admin")
        }
        guard let memberID = Int(values[3]), let keepCount = Int(values[4]), keepCount >= 1 else {
            return .failure(cause: .invalidArgument, message: "member must be a server id and keep at least 1 (got '\(values[3])', '\(values[4])')")
        }
        guard !values[2].isEmpty, !values[2].contains("/") else {
            return .failure(cause: .invalidArgument, message: "ensemble '\(values[2])' must be a plain name")
        }
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false, dynamicMayBeMissing: true) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        guard let dataFolder = loaded.snapshotFolder, let logFolder = loaded.logFolder else {
            return .failure(cause: .invalidArgument, message: "\(values[0]) sets no dataDir")
        }
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: 2, readTimeout: 2), wantMonitor: false, wantRuok: false, connector: context.options.services.serverConnector)
        let port = loaded.probePort
        let server = Endpoint(host: ListeningAddress.resolve(port: port).host, port: port)
        let before = probe.probe(server)

        let manager = FileManager.default
        let dataNames = (try? manager.contentsOfDirectory(atPath: dataFolder)) ?? []
        let logNames = (try? manager.contentsOfDirectory(atPath: logFolder)) ?? []
        try? manager.createDirectory(atPath: values[1], withIntermediateDirectories: true)
        let partial = values[1] + "/.partial-\(values[2])-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let folder = BackupFolder(path: partial)
        func abandon(_ cause: FailureCause, _ message: String) -> ActionOutcome {
            try? manager.removeItem(atPath: partial)
            return .failure(cause: cause, message: message + "; nothing was left under a final name (the partial copy is removed)")
        }
        do { try manager.createDirectory(atPath: partial, withIntermediateDirectories: true) } catch {
            return .failure(cause: .ioError, message: "cannot create \(partial): \(error.localizedDescription)")
        }
        var files: [BackupManifest.File] = []
        /// Copies one file, hashed as it goes; `check` reads the copy while the hash finishes.
        func copy<Checked>(_ name: String, from: String, kind: String, check: (String) -> Checked) throws(FileCopyError) -> Checked {
            let copied = try copyFileAtomically(from: from + "/" + name, to: partial + "/" + name, mode: 0o644, uid: getuid(), gid: getgid(), check: check)
            files.append(BackupManifest.File(name: name, kind: kind, bytes: FileInfo.stat(partial + "/" + name)?.size ?? 0, sha256: copied.sha256))
            return copied.checked
        }
        var snapshot: SnapshotSummary?
        var rejected: [String] = []
        var sourceUsed = "files"
        // 3.9's AdminServer writes a snapshot and streams it: no log needed beside it.
        let atLeast39 = before.version.map { Self.isAtLeast39($0) } ?? false
        if values[5] == "admin" || (values[5] == "auto" && atLeast39) {
            do {
                guard let adminPort = loaded.adminPort else { throw AdminSnapshot.Refused(description: "\(values[0]) disables the AdminServer") }
                let streamed = partial + "/.streamed-snapshot"
                // Where the AdminServer listens (admin.serverAddress), as the kernel's table says, not loopback.
                let admin = Endpoint(host: ListeningAddress.resolve(port: adminPort).host, port: adminPort)
                let fetched = try AdminSnapshot.fetch(
                    from: admin, to: streamed, timeout: max(60, context.remainingSeconds), connector: context.options.services.serverConnector)
                let name = "snapshot." + String(fetched.lastZxid, radix: 16)
                do { try manager.moveItem(atPath: streamed, toPath: partial + "/" + name) } catch {
                    return abandon(.ioError, "naming the streamed snapshot: \(error)")
                }
                do { snapshot = try SnapshotSummary.read(path: partial + "/" + name) } catch {
                    return abandon(.verifyFailed, "the snapshot the AdminServer streamed does not check out: \(error.description)")
                }
                files.append(BackupManifest.File(name: name, kind: "data", bytes: fetched.bytes, sha256: fetched.sha256))
                sourceUsed = "admin"
            } catch {
                try? manager.removeItem(atPath: partial + "/.streamed-snapshot")
                if values[5] == "admin" { return abandon(.verifyFailed, "the AdminServer snapshot was not taken: \(error)") }
                rejected.append("AdminServer not used: \(error)")
            }
        }
        // Else the newest snapshot whose copy checks out: each file is copied by the kernel, hashed behind it, and
        // its copy parsed; a snapshot still being written, or corrupt, gives way to the one before.
        for name in BackupSelection.snapshots(dataNames) where snapshot == nil {
            let read: Result<SnapshotSummary, DataFileError>
            do throws(FileCopyError) {
                read = try copy(name, from: dataFolder, kind: "data") { copyPath in
                    Result { () throws(DataFileError) in try SnapshotSummary.read(path: copyPath, named: partial + "/" + name) }
                }
            } catch {
                return abandon(.ioError, "copying \(dataFolder)/\(name): \(error.message)")
            }
            switch read {
            case .success(let summary): snapshot = summary
            case .failure(let error):
                rejected.append(error.description)
                files.removeLast()
                try? manager.removeItem(atPath: partial + "/" + name)
            }
        }
        guard let snapshot else {
            return abandon(
                .verifyFailed, "no snapshot in \(dataFolder) checks out" + (rejected.isEmpty ? " (there is none)" : ": " + rejected.joined(separator: "; ")))
        }
        let rest =
            (sourceUsed == "admin" ? [] : BackupSelection.logs(logNames, after: snapshot.zxid).map { ($0, logFolder, "log") })
            + ["currentEpoch", "acceptedEpoch"].filter(dataNames.contains).map { ($0, dataFolder, "data") }
        for (name, from, kind) in rest {
            do throws(FileCopyError) { try copy(name, from: from, kind: kind) { _ in () } } catch {
                return abandon(.ioError, "copying \(from)/\(name): \(error.message)")
            }
        }
        let after = probe.probe(server)

        let contents: BackupFolder.Contents
        let reportedZxid = before.zxid.map { Int64(bitPattern: $0.raw) }
        do { contents = try folder.read(files, snapshot: snapshot, checkpoint: reportedZxid) } catch {
            return abandon(.verifyFailed, "the copy does not check out: \(error.description)")
        }
        let last = contents.replay.zxid
        // The count the server reported is compared at its zxid when it did not write during the copy; with
        // writes going on, its two srvr figures may be a few transactions apart: said, not judged.
        var countCheck = "not compared: the server did not answer srvr"
        if let reportedZxid, let reported = before.nodeCount, let nodesAtReported = contents.nodesAtCheckpoint {
            // A zxid whose counter is 0 names a new epoch with no transaction in it yet (a fresh ensemble after
            // its first election: 0x100000000): the last transaction is an earlier one, and the node count,
            // compared below, is what tells a whole copy.
            let newEpochOnly = reportedZxid & 0xffff_ffff == 0
            guard last >= reportedZxid || (newEpochOnly && last < reportedZxid) else {
                return abandon(
                    .verifyFailed,
                    "the copied logs end at 0x\(String(last, radix: 16)), before the server's 0x\(String(reportedZxid, radix: 16)): transactions are missing")
            }
            // The server's count holds the root twice (its tree maps both "" and "/" to it); a snapshot has it once.
            if nodesAtReported + 1 == reported {
                countCheck =
                    "matched: \(nodesAtReported) node(s) at 0x\(String(reportedZxid, radix: 16)), as the server said (it counts \(reported), the root twice)"
            } else if before.zxid == after.zxid {
                return abandon(
                    .verifyFailed,
                    "the copy holds \(nodesAtReported) node(s) at 0x\(String(reportedZxid, radix: 16)) (\(nodesAtReported + 1) as the server counts, the root twice); the server said \(reported), and did not write since"
                )
            } else {
                countCheck = "not compared: the server wrote during the copy (\(before.zxid!) -> \(after.zxid.map { "\($0)" } ?? "?"))"
            }
        }
        let stamp = Event.timestamp(Date())
        let manifest = BackupManifest(
            ensemble: values[2], member: memberID, createdAt: stamp, snapshotZxid: contents.snapshot.zxid, lastZxid: last, znodes: contents.replay.nodes,
            reportedZxid: reportedZxid, reportedZnodes: before.nodeCount.map { Int($0) }, countCheck: countCheck, files: files)
        // The copy was hashed as it was written and parsed since: the manifest records what was checked.
        do { try folder.write(manifest) } catch { return abandon(.ioError, "writing the manifest: \(error.message)") }
        let time = stamp.filter { $0.isNumber || $0 == "T" }
        let finalName = "\(values[2])-\(String(format: "%016llx", last))-\(time)Z"
        let final = values[1] + "/" + finalName
        do { try manager.moveItem(atPath: partial, toPath: final) } catch { return abandon(.ioError, "renaming to \(final): \(error.localizedDescription)") }

        let existing = ((try? manager.contentsOfDirectory(atPath: values[1])) ?? []).filter {
            manager.fileExists(atPath: values[1] + "/" + $0 + "/manifest.json")
        }
        let removed = BackupSelection.expired(existing, ensemble: values[2], keep: keepCount)
        for name in removed { try? manager.removeItem(atPath: values[1] + "/" + name) }
        let bytes = files.reduce(Int64(0)) { $0 + $1.bytes }
        return .success(
            "backed up server \(memberID) from its \(sourceUsed == "admin" ? "AdminServer's snapshot" : "data folders"): \(files.count) file(s), \(bytes) byte(s), \(contents.replay.nodes) node(s) up to 0x\(String(last, radix: 16)) in \(final); count \(countCheck)"
                + (removed.isEmpty ? "" : "; removed the older \(removed.joined(separator: ", "))")
                + (rejected.first { $0.hasPrefix("AdminServer not used") }.map { "; " + $0 } ?? ""),
            facts: [
                "backup": .string(final), "zxid": .string("0x" + String(last, radix: 16)), "znodes": .int(Int64(contents.replay.nodes)), "bytes": .int(bytes),
                "files": .int(Int64(files.count)), "countCheck": .string(countCheck), "removed": .string(removed.joined(separator: ",")),
                "source": .string(sourceUsed),
            ])
    }
}
