import Foundation

/// The zone a ZooKeeper server writes its log times in: its JVM's, which is `-Duser.timezone`, else its `TZ`,
/// else the machine's. `collect` records it in the bundle so that doctor, wherever it reads the logs later,
/// reads them in the server's zone.
public enum ServerTimezone {
    /// The zone and where it came from, for the server whose command line names `zooCfg` (the process is
    /// found in /proc; its environment is readable by its own user and root).
    public static func detect(zooCfg: String, proc: String = "/proc") -> (zone: String, source: String) {
        let config = URL(fileURLWithPath: zooCfg).standardizedFileURL.path
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: proc)) ?? []).filter { $0.allSatisfy(\.isNumber) }
        for pid in pids {
            guard let cmdline = FileManager.default.contents(atPath: "\(proc)/\(pid)/cmdline") else { continue }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.contains(where: { $0.hasSuffix("QuorumPeerMain") }), arguments.contains(where: { $0 == config || $0 == zooCfg })
            else { continue }
            if let option = arguments.first(where: { $0.hasPrefix("-Duser.timezone=") }), case let zone = String(option.dropFirst(16)), !zone.isEmpty {
                return (zone, "the server's -Duser.timezone (process \(pid))")
            }
            if let environment = FileManager.default.contents(atPath: "\(proc)/\(pid)/environ") {
                let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if let tz = variables.first(where: { $0.hasPrefix("TZ=") }), case let zone = String(tz.dropFirst(3)), !zone.isEmpty {
                    return (zone.hasPrefix(":") ? String(zone.dropFirst()) : zone, "the server's TZ (process \(pid))")
                }
                return (machineZone(), "this machine's zone (process \(pid) sets none of its own)")
            }
            return (machineZone(), "this machine's zone (process \(pid)'s environment unreadable)")
        }
        return (machineZone(), "this machine's zone (no running server names \(zooCfg))")
    }

    /// /etc/localtime's zone, else /etc/timezone, else UTC.
    static func machineZone() -> String {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime"), let name = link.components(separatedBy: "zoneinfo/").last,
            !name.isEmpty
        {
            return name
        }
        if let text = try? String(contentsOfFile: "/etc/timezone", encoding: .utf8), case let zone = text.trimmingCharacters(in: .whitespacesAndNewlines),
            !zone.isEmpty
        {
            return zone
        }
        return "UTC"
    }

    /// The zone a bundle recorded for the logs in `path` (the bundle's folder or its logs folder), with its source.
    public static func recorded(near path: String) -> (zone: String, source: String)? {
        let folder = URL(fileURLWithPath: path).standardizedFileURL
        for candidate in [folder, folder.deletingLastPathComponent(), folder.deletingLastPathComponent().deletingLastPathComponent()] {
            let manifest = candidate.appendingPathComponent("manifest.json").path
            guard let data = FileManager.default.contents(atPath: manifest),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let about = object["about"] as? [String: String],
                let zone = about["serverTimezone"], !zone.isEmpty
            else { continue }
            return (zone, "recorded by collect in \(manifest): \(about["serverTimezoneSource"] ?? "")")
        }
        return nil
    }
}
