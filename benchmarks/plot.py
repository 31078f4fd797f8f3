"""A small SVG bar chart (no plotting library needed): median wall time per workload and system."""

from xml.sax.saxutils import escape

COLOURS = ["#7a7a7a", "#2b6cb0", "#c05621", "#2f855a"]


def bars_svg(groups, systems, title):
    """`groups`: [(workload, {system: seconds or None})]; one row of bars per workload, each row
    scaled to its own longest bar (workloads differ by orders of magnitude), seconds written beside."""
    bar, gap, label_width, plot_width = 16, 14, 230, 420
    height = 50 + len(groups) * (len(systems) * bar + gap) + 20 * len(systems)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (label_width + plot_width + 90, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">%s</text>' % escape(title)]
    y = 40
    for workload, values in groups:
        known = [v for v in values.values() if v]
        longest = max(known) if known else 1.0
        out.append('<text x="10" y="%d">%s</text>' % (y + bar * len(systems) / 2 + 4, escape(workload)))
        for index, system in enumerate(systems):
            value = values.get(system)
            top = y + index * bar
            if value:
                width = max(1.0, plot_width * value / longest)
                out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                           % (label_width, top, width, bar - 2, COLOURS[index % len(COLOURS)]))
                out.append('<text x="%.1f" y="%d">%.1f s</text>' % (label_width + width + 4, top + bar - 5, value))
            else:
                out.append('<text x="%d" y="%d" fill="#999">not timed</text>' % (label_width + 4, top + bar - 5))
        y += len(systems) * bar + gap
    for index, system in enumerate(systems):
        out.append('<rect x="10" y="%d" width="12" height="12" fill="%s"/>' % (y + index * 20, COLOURS[index]))
        out.append('<text x="28" y="%d">%s</text>' % (y + index * 20 + 10, escape(system)))
    out.append("</svg>")
    return "\n".join(out) + "\n"
