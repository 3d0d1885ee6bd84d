import Foundation

/// How one kind of event is drawn on the timeline: a colour from Okabe and Ito's palette (told apart under
/// the common colour-vision deficiencies, and in grey) and a shape no other kind of its sort has, so that no
/// kind is told from another by colour alone.
struct TimelineGlyph: Hashable, Sendable {
    enum Shape: String, CaseIterable, Sendable {
        /// A run's window: a faint band across the lane.
        case band
        /// Spans: the event lasts (an election, a time not serving, a counter reset).
        case bar, hatchedBar, outlinedBar
        /// Points.
        case triangleUp, triangleDown, diamond, square, circle, ring, cross, plus, star, hexagon, hourglass

        var isSpan: Bool { self == .bar || self == .hatchedBar || self == .outlinedBar }
    }

    var colour: String
    var shape: Shape
    /// Points drawn above (negative) or below the lane's middle, where two kinds usually come together.
    var offset: Double = 0

    /// Okabe and Ito's eight colours, and the grey used for what is expected.
    static let palette: Set<String> = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#777777"]

    static func of(_ kind: TimelineEvent.Kind) -> TimelineGlyph {
        switch kind {
        case .plannedRun: return TimelineGlyph(colour: "#0072B2", shape: .band)
        case .election, .looking: return TimelineGlyph(colour: "#E69F00", shape: .bar)
        case .notServing: return TimelineGlyph(colour: "#D55E00", shape: .hatchedBar)
        case .counterReset: return TimelineGlyph(colour: "#CC79A7", shape: .outlinedBar)
        case .start: return TimelineGlyph(colour: "#000000", shape: .triangleUp, offset: 9)
        case .leaderChange: return TimelineGlyph(colour: "#F0E442", shape: .diamond, offset: 12)
        case .epochChange: return TimelineGlyph(colour: "#0072B2", shape: .square, offset: -12)
        case .rollover: return TimelineGlyph(colour: "#D55E00", shape: .star)
        case .connectionLoss: return TimelineGlyph(colour: "#777777", shape: .ring)
        case .slowFsync: return TimelineGlyph(colour: "#56B4E9", shape: .hexagon)
        case .sessionExpiry: return TimelineGlyph(colour: "#009E73", shape: .triangleDown)
        case .tooManyConnections: return TimelineGlyph(colour: "#CC79A7", shape: .plus)
        case .oversizedPacket: return TimelineGlyph(colour: "#D55E00", shape: .cross)
        case .jvmPause: return TimelineGlyph(colour: "#0072B2", shape: .circle)
        case .diskFull: return TimelineGlyph(colour: "#000000", shape: .hourglass)
        }
    }

    /// The pattern the hatched bars use, once per page.
    static let definitions =
        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        + "<rect width=\"6\" height=\"6\" fill=\"#D55E00\" fill-opacity=\"0.35\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#D55E00\" stroke-width=\"3\"/></pattern></defs>"

    /// The SVG of one mark: a point centred on (x, y) `size` across, or a span from x to `end`.
    func svg(x: Double, end: Double, y: Double, size: Double, attributes: String) -> String {
        let r = size / 2
        let (cx, cy) = (x, y + offset)
        func path(_ points: [(Double, Double)]) -> String {
            "<path d=\"M" + points.map { "\(f(cx + $0.0 * r)) \(f(cy + $0.1 * r))" }.joined(separator: " L")
                + " Z\" fill=\"\(colour)\"\(outline) \(attributes)/>"
        }
        let width = f(max(end - x, 3))
        switch shape {
        case .band:
            return
                "<rect x=\"\(f(x))\" y=\"\(f(y - 21))\" width=\"\(f(max(end - x, 2)))\" height=\"42\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"\(colour)\" stroke-dasharray=\"4 2\" \(attributes)/>"
        case .bar:
            return "<rect x=\"\(f(x))\" y=\"\(f(y - 7))\" width=\"\(width)\" height=\"14\" fill=\"\(colour)\" \(attributes)/>"
        case .hatchedBar:
            return "<rect x=\"\(f(x))\" y=\"\(f(y - 7))\" width=\"\(width)\" height=\"14\" fill=\"url(#hatch)\" stroke=\"\(colour)\" \(attributes)/>"
        case .outlinedBar:
            return
                "<rect x=\"\(f(x))\" y=\"\(f(y - 6))\" width=\"\(width)\" height=\"12\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"3 2\" \(attributes)/>"
        case .triangleUp: return path([(-1, 0.8), (1, 0.8), (0, -0.9)])
        case .triangleDown: return path([(-1, -0.8), (1, -0.8), (0, 0.9)])
        case .diamond: return path([(0, -1), (1, 0), (0, 1), (-1, 0)])
        case .square: return path([(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)])
        case .hexagon: return path([(-1, 0), (-0.5, -0.87), (0.5, -0.87), (1, 0), (0.5, 0.87), (-0.5, 0.87)])
        case .hourglass: return path([(-0.8, -0.9), (0.8, -0.9), (-0.8, 0.9), (0.8, 0.9)])
        case .star:
            let points = (0..<10).map { index -> (Double, Double) in
                let angle = Double(index) * .pi / 5 - .pi / 2
                let reach = index % 2 == 0 ? 1.0 : 0.45
                return (cos(angle) * reach, sin(angle) * reach)
            }
            return path(points)
        case .circle:
            return "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"\(f(r))\" fill=\"\(colour)\" \(attributes)/>"
        case .ring:
            return "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"\(f(r * 0.8))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\" \(attributes)/>"
        case .cross, .plus:
            let d = shape == .cross ? 0.7 : 1.0
            let lines = shape == .cross ? [(-d, -d, d, d), (-d, d, d, -d)] : [(-d, 0, d, 0), (0, -d, 0, d)]
            return "<g stroke=\"\(colour)\" stroke-width=\"3\" \(attributes)>"
                + lines.map { "<line x1=\"\(f(cx + $0.0 * r))\" y1=\"\(f(cy + $0.1 * r))\" x2=\"\(f(cx + $0.2 * r))\" y2=\"\(f(cy + $0.3 * r))\"/>" }.joined()
                + "</g>"
        }
    }

    /// The mark in the legend's 18-pixel square.
    func legendGlyph() -> String {
        switch shape {
        case .band:
            return "<rect x=\"1\" y=\"3\" width=\"16\" height=\"12\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"\(colour)\" stroke-dasharray=\"4 2\"/>"
        case .bar, .hatchedBar, .outlinedBar: return TimelineGlyph(colour: colour, shape: shape).svg(x: 1, end: 17, y: 9, size: 12, attributes: "")
        default: return TimelineGlyph(colour: colour, shape: shape).svg(x: 9, end: 9, y: 9, size: 14, attributes: "")
        }
    }

    /// A light colour drawn on a light lane needs an edge to be seen.
    private var outline: String { colour == "#F0E442" ? " stroke=\"#000000\" stroke-width=\"0.8\"" : "" }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
