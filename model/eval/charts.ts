import sharp from 'sharp';
import type { ReliabilityBin } from './metrics.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Confusion matrix as a PNG: rows are the truth, columns the prediction, shaded by row share. */
export async function confusionMatrixPng(labels: string[], matrix: number[][]): Promise<Buffer> {
  const cell = 56;
  const left = 150;
  const top = 150;
  const size = labels.length * cell;
  const parts: string[] = [];
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const share = v / total;
      const shade = Math.round(255 - 200 * share);
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#999"/>`,
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 5}" text-anchor="middle" font-size="15" fill="${share > 0.5 ? '#fff' : '#000'}">${v}</text>`,
      );
    });
  });
  labels.forEach((l, i) => {
    parts.push(
      `<text x="${left - 8}" y="${top + i * cell + cell / 2 + 5}" text-anchor="end" font-size="13">${esc(l)}</text>`,
    );
    const x = left + i * cell + cell / 2;
    parts.push(
      `<text x="${x}" y="${top - 8}" font-size="13" transform="rotate(-50 ${x} ${top - 8})">${esc(l)}</text>`,
    );
  });
  parts.push(`<text x="${left + size / 2}" y="24" text-anchor="middle" font-size="16">predicted →</text>`);
  parts.push(
    `<text x="20" y="${top + size / 2}" font-size="16" transform="rotate(-90 20 ${top + size / 2})" text-anchor="middle">true →</text>`,
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${left + size + 20}" height="${top + size + 20}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Reliability diagram: accuracy against confidence per bin, with the diagonal of perfect calibration. */
export async function reliabilityDiagramPng(bins: ReliabilityBin[], ece: number): Promise<Buffer> {
  const w = 420;
  const h = 420;
  const pad = 50;
  const plot = w - 2 * pad;
  const x = (v: number) => pad + v * plot;
  const y = (v: number) => h - pad - v * plot;
  const bars = bins
    .filter((b) => b.count > 0)
    .map(
      (b) =>
        `<rect x="${x(b.lower) + 1}" y="${y(b.accuracy)}" width="${plot / bins.length - 2}" height="${y(0) - y(b.accuracy)}" fill="#4a7bd0" opacity="0.8"/>` +
        `<text x="${x((b.lower + b.upper) / 2)}" y="${y(0) + 14}" font-size="9" text-anchor="middle">${b.count}</text>`,
    );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<rect x="${pad}" y="${pad}" width="${plot}" height="${plot}" fill="none" stroke="#333"/>
${bars.join('')}
<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#c33" stroke-dasharray="5,4"/>
<text x="${w / 2}" y="${h - 12}" text-anchor="middle" font-size="13">confidence (top label)</text>
<text x="16" y="${h / 2}" transform="rotate(-90 16 ${h / 2})" text-anchor="middle" font-size="13">accuracy</text>
<text x="${w / 2}" y="30" text-anchor="middle" font-size="14">Reliability diagram — ECE ${ece.toFixed(3)}</text>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
