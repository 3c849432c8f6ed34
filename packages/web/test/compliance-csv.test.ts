import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from '../src/pages/compliance/csv.js';

describe('CSV (RFC 4180)', () => {
  it('quotes what needs quoting and ends lines in CRLF', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], ['line\nbreak', 3], [null, undefined]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",3\r\n,\r\n');
  });
  it('keeps numbers and Chinese as they are, and neutralises formulas', () => {
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField('-1.5')).toBe('-1.5');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField('模型行为失控')).toBe('模型行为失控');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });
});
