import Foundation

/// Small charts drawn as inline SVG, so a report opens offline with nothing to load. Written
/// here rather than taken from a package: the packages on hand (Plot) write HTML, not charts,
/// and these need only lines, bars, axes and labels.
///
/// Every chart has a title, axis labels with units, and a `data-chart` attribute naming what
/// it shows (a test finds the charts in the rendered page by it).
public enum SVGChart {
    /// A series of points for a line chart.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Measured points are drawn as dots (no line between them); fitted curves as lines.
        public var dots: Bool
        public init(name: String, points: [(x: Double, y: Double)], dots: Bool = false) {
            self.name = name
            self.points = points
            self.dots = dots
        }
    }

    /// One group of bars (a payload size) with a value per series (direct, proxy, HAProxy).
    public struct BarGroup: Sendable {
        public var label: String
        public var values: [Double]
        public init(label: String, values: [Double]) {
            self.label = label
            self.values = values
        }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    static let width = 720.0, height = 320.0
    static let left = 70.0, right = 20.0, top = 64.0, bottom = 48.0

    /// A line chart. With `logX`, x is drawn on a log scale (percentile spectra).
    /// `marks` draws a dashed vertical line at each x with its label (a knee, a capacity).
    public static func lines(id: String, title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false,
                             xTicks: [(Double, String)]? = nil, marks: [(x: Double, label: String)] = []) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return empty(id: id, title: title) }
        let fx = { (x: Double) in logX ? log10(max(x, 1e-12)) : x }
        let xs = all.map { fx($0.x) }, ys = all.map(\.y)
        let (x0, x1) = (xs.min()!, max(xs.max()!, xs.min()! + 1e-9))
        let y1 = niceCeiling(max(ys.max()!, 1e-12))
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (fx(x) - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + ph - y / y1 * ph }
        var svg = header(id: id, title: title)
        svg += axes(xLabel: xLabel, yLabel: yLabel, yMax: y1)
        let ticks = xTicks ?? (0...4).map { i in
            let v = x0 + (x1 - x0) * Double(i) / 4
            return (logX ? pow(10, v) : v, number(logX ? pow(10, v) : v))
        }
        for (v, label) in ticks where fx(v) >= x0 - 1e-9 && fx(v) <= x1 + 1e-9 {
            svg += "<line x1='\(f(px(v)))' y1='\(f(top + ph))' x2='\(f(px(v)))' y2='\(f(top + ph + 5))' stroke='#333'/>"
            svg += "<text x='\(f(px(v)))' y='\(f(top + ph + 18))' text-anchor='middle' font-size='11'>\(escape(label))</text>"
        }
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            if s.dots {
                for p in s.points {
                    svg += "<circle cx='\(f(px(p.x)))' cy='\(f(py(p.y)))' r='3.5' fill='\(color)'><title>\(escape(s.name)): \(number(p.x)), \(number(p.y))</title></circle>"
                }
            } else {
                let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline fill='none' stroke='\(color)' stroke-width='2' points='\(path)'><title>\(escape(s.name))</title></polyline>"
            }
            svg += "<rect x='\(f(left + 10 + Double(i % 3) * 220))' y='\(f(24 + Double(i / 3) * 14))' width='10' height='10' fill='\(color)'/>"
            svg += "<text x='\(f(left + 24 + Double(i % 3) * 220))' y='\(f(33 + Double(i / 3) * 14))' font-size='11'>\(escape(s.name))</text>"
        }
        for (i, m) in marks.enumerated() where fx(m.x) >= x0 - 1e-9 && fx(m.x) <= x1 + 1e-9 {
            svg += "<line data-mark='\(escape(m.label))' x1='\(f(px(m.x)))' y1='\(f(top))' x2='\(f(px(m.x)))' y2='\(f(top + ph))' stroke='#555' stroke-dasharray='4 3'/>"
            svg += "<text x='\(f(px(m.x) + 4))' y='\(f(top + 12 + Double(i) * 13))' font-size='11' fill='#555'>\(escape(m.label))</text>"
        }
        return svg + "</svg>"
    }

    /// Grouped bars: one group per label, one bar per series, with the series' names in a legend.
    public static func bars(id: String, title: String, yLabel: String, seriesNames: [String], groups: [BarGroup]) -> String {
        let values = groups.flatMap(\.values)
        guard !values.isEmpty else { return empty(id: id, title: title) }
        let y1 = niceCeiling(max(values.max()!, 1e-12))
        let pw = width - left - right, ph = height - top - bottom
        var svg = header(id: id, title: title)
        svg += axes(xLabel: "", yLabel: yLabel, yMax: y1)
        let groupWidth = pw / Double(groups.count)
        let barWidth = groupWidth * 0.8 / Double(max(1, seriesNames.count))
        for (g, group) in groups.enumerated() {
            let gx = left + Double(g) * groupWidth + groupWidth * 0.1
            for (i, v) in group.values.enumerated() {
                let h = max(0, v) / y1 * ph
                svg += "<rect x='\(f(gx + Double(i) * barWidth))' y='\(f(top + ph - h))' width='\(f(barWidth * 0.92))' height='\(f(h))' fill='\(palette[i % palette.count])'>"
                svg += "<title>\(escape(seriesNames[min(i, seriesNames.count - 1)])): \(number(v))</title></rect>"
            }
            svg += "<text x='\(f(gx + groupWidth * 0.4))' y='\(f(top + ph + 18))' text-anchor='middle' font-size='11'>\(escape(group.label))</text>"
        }
        for (i, name) in seriesNames.enumerated() {
            svg += "<rect x='\(f(left + 10 + Double(i % 4) * 160))' y='\(f(24 + Double(i / 4) * 14))' width='10' height='10' fill='\(palette[i % palette.count])'/>"
            svg += "<text x='\(f(left + 24 + Double(i % 4) * 160))' y='\(f(33 + Double(i / 4) * 14))' font-size='11'>\(escape(name))</text>"
        }
        return svg + "</svg>"
    }

    // MARK: parts

    static func header(id: String, title: String) -> String {
        "<svg xmlns='http://www.w3.org/2000/svg' data-chart='\(escape(id))' viewBox='0 0 \(Int(width)) \(Int(height))' width='\(Int(width))' height='\(Int(height))' "
            + "role='img' aria-label='\(escape(title))' font-family='sans-serif'><title>\(escape(title))</title>"
            + "<text x='\(f(width / 2))' y='14' text-anchor='middle' font-size='13' font-weight='bold'>\(escape(title))</text>"
    }

    static func axes(xLabel: String, yLabel: String, yMax: Double) -> String {
        let ph = height - top - bottom
        var s = "<line x1='\(f(left))' y1='\(f(top))' x2='\(f(left))' y2='\(f(top + ph))' stroke='#333'/>"
        s += "<line x1='\(f(left))' y1='\(f(top + ph))' x2='\(f(width - right))' y2='\(f(top + ph))' stroke='#333'/>"
        for i in 0...4 {
            let v = yMax * Double(i) / 4, y = top + ph - Double(i) / 4 * ph
            s += "<line x1='\(f(left - 5))' y1='\(f(y))' x2='\(f(width - right))' y2='\(f(y))' stroke='#ddd'/>"
            s += "<text x='\(f(left - 8))' y='\(f(y + 4))' text-anchor='end' font-size='11'>\(escape(number(v)))</text>"
        }
        s += "<text x='\(f(left + (width - left - right) / 2))' y='\(f(height - 8))' text-anchor='middle' font-size='12'>\(escape(xLabel))</text>"
        s += "<text transform='translate(16 \(f(top + ph / 2))) rotate(-90)' text-anchor='middle' font-size='12'>\(escape(yLabel))</text>"
        return s
    }

    static func empty(id: String, title: String) -> String {
        header(id: id, title: title) + "<text x='\(f(width / 2))' y='\(f(height / 2))' text-anchor='middle' font-size='12'>no data</text></svg>"
    }

    /// The smallest 1, 2 or 5 × 10ⁿ at or above `v`.
    static func niceCeiling(_ v: Double) -> Double {
        let e = pow(10, floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * e >= v * (1 - 1e-12) { return m * e }
        return 10 * e
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1000 || v == v.rounded() { return String(format: "%.0f", v) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.3g", v)
    }

    /// Text made safe inside SVG and HTML.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&#39;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
