import Foundation
import Testing

@testable import ZKRunbookDiagnostics

/// Every kind of event is told apart by its shape, not its colour alone, and every colour is one of the
/// palette chosen for colour-vision deficiencies.
struct TimelineGlyphTests {
    let kinds = TimelineEvent.Kind.allCases.filter { $0 != .looking }

    @Test func everyKindHasAShapeOfItsOwnAndAPaletteColour() {
        let glyphs = kinds.map(TimelineGlyph.of)
        let points = glyphs.filter { !$0.shape.isSpan && $0.shape != .band }.map(\.shape)
        let spans = glyphs.filter(\.shape.isSpan).map(\.shape)
        #expect(Set(points).count == points.count, "two point kinds share a shape: \(points)")
        #expect(Set(spans).count == spans.count, "two span kinds share a shape: \(spans)")
        #expect(Set(glyphs).count == kinds.count)
        let outside = glyphs.map(\.colour).filter { !TimelineGlyph.palette.contains($0) }
        #expect(outside.isEmpty, "colours outside the palette: \(outside)")
        // The spans, which overlap on a lane, differ in colour too.
        let spanColours = glyphs.filter(\.shape.isSpan).map(\.colour)
        #expect(Set(spanColours).count == spanColours.count, "\(spanColours)")
    }

    /// The legend draws each kind's own mark, once, and every mark on the page is drawn from its kind.
    @Test func theLegendShowsEachKindsMark() {
        let events = kinds.enumerated().map { index, kind in
            TimelineEvent(server: "server 1", kind: kind, startMs: 1_000_000 + Int64(index) * 10_000, durationMs: 2_000, detail: kind.rawValue)
        }
        var report = DoctorReport(findings: [], scannedBytes: 0, scanSeconds: 0, createdAt: "2026-12-07T00:00:00.000Z")
        report.timeline = events
        let html = TimelinePage.render(report)
        for kind in kinds {
            let legend = html.components(separatedBy: "data-kind=\"\(kind.rawValue)\"")
            #expect(legend.count == 2, "\(kind.rawValue) in the legend once")
            #expect(legend.dropFirst().first?.contains(TimelineGlyph.of(kind).colour) == true, "\(kind.rawValue)'s colour in its legend entry")
        }
        #expect(html.contains("<pattern id=\"hatch\""), "the hatched bars' pattern is defined")
        #expect(html.components(separatedBy: "class=\"incident ").count - 1 == kinds.count - 1, "every event but the run's window drawn as an incident")
    }
}
