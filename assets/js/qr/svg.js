// Draws an encodeQR() result as an <svg> element, made only with createElementNS and setAttribute
// (no markup strings, no inline styles), so it works under a strict CSP with Trusted Types.
//
//   qrSVG(document, encodeQR(text), { border: 4, label: 'QR code for …' })

const SVG_NS = 'http://www.w3.org/2000/svg';

export function qrSVG(doc, qr, { border = 4, label } = {}) {
  const extent = qr.size + 2 * border;
  const svg = doc.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${extent} ${extent}`);
  svg.setAttribute('role', 'img');
  if (label !== undefined) svg.setAttribute('aria-label', label);

  // The quiet zone must be light whatever the page's background is.
  const background = doc.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', String(extent));
  background.setAttribute('height', String(extent));
  background.setAttribute('fill', '#fff');
  svg.appendChild(background);

  // One path for all dark modules: far fewer nodes than a rect each, and crispEdges keeps
  // neighbouring squares from showing anti-aliased seams.
  const path = doc.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', modulePath(qr.modules, border));
  path.setAttribute('fill', '#000');
  path.setAttribute('shape-rendering', 'crispEdges');
  svg.appendChild(path);
  return svg;
}

// "M x y h1 v1 h-1 z" for every dark module (written without the optional spaces).
function modulePath(modules, border) {
  const parts = [];
  modules.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      if (row[x]) parts.push(`M${x + border} ${y + border}h1v1h-1z`);
    }
  });
  return parts.join('');
}
