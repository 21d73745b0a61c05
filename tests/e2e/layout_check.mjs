// What a reader of a notebook could not read whole, measured in the page (pass
// checkLayout to page.evaluate: it is self-contained). Run it with every cell laid
// out (a viewport as tall as the notebook). It returns:
//   clipped:     chart text (titles, legends, axis titles, annotations) past the part
//                of its chart that its output area shows;
//   charts:      every plotly chart, its width beside its element's and its output
//                area's; unfit lists those drawn wider than their output area or
//                narrower than their own element (a live chart that did not follow
//                its output area's width);
//   overflow:    anything else (tables, cards, text) that runs past its output area's
//                right edge, where a reader never sees it;
//   wrapped:     table headers on two lines;
//   lowContrast: text whose colour is too close to what is behind it (dark on dark,
//                light on light): WCAG contrast ratio below MIN_CONTRAST, computed from
//                the text's colour over the backgrounds under it.
// Also: the theme's name, the panel's background, and counts of what was checked (a
// check that looked at nothing proves nothing).

export function checkLayout() {
  // 3:1 is WCAG's least for large text; anything under it is hard to read on a projector.
  const MIN_CONTRAST = 3;
  // Pixels past an output area's edge that nobody notices (a card's border).
  const SLACK_PX = 3;
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const cells = [...(panel?.querySelectorAll(".jp-Notebook .jp-Cell") ?? [])];
  const out = {
    clipped: [], wrapped: [], overflow: [], charts: [], unfit: [], lowContrast: [],
    checkedTexts: 0, checkedHeaders: 0, checkedColours: 0, checkedBoxes: 0, leastContrast: null,
    theme: document.body.dataset.jpThemeName ?? "", background: "",
  };
  out.background = getComputedStyle(panel ?? document.body).backgroundColor;

  // -- colours -------------------------------------------------------------------------
  const parse = (css) => {
    const m = /rgba?\(([^)]+)\)/.exec(css ?? "");
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  // What is painted behind el: its and its ancestors' backgrounds, composed bottom up
  // (the page is white under everything, as a browser's canvas is).
  const backdrop = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) break;
      }
    }
    return layers.reverse().reduce((under, layer) => over(layer, under), [255, 255, 255, 1]);
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const checkColour = (el, index, colour, text) => {
    const fg = parse(colour);
    if (!fg || fg[3] === 0 || !text.trim()) return;
    const bg = backdrop(el);
    const ratio = contrast(over(fg, bg), bg);
    out.checkedColours += 1;
    if (out.leastContrast === null || ratio < out.leastContrast.ratio) {
      out.leastContrast = { cell: index, text: text.slice(0, 60), ratio: Math.round(ratio * 100) / 100 };
    }
    if (ratio < MIN_CONTRAST) {
      out.lowContrast.push({ cell: index, text: text.slice(0, 60), colour, background: `rgb(${bg.slice(0, 3).map(Math.round).join(", ")})`,
        ratio: Math.round(ratio * 100) / 100 });
    }
  };
  cells.forEach((cell, index) => {
    for (const plot of cell.querySelectorAll(".js-plotly-plot")) {
      const svgEl = plot.querySelector(".main-svg");
      const svg = svgEl?.getBoundingClientRect() ?? plot.getBoundingClientRect();
      const own = plot.getBoundingClientRect();
      const area = plot.closest(".jp-OutputArea-output")?.getBoundingClientRect() ?? svg;
      if (svg.width === 0) continue;
      const live = plot.closest(".jupyter-widgets") !== null;
      const chart = { cell: index, live, width: Math.round(svg.width), element: Math.round(own.width),
        area: Math.round(area.width), right: Math.round(svg.right - area.right) };
      out.charts.push(chart);
      if (svg.right > area.right + 1 || Math.abs(svg.width - own.width) > 2) out.unfit.push(chart);
      // The box a reader sees: the chart, as far as its output area shows it.
      const box = { left: Math.max(svg.left, area.left), right: Math.min(svg.right, area.right), top: svg.top };
      const texts = plot.querySelectorAll(".gtitle, .annotation-text, .legendtext, .g-xtitle text, .g-ytitle text");
      for (const t of texts) {
        const r = t.getBoundingClientRect();
        if (r.width === 0) continue;
        out.checkedTexts += 1;
        if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1) {
          out.clipped.push({ cell: index, text: t.textContent.slice(0, 120),
            left: Math.round(r.left - box.left), right: Math.round(r.right - box.right) });
        }
      }
      for (const t of plot.querySelectorAll(".main-svg text")) {
        if (t.getBoundingClientRect().width === 0) continue;
        checkColour(t, index, getComputedStyle(t).fill, t.textContent ?? "");
      }
    }
    for (const th of cell.querySelectorAll(".jp-OutputArea-output th")) {
      const r = th.getBoundingClientRect();
      if (r.height === 0) continue;
      out.checkedHeaders += 1;
      // The header's own text on more than one line (not its cell's height: a row
      // header is as tall as its row, whose other cells may wrap).
      const range = document.createRange();
      range.selectNodeContents(th);
      const size = parseFloat(getComputedStyle(th).fontSize) || 13;
      const tops = [...range.getClientRects()].filter((b) => b.width > 0).map((b) => b.top).sort((a, b) => a - b);
      const lines = tops.filter((top, i) => i === 0 || top - tops[i - 1] > size * 0.6).length;
      if (lines > 1) out.wrapped.push({ cell: index, text: th.textContent.slice(0, 60) });
    }
    for (const area of cell.querySelectorAll(".jp-OutputArea-output")) {
      const edge = area.getBoundingClientRect().right;
      for (const el of area.querySelectorAll("*")) {
        if (el.closest(".js-plotly-plot") || el.closest("style, script")) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        out.checkedBoxes += 1;
        // Even inside a box that scrolls sideways: on a projector nobody scrolls it.
        if (r.right > edge + SLACK_PX) {
          // The outermost only: its children overflow with it.
          const parent = el.parentElement?.getBoundingClientRect();
          if (!parent || parent.right <= edge + SLACK_PX || el.parentElement === area) {
            out.overflow.push({ cell: index, element: el.tagName.toLowerCase(),
              text: (el.textContent ?? "").trim().slice(0, 80), by: Math.round(r.right - edge) });
          }
        }
        // Text of the course's views: every element with text of its own.
        if (el.closest(".course-view") && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) {
          checkColour(el, index, getComputedStyle(el).color, el.textContent ?? "");
        }
      }
    }
  });
  return out;
}
