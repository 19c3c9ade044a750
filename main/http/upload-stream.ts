import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { PRIVATE_FILE_MODE } from '../util/private-files.ts';

export interface StreamedUpload {
  /** Every field of the JSON object except the streamed one (`dataBase64` holds `''` when it was there). */
  fields: Record<string, unknown>;
  /** Decoded bytes written to the file. */
  bytes: number;
}

const B64 = new Int16Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  .split('')
  .forEach((c, i) => (B64[c.charCodeAt(0)] = i));
/** The other fields together (file name, patient, ear) are small. */
const FIELD_LIMIT = 64 * 1024;
const DATA_FIELD = 'dataBase64';

const invalid = (why: string) => new EngineError(ErrorCodes.invalidArgs, `Invalid upload: ${why}.`);
const isBlank = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Base64 text in, bytes out, a character at a time (blanks skipped, `=` only at the end). */
class Base64Decoder {
  private quad = 0;
  private n = 0;
  private pad = 0;
  constructor(private readonly emit: (byte: number) => void) {}

  push(c: number): void {
    if (isBlank(c)) return;
    if (c === 0x3d) {
      if (this.n < 2) throw invalid('dataBase64 is not valid base64');
      this.pad++;
      this.quad <<= 6;
    } else {
      const v = c < 128 ? B64[c]! : -1;
      if (v < 0 || this.pad > 0) throw invalid('dataBase64 is not valid base64');
      this.quad = (this.quad << 6) | v;
    }
    if (++this.n < 4) return;
    const q = this.quad;
    this.emit((q >> 16) & 0xff);
    if (this.pad < 2) this.emit((q >> 8) & 0xff);
    if (this.pad < 1) this.emit(q & 0xff);
    this.quad = 0;
    this.n = 0;
  }

  end(): void {
    if (this.n !== 0) throw invalid('dataBase64 is not valid base64 (its length)');
  }
}

/**
 * Reads a JSON upload body (`{"fileName": …, "dataBase64": "…", …}`) as it arrives and decodes the one large
 * field, `dataBase64`, straight into `file` (created 0600): the request is never held in memory, neither as
 * text nor as its decoded copy. The other fields are small and collected. Limits: `maxBody` bytes of
 * request, `maxBytes` decoded. The body must be one flat JSON object, as the contract's args are.
 */
export async function streamUploadToFile(
  body: Readable,
  file: string,
  limits: { maxBody: number; maxBytes: number },
): Promise<StreamedUpload> {
  const fh = await open(file, 'wx', PRIVATE_FILE_MODE);
  let out = Buffer.allocUnsafe(256 * 1024);
  let outLen = 0;
  let written = 0;
  const decoder = new Base64Decoder((b) => {
    if (++written > limits.maxBytes)
      throw new EngineError(ErrorCodes.tooLarge, `The image is larger than ${limits.maxBytes / 1048576} MB.`);
    out[outLen++] = b;
  });
  const flush = async () => {
    if (outLen === 0) return;
    const full = out.subarray(0, outLen);
    out = Buffer.allocUnsafe(out.length);
    outLen = 0;
    await fh.write(full);
  };

  type State =
    'start' | 'key' | 'keyString' | 'colon' | 'value' | 'string' | 'data' | 'scalar' | 'comma' | 'end';
  let state: State = 'start';
  let key = '';
  let raw: number[] = [];
  let escape = false;
  let hex = 0; // digits left in a \uXXXX escape inside the data field
  let hexValue = 0;
  let head: number[] | null = []; // the data field's first characters, until "data:" is ruled in or out
  let inPrefix = false;
  let depth = 0;
  let fieldBytes = 0;
  let total = 0;
  const fields: Record<string, unknown> = {};

  const keep = (c: number) => {
    raw.push(c);
    if (++fieldBytes > FIELD_LIMIT) throw invalid('the fields besides dataBase64 are too long');
  };
  const DATA_URL = [0x64, 0x61, 0x74, 0x61, 0x3a]; // "data:"
  const dataChar = (c: number) => {
    if (head !== null) {
      // A browser's FileReader gives "data:image/jpeg;base64,…": that prefix is skipped up to its comma.
      head.push(c);
      if (head.length === DATA_URL.length || head[head.length - 1] !== DATA_URL[head.length - 1]) {
        const isPrefix = head.length === DATA_URL.length && head.every((x, j) => x === DATA_URL[j]);
        const pending = head;
        head = null;
        if (isPrefix) inPrefix = true;
        else pending.forEach((x) => decoder.push(x));
      }
      return;
    }
    if (inPrefix) {
      if (c === 0x2c) inPrefix = false;
      return;
    }
    decoder.push(c);
  };
  const endData = () => {
    if (head !== null) head.forEach((x) => decoder.push(x));
    head = null;
    if (inPrefix) throw invalid('dataBase64 has a data: prefix without its comma');
    decoder.end();
  };
  const parseString = (bytes: number[]) => {
    try {
      return JSON.parse(`"${Buffer.from(bytes).toString('utf8')}"`) as string;
    } catch {
      throw invalid('a field holds a malformed string');
    }
  };

  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.maxBody)
        throw new EngineError(
          ErrorCodes.tooLarge,
          `The request body is larger than ${limits.maxBody} bytes.`,
        );
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        switch (state) {
          case 'start':
            if (isBlank(c)) break;
            if (c !== 0x7b) throw invalid('the body must be a JSON object');
            state = 'key';
            break;
          case 'key':
            if (isBlank(c)) break;
            if (c === 0x7d && Object.keys(fields).length === 0) state = 'end';
            else if (c === 0x22) {
              state = 'keyString';
              raw = [];
            } else throw invalid('expected a field name');
            break;
          case 'keyString':
          case 'string':
            keep(c);
            if (escape) escape = false;
            else if (c === 0x5c) escape = true;
            else if (c === 0x22) {
              const text = parseString(raw.slice(0, -1));
              if (state === 'keyString') {
                key = text;
                state = 'colon';
              } else {
                fields[key] = text;
                state = 'comma';
              }
            }
            break;
          case 'colon':
            if (isBlank(c)) break;
            if (c !== 0x3a) throw invalid('expected ":"');
            state = 'value';
            break;
          case 'value':
            if (isBlank(c)) break;
            raw = [];
            if (c === 0x22 && key === DATA_FIELD) {
              if (DATA_FIELD in fields) throw invalid('dataBase64 appears twice');
              state = 'data';
            } else if (c === 0x22) state = 'string';
            else {
              state = 'scalar';
              depth = 0;
              i--; // this byte is the scalar's first
            }
            break;
          case 'data':
            if (hex > 0) {
              const h = Number.parseInt(String.fromCharCode(c), 16);
              if (Number.isNaN(h)) throw invalid('a bad \\u escape in dataBase64');
              hexValue = hexValue * 16 + h;
              if (--hex === 0) {
                if (hexValue > 127) throw invalid('dataBase64 is not valid base64');
                dataChar(hexValue);
              }
            } else if (escape) {
              escape = false;
              if (c === 0x75) {
                hex = 4;
                hexValue = 0;
              } else if (c === 0x2f) dataChar(0x2f);
              else if (c === 0x6e || c === 0x72 || c === 0x74) dataChar(0x20);
              else throw invalid('dataBase64 is not valid base64');
            } else if (c === 0x5c) escape = true;
            else if (c === 0x22) {
              endData();
              fields[DATA_FIELD] = '';
              state = 'comma';
            } else {
              dataChar(c);
              if (outLen > out.length - 4) await flush();
            }
            break;
          case 'scalar':
            if (depth === 0 && (c === 0x2c || c === 0x7d || isBlank(c))) {
              try {
                fields[key] = JSON.parse(Buffer.from(raw).toString('utf8'));
              } catch {
                throw invalid(`the value of "${key}" is not valid JSON`);
              }
              state = 'comma';
              i--; // the comma or brace is read again in the 'comma' state
              break;
            }
            if (c === 0x5b || c === 0x7b) depth++;
            else if (c === 0x5d || c === 0x7d) depth--;
            keep(c);
            break;
          case 'comma':
            if (isBlank(c)) break;
            if (c === 0x2c) state = 'key';
            else if (c === 0x7d) state = 'end';
            else throw invalid('expected "," or "}"');
            break;
          case 'end':
            if (!isBlank(c)) throw invalid('text after the JSON object');
            break;
        }
      }
    }
    if (state !== 'end') throw invalid('the body ends before its JSON object does');
    await flush();
    return { fields, bytes: written };
  } finally {
    await fh.close();
  }
}
