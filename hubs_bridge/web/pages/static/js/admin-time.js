// datetime-local values (wall clock in Europe/Berlin) to ISO times with offset, and back.
// The offset comes from Intl for the chosen moment, so summer and winter time are right.

const TZ = "Europe/Berlin";
const partsFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function berlinParts(ms) {
  const out = {};
  for (const part of partsFormat.formatToParts(new Date(ms))) out[part.type] = part.value;
  return out;
}

// Minutes Berlin is ahead of UTC at the instant `ms` (60 in winter, 120 in summer).
export function berlinOffsetMinutes(ms) {
  const p = berlinParts(ms);
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
}

// "2026-12-05T15:00" (Berlin) -> "2026-12-05T15:00:00+01:00"; "" stays "" (the API says what is missing).
export function berlinLocalToIso(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!m) return value || null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let offset = berlinOffsetMinutes(wall - berlinOffsetMinutes(wall) * 60000);
  // Near a change of the clocks the first guess may use the other offset: check once more.
  const again = berlinOffsetMinutes(wall - offset * 60000);
  if (again !== offset) offset = again;
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, "0");
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// An ISO time from the API -> the datetime-local value of its Berlin wall clock.
export function isoToBerlinLocal(iso) {
  if (!iso) return "";
  const p = berlinParts(new Date(iso).getTime());
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
