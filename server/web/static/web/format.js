// Dates, times and sizes in the viewer's locale and time zone (the browser's own).

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long" });
const shortWeekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

export function parseDate(iso) {
  return iso ? new Date(iso) : null;
}

/** The local calendar day of a date, as a key ("2026-11-25"). */
export function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

function daysAgo(date, now = new Date()) {
  return Math.round((startOfDay(now) - startOfDay(date)) / 86400000);
}

export function formatTime(date) {
  return timeFmt.format(date);
}

export function formatFull(date) {
  return fullFmt.format(date);
}

/** "Today", "Yesterday", "Monday", or "3 March 2026" for a day separator. */
export function formatDay(date, now = new Date()) {
  const ago = daysAgo(date, now);
  if (ago === 0) return "Today";
  if (ago === 1) return "Yesterday";
  if (ago > 1 && ago < 7) return weekdayFmt.format(date);
  return dateFmt.format(date);
}

/** Compact stamp for the conversation list: time today, weekday this week, else date. */
export function formatListStamp(date, now = new Date()) {
  const ago = daysAgo(date, now);
  if (ago === 0) return timeFmt.format(date);
  if (ago === 1) return "Yesterday";
  if (ago > 1 && ago < 7) return shortWeekdayFmt.format(date);
  return shortDateFmt.format(date);
}

/** "13 B", "4.2 KB", "26.2 MB", "312 MB": at most `digits` decimals below 100 units. */
export function formatSize(bytes, digits = 1) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value >= 100 ? Math.round(value) : Number(value.toFixed(digits));
  return `${shown} ${units[unit]}`;
}
