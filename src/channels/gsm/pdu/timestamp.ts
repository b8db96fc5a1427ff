import { PduError } from './errors.js';

/**
 * TP-SCTS, the service centre time stamp (3GPP TS 23.040 §9.2.3.11): seven octets of swapped
 * BCD — year, month, day, hour, minute, second, time zone. The time zone is the offset from
 * UTC in quarters of an hour; bit 3 of its octet (the high bit of its first digit) is the sign.
 * The two-digit year is read as 19yy for 90-99 (SMS began in 1992) and 20yy otherwise.
 */

function bcd(octet: number, field: string): number {
  const tens = octet & 0x0f;
  const units = octet >> 4;
  if (tens > 9 || units > 9) {
    throw new PduError(`time stamp ${field} is not decimal (octet 0x${octet.toString(16).padStart(2, '0')})`);
  }
  return tens * 10 + units;
}

function toBcd(n: number): number {
  return ((n % 10) << 4) | Math.floor(n / 10);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Seven octets → ISO 8601 local time with its offset, e.g. "1999-03-29T15:16:59+02:00". */
export function decodeScts(b: Uint8Array): string {
  if (b.length !== 7) throw new PduError(`time stamp must be 7 octets, got ${b.length}`);
  const yy = bcd(b[0]!, 'year');
  const month = bcd(b[1]!, 'month');
  const day = bcd(b[2]!, 'day');
  const hour = bcd(b[3]!, 'hour');
  const minute = bcd(b[4]!, 'minute');
  const second = bcd(b[5]!, 'second');
  const negative = (b[6]! & 0x08) !== 0;
  const quarters = bcd(b[6]! & 0xf7, 'time zone');
  const year = yy >= 90 ? 1900 + yy : 2000 + yy;
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    throw new PduError(
      `time stamp is not a valid date/time: ${year}-${pad2(month)}-${pad2(day)} ${pad2(hour)}:${pad2(minute)}:${pad2(second)}`,
    );
  }
  if (quarters > 79) throw new PduError(`time stamp offset of ${quarters} quarter hours is out of range`);
  const offsetMinutes = quarters * 15;
  const sign = negative && quarters !== 0 ? '-' : '+';
  const tz = `${sign}${pad2(Math.floor(offsetMinutes / 60))}:${pad2(offsetMinutes % 60)}`;
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}${tz}`;
}

/**
 * A Date → seven octets, written as local time at `offsetMinutes` from UTC (default 0, i.e.
 * UTC). The offset is rounded to whole quarter hours.
 */
export function encodeScts(date: Date, offsetMinutes = 0): number[] {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new PduError('time stamp must be a valid Date');
  const quarters = Math.round(offsetMinutes / 15);
  if (!Number.isFinite(quarters) || Math.abs(quarters) > 79) {
    throw new PduError(`time zone offset ${offsetMinutes} minutes is out of range`);
  }
  const local = new Date(date.getTime() + quarters * 15 * 60_000);
  const year = local.getUTCFullYear();
  if (year < 1990 || year > 2089) throw new PduError(`time stamp year ${year} cannot be written in two digits`);
  const tzOctet = toBcd(Math.abs(quarters)) | (quarters < 0 ? 0x08 : 0);
  return [
    toBcd(year % 100),
    toBcd(local.getUTCMonth() + 1),
    toBcd(local.getUTCDate()),
    toBcd(local.getUTCHours()),
    toBcd(local.getUTCMinutes()),
    toBcd(local.getUTCSeconds()),
    tzOctet,
  ];
}
