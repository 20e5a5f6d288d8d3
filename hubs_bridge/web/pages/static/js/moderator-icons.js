// Icons of the console from the sprite shipped with the pages (no outside host).
//
// Decorative: the button around an icon carries the label. The sprite is fetched once
// and each icon is a small inline <svg> with a copy of its symbol's shapes: a queue of a
// thousand rows draws its 3,000 icons in a fraction of the time that as many <use>
// references into another document take (each its own shadow tree, measured 3 s more
// for 1,000 questions). Until the sprite is here, an icon is such a <use> reference.
// Nothing is parsed as HTML: the sprite is our own file, read as inert XML.
//
// The shapes take their stroke from the console's CSS (`.icon` in moderator.css), as the
// sprite's own <style> is left out (the page's CSP allows no inline style).

const SPRITE = "/static/img/icons.svg";
const SVG = "http://www.w3.org/2000/svg";
const symbols = new Map(); // name -> <symbol> of the parsed sprite

fetch(SPRITE)
  .then((response) => (response.ok ? response.text() : ""))
  .then((text) => {
    // Without its <style>: a parsed document keeps the page's CSP, which refuses it.
    const shapes = text.replace(/<style[\s\S]*?<\/style>/g, "");
    const sprite = new DOMParser().parseFromString(shapes, "image/svg+xml");
    for (const symbol of sprite.querySelectorAll("symbol[id^='i-']")) symbols.set(symbol.id.slice(2), symbol);
  })
  .catch(() => {
    /* the <use> references still draw the icons */
  });

function frame() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  return svg;
}

export function icon(name) {
  const svg = frame();
  const symbol = symbols.get(name);
  if (symbol) {
    svg.setAttribute("viewBox", symbol.getAttribute("viewBox") || "0 0 24 24");
    for (const shape of symbol.children) svg.append(document.importNode(shape, true));
    return svg;
  }
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `${SPRITE}#i-${name}`);
  svg.append(use);
  return svg;
}
