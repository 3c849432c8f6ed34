/**
 * Renders public/favicon.svg to public/favicon.ico (PNG images of 16, 32 and
 * 48 px in an ICO container), the fallback for browsers that do not take an
 * SVG icon and for the /favicon.ico they ask for by convention. Run after
 * changing the SVG, with Chromium installed:
 *
 *     node packages/web/scripts/favicon.mjs
 *
 * ICO layout (Microsoft "Icons" format; PNG entries since Windows Vista):
 * ICONDIR (reserved 0, type 1, count) then one 16-byte ICONDIRENTRY per image
 * (width, height, colours 0, reserved 0, planes 1, 32 bits, size, offset),
 * then the PNG files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const svgPath = new URL('../public/favicon.svg', import.meta.url);
const icoPath = new URL('../public/favicon.ico', import.meta.url);
const svg = readFileSync(svgPath, 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const pngs = [];
try {
  for (const size of [16, 32, 48]) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
    pngs.push({ size, png: await page.screenshot({ type: 'png', omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }) });
    await page.close();
  }
} finally {
  await browser.close();
}
const head = Buffer.alloc(6 + 16 * pngs.length);
head.writeUInt16LE(0, 0);
head.writeUInt16LE(1, 2);
head.writeUInt16LE(pngs.length, 4);
let offset = head.length;
pngs.forEach(({ size, png }, i) => {
  const e = 6 + 16 * i;
  head.writeUInt8(size, e);
  head.writeUInt8(size, e + 1);
  head.writeUInt8(0, e + 2);
  head.writeUInt8(0, e + 3);
  head.writeUInt16LE(1, e + 4);
  head.writeUInt16LE(32, e + 6);
  head.writeUInt32LE(png.length, e + 8);
  head.writeUInt32LE(offset, e + 12);
  offset += png.length;
});
writeFileSync(icoPath, Buffer.concat([head, ...pngs.map((p) => p.png)]));
console.log(`wrote ${icoPath.pathname} (${offset} bytes: ${pngs.map((p) => `${p.size}px`).join(', ')})`);
