/**
 * App icons: one SVG (an eye fundus with an outlined lesion) rendered to the PNG sizes
 * the web manifest lists. Run: npx tsx scripts/make-icons.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import sharp from 'sharp';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" rx="96" fill="#1d3557"/>
  <defs>
    <radialGradient id="r" cx="50%" cy="50%" r="55%"><stop offset="0" stop-color="#f08a3c"/><stop offset="0.75" stop-color="#c2410c"/><stop offset="1" stop-color="#6b1d0f"/></radialGradient>
    <radialGradient id="d" cx="50%" cy="50%" r="50%"><stop offset="0" stop-color="#fff7d6"/><stop offset="1" stop-color="#f6c66b"/></radialGradient>
    <radialGradient id="m" cx="50%" cy="50%" r="50%"><stop offset="0" stop-color="#7c2d12" stop-opacity="0.8"/><stop offset="1" stop-color="#7c2d12" stop-opacity="0"/></radialGradient>
  </defs>
  <circle cx="256" cy="256" r="200" fill="url(#r)"/>
  <circle cx="214" cy="262" r="46" fill="url(#m)"/>
  <g stroke="#8f1d1d" fill="none" stroke-linecap="round">
    <path d="M340 246 C 300 170, 220 150, 130 190" stroke-width="9"/>
    <path d="M340 262 C 300 345, 220 365, 128 325" stroke-width="9"/>
    <path d="M338 240 C 350 180, 360 130, 380 100" stroke-width="6"/>
    <path d="M338 270 C 352 330, 362 380, 378 412" stroke-width="6"/>
    <path d="M250 160 C 235 130, 215 110, 190 98" stroke-width="4"/>
    <path d="M250 352 C 232 384, 212 402, 186 414" stroke-width="4"/>
    <path d="M180 176 C 170 205, 170 225, 176 240" stroke-width="3"/>
  </g>
  <circle cx="340" cy="254" r="30" fill="url(#d)"/>
  <circle cx="196" cy="318" r="26" fill="none" stroke="#111" stroke-width="14"/>
  <circle cx="196" cy="318" r="26" fill="none" stroke="#ffd500" stroke-width="8" stroke-dasharray="16 8"/>
  <circle cx="196" cy="318" r="7" fill="#ffe27a"/>
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
