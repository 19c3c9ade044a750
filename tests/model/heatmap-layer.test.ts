import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  LAYER_MAX_ALPHA,
  LAYER_MAX_SIDE,
  heatmapLayerRgba,
  renderHeatmapLayerPng,
  type LayerGeometry,
} from '../../model/heatmap.ts';

/** Bounding box of the layer's pixels that are not fully transparent. */
function opaqueBox(layer: { data: Buffer; width: number; height: number }) {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = 0; y < layer.height; y++)
    for (let x = 0; x < layer.width; x++)
      if (layer.data[(y * layer.width + x) * 4 + 3]! > 0) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
  return { x0, y0, x1, y1 };
}

const alphaAt = (layer: { data: Buffer; width: number }, x: number, y: number) =>
  layer.data[(y * layer.width + x) * 4 + 3]!;

// A 4:3 photo (1280 × 960) decoded at 320 × 240; the otoscope's lit circle sits left of centre.
const fourByThree: LayerGeometry = {
  width: 320,
  height: 240,
  box: { cx: 120, cy: 120, side: 200 },
  framing: 'fov-circle',
  size: 192,
  original: { width: 1280, height: 960 },
};
const hot = (rows: number, cols: number) => new Float32Array(rows * cols).fill(1);

describe('heatmap layer in the photo’s geometry', () => {
  it('has the photo’s aspect ratio, at most LAYER_MAX_SIDE on its longest side', () => {
    const layer = heatmapLayerRgba(hot(6, 6), 6, 6, fourByThree);
    expect([layer.width, layer.height]).toEqual([LAYER_MAX_SIDE, (LAYER_MAX_SIDE * 3) / 4]);
    const small = heatmapLayerRgba(hot(6, 6), 6, 6, {
      ...fourByThree,
      original: { width: 200, height: 150 },
    });
    expect([small.width, small.height]).toEqual([200, 150]);
  });

  it('puts the crop back where it came from: colour only inside the model’s circular field of view', () => {
    const layer = heatmapLayerRgba(hot(6, 6), 6, 6, fourByThree);
    // The box spans 20…220 of 320 px across and 20…220 of 240 px down; the layer is 1.2× the decoded size.
    const k = LAYER_MAX_SIDE / 320;
    const box = opaqueBox(layer);
    expect(box.x0).toBeGreaterThanOrEqual(Math.floor(20 * k) - 1);
    expect(box.x1).toBeLessThanOrEqual(Math.ceil(220 * k));
    expect(box.y0).toBeGreaterThanOrEqual(Math.floor(20 * k) - 1);
    expect(box.y1).toBeLessThanOrEqual(Math.ceil(220 * k));
    expect(box.x1 - box.x0).toBeGreaterThan(195 * k); // the whole circle is there
    // Circle, not square: the box's corner is outside the field of view.
    expect(alphaAt(layer, Math.round(25 * k), Math.round(25 * k))).toBe(0);
    // Full activation in the middle of the circle shows at the layer's strongest (the photo still shows through).
    expect(alphaAt(layer, Math.round(120 * k), Math.round(120 * k))).toBe(Math.round(255 * LAYER_MAX_ALPHA));
    // The rest of the photo (right of the circle) is untouched.
    expect(alphaAt(layer, Math.round(280 * k), Math.round(120 * k))).toBe(0);
  });

  it('maps a hot corner of the grid to the same corner of the crop on the photo', () => {
    const grid = new Float32Array(36);
    grid[0] = 1; // top-left cell
    const layer = heatmapLayerRgba(grid, 6, 6, { ...fourByThree, framing: 'center-square' });
    let best = { a: -1, x: 0, y: 0 };
    for (let y = 0; y < layer.height; y++)
      for (let x = 0; x < layer.width; x++) {
        const a = alphaAt(layer, x, y);
        if (a > best.a) best = { a, x, y };
      }
    // The crop's top-left corner is at (20, 20) decoded, (24, 24) on the layer.
    expect(Math.abs(best.x - 24)).toBeLessThanOrEqual(2);
    expect(Math.abs(best.y - 24)).toBeLessThanOrEqual(2);
  });

  it('is fully transparent where the activation is low, and holds no photo pixels', async () => {
    const layer = heatmapLayerRgba(new Float32Array(36).fill(0.35), 6, 6, fourByThree);
    expect(opaqueBox(layer).x0).toBe(Infinity);
    const png = await renderHeatmapLayerPng(hot(6, 6), 6, 6, fourByThree);
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 384, height: 288, channels: 4, hasAlpha: true });
  });

  it('covers the whole photo when the model squashed it instead of cropping', () => {
    // cropBox for 'squash': the picture's centre; the whole picture is resized to the square input.
    const layer = heatmapLayerRgba(hot(6, 6), 6, 6, {
      ...fourByThree,
      framing: 'squash',
      box: { cx: 160, cy: 120, side: 320 },
    });
    expect(opaqueBox(layer)).toEqual({ x0: 0, y0: 0, x1: layer.width - 1, y1: layer.height - 1 });
  });
});
