/**
 * UTC date-times as the token cache and the export formats write them, computed with integer
 * arithmetic instead of `Date` methods. A process's first `Date` formatting sets up V8's date
 * machinery (about 0.4 ms and 2 MiB of peak memory at start-up, measured), which the credential
 * hot path cannot afford for what is a few divisions.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3339#section-5.6
 * @module
 */

const DAY_MS = 86_400_000;
/** The range `Date` accepts: ±100,000,000 days around the epoch. */
const MAX_MS = 8.64e15;

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (month 1–12).
 *
 * @see https://howardhinnant.github.io/date_algorithms.html#days_from_civil
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The date of a day count since 1970-01-01.
 *
 * @see https://howardhinnant.github.io/date_algorithms.html#civil_from_days
 */
function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time (`Z` or an offset, any fraction) to epoch milliseconds, NaN when
 * malformed or out of range. Stricter than `Date.parse`, which guesses at other shapes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3339#section-5.6
 */
export function parseRfc3339(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  if (month! < 1 || month! > 12 || hour! > 23 || minute! > 59 || second! > 60) return NaN;
  if (day! < 1 || day! > daysInMonth(year!, month!)) return NaN;
  let offset = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return NaN;
    offset = (m[9] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const ms = daysFromCivil(year!, month!, day!) * DAY_MS +
    ((hour! * 60 + minute!) * 60 + second!) * 1000 + fraction - offset;
  return Math.abs(ms) <= MAX_MS ? ms : NaN;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * `YYYY-MM-DDTHH:MM:SS` and the milliseconds of an epoch time, in UTC (years 0–9999).
 *
 * @throws {RangeError} For a time outside years 0–9999.
 */
function utcParts(ms: number): { seconds: string; millis: number } {
  const whole = Math.floor(ms);
  const days = Math.floor(whole / DAY_MS);
  const [year, month, day] = civilFromDays(days);
  if (!Number.isFinite(ms) || year < 0 || year > 9999) {
    throw new RangeError(`Cannot format the time ${ms}: outside the years 0 to 9999`);
  }
  const inDay = whole - days * DAY_MS;
  const secs = Math.floor(inDay / 1000);
  const time = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${
    pad(secs % 60)
  }`;
  return { seconds: `${pad(year, 4)}-${pad(month)}-${pad(day)}T${time}`, millis: inDay % 1000 };
}

/**
 * Formats epoch milliseconds as the AWS CLI writes `expiresAt`: `YYYY-MM-DDTHH:MM:SSZ` (UTC,
 * seconds truncated).
 *
 * @throws {RangeError} For a time outside years 0–9999.
 */
export function formatUtcSeconds(ms: number): string {
  return `${utcParts(ms).seconds}Z`;
}

/**
 * Formats a time as Python's `datetime.isoformat()` of an aware UTC time, as the AWS CLI prints
 * `AWS_CREDENTIAL_EXPIRATION`: `2025-11-19T00:15:00+00:00`, with `.ffffff` only when there are
 * fractional seconds.
 *
 * @example
 * pythonIsoformat(Date.UTC(2025, 10, 19, 0, 15)) // "2025-11-19T00:15:00+00:00"
 * @throws {RangeError} For a time outside years 0–9999.
 */
export function pythonIsoformat(ms: number): string {
  const { seconds, millis } = utcParts(ms);
  return `${seconds}${millis === 0 ? "" : `.${pad(millis, 3)}000`}+00:00`;
}
