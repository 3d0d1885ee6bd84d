import Foundation
import ZKRunbookEngine

/// report.html: one self-contained page (inline SVG and CSS, nothing fetched, no script) with one lane per
/// server on a shared time axis, zkrunbook's runs as bands, incidents marked and linked to their findings'
/// evidence, and each server's zxid counter against its 2^32 limit.
public enum TimelinePage {
    static let width = 1100.0
    static let labelWidth = 200.0
    static let laneHeight = 46.0
    static let axisHeight = 28.0

    public static func render(_ report: DoctorReport, title: String = "zkrunbook doctor") -> String {
        let anchors = Dictionary(report.findings.map { (anchorKey($0.id, $0.node), anchor($0)) }, uniquingKeysWith: { first, _ in first })
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
            h1{font-size:20px} h2{font-size:16px;margin-top:28px}
            .critical{color:#b00020} .warning{color:#a15c00} .info{color:#355}
            section.finding{border-left:4px solid #ccc;padding:4px 12px;margin:10px 0}
            section.finding.critical{border-color:#b00020} section.finding.warning{border-color:#e08a00}
            pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:12px}
            ul.evidence{background:#f6f6f6;padding:6px 6px 6px 24px;font:12px/1.4 monospace}
            ul.evidence li{white-space:pre-wrap;overflow-wrap:anywhere} .msg{color:#111} .where{color:#777}
            table{border-collapse:collapse;font-size:12px} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
            .legend span{display:inline-block;margin-right:14px}
            .glyph{margin-right:4px;vertical-align:middle}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>Made \(escape(report.createdAt)); \(report.scannedBytes) bytes of logs scanned; \(report.findings.count) finding(s);
            \(report.timeline.count) event(s) on the timeline. Times are UTC.</p>

            """
        html += "<h2>Timeline</h2>\n" + svg(report, anchors: anchors) + legend()
        html += counterGauges(report.counters)
        html += "<h2>Findings</h2>\n"
        if report.findings.isEmpty { html += "<p>No known incident signature found.</p>\n" }
        for finding in report.findings {
            html += """
                <section class="finding \(finding.severity.rawValue)" id="\(anchor(finding))">
                <h3 class="\(finding.severity.rawValue)">\(finding.severity.rawValue.uppercased()): \(escape(finding.title))\(finding.node.map { " — " + escape($0) } ?? "")</h3>
                <p>\(escape(finding.detail))</p>\(finding.nextRunbook.map { "<p>Next: <code>\(escape(report.nextCommand($0)))</code></p>" } ?? "")
                <ul class="evidence">\(finding.evidence.map(evidenceItem).joined())</ul>
                </section>

                """
        }
        html += eventTable(report.timeline, anchors: anchors)
        return html + "</body></html>\n"
    }

    static func lanes(_ report: DoctorReport) -> [String] {
        let servers = Set(report.timeline.map(\.server) + report.counters.map(\.server))
        return servers.sorted { ($0 == "zkrunbook" ? 1 : 0, $0) < ($1 == "zkrunbook" ? 1 : 0, $1) }
    }

    static func svg(_ report: DoctorReport, anchors: [String: String]) -> String {
        let lanes = lanes(report)
        let height = axisHeight + Double(max(lanes.count, 1)) * laneHeight + 8
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"12\">\n"
            + TimelineGlyph.definitions
        guard let first = report.timeline.map(\.startMs).min(), let last = report.timeline.map(\.endMs).max() else {
            return out + "<text x=\"10\" y=\"20\">No event with a time was found.</text></svg>\n"
        }
        let span = max(Double(last - first), 60_000)
        let start = Double(first) - span * 0.03
        let total = span * 1.06
        let plot = width - labelWidth - 10
        func x(_ ms: Int64) -> Double { labelWidth + (Double(ms) - start) / total * plot }
        // The axis: six ticks with their UTC time.
        for tick in 0...5 {
            let ms = Int64(start + total * Double(tick) / 5)
            let position = x(ms)
            out += "<line x1=\"\(f(position))\" y1=\"\(f(axisHeight - 6))\" x2=\"\(f(position))\" y2=\"\(f(height - 8))\" stroke=\"#e4e4e4\"/>"
            out +=
                "<text x=\"\(f(position))\" y=\"14\" text-anchor=\"\(tick == 0 ? "start" : tick == 5 ? "end" : "middle")\" fill=\"#555\">\(clock(ms, span: span))</text>\n"
        }
        for (index, lane) in lanes.enumerated() {
            let top = axisHeight + Double(index) * laneHeight
            let middle = top + laneHeight / 2
            out += "<g class=\"lane\" data-server=\"\(escape(lane))\">"
            out += "<rect x=\"0\" y=\"\(f(top))\" width=\"\(Int(width))\" height=\"\(f(laneHeight - 2))\" fill=\"\(index % 2 == 0 ? "#fafafa" : "#f2f4f7")\"/>"
            out += "<text x=\"8\" y=\"\(f(middle + 4))\" font-weight=\"600\">\(escape(lane))</text>\n"
            let events = report.timeline.filter { $0.server == lane }
            // Bands first (zkrunbook's runs), then spans (elections, bursts), then points on top.
            for event in events.sorted(by: { layer($0.kind) < layer($1.kind) }) {
                out += mark(event, x: x, top: top, middle: middle, link: link(event, anchors: anchors))
            }
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    static func layer(_ kind: TimelineEvent.Kind) -> Int {
        switch kind {
        case .plannedRun: return 0
        case .election, .notServing, .counterReset: return 1
        default: return 2
        }
    }

    static func mark(_ event: TimelineEvent, x: (Int64) -> Double, top: Double, middle: Double, link: String?) -> String {
        let style = TimelineGlyph.of(event.kind)
        let opacity = event.plannedBy != nil && event.kind != .plannedRun ? "0.45" : "1"
        let tip =
            "\(event.time) \(event.kind.rawValue): \(event.detail)" + (event.count > 1 ? " (\(event.count) lines)" : "")
            + (event.plannedBy.map { event.kind == .plannedRun ? "" : " — planned: \($0)" } ?? "") + (event.evidence.map { " — \($0)" } ?? "")
        // A span longer than 10 s outside zkrunbook's runs is edged in black: long, and not ours.
        let long = style.shape.isSpan && (event.durationMs ?? 0) > 10_000 && event.plannedBy == nil
        let attributes =
            "class=\"\(event.kind == .plannedRun ? "planned-run" : "incident " + event.kind.rawValue)\" opacity=\"\(opacity)\""
            + (long ? " data-long=\"true\"" : "")
        var shape = style.svg(
            x: x(event.startMs), end: x(event.endMs), y: middle, size: min(8 + 2 * log2(Double(max(event.count, 1))), 20), attributes: attributes)
        if long {
            shape +=
                "<rect x=\"\(f(x(event.startMs)))\" y=\"\(f(middle - 9))\" width=\"\(f(max(x(event.endMs) - x(event.startMs), 3)))\" height=\"18\" fill=\"none\" stroke=\"#000000\" stroke-width=\"2\"/>"
        }
        let body = "<g><title>\(escape(tip))</title>\(shape)</g>"
        return (link.map { "<a href=\"#\($0)\">\(body)</a>" } ?? body) + "\n"
    }

    /// One line of evidence, its message first (wrapped, never scrolled off to the right) and where and when it
    /// was written after it, in grey.
    static func evidenceItem(_ line: String) -> String {
        let parsed = EvidenceLine(parsing: line, server: nil)
        let text = parsed.text
        // The message: after the logger's "] - " (log4j, logback) or " - " (slf4j-simple), else the whole text.
        let head = text.prefix(400)
        let cut = head.range(of: "] - ", options: .backwards) ?? head.range(of: " - ")
        let message = cut.map { String(text[$0.upperBound...]) } ?? text
        let prefix = cut.map { String(text[..<$0.lowerBound]) + "]" } ?? ""
        let place = [parsed.server, parsed.file.map { file in parsed.line.map { "\(file):\($0)" } ?? file }, prefix.isEmpty ? nil : prefix]
            .compactMap { $0 }.joined(separator: " · ")
        // A line named by its place alone (a chain's): the place is all there is to show.
        guard !message.isEmpty else { return "<li><span class=\"msg\">\(escape(place.isEmpty ? line : place))</span></li>" }
        return "<li><span class=\"msg\">\(escape(message))</span>"
            + (place.isEmpty ? "" : " <span class=\"where\">— \(escape(place))</span>") + "</li>"
    }

    static func legend() -> String {
        "<p class=\"legend\">"
            + TimelineEvent.Kind.allCases.filter { $0 != .looking }.map { kind in
                "<span class=\"kind\" data-kind=\"\(kind.rawValue)\"><svg class=\"glyph\" width=\"18\" height=\"18\" viewBox=\"0 0 18 18\">"
                    + TimelineGlyph.of(kind).legendGlyph() + "</svg>\(kind.rawValue)</span>"
            }.joined()
            + "<span>faded: during one of zkrunbook's own runs (planned); edged in black: a span over 10 s outside them</span></p>\n"
    }

    static func counterGauges(_ counters: [DoctorReport.ZxidGauge]) -> String {
        guard !counters.isEmpty else { return "" }
        var out =
            "<h2>zxid counter against its 2^32 limit</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"counters\" width=\"\(Int(width))\" height=\"\(counters.count * 30 + 10)\" font-size=\"12\">\n"
        for (index, gauge) in counters.enumerated() {
            let top = Double(index * 30 + 5)
            let share = Double(gauge.counter) / Double(UInt32.max)
            let plot = width - labelWidth - 500
            let eta = gauge.etaSeconds.map { "rolls over in " + RolloverEstimate.describe($0) } ?? "no rate yet (one sample; run doctor again later)"
            out += "<g class=\"counter\" data-server=\"\(escape(gauge.server))\"><text x=\"8\" y=\"\(f(top + 15))\">\(escape(gauge.server))</text>"
            out += "<rect x=\"\(f(labelWidth))\" y=\"\(f(top))\" width=\"\(f(plot))\" height=\"20\" fill=\"#eee\"/>"
            out +=
                "<rect x=\"\(f(labelWidth))\" y=\"\(f(top))\" width=\"\(f(max(plot * share, 1)))\" height=\"20\" fill=\"\(share > 0.9 ? "#b00020" : "#2f6fd6")\"/>"
            out +=
                "<text x=\"\(f(labelWidth + plot + 8))\" y=\"\(f(top + 15))\">epoch \(gauge.epoch), counter \(gauge.counter) (\(String(format: "%.4f", share * 100)) %); \(escape(eta))</text></g>\n"
        }
        return out + "</svg>\n"
    }

    static func eventTable(_ events: [TimelineEvent], anchors: [String: String]) -> String {
        guard !events.isEmpty else { return "" }
        var out =
            "<h2>Events</h2>\n<table><tr><th>time (UTC)</th><th>server</th><th>event</th><th>detail</th><th>lines</th><th>planned</th><th>evidence</th></tr>\n"
        for event in events.prefix(1000) {
            let evidence = escape(event.evidence ?? "")
            out +=
                "<tr><td>\(event.time)</td><td>\(escape(event.server))</td><td>\(event.kind.rawValue)</td><td>\(escape(event.detail))</td><td>\(event.count)</td>"
            out +=
                "<td>\(escape(event.plannedBy ?? ""))</td><td>\(link(event, anchors: anchors).map { "<a href=\"#\($0)\">\(evidence)</a>" } ?? evidence)</td></tr>\n"
        }
        return out + "</table>\n" + (events.count > 1000 ? "<p>\(events.count - 1000) more in report.json.</p>\n" : "")
    }

    static func link(_ event: TimelineEvent, anchors: [String: String]) -> String? {
        guard let finding = event.finding else { return nil }
        return anchors[anchorKey(finding, event.server)] ?? anchors[anchorKey(finding, nil)]
    }

    static func anchorKey(_ id: String, _ node: String?) -> String { id + "\u{0}" + (node ?? "") }

    static func anchor(_ finding: Finding) -> String {
        "finding-" + (finding.id + (finding.node.map { "-" + $0 } ?? "")).map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
    }

    static func clock(_ ms: Int64, span: Double) -> String {
        let stamp = Event.timestamp(Date(timeIntervalSince1970: Double(ms) / 1000))
        // Seconds matter on a short incident; a day-long view shows the date.
        return span > 86_400_000
            ? String(stamp.prefix(16)).replacingOccurrences(of: "T", with: " ") : String(stamp.dropFirst(11).prefix(span < 120_000 ? 12 : 8))
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
