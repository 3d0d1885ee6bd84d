import Foundation
import ZKRunbookEngine
import ZKRunbookProcess

/// Who holds a node for a run that changes its ensemble: written on the node itself, in its agent's
/// state directory, so every conductor that would touch the node meets it, whatever machine, state
/// directory or spelling of the ensemble file it started from.
public struct LeaseRecord: Sendable, Codable, Hashable {
    /// The conductor's run id: the one identity a lease is checked against.
    public var runID: String
    public var runbook: String
    public var ensemble: String
    /// The ensemble's identity: its members' sorted endpoints, hashed (the name is shown, not compared).
    public var ensembleID: String
    public var holderHost: String
    public var holderPID: Int32
    /// Seconds since 1970, UTC.
    public var since: Double
    public var expires: Double

    public init(
        runID: String, runbook: String, ensemble: String, ensembleID: String, holderHost: String, holderPID: Int32, since: Double,
        expires: Double
    ) {
        (self.runID, self.runbook, self.ensemble, self.ensembleID) = (runID, runbook, ensemble, ensembleID)
        (self.holderHost, self.holderPID, self.since, self.expires) = (holderHost, holderPID, since, expires)
    }

    public func isExpired(at now: Double) -> Bool { now >= expires }

    public var holderDescription: String {
        "run \(runID) (\(runbook) of ensemble \(ensemble)) by pid \(holderPID) on \(holderHost), since \(Event.timestamp(Date(timeIntervalSince1970: since)))"
    }
}

/// A node agent's answer to `zkrunbook lease … --json`, as it writes it and as the conductor reads it back.
public struct LeaseReply: Sendable, Codable, Equatable {
    public enum Result: String, Sendable, Codable {
        case acquired, renewed, held, released, expired, free, broken
        case notHeld = "not-held"
        case missingRunbook = "missing-runbook"
    }

    public var result: Result
    /// The lease now on the node (taken, renewed, or someone else's).
    public var lease: LeaseRecord?
    /// The expired lease an acquire took over.
    public var replaced: LeaseRecord?
    public var message: String?

    public init(_ result: Result, lease: LeaseRecord? = nil, replaced: LeaseRecord? = nil, message: String? = nil) {
        (self.result, self.lease, self.replaced, self.message) = (result, lease, replaced, message)
    }

    /// One line of JSON, keys sorted.
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"result":"\#(result.rawValue)"}"#
    }

    /// The reply in an agent's output: its last line that decodes as one.
    public static func read(_ output: String) -> LeaseReply? {
        output.split(separator: "\n").reversed().lazy.compactMap { try? JSONDecoder().decode(LeaseReply.self, from: Data($0.utf8)) }.first
    }
}

/// What a lease request on one node came to.
public enum LeaseDecision: Sendable, Equatable {
    /// Taken (none was held, or the one held had expired and is named as `replaced`).
    case acquired(replaced: LeaseRecord?)
    /// Already ours: the expiry moved on.
    case renewed
    /// Another run holds it and it has not expired.
    case held(by: LeaseRecord)
}

/// The lease decision, apart from the file it is read from and written to (tested in memory).
public enum LeasePolicy {
    public static func decide(existing: LeaseRecord?, request: LeaseRecord, now: Double) -> LeaseDecision {
        guard let existing else { return .acquired(replaced: nil) }
        if existing.runID == request.runID { return .renewed }
        if existing.isExpired(at: now) { return .acquired(replaced: existing) }
        return .held(by: existing)
    }

    /// Whether run `runID` may change the node now: nil when it may, else why not.
    public static func check(existing: LeaseRecord?, runID: String?, now: Double) -> String? {
        switch (existing, runID) {
        case (nil, nil): return nil
        case (nil, let runID?):
            return "this node holds no lease for run \(runID): it was released or broken; its conductor is gone or another took over"
        case (let lease?, nil):
            return lease.isExpired(at: now) ? nil : "the node is leased to \(lease.holderDescription)"
        case (let lease?, let runID?):
            if lease.runID != runID { return "the node is leased to \(lease.holderDescription), not to run \(runID)" }
            if lease.isExpired(at: now) {
                return
                    "run \(runID)'s lease on this node expired at \(Event.timestamp(Date(timeIntervalSince1970: lease.expires))): its conductor stopped renewing it"
            }
            return nil
        }
    }
}

/// The lease files of one machine: `DIR/KEY.json`, changed only under `KEY.lock`.
///
/// Why not in a state directory: each conductor's ensemble file may name another `stateDir` for the same
/// node, and two runs whose leases live in two folders never meet. The lease lives where every agent on
/// the machine looks, whatever it was told: `ZKRUNBOOK_LEASE_DIR` (set for the node's agent, never by a
/// conductor), else /run/zkrunbook/leases as root, else /tmp/zkrunbook-leases-UID. A lease is short-lived
/// (renewed every third of its TTL), so a folder a reboot empties loses nothing a renewal does not restore.
public struct NodeLeaseStore: Sendable {
    /// The lease key of the server listening on `clientPort`: the same for every conductor and every agent
    /// (the one place its format is written).
    public static func key(clientPort: String) -> String { "zookeeper-\(clientPort)" }

    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// The machine's lease folder, as every agent on it finds it.
    public static func standard(environment: [String: String] = EnvironmentVariables.values(of: ["ZKRUNBOOK_LEASE_DIR"])) -> NodeLeaseStore {
        if let explicit = environment["ZKRUNBOOK_LEASE_DIR"], !explicit.isEmpty { return NodeLeaseStore(directory: explicit) }
        if getuid() == 0 { return NodeLeaseStore(directory: "/run/zkrunbook/leases") }
        return NodeLeaseStore(directory: "/tmp/zkrunbook-leases-\(getuid())")
    }

    func path(_ key: String) -> String { directory + "/" + Self.safe(key) + ".json" }

    static func safe(_ key: String) -> String {
        String(key.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }

    public func read(_ key: String) -> LeaseRecord? {
        guard let data = FileManager.default.contents(atPath: path(key)) else { return nil }
        return try? JSONDecoder().decode(LeaseRecord.self, from: data)
    }

    /// Takes, renews or refuses under the key's lock; the record is written atomically and fsynced.
    public func request(_ key: String, _ record: LeaseRecord, now: Double = Date().timeIntervalSince1970) throws(JournalError) -> LeaseDecision {
        try withLock(key) { () throws(JournalError) -> LeaseDecision in
            let decision = LeasePolicy.decide(existing: read(key), request: record, now: now)
            switch decision {
            case .held: return decision
            case .acquired, .renewed:
                var kept = record
                if case .renewed = decision, let existing = read(key) { kept.since = existing.since }
                try write(key, kept)
                return decision
            }
        }
    }

    /// Removes the lease if `runID` holds it (nil: whoever holds it, for an explicit break). Returns what was removed.
    @discardableResult
    public func release(_ key: String, runID: String?) throws(JournalError) -> LeaseRecord? {
        try withLock(key) { () throws(JournalError) -> LeaseRecord? in
            guard let existing = read(key), runID == nil || existing.runID == runID else { return nil }
            if unlink(path(key)) != 0 && errno != ENOENT {
                throw .leaseFolder(path: path(key), reason: String(cString: strerror(errno)))
            }
            return existing
        }
    }

    private func write(_ key: String, _ record: LeaseRecord) throws(JournalError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let target = path(key)
        let temporary = target + ".tmp-\(getpid())"
        do {
            let data = try encoder.encode(record)
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw JournalError.leaseFolder(path: temporary, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written == data.count, fsync(fd) == 0 else { throw JournalError.leaseFolder(path: temporary, reason: String(cString: strerror(errno))) }
            guard rename(temporary, target) == 0 else { throw JournalError.leaseFolder(path: target, reason: String(cString: strerror(errno))) }
        } catch let error as JournalError {
            unlink(temporary)
            throw error
        } catch {
            unlink(temporary)
            throw .leaseFolder(path: target, reason: "\(error)")
        }
    }

    private func withLock<T>(_ key: String, _ body: () throws(JournalError) -> T) throws(JournalError) -> T {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .leaseFolder(path: directory, reason: (error as NSError).localizedDescription)
        }
        let lockPath = directory + "/" + Self.safe(key) + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .leaseFolder(path: lockPath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        // Held for a few milliseconds by whoever reads or writes the lease: a blocking wait is right.
        guard flock(fd, LOCK_EX) == 0 else { throw .leaseFolder(path: lockPath, reason: String(cString: strerror(errno))) }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
