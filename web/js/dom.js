// Small DOM helpers: element construction without innerHTML, SVG elements,
// and status icons drawn as SVG (no icon font, no external file).

let svgNs = null;
function svgNamespace() {
  // The HTML parser puts <svg> in the SVG namespace; read it from there
  // (lazily, so modules importing this one also load outside a browser).
  if (!svgNs) {
    const tpl = document.createElement('template');
    tpl.innerHTML = '<svg></svg>';
    svgNs = tpl.content.firstChild.namespaceURI;
  }
  return svgNs;
}

function applyAttrs(el, attrs, svg) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      const cls = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      if (cls) el.setAttribute('class', cls);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = v;
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (!svg && (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected')) {
      el[key] = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** h('div', {class: 'x', onClick: fn}, child, 'text', [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs, false);
  append(el, children);
  return el;
}

/** Append children to el, skipping null/undefined/false (unlike Element.append). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** Same as h, for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNamespace(), tag);
  applyAttrs(el, attrs, true);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Status icon: kind is error | warning | ok | info | none. Decorative: always paired with a word. */
export function icon(kind) {
  const svg = s('svg', { class: `icon icon-${kind}`, viewBox: '0 0 16 16', width: 14, height: 14, 'aria-hidden': 'true', focusable: 'false' });
  if (kind === 'error') {
    svg.append(s('circle', { cx: 8, cy: 8, r: 7 }), s('path', { d: 'M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6', class: 'glyph' }));
  } else if (kind === 'warning') {
    svg.append(s('path', { d: 'M8 1.2L15.2 14.4H0.8Z' }), s('path', { d: 'M8 5.8v4.2M8 11.8v1', class: 'glyph' }));
  } else if (kind === 'ok') {
    svg.append(s('circle', { cx: 8, cy: 8, r: 7 }), s('path', { d: 'M4.6 8.3l2.3 2.3 4.6-4.8', class: 'glyph' }));
  } else if (kind === 'info') {
    svg.append(s('circle', { cx: 8, cy: 8, r: 7 }), s('path', { d: 'M8 7v4.5M8 4.6v0.8', class: 'glyph' }));
  } else {
    svg.append(s('circle', { cx: 8, cy: 8, r: 6, class: 'hollow' }));
  }
  return svg;
}

/** A status badge: icon + word (colour is never the only signal). */
export function badge(kind, word, title) {
  return h('span', { class: `badge badge-${kind}`, title }, icon(kind), h('span', { text: word }));
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

let toastSeq = 0;
/** A short message in the corner; kind is ok | error | info. */
export function toast(message, kind = 'info') {
  const area = document.getElementById('toasts');
  if (!area) return;
  const id = `toast-${++toastSeq}`;
  const el = h('div', { class: `toast toast-${kind}`, id }, icon(kind === 'error' ? 'error' : kind === 'ok' ? 'ok' : 'info'), h('span', { text: message }));
  area.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}
