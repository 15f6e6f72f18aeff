/**
 * App icons: one SVG (an eye fundus with an outlined lesion) rendered to the PNG sizes
 * the web manifest lists. Run: npx tsx scripts/make-icons.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import sharp from 'sharp';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" rx="96" fill="#1d3557"/>
  <defs><radialGradient id="r" cx="45%" cy="45%" r="60%"><stop offset="0" stop-color="#f4a261"/><stop offset="0.7" stop-color="#d9480f"/><stop offset="1" stop-color="#7f1d1d"/></radialGradient></defs>
  <circle cx="256" cy="256" r="190" fill="url(#r)"/>
  <circle cx="330" cy="236" r="44" fill="#ffe8a3"/>
  <path d="M330 236 C 260 200, 200 190, 110 210 M330 236 C 270 280, 210 310, 120 300 M330 236 C 300 170, 250 120, 190 95 M330 236 C 310 320, 280 370, 230 420" stroke="#8b1e1e" stroke-width="10" fill="none" stroke-linecap="round"/>
  <circle cx="200" cy="330" r="34" fill="none" stroke="#ffd500" stroke-width="12" stroke-dasharray="22 10"/>
</svg>`;

async function main() {
  await mkdir('public/icons', { recursive: true });
  await writeFile('public/icons/icon.svg', svg);
  for (const size of [192, 512]) {
    await sharp(Buffer.from(svg)).resize(size, size).png().toFile(`public/icons/icon-${size}.png`);
  }
  console.log('wrote public/icons/icon.svg, icon-192.png, icon-512.png');
}

void main();
