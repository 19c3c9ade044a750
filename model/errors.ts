export type ImageInputErrorCode =
  'not_found' | 'empty' | 'not_image' | 'corrupt' | 'too_large' | 'unsupported';

const HINTS: Record<ImageInputErrorCode, string> = {
  not_found: 'the file does not exist or cannot be read',
  empty: 'the file is empty (0 bytes)',
  not_image: 'the file is not an image this app reads (JPEG, PNG, BMP, TIFF, WebP)',
  corrupt: 'the image data is damaged or incomplete',
  too_large: 'the image is larger than the app accepts',
  unsupported: 'the image format or colour layout is not supported',
};

/** A problem with one input image. The caller records it and carries on with the next image. */
export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
  constructor(
    readonly code: ImageInputErrorCode,
    detail?: string,
  ) {
    super(detail ? `${HINTS[code]}: ${detail}` : HINTS[code]);
  }
}

/** The model folder is missing, incomplete or does not match what this app expects. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}
