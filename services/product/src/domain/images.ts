import { createHash } from 'node:crypto'

/**
 * Product pictures drawn from the product itself: a soft background in a colour derived from
 * its id, the category's glyph, and its name. Deterministic, tiny, and shipped as code, so the
 * demo catalog needs no binary assets.
 */
const GLYPHS: Record<string, string> = {
  kitchen:
    '<path d="M70 150h100v20a30 30 0 0 1-30 30h-40a30 30 0 0 1-30-30z M170 155h15a15 15 0 0 1 0 30h-10" fill="none" stroke="#fff" stroke-width="8"/>',
  coffee:
    '<path d="M75 110h90v50a35 35 0 0 1-35 35h-20a35 35 0 0 1-35-35z M165 120h10a18 18 0 0 1 0 36h-10 M95 70q10 15 0 30 M120 65q10 15 0 30 M145 70q10 15 0 30" fill="none" stroke="#fff" stroke-width="8"/>',
  office: '<path d="M60 170h120 M80 170l15-90h50l15 90 M100 80l20-20 20 20" fill="none" stroke="#fff" stroke-width="8"/>',
  outdoor: '<path d="M50 185l70-110 70 110z M120 75v-20 M105 140h30" fill="none" stroke="#fff" stroke-width="8"/>',
  apparel: '<path d="M85 70l-35 25 15 25 15-10v85h80v-85l15 10 15-25-35-25q-15 15-35 0z" fill="none" stroke="#fff" stroke-width="8"/>',
  books:
    '<path d="M60 80h50a10 10 0 0 1 10 10v100a10 10 0 0 0-10-10h-50z M180 80h-50a10 10 0 0 0-10 10v100a10 10 0 0 1 10-10h50z" fill="none" stroke="#fff" stroke-width="8"/>'
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function productSvg(product: { _id: string; name: string; category: string }): string {
  const hue = createHash('sha256').update(product._id).digest()[0] ?? 0
  const glyph = GLYPHS[product.category] ?? '<circle cx="120" cy="130" r="45" fill="none" stroke="#fff" stroke-width="8"/>'
  const name = escapeXml(product.name.length > 28 ? `${product.name.slice(0, 27)}…` : product.name)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" viewBox="0 0 240 240" role="img" aria-label="${name}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${Math.round((hue / 255) * 360)} 55% 55%)"/><stop offset="1" stop-color="hsl(${Math.round((hue / 255) * 360 + 40) % 360} 60% 40%)"/></linearGradient></defs>
<rect width="240" height="240" rx="16" fill="url(#g)"/>${glyph}
<text x="120" y="226" text-anchor="middle" font-family="system-ui, sans-serif" font-size="14" fill="#fff">${name}</text>
</svg>`
}

export function imageUrl(productId: string): string {
  return `/images/products/${productId}.svg`
}
